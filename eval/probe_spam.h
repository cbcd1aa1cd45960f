/* The spam metric: SpamAssassin's spamd, spoken to over TCP in its own
 * protocol (SPAMC/1.5, the SYMBOLS command: the score, the threshold and the
 * names of the rules that fired).
 *
 * Each generation is wrapped in a fixed message (ivs_spamd_message) so that
 * a score means the same from run to run:
 *
 *   From: invscale probe <probe@invscale.invalid>
 *   To: reader@invscale.invalid
 *   Subject: generated text
 *   Date: Mon, 01 Jan 2024 00:00:00 +0000
 *   Message-ID: <generation@invscale.invalid>
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=UTF-8
 *   Content-Transfer-Encoding: 8bit
 *   <blank line>
 *   the generation, a newline added when it has none
 *
 * (lines end in CRLF).  With no address given, ivs_spamd_open starts spamd
 * on 127.0.0.1 on a free port, with network tests off (--local), no user
 * configuration (--nouser-config), and a site configuration made of the
 * system's (/etc/spamassassin, linked) plus one file turning off the
 * learning that would make scores depend on earlier runs (use_bayes 0,
 * bayes_auto_learn 0; the auto-whitelist and TxRep plugins are not loaded by
 * Debian's defaults); it is stopped by ivs_spamd_close.  It runs under a
 * small /bin/sh that stops it when a pipe from this process closes, so it
 * also goes when the process dies.  Its configuration, its helper home and
 * its log are in a temporary folder (TMPDIR, else /tmp) removed at the end;
 * the log's last line is quoted if it fails to start.
 * Internal to eval/. */
#ifndef IVS_EVAL_PROBE_SPAM_H
#define IVS_EVAL_PROBE_SPAM_H

#include <stddef.h>

#include "core/buf.h"

#define IVS_SPAMD_MAX_REPLY ((size_t)1 << 20)

typedef struct ivs_spamd ivs_spamd;

/* hostport: "HOST:PORT" of a running spamd, or NULL to start one: the
 * program $INVSCALE_SPAMD names, else spamd on the PATH, in /usr/sbin or
 * /usr/local/sbin.  Returns
 * 0 and *out, or IVS_EUSAGE when spamd is not installed (the message names
 * the Debian packages spamassassin and spamc) or hostport is malformed,
 * IVS_EIO when it does not start or answer within 60 seconds. */
int ivs_spamd_open(const char *hostport, ivs_spamd **out);

/* The address spoken to ("127.0.0.1:41234"), and whether it was started. */
const char *ivs_spamd_address(const ivs_spamd *s);
int ivs_spamd_started(const ivs_spamd *s);

/* Scores text[0..n): *score and *rules (malloc'd, the fired rules' names
 * separated by commas, "" when none; the caller frees).  IVS_EIO naming the
 * address for a connection or protocol failure. */
int ivs_spamd_check(ivs_spamd *s, const char *text, size_t n, double *score, char **rules);

/* Stops a started spamd (waiting for it) and frees s; NULL: no-op. */
void ivs_spamd_close(ivs_spamd *s);

/* The message above, around text[0..n), appended to out. */
int ivs_spamd_message(const char *text, size_t n, ivs_buf *out);

/* Parses a spamd reply to SYMBOLS (for tests and fuzzing): IVS_EPARSE when
 * it is not one, IVS_EIO for spamd's own error status. */
int ivs_spamd_parse_reply(const char *reply, size_t len, double *score, char **rules);

#endif

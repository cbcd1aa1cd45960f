/* Shared pieces of the command line: exit codes, the command signature,
 * messages, progress and the store location. */
#ifndef IVS_CLI_H
#define IVS_CLI_H

#include <stdio.h>

#include "store/store.h"

/* Exit statuses (documented in docs/invscale.md). */
enum {
  EXIT_OK = 0,
  EXIT_FAIL = 1,    /* the command failed; nothing was changed */
  EXIT_USAGE = 2,   /* bad command line */
  EXIT_PARTIAL = 3  /* import done, but some records were invalid and skipped */
};

typedef int (*cmd_fn)(int argc, char **argv, const char *db);

int cmd_init(int argc, char **argv, const char *db);
int cmd_ingest(int argc, char **argv, const char *db);
int cmd_examples(int argc, char **argv, const char *db);
int cmd_info(int argc, char **argv, const char *db);
int cmd_validate(int argc, char **argv, const char *db);
int cmd_export(int argc, char **argv, const char *db);
int cmd_meta(int argc, char **argv, const char *db);
int cmd_package(int argc, char **argv, const char *db);
int cmd_agreement(int argc, char **argv, const char *db);
int cmd_eval(int argc, char **argv, const char *db);
int cmd_lm(int argc, char **argv, const char *db);
int cmd_annotator(int argc, char **argv, const char *db);
int cmd_batch(int argc, char **argv, const char *db);
int cmd_judgments(int argc, char **argv, const char *db);
int cmd_adjudicate(int argc, char **argv, const char *db);
int cmd_disagreements(int argc, char **argv, const char *db);
int cmd_aggregate(int argc, char **argv, const char *db);
int cmd_serve(int argc, char **argv, const char *db);

/* "invscale: error: <msg>" on stderr; returns EXIT_FAIL (or EXIT_USAGE for
 * IVS_EUSAGE). */
int report_error(void);
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* usage_error with the last error's message (a value core/parse.h refused). */
int usage_from_error(const char *cmd);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Store path: --db, else $INVSCALE_DB, else ./invscale.db. */
const char *store_path(const char *db);

/* Flushes stdout and checks it; returns code or EXIT_FAIL on a write error. */
int finish_stdout(int code);

/* Progress on stderr, only when it is a terminal. */
void progress_update(unsigned long long done, unsigned long long total, void *label);
/* The same for a count of things (requests, examples), named by unit. */
void progress_count(unsigned long long done, unsigned long long total, const char *label, const char *unit);
void progress_done(void);

/* Writes s as a JSON string (with quotes) to f. */
void json_string(FILE *f, const char *s);

#endif

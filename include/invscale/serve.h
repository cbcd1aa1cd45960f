/* invscale: the annotation server.
 *
 * ivs_serve_start puts one batch of a project store on the web (HTTP,
 * libmicrohttpd) for its annotators and its lead: the pages (compiled in) and
 * the JSON API under /api/v1 that they use (docs/serve.md).  Requests are
 * answered by the server's own threads: one that takes connections, and one
 * that owns the store and answers the API calls of a moment together in one
 * transaction (BEGIN IMMEDIATE, synchronous=FULL), so that an answer is sent
 * only after its commit.
 *
 * Errors: IVS_OK or a negative IVS_E* of invscale/core.h with the detail in
 * ivs_error_message().  The library prints nothing: the access log and
 * errors of the running server reach the caller through on_log.
 */
#ifndef INVSCALE_SERVE_H
#define INVSCALE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ivs_serve_opts {
  const char *store;       /* the store's path */
  const char *batch;       /* the batch served */
  const char *listen;      /* "HOST:PORT" (IPv4, or [IPv6]:PORT); port 0 picks a free one; NULL: 127.0.0.1:8080 */
  const char *public_url;  /* the URL the browsers use (behind a proxy, with its path); NULL: http://LISTEN/ */
  const char *guidelines;  /* the guidelines' text; NULL: from the datasheet fields (ivs_guidelines_from_meta) */
  const char *lead_name;   /* the annotator name adjudications are recorded under; NULL: "lead" */
  double lease_seconds;    /* how long an item handed out stays the annotator's */
  int shuffle_classes;     /* each annotator sees the classes in an order of their own (stored) */
  double rate, burst;      /* per token: requests per second, and the burst allowed */
  unsigned max_connections, per_ip_connections, timeout_seconds;
  size_t connection_memory; /* bytes per connection for headers and buffers */
  void (*on_log)(const char *line, void *ud); /* one line per request and per error; NULL: none */
  void *log_ud;
} ivs_serve_opts;
#define IVS_SERVE_OPTS_INIT {NULL, NULL, NULL, NULL, NULL, NULL, 600, 0, 50, 200, 256, 128, 30, 32768, NULL, NULL}

/* The most a JSON request body may hold (bytes); past it the answer is 413. */
#define IVS_SERVE_MAX_BODY 65536

typedef struct ivs_serve ivs_serve;

/* Opens the store (migrating it when older), checks the batch, stores the
 * guideline version and starts listening.  *out is owned by the caller
 * (ivs_serve_stop).  IVS_EUSAGE for a malformed listen address or public
 * URL; IVS_EINVAL for an unknown batch; IVS_EIO when the address cannot be
 * bound; IVS_ESTORE. */
int ivs_serve_start(const ivs_serve_opts *o, ivs_serve **out);

/* The URL the links start with ("http://127.0.0.1:8080/"), ending in '/';
 * borrowed from s. */
const char *ivs_serve_url(const ivs_serve *s);

/* Stops taking connections, answers the requests already taken, stops the
 * threads, closes the store and frees s.  Accepts NULL. */
void ivs_serve_stop(ivs_serve *s);

/* The link of a token: URL + "annotate#t=" + token (lead: "lead#t=").  The
 * token travels in the fragment, which browsers never send.  *out is
 * malloc'd (the caller frees it). */
int ivs_serve_link(const char *url, int lead, const char *token, char **out);

#ifdef __cplusplus
}
#endif
#endif

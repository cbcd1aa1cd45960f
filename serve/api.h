/* The JSON API under /api/v1 (docs/serve.md): one call answered on the
 * thread that owns the store. */
#ifndef IVS_SERVE_API_H
#define IVS_SERVE_API_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "invscale/label_work.h"
#include "invscale/serve.h"

/* What the API answers with. */
typedef struct ivs_api {
  ivs_store *st;
  ivs_work *w;
  const ivs_serve_opts *o;
  int64_t batch_id;
  int per_item;
  const char *batch;
  const char *url;       /* the public URL, for new links */
  const char *lead_name;
  int64_t guideline;     /* the version shown (0: none) */
  const char *guideline_text;
  /* the tokens resolved lately (by hash), forgotten when another connection
   * changed the store (a link revoked by `invscale serve links`) or this
   * server changed a link */
  struct {
    char hash[65];
    ivs_work_who who;
  } cache[256];
  int64_t data_version;
} ivs_api;

/* Forgets the cached tokens when the store was changed by another
 * connection since the last call.  Between transactions. */
void ivs_api_refresh(ivs_api *a);

/* One call.  path: after "/api/v1/" ("next"); token: the Bearer token (not
 * NUL-terminated); body: the parsed request body (POST), owned by the
 * caller; max_conf: the disagreements' query value ("" when absent).  The
 * answer: status and out (malloc'd JSON text). */
typedef struct ivs_api_call {
  const char *method, *path;
  const char *token;
  size_t token_len;
  const cJSON *body;
  const char *max_conf;
  int status;
  char *out;
  int wrote; /* a call that changes the store (its answer waits for the commit) */
} ivs_api_call;

/* Roles an endpoint takes. */
enum { IVS_API_ANNOTATOR = 1, IVS_API_LEAD = 2 };

/* The endpoint `path` with `method`: its roles (IVS_API_*), and whether it
 * runs outside the grouped transaction (own: the library call opens its
 * own).  0 when there is no such endpoint; -1 when the path exists with
 * another method. */
int ivs_api_endpoint(const char *method, const char *path, int *own);

/* Answers c (status and out set, also on failure).  now: Unix seconds.
 * Inside the grouped transaction unless the endpoint is `own`. */
void ivs_api_handle(ivs_api *a, ivs_api_call *c, double now);

/* A JSON error body {"error": msg, "status": status}, malloc'd. */
char *ivs_api_error_json(int status, const char *msg);

#endif

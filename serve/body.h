/* Request bodies of the API: JSON objects of at most IVS_SERVE_MAX_BODY
 * bytes, and the submits they carry. */
#ifndef IVS_SERVE_BODY_H
#define IVS_SERVE_BODY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "invscale/label_work.h"
#include "invscale/serve.h"

/* At most this many submits in one request. */
#define IVS_SERVE_MAX_SUBMITS 100

/* Parses n bytes (no NUL needed) as one JSON object: IVS_OK and *out (owned
 * by the caller, cJSON_Delete); IVS_ELIMIT past IVS_SERVE_MAX_BODY bytes;
 * IVS_EPARSE past 32 levels of nesting and for anything else, with the byte
 * offset. */
int ivs_serve_body_parse(const char *data, size_t n, cJSON **out);

/* The submits of a /submit body ({"submits": [...]}) into out[0..*n),
 * pointing into body (valid while it lives).  IVS_EPARSE naming the entry
 * and field when the shape is wrong (a missing id or item, a kind other
 * than judgment, skip or flag, a label that is not a string, a note of more
 * than 2000 bytes); IVS_ELIMIT past IVS_SERVE_MAX_SUBMITS. */
int ivs_serve_submits_parse(const cJSON *body, ivs_work_submit *out, size_t *n);

/* An integer member (a JSON number with no fraction, within
 * [lo, hi]); absent: *v = dflt.  IVS_EPARSE naming the key otherwise. */
int ivs_serve_int_member(const cJSON *body, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *v);

#endif

#include "eval/logprobs.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "ingest/reader.h"

static int take(const char *path, size_t line, const cJSON *a, size_t want, const char *key, double *dst) {
  if (!cJSON_IsArray(a)) return ivs_error_set(IVS_EPARSE, "%s:%zu: '%s' must be an array of numbers", path, line, key);
  size_t n = (size_t)cJSON_GetArraySize(a);
  if (n != want)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: '%s' has %zu values; the example has %zu classes", path, line, key, n, want);
  size_t k = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, a) {
    if (!cJSON_IsNumber(v)) return ivs_error_set(IVS_EPARSE, "%s:%zu: '%s' must hold numbers", path, line, key);
    double x = v->valuedouble;
    if (!isfinite(x) || x > 0)
      return ivs_error_set(IVS_EINVAL, "%s:%zu: '%s' holds %g, not a log-probability (finite, <= 0)", path, line, key, x);
    dst[k++] = x;
  }
  return 0;
}

int ivs_logprobs_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                      double **values) {
  int logodds = type == IVS_TYPE_LOGODDS || type == IVS_TYPE_ABSOLUTE_LOGODDS;
  size_t total = type == IVS_TYPE_CLASSIFICATION ? offsets[N] : logodds ? 4 * N : N;
  *values = malloc((total ? total : 1) * sizeof **values);
  if (!*values) return ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) return rc;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno, i = 0;
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    if (i == N) {
      rc = ivs_error_set(IVS_EINVAL, "%s:%zu: more lines than the task's %zu examples", path, lineno, N);
      break;
    }
    ivs_json_arena_begin(); /* nothing of the tree outlives the line */
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    const cJSON *idx = cJSON_GetObjectItem(o, "index");
    if (!cJSON_IsObject(o))
      rc = ivs_error_set(IVS_EPARSE, "%s:%zu: not a valid JSON object (NaN and Infinity are not JSON)", path, lineno);
    else if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)i) /* compared as doubles: no cast */
      rc = ivs_error_set(IVS_EINVAL, "%s:%zu: \"index\" must be %zu (lines in task order)", path, lineno, i);
    else if (type == IVS_TYPE_CLASSIFICATION)
      rc = take(path, lineno, cJSON_GetObjectItem(o, "class_logprobs"), n_classes[i], "class_logprobs", *values + offsets[i]);
    else if (logodds) {
      rc = take(path, lineno, cJSON_GetObjectItem(o, "prompt_class_logprobs"), 2, "prompt_class_logprobs", *values + 4 * i);
      if (!rc)
        rc = take(path, lineno, cJSON_GetObjectItem(o, "other_prompt_class_logprobs"), 2, "other_prompt_class_logprobs",
                  *values + 4 * i + 2);
    } else {
      const cJSON *c = cJSON_GetObjectItem(o, "completion_logprob");
      cJSON *wrap = cJSON_CreateArray();
      if (cJSON_IsNumber(c)) cJSON_AddItemToArray(wrap, cJSON_CreateNumber(c->valuedouble));
      rc = take(path, lineno, wrap, 1, "completion_logprob", *values + i);
      cJSON_Delete(wrap);
    }
    cJSON_Delete(o);
    ivs_json_arena_end();
    i++;
  }
  ivs_json_arena_release();
  if (!rc && i < N) rc = ivs_error_set(IVS_EINVAL, "%s: %zu lines for the task's %zu examples", path, i, N);
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  if (rc) {
    free(*values);
    *values = NULL;
  }
  return rc;
}

/* A log-likelihood as lm-eval logs it: a number or a string holding one. */
static int loglik(const cJSON *v, double *out) {
  char *end;
  if (cJSON_IsNumber(v)) *out = v->valuedouble;
  else if (cJSON_IsString(v)) {
    *out = strtod(v->valuestring, &end);
    if (end == v->valuestring || *end) return -1;
  } else
    return -1;
  return isfinite(*out) && *out <= 0 ? 0 : -1;
}

int ivs_lmeval_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                    double **values) {
  if (type != IVS_TYPE_CLASSIFICATION && type != IVS_TYPE_SEQUENCE_PROB)
    return ivs_error_set(IVS_EUSAGE, "%s: lm-eval logs have no log-odds results; use logprobs:", path);
  size_t total = type == IVS_TYPE_CLASSIFICATION ? offsets[N] : N;
  *values = malloc((total ? total : 1) * sizeof **values);
  char *seen = calloc(N ? N : 1, 1);
  if (!*values || !seen) {
    free(seen);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) {
    free(seen);
    return rc;
  }
  ivs_buf line;
  ivs_buf_init(&line, (size_t)64 << 20);
  size_t lineno;
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    ivs_json_arena_begin();
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    const cJSON *id = cJSON_GetObjectItem(o, "doc_id"), *resps = cJSON_GetObjectItem(o, "resps");
    /* range-checked before the cast: a huge double does not fit a size_t */
    size_t i = cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < (double)N ? (size_t)id->valuedouble
                                                                                         : (size_t)-1;
    if (!cJSON_IsObject(o) || !cJSON_IsArray(resps))
      rc = ivs_error_set(IVS_EPARSE, "%s:%zu: not an lm-eval sample (doc_id and resps)", path, lineno);
    else if (i >= N || (double)i != id->valuedouble)
      rc = ivs_error_set(IVS_EINVAL, "%s:%zu: doc_id is not an integer from 0 to %zu (the task's examples)", path, lineno,
                         N ? N - 1 : 0);
    else if (seen[i])
      rc = ivs_error_set(IVS_EINVAL, "%s:%zu: doc_id %zu appears twice", path, lineno, i);
    else {
      size_t want = type == IVS_TYPE_CLASSIFICATION ? n_classes[i] : 1, n = (size_t)cJSON_GetArraySize(resps);
      if (n != want)
        rc = ivs_error_set(IVS_EINVAL, "%s:%zu: %zu responses; example %zu has %zu classes", path, lineno, n, i, want);
      for (size_t k = 0; !rc && k < n; k++) {
        /* [[loglik, is_greedy]] (or [loglik, is_greedy] in filtered form) */
        const cJSON *r = cJSON_GetArrayItem(resps, (int)k);
        if (cJSON_IsArray(cJSON_GetArrayItem(r, 0))) r = cJSON_GetArrayItem(r, 0);
        double x;
        if (loglik(cJSON_GetArrayItem(r, 0), &x))
          rc = ivs_error_set(IVS_EINVAL, "%s:%zu: response %zu is not a log-likelihood (finite, <= 0)", path, lineno, k);
        else (*values)[type == IVS_TYPE_CLASSIFICATION ? offsets[i] + k : i] = x;
      }
      seen[i] = 1;
    }
    cJSON_Delete(o);
    ivs_json_arena_end();
  }
  ivs_json_arena_release();
  for (size_t i = 0; !rc && i < N; i++)
    if (!seen[i]) rc = ivs_error_set(IVS_EINVAL, "%s: no sample for example %zu (doc_id %zu)", path, i, i);
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  free(seen);
  if (rc) {
    free(*values);
    *values = NULL;
  }
  return rc;
}

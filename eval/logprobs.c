#include "eval/logprobs.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
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
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    const cJSON *idx = cJSON_GetObjectItem(o, "index");
    if (!cJSON_IsObject(o))
      rc = ivs_error_set(IVS_EPARSE, "%s:%zu: not a valid JSON object (NaN and Infinity are not JSON)", path, lineno);
    else if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)i)
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
    i++;
  }
  if (!rc && i < N) rc = ivs_error_set(IVS_EINVAL, "%s: %zu lines for the task's %zu examples", path, i, N);
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  if (rc) {
    free(*values);
    *values = NULL;
  }
  return rc;
}

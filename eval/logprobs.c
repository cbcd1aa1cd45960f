#include "eval/logprobs.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/json_arena.h"
#include "core/mem.h"
#include "eval/logprobs_line.h"
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

/* Room for `values` log-probabilities and `records` lines. */
static int reserve(ivs_logprobs_file *lf, size_t values, size_t records) {
  if (ivs_grow((void **)&lf->values, &lf->cap, values, sizeof *lf->values, 4096)) return IVS_ENOMEM;
  return ivs_grow((void **)&lf->counts, &lf->ncap, records, sizeof *lf->counts, 4096);
}

/* The line of record r: lines follow each other but where blank lines were
 * skipped, which `jumps` records. */
static size_t line_of(const ivs_logprobs_file *lf, size_t r) {
  size_t lo = 0, hi = lf->njumps; /* the last jump at or before r */
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (lf->jumps[mid].record <= r) lo = mid;
    else hi = mid;
  }
  return lf->njumps && lf->jumps[lo].record <= r ? lf->jumps[lo].line + (r - lf->jumps[lo].record) : r + 1;
}

static int push(ivs_logprobs_file *lf, const double *v, size_t k, size_t line) {
  int rc = reserve(lf, lf->nvalues + k, lf->n + 1);
  if (rc) return rc;
  memcpy(lf->values + lf->nvalues, v, k * sizeof *v);
  lf->nvalues += k;
  if (line != (lf->n ? line_of(lf, lf->n - 1) + 1 : 1)) {
    if (ivs_grow((void **)&lf->jumps, &lf->jcap, lf->njumps + 1, sizeof *lf->jumps, 16)) return IVS_ENOMEM;
    lf->jumps[lf->njumps].record = lf->n, lf->jumps[lf->njumps++].line = line;
  }
  lf->counts[lf->n++] = (uint32_t)k;
  return 0;
}

int ivs_logprobs_line_json(const char *path, size_t lineno, const char *line, size_t len, ivs_task_type type,
                           size_t index, double **v, size_t *vcap, size_t *k) {
  int logodds = ivs_type_is_logodds(type);
  ivs_json_arena_begin(); /* nothing of the tree outlives the line */
  cJSON *o = cJSON_ParseWithLength(line, len);
  const cJSON *idx = cJSON_GetObjectItem(o, "index");
  const cJSON *a = type == IVS_TYPE_CLASSIFICATION ? cJSON_GetObjectItem(o, "class_logprobs") : NULL;
  size_t want = type == IVS_TYPE_CLASSIFICATION ? (size_t)cJSON_GetArraySize(a) : logodds ? 4 : 1;
  int rc = 0;
  if (want > *vcap) {
    double *nv = realloc(*v, want * sizeof **v);
    if (nv) *v = nv, *vcap = want;
    else rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  if (rc) {
  } else if (!cJSON_IsObject(o))
    rc = ivs_error_set(IVS_EPARSE, "%s:%zu: not a valid JSON object (NaN and Infinity are not JSON)", path, lineno);
  else if (!cJSON_IsNumber(idx) || idx->valuedouble != (double)index) /* compared as doubles: no cast */
    rc = ivs_error_set(IVS_EINVAL, "%s:%zu: \"index\" must be %zu (lines in task order)", path, lineno, index);
  else if (type == IVS_TYPE_CLASSIFICATION)
    rc = take(path, lineno, a, want, "class_logprobs", *v), *k = want;
  else if (logodds) {
    rc = take(path, lineno, cJSON_GetObjectItem(o, "prompt_class_logprobs"), 2, "prompt_class_logprobs", *v);
    if (!rc)
      rc = take(path, lineno, cJSON_GetObjectItem(o, "other_prompt_class_logprobs"), 2, "other_prompt_class_logprobs",
                *v + 2);
    *k = 4;
  } else {
    const cJSON *c = cJSON_GetObjectItem(o, "completion_logprob");
    cJSON *wrap = cJSON_CreateArray();
    if (cJSON_IsNumber(c)) cJSON_AddItemToArray(wrap, cJSON_CreateNumber(c->valuedouble));
    rc = take(path, lineno, wrap, 1, "completion_logprob", *v);
    cJSON_Delete(wrap);
    *k = 1;
  }
  cJSON_Delete(o);
  ivs_json_arena_end();
  return rc;
}

int ivs_logprobs_load(const char *path, ivs_task_type type, ivs_logprobs_file *lf) {
  memset(lf, 0, sizeof *lf);
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) return rc;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno, vcap = 64;
  double *v = malloc(vcap * sizeof *v);
  if (!v) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  /* sized once from the file's size (about 8 bytes of text a value, 32 a
   * line; more is grown into), so that the blocks get huge pages from the
   * start: every 4 KiB page first touched costs a fault, slow on a VM */
  else if (rd.total && reserve(lf, (size_t)(rd.total / 8), (size_t)(rd.total / 32)))
    ivs_logprobs_file_release(lf); /* a guess too large for this machine: grow as needed instead */
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    size_t k = 0;
    /* simdjson first; cJSON for what it leaves (and to explain problems) */
    int fast = !ivs_buf_reserve(&line, IVS_LOGPROBS_PAD) &&
               ivs_logprobs_line_fast(line.data, line.len, line.cap, type, lf->n, v, vcap, &k);
    int bad = fast ? 0 : ivs_logprobs_line_json(path, lineno, line.data, line.len, type, lf->n, &v, &vcap, &k);
    if (bad == IVS_ENOMEM) {
      rc = bad;
    } else if (bad) { /* a problem in the file's content: kept in lf for ivs_logprobs_fit */
      lf->bad = bad;
      lf->bad_line = lineno;
      snprintf(lf->bad_msg, sizeof lf->bad_msg, "%s", ivs_error_message());
      break;
    } else {
      rc = push(lf, v, k, lineno);
    }
  }
  ivs_json_arena_release();
  free(v);
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  if (rc < 0 || rc > 1) {
    ivs_logprobs_file_release(lf);
    return rc;
  }
  return 0;
}

void ivs_logprobs_file_release(ivs_logprobs_file *lf) {
  free(lf->values), free(lf->counts), free(lf->jumps);
  memset(lf, 0, sizeof *lf);
}

int ivs_logprobs_fit(const char *path, ivs_logprobs_file *lf, ivs_task_type type, const size_t *n_classes, size_t N,
                     double **values) {
  size_t n = lf->n < N ? lf->n : N;
  for (size_t i = 0; type == IVS_TYPE_CLASSIFICATION && i < n; i++)
    if (lf->counts[i] != n_classes[i])
      return ivs_error_set(IVS_EINVAL, "%s:%zu: 'class_logprobs' has %zu values; the example has %zu classes", path,
                           line_of(lf, i), (size_t)lf->counts[i], n_classes[i]);
  if (lf->n > N)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: more lines than the task's %zu examples", path, line_of(lf, N), N);
  if (lf->bad && lf->n == N)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: more lines than the task's %zu examples", path, lf->bad_line, N);
  if (lf->bad) return ivs_error_set(lf->bad, "%s", lf->bad_msg);
  if (lf->n < N) return ivs_error_set(IVS_EINVAL, "%s: %zu lines for the task's %zu examples", path, lf->n, N);
  *values = lf->values ? lf->values : malloc(sizeof **values); /* the layout is already the task's */
  lf->values = NULL;
  return *values ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

int ivs_logprobs_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                      double **values) {
  (void)offsets;
  ivs_logprobs_file lf;
  int rc = ivs_logprobs_load(path, type, &lf);
  if (!rc) rc = ivs_logprobs_fit(path, &lf, type, n_classes, N, values);
  ivs_logprobs_file_release(&lf);
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

#include "eval/logprobs.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
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

/* What the samples of a run fill in. */
typedef struct {
  const char *path;
  ivs_task_type type;
  const size_t *n_classes, *offsets;
  size_t N;
  double *values;
  char *seen;
} lmeval_fill;

/* A generation task (generate_until) logs the generated text in resps, and
 * its arguments carry the generation settings as an object: in 0.4.0 to
 * 0.4.2 [[context, {"until": ...}]], later {"gen_args_0": {"arg_0": context,
 * "arg_1": {...}}}. */
static int generated(const cJSON *o, const cJSON *r0) {
  const cJSON *v = cJSON_GetArrayItem(r0, 0);
  char *end;
  if (cJSON_IsString(v) && (strtod(v->valuestring, &end), end == v->valuestring || *end)) return 1;
  const cJSON *args = cJSON_GetObjectItem(o, "arguments");
  if (cJSON_IsArray(args)) return cJSON_IsObject(cJSON_GetArrayItem(cJSON_GetArrayItem(args, 0), 1));
  return cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(args, "gen_args_0"), "arg_1"));
}

/* One sample (where: "path:LINE" or "path: sample K" for messages). */
static int take_sample(lmeval_fill *f, const cJSON *o, const char *where) {
  const cJSON *id = cJSON_GetObjectItem(o, "doc_id"), *resps = cJSON_GetObjectItem(o, "resps");
  size_t N = f->N;
  /* range-checked before the cast: a huge double does not fit a size_t */
  size_t i = cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < (double)N ? (size_t)id->valuedouble
                                                                                       : (size_t)-1;
  if (!cJSON_IsObject(o) || !cJSON_IsArray(resps))
    return ivs_error_set(IVS_EPARSE, "%s: not an lm-eval sample (doc_id and resps)", where);
  if (i >= N || (double)i != id->valuedouble)
    return ivs_error_set(IVS_EINVAL, "%s: doc_id is not an integer from 0 to %zu (the task's examples)", where,
                         N ? N - 1 : 0);
  if (f->seen[i]) return ivs_error_set(IVS_EINVAL, "%s: doc_id %zu appears twice", where, i);
  int classification = f->type == IVS_TYPE_CLASSIFICATION;
  size_t want = classification ? f->n_classes[i] : 1, n = (size_t)cJSON_GetArraySize(resps);
  const cJSON *r0 = cJSON_GetArrayItem(resps, 0);
  if (cJSON_IsArray(cJSON_GetArrayItem(r0, 0))) r0 = cJSON_GetArrayItem(r0, 0);
  if (n && generated(o, r0))
    return ivs_error_set(IVS_EINVAL, "%s: a generation task's sample (resps holds generated text): eval needs the "
                                     "samples of a multiple-choice or loglikelihood task", where);
  if (n != want) return ivs_error_set(IVS_EINVAL, "%s: %zu responses; example %zu has %zu classes", where, n, i, want);
  for (size_t k = 0; k < n; k++) {
    /* [[loglik, is_greedy]] (or [loglik, is_greedy] in filtered form) */
    const cJSON *r = cJSON_GetArrayItem(resps, (int)k);
    if (cJSON_IsArray(cJSON_GetArrayItem(r, 0))) r = cJSON_GetArrayItem(r, 0);
    double x;
    if (loglik(cJSON_GetArrayItem(r, 0), &x))
      return ivs_error_set(IVS_EINVAL, "%s: response %zu is not a log-likelihood (finite, <= 0)", where, k);
    f->values[classification ? f->offsets[i] + k : i] = x;
  }
  f->seen[i] = 1;
  return 0;
}

/* lm-eval 0.4.0 to 0.4.2: the samples as one (pretty-printed) JSON array. */
#define LMEVAL_ARRAY_LIMIT ((size_t)2 << 30)
static int read_array(lmeval_fill *f) {
  ivs_buf text;
  int rc = ivs_file_read_all(f->path, LMEVAL_ARRAY_LIMIT, &text);
  if (rc) return rc;
  ivs_json_oom_reset();
  cJSON *arr = cJSON_ParseWithLength(text.data, text.len);
  if (!arr && ivs_json_oom()) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  else if (!arr) {
    const char *at = cJSON_GetErrorPtr();
    size_t end = text.len, off = at && at >= text.data && at <= text.data + text.len ? (size_t)(at - text.data) : 0;
    while (end && strchr(" \t\r\n", text.data[end - 1])) end--;
    int cut = !end || text.data[end - 1] != ']'; /* a log cut short (a killed run, a partial copy) */
    size_t upto = cut ? end : off, line = 1;
    for (size_t k = 0; k < upto; k++) line += text.data[k] == '\n';
    rc = cut ? ivs_error_set(IVS_EPARSE, "%s:%zu: the lm-eval JSON array of samples ends early (the file is cut short?)", f->path, line)
             : ivs_error_set(IVS_EPARSE, "%s:%zu: invalid JSON in the lm-eval array of samples", f->path, line);
  } else if (!cJSON_IsArray(arr)) {
    rc = ivs_error_set(IVS_EPARSE, "%s: not an lm-eval array of samples", f->path);
  }
  size_t k = 0;
  for (const cJSON *o = arr ? arr->child : NULL; o && !rc; o = o->next, k++) {
    char where[4200];
    snprintf(where, sizeof where, "%s: sample %zu", f->path, k);
    rc = take_sample(f, o, where);
  }
  cJSON_Delete(arr);
  ivs_buf_release(&text);
  return rc;
}

/* Whether the file's first non-blank byte opens an array. */
static int starts_array(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  int c;
  while ((c = getc(fp)) == ' ' || c == '\n' || c == '\r' || c == '\t') {}
  fclose(fp);
  return c == '[';
}

static int read_lines(lmeval_fill *f) {
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, f->path);
  if (rc) return rc;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)64 << 20);
  size_t lineno;
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    char where[4200];
    snprintf(where, sizeof where, "%s:%zu", f->path, lineno);
    ivs_json_arena_begin();
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    rc = take_sample(f, o, where);
    cJSON_Delete(o);
    ivs_json_arena_end();
  }
  ivs_json_arena_release();
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  return rc;
}

int ivs_lmeval_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                    double **values) {
  if (type != IVS_TYPE_CLASSIFICATION && type != IVS_TYPE_SEQUENCE_PROB)
    return ivs_error_set(IVS_EUSAGE, "%s: lm-eval logs have no log-odds results; use logprobs:", path);
  size_t total = type == IVS_TYPE_CLASSIFICATION ? offsets[N] : N;
  lmeval_fill f = {path, type, n_classes, offsets, N, malloc((total ? total : 1) * sizeof(double)), calloc(N ? N : 1, 1)};
  int rc = !f.values || !f.seen ? ivs_error_set(IVS_ENOMEM, "out of memory") : starts_array(path) ? read_array(&f) : read_lines(&f);
  for (size_t i = 0; !rc && i < N; i++)
    if (!f.seen[i]) rc = ivs_error_set(IVS_EINVAL, "%s: no sample for example %zu (doc_id %zu)", path, i, i);
  free(f.seen);
  if (rc) free(f.values), f.values = NULL;
  *values = f.values;
  return rc;
}

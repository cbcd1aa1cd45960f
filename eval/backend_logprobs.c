/* The file backends: logprobs:FILE (eval/logprobs.h's JSONL of
 * log-probabilities) and lmeval:FILE (lm-evaluation-harness --log_samples).
 * Both hold per-example values already, so they answer through `values`;
 * a logprobs: file is read ahead (preload) while the task is read, since
 * reading it needs nothing of the task but its layout, which the file's
 * first line tells. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/backend.h"
#include "eval/logprobs.h"

typedef struct {
  const char *path;
  int lmeval;
  ivs_task_type layout; /* the layout the file was read ahead as; AUTO: not read ahead */
  ivs_logprobs_file lf;
  int load_rc;
  char load_err[1024];
} file_state;

static int check_file(const char *arg) {
  (void)arg; /* any name; a missing file is reported when it is read */
  return 0;
}

static int open_file(int lmeval, const char *arg, void **state) {
  file_state *s = calloc(1, sizeof *s);
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  s->path = arg, s->lmeval = lmeval, s->layout = IVS_TYPE_AUTO;
  *state = s;
  return 0;
}

static int open_logprobs(const char *name, const char *arg, const ivs_eval_opts *opts, void **state) {
  (void)name, (void)opts;
  return open_file(0, arg, state);
}

static int open_lmeval(const char *name, const char *arg, const ivs_eval_opts *opts, void **state) {
  (void)name, (void)opts;
  return open_file(1, arg, state);
}

static ivs_task_type family(ivs_task_type t) { return t == IVS_TYPE_ABSOLUTE_LOGODDS ? IVS_TYPE_LOGODDS : t; }

/* The layout of a logprobs: file from the keys of its first line. */
static ivs_task_type peek_layout(const char *path) {
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno;
  cJSON *o = ivs_reader_first_line(path, &line, &lineno) ? cJSON_ParseWithLength(line.data, line.len) : NULL;
  ivs_task_type t = cJSON_GetObjectItem(o, "class_logprobs")          ? IVS_TYPE_CLASSIFICATION
                    : cJSON_GetObjectItem(o, "prompt_class_logprobs") ? IVS_TYPE_LOGODDS
                    : cJSON_GetObjectItem(o, "completion_logprob")    ? IVS_TYPE_SEQUENCE_PROB
                                                                      : IVS_TYPE_AUTO;
  cJSON_Delete(o);
  ivs_buf_release(&line);
  return t;
}

/* Reads the file as the type asked for, else as its first line says; what
 * goes wrong is kept for values (ivs_logprobs_fit checks it against the
 * task afterwards). */
static void preload_logprobs(void *state, ivs_task_type type) {
  file_state *s = state;
  s->layout = type != IVS_TYPE_AUTO ? family(type) : peek_layout(s->path);
  if (s->layout != IVS_TYPE_AUTO && (s->load_rc = ivs_logprobs_load(s->path, s->layout, &s->lf)))
    snprintf(s->load_err, sizeof s->load_err, "%s", ivs_error_message());
}

static int values_file(void *state, const ivs_eval_task *t, ivs_task_type type, double **values) {
  file_state *s = state;
  if (!s->lmeval && s->layout != IVS_TYPE_AUTO && s->layout == family(type)) { /* read ahead */
    if (s->load_rc) return ivs_error_set(s->load_rc, "%s", s->load_err);
    return ivs_logprobs_fit(s->path, &s->lf, type, t->ncls, t->n, values) ? ivs_error_code() : 0;
  }
  return (s->lmeval ? ivs_lmeval_read : ivs_logprobs_read)(s->path, type, t->ncls, t->n, t->offsets, values)
             ? ivs_error_code()
             : 0;
}

static void close_file(void *state) {
  file_state *s = state;
  if (!s) return;
  ivs_logprobs_file_release(&s->lf);
  free(s);
}

const ivs_backend ivs_backend_logprobs = {.prefix = "logprobs:", .caps = IVS_BACKEND_VALUES, .check = check_file,
                                          .open = open_logprobs, .preload = preload_logprobs, .values = values_file,
                                          .close = close_file};
const ivs_backend ivs_backend_lmeval = {.prefix = "lmeval:", .caps = IVS_BACKEND_VALUES, .check = check_file,
                                        .open = open_lmeval, .values = values_file, .close = close_file};

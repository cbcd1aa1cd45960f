/* invscale eval TASK --model NAME=logprobs:FILE ... --out DIR: prize scoring and the trend. */
#define _GNU_SOURCE /* sync_file_range */
#include <cjson/cJSON.h>
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/dtoa.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/json_arena.h"
#include "core/mem.h"
#include "eval/logprobs.h"
#include "eval/openai.h"
#include "eval/plot.h"
#include "eval/score.h"
#include "eval/trend.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

static const char help[] =
    "usage: invscale eval TASK --model NAME=BACKEND [--model ...] [--params NAME=N ...]\n"
    "                     [--type T] [--metric loss|acc] [--invert] [--bootstrap N] [--seed S]\n"
    "                     [--format text|json] --out DIR\n"
    "  backends: logprobs:FILE   log-probabilities computed elsewhere, one JSONL line per example\n"
    "            lmeval:FILE     lm-evaluation-harness --log_samples output\n"
    "            openai:URL@ID   an OpenAI-compatible server (vLLM, SGLang), e.g.\n"
    "                            openai:http://127.0.0.1:8000/v1@EleutherAI/pythia-70m\n"
    "  server options: [--api-key-env VAR] [--concurrency N (8)] [--timeout SECONDS (60)]\n"
    "                  [--retries N (5)] [--cache DIR (DIR/cache)]\n\n"
    "Scores a task file (JSONL or CSV) on models of growing size exactly as the prize's pipeline\n"
    "(see docs/invscale.md).  Parameter counts: --params, else the prize's and today's known families\n"
    "(gpt2, ada..davinci, opt, gpt-neo, gpt-j, pythia, qwen2.5, smollm2).  Writes DIR/<model>.csv,\n"
    "DIR/labelled_data.jsonl, DIR/summary.json and DIR/loss_plot.svg, and prints the verdict.\n"
    "Server answers are cached per model under --cache, so an interrupted run resumes.\n"
    "Not here yet: the native: backend.\n";

typedef struct {
  const char *name, *file;
  int lmeval; /* lmeval:FILE, else logprobs:FILE */
  int openai; /* openai:URL@ID: file is the URL, id the server's model */
  const char *id;
  double params;
  double *values; /* log-probs from the backend */
  ivs_score *score;
  double mean, sem, accuracy, coverage;
  int rc; /* of reading and scoring it on a worker thread, with the message */
  char err[1024];
  /* a logprobs: file read while the task is (see preload_worker) */
  ivs_task_type layout; /* the layout it was read as; AUTO: not read ahead */
  ivs_logprobs_file lf;
  int load_rc;
  char load_err[1024];
} model;

typedef struct {
  ivs_ingest_ctx ctx;
  size_t n, cap;
  size_t *ncls, *answer;
  /* Example i's row as JSON text without its closing brace is
   * rows.data[row_off[i] .. row_off[i + 1]); its texts are NUL-terminated in
   * texts from text_off[i]: prompt, other_prompt, completion, then each class
   * (absent fields as empty strings).  Two buffers instead of a cJSON tree
   * per example: a million examples would otherwise take a gigabyte. */
  ivs_buf rows, texts;
  size_t *row_off, *text_off;
  size_t cap_hint; /* examples the file may hold, guessed from its size */
  int bad;
  char err[600];
} task;

static int put_uint(ivs_buf *b, size_t v) {
  char tmp[24];
  size_t n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while (v /= 10);
  int rc = ivs_buf_reserve(b, n);
  while (!rc && n) b->data[b->len++] = tmp[--n];
  if (!rc) b->data[b->len] = '\0';
  return rc;
}

static int on_example(const ivs_record *rec, void *ud) {
  task *t = ud;
  ivs_example ex;
  ivs_diag d;
  memset(&d, 0, sizeof d);
  int rc = ivs_ingest_convert(&t->ctx, rec, &ex, &d);
  if (rc == IVS_EINVAL) {
    return ivs_error_set(IVS_EINVAL, "%s:%zu: %s%s%s", t->ctx.path, d.line, d.field, d.field[0] ? ": " : "", d.message);
  }
  if (rc) return rc;
  if (ex.type != IVS_TYPE_SEQUENCE_PROB && ex.answer_index < 0) {
    ivs_example_release(&ex);
    return ivs_error_set(IVS_EINVAL, "%s:%zu: no answer_index: eval needs labelled examples", t->ctx.path, rec->line);
  }
  if (t->n == t->cap) { /* the first time room for as many examples as the file may hold */
    size_t cap = t->cap ? t->cap * 2 : t->cap_hint > 256 ? t->cap_hint : 256;
    size_t **arrays[4] = {&t->ncls, &t->answer, &t->row_off, &t->text_off};
    for (int k = 0; k < 4; k++) {
      size_t *p = realloc(*arrays[k], (cap + 1) * sizeof *p);
      if (!p) {
        ivs_example_release(&ex);
        return ivs_error_set(IVS_ENOMEM, "out of memory");
      }
      if (!*arrays[k]) ivs_mem_hint_huge(p, (cap + 1) * sizeof *p);
      *arrays[k] = p;
    }
    t->cap = cap;
  }
  ivs_buf *b = &t->rows;
  t->row_off[t->n] = b->len;
  t->text_off[t->n] = t->texts.len;
  rc = ivs_buf_puts(b, "{\"prompt\":");
  if (!rc) rc = ivs_json_put_string(b, ex.prompt, strlen(ex.prompt));
  if (!rc && ex.other_prompt && !(rc = ivs_buf_puts(b, ",\"other_prompt\":")))
    rc = ivs_json_put_string(b, ex.other_prompt, strlen(ex.other_prompt));
  if (!rc && ex.completion && !(rc = ivs_buf_puts(b, ",\"completion\":")))
    rc = ivs_json_put_string(b, ex.completion, strlen(ex.completion));
  if (!rc && ex.has_classes && !(rc = ivs_buf_puts(b, ",\"classes\":")) &&
      !(rc = ivs_json_put_string_array(b, ex.classes.items, ex.classes.n)) &&
      !(rc = ivs_buf_puts(b, ",\"answer_index\":")))
    rc = put_uint(b, ex.answer_index < 0 ? 0 : (size_t)ex.answer_index);
  const char *parts[3] = {ex.prompt, ex.other_prompt ? ex.other_prompt : "", ex.completion ? ex.completion : ""};
  for (size_t k = 0; k < 3 + ex.classes.n && !rc; k++) {
    const char *p = k < 3 ? parts[k] : ex.classes.items[k - 3];
    rc = ivs_buf_append(&t->texts, p, strlen(p) + 1);
  }
  if (rc) {
    ivs_example_release(&ex);
    return rc;
  }
  t->row_off[t->n + 1] = b->len;
  t->text_off[t->n + 1] = t->texts.len;
  t->ncls[t->n] = ex.classes.n;
  t->answer[t->n] = ex.answer_index < 0 ? 0 : (size_t)ex.answer_index;
  t->n++;
  ivs_example_release(&ex);
  return 0;
}

/* Example i's k-th text: 0 prompt, 1 other_prompt, 2 completion, 3 + j class j. */
static const char *task_text(const task *t, size_t i, size_t k) {
  const char *p = t->texts.data + t->text_off[i];
  while (k--) p += strlen(p) + 1;
  return p;
}

/* Nominal sizes: the prize's list and the families used for pilots today. */
static double known_params(const char *name) {
  static const struct {
    const char *n;
    double p;
  } k[] = {{"gpt2", 124e6}, {"gpt2-medium", 355e6}, {"gpt2-large", 774e6}, {"gpt2-xl", 1.5e9},
           {"ada", 350e6}, {"babbage", 1.3e9}, {"curie", 6.7e9}, {"davinci", 175e9},
           {"opt-125m", 125e6}, {"opt-350m", 350e6}, {"opt-1.3b", 1.3e9}, {"opt-2.7b", 2.7e9}, {"opt-6.7b", 6.7e9},
           {"opt-13b", 13e9}, {"gpt-neo-125M", 125e6}, {"gpt-neo-1.3B", 1.3e9}, {"gpt-neo-2.7B", 2.7e9},
           {"gpt-j-6B", 6e9}, {"pythia-14m", 14e6}, {"pythia-70m", 70e6}, {"pythia-160m", 160e6},
           {"pythia-410m", 410e6}, {"pythia-1b", 1e9}, {"pythia-1.4b", 1.4e9}, {"pythia-2.8b", 2.8e9},
           {"pythia-6.9b", 6.9e9}, {"pythia-12b", 12e9}, {"Qwen2.5-0.5B", 0.5e9}, {"Qwen2.5-1.5B", 1.5e9},
           {"Qwen2.5-3B", 3e9}, {"Qwen2.5-7B", 7e9}, {"Qwen2.5-14B", 14e9}, {"Qwen2.5-32B", 32e9},
           {"Qwen2.5-72B", 72e9}, {"SmolLM2-135M", 135e6}, {"SmolLM2-360M", 360e6}, {"SmolLM2-1.7B", 1.7e9}};
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  for (size_t i = 0; i < sizeof k / sizeof *k; i++)
    if (!strcasecmp(name, k[i].n)) return k[i].p;
  return 0;
}

static int put_csv_field(ivs_buf *b, const char *s) { /* always quoted, as csv_fwrite */
  size_t n = strlen(s), need = csv_write(NULL, 0, s, n);
  int rc = ivs_buf_reserve(b, need);
  if (!rc) b->len += csv_write(b->data + b->len, need, s, n), b->data[b->len] = '\0';
  return rc;
}

/* The per-example outputs, <model>.csv (the prize's columns) and
 * labelled_data.jsonl (the task's rows with every model's columns), are
 * written in chunks of examples by two threads: each formats a chunk into
 * its own buffers, every number once for both files, then appends them to
 * the files when the chunks before it are in. */
#define CHUNK 16384

typedef struct {
  const task *t;
  ivs_task_type type;
  const model *ms;
  size_t M;
  ivs_atomic_file af[65]; /* the M CSVs, then labelled_data.jsonl */
  /* bytes written (by the thread whose turn it is), published under mu, handed to the disk */
  unsigned long long pos[65], written[65], synced[65];
  int done;
  ivs_buf keys; /* ,"m_loss": ,"m_correct": ,"m_total_logprob": as JSON text */
  size_t koff[64 * 3 + 1];
  size_t nchunks, next, turn; /* chunks: count, next to format, next to write */
  int rc;
  char err[1024];
  pthread_mutex_t mu;
  pthread_cond_t cv;
} tables;

static int put_key(ivs_buf *b, const tables *w, size_t m, int k) {
  return ivs_buf_append(b, w->keys.data + w->koff[m * 3 + (size_t)k], w->koff[m * 3 + (size_t)k + 1] - w->koff[m * 3 + (size_t)k]);
}

/* Examples [from, to) into the buffers b[0..M] (CSVs, then labelled). */
static int format_chunk(const tables *w, size_t from, size_t to, ivs_buf *b) {
  const task *t = w->t;
  int rc = 0, classification = w->type == IVS_TYPE_CLASSIFICATION, seq = w->type == IVS_TYPE_SEQUENCE_PROB;
  ivs_buf *lab = &b[w->M];
  for (size_t i = from; i < to && !rc; i++) {
    rc = ivs_buf_append(lab, t->rows.data + t->row_off[i], t->row_off[i + 1] - t->row_off[i]);
    for (size_t m = 0; m < w->M && !rc; m++) {
      const ivs_score *s = &w->ms[m].score[i];
      char loss[IVS_DTOA_SIZE], total[IVS_DTOA_SIZE];
      size_t nl = (size_t)ivs_dtoa(s->loss, loss), nt = seq ? 0 : (size_t)ivs_dtoa(s->total_logprob, total);
      ivs_buf *csv = &b[m];
      rc = put_uint(csv, i);
      if (!rc) rc = ivs_buf_putc(csv, ',');
      if (!rc) rc = ivs_buf_append(csv, loss, nl);
      if (!rc && !seq) {
        rc = ivs_buf_puts(csv, s->correct ? ",1," : ",0,");
        if (!rc && classification && !(rc = put_csv_field(csv, task_text(t, i, 3 + s->predicted))))
          rc = ivs_buf_putc(csv, ',');
        if (!rc) rc = ivs_buf_append(csv, total, nt);
      }
      if (!rc) rc = ivs_buf_putc(csv, '\n');
      if (!rc) rc = put_key(lab, w, m, 0);
      if (!rc) rc = ivs_buf_append(lab, loss, nl);
      if (!rc && s->correct >= 0 && !(rc = put_key(lab, w, m, 1))) rc = ivs_buf_putc(lab, s->correct ? '1' : '0');
      if (!rc && !seq && isfinite(s->total_logprob) && !(rc = put_key(lab, w, m, 2))) rc = ivs_buf_append(lab, total, nt);
    }
    if (!rc) rc = ivs_buf_puts(lab, "}\n");
  }
  return rc;
}

/* Appends the buffers to the files. */
static int write_chunk(tables *w, ivs_buf *b) {
  for (size_t k = 0; k <= w->M; k++) {
    FILE *f = w->af[k].f;
    if ((b[k].len && fwrite(b[k].data, 1, b[k].len, f) != b[k].len) || fflush(f))
      return ivs_error_set(IVS_EIO, "%s: cannot write: %s", w->af[k].path, strerror(errno));
    w->pos[k] += b[k].len;
    ivs_buf_clear(&b[k]);
  }
  return 0;
}

/* Hands what is written to the disk while the rest is being formatted, so
 * that the fsync at the end has little left to wait for. */
static void *tables_syncer(void *arg) {
  tables *w = arg;
  unsigned long long upto[65];
  pthread_mutex_lock(&w->mu);
  while (!w->done && !w->rc) {
    pthread_cond_wait(&w->cv, &w->mu);
    memcpy(upto, w->written, sizeof upto);
    pthread_mutex_unlock(&w->mu);
    for (size_t k = 0; k <= w->M; k++)
      if (upto[k] > w->synced[k]) {
        sync_file_range(fileno(w->af[k].f), (off_t)w->synced[k], (off_t)(upto[k] - w->synced[k]), SYNC_FILE_RANGE_WRITE);
        w->synced[k] = upto[k];
      }
    pthread_mutex_lock(&w->mu);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void *tables_worker(void *arg) {
  tables *w = arg;
  ivs_buf b[65];
  for (size_t k = 0; k <= w->M; k++) ivs_buf_init(&b[k], 0);
  for (;;) {
    pthread_mutex_lock(&w->mu);
    size_t c = w->next++;
    int stop = c >= w->nchunks || w->rc;
    pthread_mutex_unlock(&w->mu);
    if (stop) break;
    size_t to = (c + 1) * CHUNK < w->t->n ? (c + 1) * CHUNK : w->t->n;
    int rc = format_chunk(w, c * CHUNK, to, b);
    pthread_mutex_lock(&w->mu);
    while (w->turn != c && !w->rc) pthread_cond_wait(&w->cv, &w->mu);
    int mine = w->turn == c; /* else the other thread failed */
    pthread_mutex_unlock(&w->mu);
    if (!rc && mine) rc = write_chunk(w, b); /* only this thread writes now */
    pthread_mutex_lock(&w->mu);
    if (rc && !w->rc) w->rc = rc, snprintf(w->err, sizeof w->err, "%s", ivs_error_message());
    memcpy(w->written, w->pos, sizeof w->written);
    w->turn++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
  for (size_t k = 0; k <= w->M; k++) ivs_buf_release(&b[k]);
  return NULL;
}

/* Writes the tables; `then(arg)` is called once they are written, before the
 * files are committed (their fsync is mostly waiting on the disk). */
static int write_tables(const char *dir, const task *t, ivs_task_type type, const model *ms, size_t M,
                        void (*then)(void *), void *arg) {
  int logodds = ivs_type_is_logodds(type);
  tables w;
  memset(&w, 0, sizeof w);
  w.t = t, w.type = type, w.ms = ms, w.M = M, w.nchunks = (t->n + CHUNK - 1) / CHUNK;
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  ivs_buf_init(&w.keys, 0);
  int rc = 0;
  for (size_t m = 0; m < M && !rc; m++)
    for (int k = 0; k < 3 && !rc; k++) {
      char key[300];
      snprintf(key, sizeof key, "%s_%s", ms[m].name,
               k == 0 ? (logodds ? "logodds_difference" : "loss") : k == 1 ? "correct" : "total_logprob");
      w.koff[m * 3 + (size_t)k] = w.keys.len;
      rc = ivs_buf_putc(&w.keys, ',');
      if (!rc) rc = ivs_json_put_string(&w.keys, key, strlen(key));
      if (!rc) rc = ivs_buf_putc(&w.keys, ':');
    }
  w.koff[M * 3] = w.keys.len;
  size_t opened = 0;
  for (; opened <= M && !rc; opened++) {
    char path[4200];
    if (opened < M) snprintf(path, sizeof path, "%s/%s.csv", dir, ms[opened].name);
    else snprintf(path, sizeof path, "%s/labelled_data.jsonl", dir);
    if ((rc = ivs_atomic_open(&w.af[opened], path))) break;
    if (opened < M)
      rc = fputs(type == IVS_TYPE_CLASSIFICATION ? "index,loss,correct,predicted,total_logprob\n"
                 : logodds                      ? "index,logodds_difference,correct,total_logprob\n"
                                                : "index,loss\n",
                 w.af[opened].f) < 0
               ? ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(errno))
               : 0;
  }
  if (!rc) {
    pthread_t th, sy;
    int threaded = w.nchunks > 1 && pthread_create(&th, NULL, tables_worker, &w) == 0;
    int syncing = w.nchunks > 1 && pthread_create(&sy, NULL, tables_syncer, &w) == 0;
    tables_worker(&w);
    if (threaded) pthread_join(th, NULL);
    pthread_mutex_lock(&w.mu);
    w.done = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    if (syncing) pthread_join(sy, NULL);
    if (w.rc) rc = ivs_error_set(w.rc, "%s", w.err);
  }
  if (!rc && then) then(arg);
  for (size_t k = 0; k < opened; k++)
    if (rc || (rc = ivs_atomic_commit(&w.af[k]))) ivs_atomic_abort(&w.af[k]);
  ivs_buf_release(&w.keys);
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  return rc;
}

/* summary.json and the plot, once the trend is known. */
static int write_summary(const char *dir, const task *t, ivs_task_type type, model *ms, size_t M, const char *metric,
                         double baseline, const ivs_trend *tr, int invert, const char *task_path) {
  char path[4200];
  int logodds = ivs_type_is_logodds(type);
  int rc;
  /* summary.json */
  cJSON *sum = cJSON_CreateObject();
  cJSON_AddStringToObject(sum, "task_type", ivs_type_name(type));
  cJSON_AddNumberToObject(sum, "n_examples", (double)t->n);
  cJSON_AddStringToObject(sum, "metric", metric);
  cJSON_AddBoolToObject(sum, "invert", invert);
  if (isfinite(baseline)) cJSON_AddNumberToObject(sum, "baseline", baseline);
  else cJSON_AddNullToObject(sum, "baseline");
  cJSON *arr = cJSON_AddArrayToObject(sum, "models");
  for (size_t m = 0; m < M; m++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", ms[m].name);
    cJSON_AddNumberToObject(o, "params", ms[m].params);
    cJSON_AddNumberToObject(o, "mean", ms[m].mean);
    cJSON_AddNumberToObject(o, "sem", ms[m].sem);
    if (isfinite(ms[m].accuracy)) cJSON_AddNumberToObject(o, "accuracy", ms[m].accuracy);
    else cJSON_AddNullToObject(o, "accuracy");
    if (isfinite(ms[m].coverage)) cJSON_AddNumberToObject(o, "coverage", ms[m].coverage);
    else cJSON_AddNullToObject(o, "coverage");
    cJSON_AddItemToArray(arr, o);
  }
  cJSON *tj = cJSON_AddObjectToObject(sum, "trend");
  cJSON_AddStringToObject(tj, "verdict", tr->verdict);
  cJSON_AddNumberToObject(tj, "slope_per_decade", tr->slope);
  cJSON *ci = cJSON_AddArrayToObject(tj, "ci95");
  cJSON_AddItemToArray(ci, cJSON_CreateNumber(tr->lo));
  cJSON_AddItemToArray(ci, cJSON_CreateNumber(tr->hi));
  cJSON_AddNumberToObject(tj, "n_boot", (double)tr->n_boot);
  char *text = cJSON_Print(sum);
  cJSON_Delete(sum);
  snprintf(path, sizeof path, "%s/summary.json", dir);
  ivs_atomic_file af;
  rc = ivs_atomic_open(&af, path);
  if (!rc) {
    fprintf(af.f, "%s\n", text);
    rc = ivs_atomic_commit(&af);
  }
  cJSON_free(text);
  if (rc) return rc;
  /* the plot */
  ivs_plot_model pm[64];
  for (size_t m = 0; m < M && m < 64; m++) pm[m] = (ivs_plot_model){ms[m].name, ms[m].params, ms[m].mean, ms[m].sem};
  char title[600], tmp[4300];
  const char *base = strrchr(task_path, '/');
  snprintf(title, sizeof title, "%s: %s", base ? base + 1 : task_path, tr->verdict);
  snprintf(path, sizeof path, "%s/loss_plot.svg", dir);
  snprintf(tmp, sizeof tmp, "%s/.loss_plot.svg.tmp", dir);
  rc = ivs_plot_svg(tmp, title, metric, pm, M < 64 ? M : 64, baseline, !strcmp(metric, "loss") && !logodds);
  if (!rc && rename(tmp, path) != 0) rc = ivs_error_set(IVS_EIO, "%s: %s", path, strerror(errno));
  return rc;
}


static void on_progress(size_t done, size_t total, void *ud) { progress_count(done, total, ud, "requests"); }

/* One request per class (classification), per prompt and class (log-odds:
 * prompt c0, prompt c1, other_prompt c0, other_prompt c1) or per completion,
 * laid out as the logprobs: backend lays out its values. */
static int openai_values(const model *m, const task *t, ivs_task_type type, const size_t *offsets,
                         ivs_openai_opts *o, double **values) {
  int logodds = ivs_type_is_logodds(type);
  size_t n = type == IVS_TYPE_CLASSIFICATION ? offsets[t->n] : logodds ? 4 * t->n : t->n;
  ivs_openai_req *reqs = calloc(n ? n : 1, sizeof *reqs);
  *values = calloc(n ? n : 1, sizeof **values);
  if (!reqs || !*values) {
    free(reqs);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  size_t k = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (type == IVS_TYPE_SEQUENCE_PROB) {
      reqs[k] = (ivs_openai_req){task_text(t, i, 0), task_text(t, i, 2), ""};
      snprintf(reqs[k++].what, sizeof reqs->what, "example %zu, completion", i);
      continue;
    }
    for (int side = 0; side < (logodds ? 2 : 1); side++)
      for (size_t j = 0; j < t->ncls[i]; j++) {
        reqs[k] = (ivs_openai_req){task_text(t, i, side), task_text(t, i, 3 + j), ""};
        snprintf(reqs[k++].what, sizeof reqs->what, "example %zu, %sclass %zu", i, side ? "other_prompt, " : "", j);
      }
  }
  char cache[4300];
  if (o->cache_path) {
    /* one file per model id, named so that any id makes a plain file name */
    char id[200];
    size_t j = 0;
    for (const char *p = m->id; *p && j + 1 < sizeof id; p++)
      id[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                               *p == '-'
                           ? *p
                           : '_');
    id[j] = '\0';
    if (mkdir(o->cache_path, 0777) != 0 && errno != EEXIST) {
      free(reqs);
      return ivs_error_set(IVS_EIO, "%s: cannot create the cache folder: %s", o->cache_path, strerror(errno));
    }
    if ((size_t)snprintf(cache, sizeof cache, "%s/%s.jsonl", o->cache_path, id) >= sizeof cache) {
      free(reqs);
      return ivs_error_set(IVS_EUSAGE, "%s: cache path too long", o->cache_path);
    }
  }
  ivs_openai_opts mo = *o;
  mo.base_url = m->file;
  mo.model = m->id;
  mo.cache_path = o->cache_path ? cache : NULL;
  mo.progress_ud = (void *)m->name;
  ivs_openai_stats st;
  int rc = ivs_openai_score(&mo, reqs, n, *values, &st);
  progress_done();
  if (rc) ivs_error_prefix("model '%s'", m->name);
  else if (isatty(2))
    fprintf(stderr, "%s: %zu requests: %zu from the cache, %zu sent (%zu retried)\n", m->name, n, st.cached, st.sent,
            st.retried);
  free(reqs);
  return rc;
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

/* Models handed out one at a time to the threads working on them. */
typedef struct {
  model *ms;
  size_t M, next;
  pthread_mutex_t mu;
} model_queue;

/* The next model to work on, or NULL when none is left. */
static model *queue_take(model_queue *q) {
  pthread_mutex_lock(&q->mu);
  model *m = q->next < q->M ? &q->ms[q->next++] : NULL;
  pthread_mutex_unlock(&q->mu);
  return m;
}

typedef struct {
  model_queue q;
  ivs_task_type type; /* --type, or AUTO */
} preload_pool;

/* Reads logprobs: files while the task is being read: they do not need it
 * (ivs_logprobs_fit checks them against it afterwards). */
static void *preload_worker(void *arg) {
  preload_pool *p = arg;
  model *md;
  while ((md = queue_take(&p->q))) {
    if (md->openai || md->lmeval) continue;
    md->layout = p->type != IVS_TYPE_AUTO ? family(p->type) : peek_layout(md->file);
    if (md->layout != IVS_TYPE_AUTO && (md->load_rc = ivs_logprobs_load(md->file, md->layout, &md->lf)))
      snprintf(md->load_err, sizeof md->load_err, "%s", ivs_error_message());
  }
  return NULL;
}

/* Reads a model's log-probabilities (unless a server gave them) and scores
 * every example; mean, SEM (std with ddof=0), accuracy and coverage. */
static int score_model(model *m, const task *t, ivs_task_type type, const size_t *offsets, int invert, int acc) {
  int logodds = ivs_type_is_logodds(type);
  if (!m->values && m->layout != IVS_TYPE_AUTO && m->layout == family(type)) { /* read ahead */
    if (m->load_rc) return ivs_error_set(m->load_rc, "%s", m->load_err);
    if (ivs_logprobs_fit(m->file, &m->lf, type, t->ncls, t->n, &m->values)) return ivs_error_code();
  }
  if (!m->values && (m->lmeval ? ivs_lmeval_read : ivs_logprobs_read)(m->file, type, t->ncls, t->n, offsets, &m->values))
    return ivs_error_code();
  if (!(m->score = calloc(t->n ? t->n : 1, sizeof *m->score))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_mem_hint_huge(m->score, t->n * sizeof *m->score);
  double sum = 0, sq = 0, correct = 0, cov = 0;
  for (size_t i = 0; i < t->n; i++) {
    ivs_score *s = &m->score[i];
    if (type == IVS_TYPE_CLASSIFICATION) ivs_score_classification(m->values + offsets[i], t->ncls[i], t->answer[i], invert, s);
    else if (logodds)
      ivs_score_logodds(m->values + 4 * i, m->values + 4 * i + 2, t->answer[i], type == IVS_TYPE_ABSOLUTE_LOGODDS, s);
    else ivs_score_sequence(m->values[i], s);
    double v = acc ? s->correct : s->loss;
    sum += v, sq += v * v;
    correct += s->correct;
    cov += exp(s->total_logprob);
  }
  double n = (double)t->n;
  m->mean = sum / n;
  m->sem = isfinite(m->mean) ? sqrt(fmax(sq / n - m->mean * m->mean, 0)) / sqrt(n) : NAN;
  m->accuracy = type == IVS_TYPE_SEQUENCE_PROB ? NAN : correct / n;
  m->coverage = type == IVS_TYPE_CLASSIFICATION ? cov / n : NAN;
  return 0;
}

typedef struct {
  model_queue q;
  const task *t;
  ivs_task_type type;
  const size_t *offsets;
  int invert, acc;
} score_pool;

/* Takes models off the pool until none is left; errors stay with the model
 * (the last error is per thread). */
static void *score_worker(void *arg) {
  score_pool *p = arg;
  model *m;
  while ((m = queue_take(&p->q)))
    if ((m->rc = score_model(m, p->t, p->type, p->offsets, p->invert, p->acc)))
      snprintf(m->err, sizeof m->err, "%s", ivs_error_message());
  return NULL;
}

typedef struct {
  const model *ms; /* sorted by size */
  size_t M;
  const task *t;
  int acc;
  size_t nboot;
  unsigned long long seed;
  ivs_trend tr;
  int rc;
  char err[1024];
  pthread_t th;
  int started;
} trend_job;

/* The slope of the metric against log10(params), with its bootstrap. */
static void *trend_thread(void *arg) {
  trend_job *j = arg;
  size_t N = j->t->n;
  double *x = malloc(j->M * sizeof *x), *met = malloc(j->M * N * sizeof *met);
  if (!x || !met) j->rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_mem_hint_huge(met, j->M * N * sizeof *met);
  for (size_t m = 0; m < j->M && !j->rc; m++) {
    x[m] = log10(j->ms[m].params);
    for (size_t i = 0; i < N; i++) met[m * N + i] = j->acc ? j->ms[m].score[i].correct : j->ms[m].score[i].loss;
  }
  if (!j->rc) j->rc = ivs_trend_fit(x, j->M, met, N, !j->acc, j->nboot, j->seed, &j->tr);
  if (j->rc) snprintf(j->err, sizeof j->err, "%s", ivs_error_message());
  free(x), free(met);
  return NULL;
}

static void trend_start(void *arg) {
  trend_job *j = arg;
  j->started = pthread_create(&j->th, NULL, trend_thread, j) == 0;
}

int cmd_eval(int argc, char **argv, const char *db) {
  (void)db;
  enum { O_MODEL = 256, O_PARAMS, O_TYPE, O_METRIC, O_INVERT, O_OUT, O_BOOT, O_SEED, O_FORMAT, O_HELP,
         O_KEYENV, O_CONC, O_TIMEOUT, O_RETRIES, O_CACHE };
  static const struct option opts[] = {{"model", required_argument, 0, O_MODEL},   {"params", required_argument, 0, O_PARAMS},
                                       {"type", required_argument, 0, O_TYPE},     {"metric", required_argument, 0, O_METRIC},
                                       {"invert", no_argument, 0, O_INVERT},       {"out", required_argument, 0, O_OUT},
                                       {"bootstrap", required_argument, 0, O_BOOT}, {"seed", required_argument, 0, O_SEED},
                                       {"format", required_argument, 0, O_FORMAT}, {"help", no_argument, 0, O_HELP},
                                       {"api-key-env", required_argument, 0, O_KEYENV},
                                       {"concurrency", required_argument, 0, O_CONC},
                                       {"timeout", required_argument, 0, O_TIMEOUT},
                                       {"retries", required_argument, 0, O_RETRIES},
                                       {"cache", required_argument, 0, O_CACHE},
                                       {0, 0, 0, 0}};
  ivs_openai_opts oo = {NULL, NULL, NULL, NULL, NULL, 8, 60000, 5, on_progress, NULL};
  const char *key_env = NULL, *cache_dir = NULL;
  char cache_default[4200];
  model ms[64];
  size_t M = 0, nparams = 0, nboot = 1000;
  char *pnames[64];
  double pvals[64];
  const char *out = NULL, *metric = "loss";
  unsigned long long seed = 1;
  int invert = 0, json = 0, c;
  task t;
  memset(&t, 0, sizeof t);
  ivs_buf_init(&t.rows, SIZE_MAX / 2); /* the whole task: bounded by the task file's size */
  ivs_buf_init(&t.texts, SIZE_MAX / 2);
  memset(ms, 0, sizeof ms);
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    char *eq;
    switch (c) {
    case O_MODEL:
      eq = strchr(optarg, '=');
      if (!eq || eq == optarg) return usage_error("eval", "--model: expected NAME=BACKEND:ARG, got '%s'", optarg);
      if (M == 64) return usage_error("eval", "at most 64 models");
      *eq = '\0';
      for (size_t k = 0; k < M; k++)
        if (!strcmp(ms[k].name, optarg)) return usage_error("eval", "model name '%s' given twice", optarg);
      ms[M].name = optarg;
      if (!strncmp(eq + 1, "openai:", 7)) {
        char *at = strrchr(eq + 8, '@');
        if (!at || at == eq + 8 || !at[1] || (strncmp(eq + 8, "http://", 7) && strncmp(eq + 8, "https://", 8)))
          return usage_error("eval", "--model %s=%s: expected openai:http://HOST:PORT/v1@MODEL_ID", optarg, eq + 1);
        *at = '\0';
        ms[M].openai = 1, ms[M].file = eq + 8, ms[M].id = at + 1;
      } else if (!strncmp(eq + 1, "logprobs:", 9) || !strncmp(eq + 1, "lmeval:", 7)) {
        ms[M].lmeval = !strncmp(eq + 1, "lmeval:", 7);
        ms[M].file = eq + 1 + (ms[M].lmeval ? 7 : 9);
      } else {
        return usage_error("eval", "--model %s=%s: the backends are logprobs:FILE, lmeval:FILE and openai:URL@ID (native: "
                                   "is not here yet)", optarg, eq + 1);
      }
      M++;
      break;
    case O_KEYENV: key_env = optarg; break;
    case O_CONC:
      oo.concurrency = atoi(optarg);
      if (oo.concurrency < 1 || oo.concurrency > 256) return usage_error("eval", "--concurrency: 1 to 256");
      break;
    case O_TIMEOUT: {
      double sec = strtod(optarg, NULL);
      if (!(sec > 0 && sec <= 86400)) return usage_error("eval", "--timeout: seconds, more than 0");
      oo.timeout_ms = (long)(sec * 1000);
      break;
    }
    case O_RETRIES:
      oo.retries = atoi(optarg);
      if (oo.retries < 0 || oo.retries > 20) return usage_error("eval", "--retries: 0 to 20");
      break;
    case O_CACHE: cache_dir = optarg; break;
    case O_PARAMS: {
      char *end;
      eq = strchr(optarg, '=');
      if (!eq || eq == optarg || nparams == 64) return usage_error("eval", "--params: expected NAME=N, got '%s'", optarg);
      *eq = '\0';
      pnames[nparams] = optarg, pvals[nparams] = strtod(eq + 1, &end);
      if (end == eq + 1 || *end || !(pvals[nparams] >= 1 && pvals[nparams] < 1e16))
        return usage_error("eval", "--params %s=%s: a parameter count is a number such as 124e6", optarg, eq + 1);
      nparams++;
      break;
    }
    case O_TYPE:
      if (ivs_type_parse(optarg, &t.ctx.type)) return report_error();
      break;
    case O_METRIC:
      if (strcmp(optarg, "loss") && strcmp(optarg, "acc")) return usage_error("eval", "--metric: loss or acc");
      metric = optarg;
      break;
    case O_INVERT: invert = 1; break;
    case O_OUT: out = optarg; break;
    case O_BOOT: {
      char *end;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (end == optarg || *end || optarg[0] == '-' || v < 10 || v > 1000000)
        return usage_error("eval", "--bootstrap: a number of resamples from 10 to 1000000, got '%s'", optarg);
      nboot = (size_t)v;
      break;
    }
    case O_SEED: {
      char *end;
      seed = strtoull(optarg, &end, 10);
      if (end == optarg || *end || optarg[0] == '-') return usage_error("eval", "--seed: a non-negative integer, got '%s'", optarg);
      break;
    }
    case O_FORMAT:
      if (strcmp(optarg, "text") && strcmp(optarg, "json")) return usage_error("eval", "--format: text or json");
      json = !strcmp(optarg, "json");
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("eval", "unknown option");
    }
  }
  if (argc - optind != 1) return usage_error("eval", "expected one task file");
  if (!out || !M) return usage_error("eval", "needs --model NAME=logprobs:FILE (one per model) and --out DIR");
  if (M < 2) return usage_error("eval", "a scaling trend needs at least two models of different sizes");
  if (key_env) {
    oo.api_key = getenv(key_env);
    if (!oo.api_key || !*oo.api_key) return usage_error("eval", "--api-key-env %s: that variable is not set", key_env);
    oo.api_key_env = key_env;
  } else if (getenv("OPENAI_API_KEY") && *getenv("OPENAI_API_KEY")) {
    oo.api_key = getenv("OPENAI_API_KEY");
    oo.api_key_env = "OPENAI_API_KEY";
  }
  if (!cache_dir) {
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
      ivs_error_set(IVS_EIO, "%s: cannot create: %s", out, strerror(errno));
      return report_error();
    }
    snprintf(cache_default, sizeof cache_default, "%s/cache", out);
    cache_dir = cache_default;
  }
  oo.cache_path = cache_dir;
  const char *path = argv[optind];
  t.ctx.path = path;
  struct stat st;
  if (stat(path, &st) == 0 && st.st_size > 0) {
    /* the task's buffers sized once from its size (rows as JSON take about
     * what the file does; a line is 32 bytes or more), so that they get huge
     * pages from the start: each 4 KiB page first touched costs a fault */
    size_t size = (size_t)st.st_size;
    t.cap_hint = size / 32 < ((size_t)1 << 24) ? size / 32 : (size_t)1 << 24;
    if (ivs_buf_reserve(&t.rows, size + size / 4) || ivs_buf_reserve(&t.texts, size)) { /* else grown as needed */
      ivs_buf_release(&t.rows), ivs_buf_release(&t.texts);
      ivs_buf_init(&t.rows, SIZE_MAX / 2), ivs_buf_init(&t.texts, SIZE_MAX / 2);
    }
  }
  size_t plen = strlen(path);
  int rc;
  /* Large blocks (the task, log-probabilities, scores) straight from mmap:
   * realloc then moves pages instead of copying them, and they get huge
   * pages (ivs_mem_hint_huge).  Setting the threshold also stops glibc from
   * raising it after a large free, which sends such blocks to the heap. */
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  ivs_json_arena_begin(); /* cJSON's allocator hooks go in before any thread parses */
  ivs_json_arena_end();
  preload_pool pre = {{ms, M, 0, PTHREAD_MUTEX_INITIALIZER}, t.ctx.type};
  pthread_t preloader;
  int preloading = pthread_create(&preloader, NULL, preload_worker, &pre) == 0;
  if (plen > 4 && !strcmp(path + plen - 4, ".csv")) {
    ivs_csv_opts o = {',', 0, NULL, progress_update, (void *)path};
    rc = ivs_csv_read(path, &o, on_example, &t);
  } else {
    ivs_jsonl_opts o = {0, progress_update, (void *)path, 1}; /* on_example copies */
    rc = ivs_jsonl_read(path, &o, on_example, &t);
  }
  progress_done();
  preload_worker(&pre); /* help with what is left, then wait */
  if (preloading) pthread_join(preloader, NULL);
  int code = EXIT_FAIL;
  size_t *offsets = NULL;
  if (rc) goto fail;
  ivs_task_type type = t.ctx.type;
  int logodds = ivs_type_is_logodds(type);
  if (!t.n) {
    ivs_error_set(IVS_EINVAL, "%s: no examples", path);
    goto fail;
  }
  if (!strcmp(metric, "acc") && type == IVS_TYPE_SEQUENCE_PROB) {
    ivs_error_set(IVS_EUSAGE, "sequence_prob tasks have no accuracy; use --metric loss");
    goto fail;
  }
  offsets = calloc(t.n + 1, sizeof *offsets);
  for (size_t i = 0; i < t.n; i++) offsets[i + 1] = offsets[i] + t.ncls[i];
  for (size_t m = 0; m < M; m++) {
    for (size_t k = 0; k < nparams; k++)
      if (!strcmp(pnames[k], ms[m].name)) ms[m].params = pvals[k];
    if (!ms[m].params) ms[m].params = known_params(ms[m].name);
    if (!(ms[m].params > 0)) {
      ivs_error_set(IVS_EUSAGE, "model '%s': unknown parameter count; give it with --params %s=N", ms[m].name, ms[m].name);
      goto fail;
    }
  }
  /* servers first, one after the other (each runs its requests concurrently),
   * then reading files and scoring on two threads */
  for (size_t m = 0; m < M; m++)
    if (ms[m].openai && openai_values(&ms[m], &t, type, offsets, &oo, &ms[m].values)) goto fail;
  score_pool pool = {{ms, M, 0, PTHREAD_MUTEX_INITIALIZER}, &t, type, offsets, invert, !strcmp(metric, "acc")};
  pthread_t helper;
  int helped = M > 1 && pthread_create(&helper, NULL, score_worker, &pool) == 0;
  score_worker(&pool);
  if (helped) pthread_join(helper, NULL);
  for (size_t m = 0; m < M; m++)
    if (ms[m].rc) {
      ivs_error_set(ms[m].rc, "%s", ms[m].err);
      goto fail;
    }
  /* models by size */
  for (size_t a = 1; a < M; a++)
    for (size_t b = a; b > 0 && ms[b].params < ms[b - 1].params; b--) {
      model tmp = ms[b];
      ms[b] = ms[b - 1];
      ms[b - 1] = tmp;
    }
  double baseline = NAN;
  if (type == IVS_TYPE_CLASSIFICATION) {
    baseline = 0;
    for (size_t i = 0; i < t.n; i++) baseline += !strcmp(metric, "acc") ? 1.0 / (double)t.ncls[i] : log((double)t.ncls[i]);
    baseline /= (double)t.n;
  }
  for (size_t m = 1; m < M; m++)
    if (ms[m].params == ms[m - 1].params) {
      ivs_error_set(IVS_EUSAGE, "models '%s' and '%s' have the same parameter count (%g): a trend needs different sizes",
                    ms[m - 1].name, ms[m].name, ms[m].params);
      goto fail;
    }
  /* A model whose mean is infinite (with --invert, an answer of probability 1
   * scores -log(0), as in the prize's pipeline) leaves the trend undefined. */
  char why[600] = "";
  for (size_t m = 0; m < M && !why[0]; m++) {
    if (isfinite(ms[m].mean)) continue;
    size_t count = 0, first = 0;
    for (size_t i = t.n; i-- > 0;)
      if (!isfinite(ms[m].score[i].loss)) count++, first = i;
    snprintf(why, sizeof why, "the mean %s of model '%s' is infinite: %zu of %zu examples have an infinite loss (the first: "
             "example %zu%s)", metric, ms[m].name, count, t.n, first,
             invert ? "; --invert scores an answer of probability 1 as -log(0)" : "");
  }
  /* the trend (a bootstrap) computed while the tables' files are committed */
  trend_job tj = {ms, M, &t, !strcmp(metric, "acc"), nboot, seed, {"undefined", NAN, NAN, NAN, 0}, 0, "", 0, 0};
  if (mkdir(out, 0777) != 0 && errno != EEXIST) rc = ivs_error_set(IVS_EIO, "%s: cannot create: %s", out, strerror(errno));
  else rc = write_tables(out, &t, type, ms, M, why[0] ? NULL : trend_start, &tj);
  if (tj.started) pthread_join(tj.th, NULL);
  else if (!rc && !why[0]) trend_thread(&tj);
  if (rc) goto fail;
  if (tj.rc) {
    ivs_error_set(tj.rc, "%s", tj.err);
    goto fail;
  }
  ivs_trend tr = tj.tr;
  if (write_summary(out, &t, type, ms, M, metric, baseline, &tr, invert, path)) goto fail;
  const char *what = logodds ? "log-odds difference" : !strcmp(metric, "acc") ? "accuracy" : "loss";
  const char *unit = !strcmp(metric, "acc") ? "" : " nats";
  char head[64];
  snprintf(head, sizeof head, "%s", !strcmp(tr.verdict, "inverse") ? "INVERSE SCALING" : !strcmp(tr.verdict, "positive") ? "POSITIVE SCALING"
                                   : !strcmp(tr.verdict, "flat") ? "NO CLEAR TREND" : !strcmp(tr.verdict, "u-shaped") ? "U-SHAPED SCALING"
                                                                                                                      : "INVERTED-U SCALING");
  if (json) {
    char nums[3][32];
    double v[3] = {tr.slope, tr.lo, tr.hi};
    for (int k = 0; k < 3; k++) {
      if (isfinite(v[k])) snprintf(nums[k], sizeof nums[k], "%.17g", v[k]);
      else snprintf(nums[k], sizeof nums[k], "null");
    }
    printf("{\"verdict\":\"%s\",\"slope_per_decade\":%s,\"ci95\":[%s,%s],\"models\":%zu,\"out\":", tr.verdict, nums[0],
           nums[1], nums[2], M);
    json_string(stdout, out);
    if (why[0]) printf(",\"why\":"), json_string(stdout, why);
    printf("}\n");
  } else if (why[0]) {
    printf("UNDEFINED TREND: %s\n", why);
  } else {
    printf("%s: %s %s %.2f%s per 10x parameters (95%% CI %.2f to %.2f) over %zu models\n", head, what,
           tr.slope >= 0 ? "rises" : "falls", fabs(tr.slope), unit, tr.lo, tr.hi, M);
  }
  code = finish_stdout(EXIT_OK);
  goto done;
fail:
  code = report_error();
done:
  for (size_t m = 0; m < M; m++) free(ms[m].values), free(ms[m].score), ivs_logprobs_file_release(&ms[m].lf);
  ivs_buf_release(&t.rows), ivs_buf_release(&t.texts);
  free(t.row_off), free(t.text_off), free(t.ncls), free(t.answer), free(offsets);
  ivs_ingest_ctx_release(&t.ctx);
  return code;
}

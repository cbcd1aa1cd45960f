/* The per-example tables of a run, written by the chunked writer. */
#define _GNU_SOURCE /* sync_file_range */
#include "eval/tables.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/dtoa.h"
#include "core/error.h"
#include "core/example.h"
#include "core/fileio.h"
#include "core/json.h"

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
  const ivs_eval_task *t;
  ivs_task_type type;
  const char *const *names;
  const ivs_score *const *scores;
  size_t M;
  int acc;                /* the slope of correctness, else of the loss */
  double wslope[64];      /* example i's slope is sum over m of wslope[m] * its metric on model m */
  double *slope;          /* out: per example */
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
static int format_chunk(tables *w, size_t from, size_t to, ivs_buf *b) {
  const ivs_eval_task *t = w->t;
  int rc = 0, classification = w->type == IVS_TYPE_CLASSIFICATION, seq = w->type == IVS_TYPE_SEQUENCE_PROB;
  ivs_buf *lab = &b[w->M];
  for (size_t i = from; i < to && !rc; i++) {
    double slope = 0;
    rc = ivs_buf_append(lab, t->rows.data + t->row_off[i], t->row_off[i + 1] - t->row_off[i]);
    for (size_t m = 0; m < w->M && !rc; m++) {
      const ivs_score *s = &w->scores[m][i];
      char loss[IVS_DTOA_SIZE], total[IVS_DTOA_SIZE];
      size_t nl = (size_t)ivs_dtoa(s->loss, loss), nt = seq ? 0 : (size_t)ivs_dtoa(s->total_logprob, total);
      ivs_buf *csv = &b[m];
      rc = ivs_eval_put_uint(csv, i);
      if (!rc) rc = ivs_buf_putc(csv, ',');
      if (!rc) rc = ivs_buf_append(csv, loss, nl);
      if (!rc && !seq) {
        rc = ivs_buf_puts(csv, s->correct ? ",1," : ",0,");
        if (!rc && classification && !(rc = put_csv_field(csv, ivs_eval_task_text(t, i, 3 + s->predicted))))
          rc = ivs_buf_putc(csv, ',');
        if (!rc) rc = ivs_buf_append(csv, total, nt);
      }
      if (!rc) rc = ivs_buf_putc(csv, '\n');
      if (!rc) rc = put_key(lab, w, m, 0);
      if (!rc) rc = ivs_buf_append(lab, loss, nl);
      if (!rc && s->correct >= 0 && !(rc = put_key(lab, w, m, 1))) rc = ivs_buf_putc(lab, s->correct ? '1' : '0');
      if (!rc && !seq && isfinite(s->total_logprob) && !(rc = put_key(lab, w, m, 2))) rc = ivs_buf_append(lab, total, nt);
      slope += w->wslope[m] * (w->acc ? (double)s->correct : s->loss);
    }
    w->slope[i] = slope;
    if (!rc) rc = ivs_buf_puts(lab, ",\"slope_per_decade\":");
    if (!rc && isfinite(slope)) {
      char num[IVS_DTOA_SIZE];
      rc = ivs_buf_append(lab, num, (size_t)ivs_dtoa(slope, num));
    } else if (!rc) {
      rc = ivs_buf_puts(lab, "null");
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

int ivs_eval_tables_write(const char *dir, const ivs_eval_task *t, ivs_task_type type, const char *const *names,
                          const ivs_score *const *scores, const double *x, size_t M, int acc, double *slope,
                          void (*then)(void *), void *arg) {
  if (M > IVS_EVAL_MAX_MODELS) return ivs_error_set(IVS_EUSAGE, "at most %d models", IVS_EVAL_MAX_MODELS);
  int logodds = ivs_type_is_logodds(type);
  tables w;
  memset(&w, 0, sizeof w);
  w.t = t, w.type = type, w.names = names, w.scores = scores, w.M = M, w.nchunks = (t->n + CHUNK - 1) / CHUNK;
  w.acc = acc, w.slope = slope;
  double xbar = 0, sxx = 0;
  for (size_t m = 0; m < M; m++) xbar += x[m] / (double)M;
  for (size_t m = 0; m < M; m++) sxx += (x[m] - xbar) * (x[m] - xbar);
  for (size_t m = 0; m < M; m++) w.wslope[m] = sxx > 0 ? (x[m] - xbar) / sxx : NAN;
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  ivs_buf_init(&w.keys, 0);
  int rc = 0;
  for (size_t m = 0; m < M && !rc; m++)
    for (int k = 0; k < 3 && !rc; k++) {
      char key[300];
      snprintf(key, sizeof key, "%s_%s", names[m],
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
    if (opened < M) snprintf(path, sizeof path, "%s/%s.csv", dir, names[opened]);
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

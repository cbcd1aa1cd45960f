#include "ingest/pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define BATCH 256
#define SLOTS 4 /* batches in flight: at most SLOTS * BATCH examples in memory */

typedef struct {
  ivs_item items[BATCH];
  size_t n;
} batch;

/* A ring of batch pointers. */
typedef struct {
  batch *b[SLOTS];
  size_t head, count;
} ring;

static void ring_put(ring *r, batch *b) { r->b[(r->head + r->count++) % SLOTS] = b; }
static batch *ring_take(ring *r) {
  batch *b = r->b[r->head];
  r->head = (r->head + 1) % SLOTS;
  r->count--;
  return b;
}

/* Batches go worker -> full -> caller -> empty -> worker.  The worker frees
 * the examples of a batch when it gets it back, so memory is allocated and
 * freed on the same thread (glibc's per-thread arenas make cross-thread frees
 * slow). */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t changed;
  ring full, empty;
  batch *filling;
  int done, stop;
  int worker_rc;
  char worker_msg[2048];
  ivs_parse_fn parse;
  void *parse_ud;
  ivs_ingest_ctx *ctx;
} pipe_state;

static void batch_release(batch *b) {
  for (size_t i = 0; i < b->n; i++) ivs_example_release(&b->items[i].ex);
  b->n = 0;
}

/* Worker: queues its batch and gets an empty one. */
static int flush(pipe_state *p) {
  pthread_mutex_lock(&p->mu);
  ring_put(&p->full, p->filling);
  pthread_cond_broadcast(&p->changed);
  while (p->empty.count == 0 && !p->stop) pthread_cond_wait(&p->changed, &p->mu);
  int stop = p->stop;
  p->filling = stop ? NULL : ring_take(&p->empty);
  pthread_mutex_unlock(&p->mu);
  if (stop) return IVS_ESTOP;
  batch_release(p->filling);
  return 0;
}

static int on_record(const ivs_record *rec, void *ud) {
  pipe_state *p = ud;
  ivs_item *it = &p->filling->items[p->filling->n];
  it->diag.line = 0;
  it->diag.message[0] = '\0';
  int rc = ivs_ingest_convert(p->ctx, rec, &it->ex, &it->diag);
  if (rc && rc != IVS_EINVAL) {
    if (rc == IVS_EUSAGE) ivs_error_prefix("%s:%zu", p->ctx->path, rec->line);
    return rc;
  }
  it->is_reject = rc == IVS_EINVAL;
  if (++p->filling->n == BATCH) return flush(p);
  return 0;
}

static void *worker(void *arg) {
  pipe_state *p = arg;
  int rc = p->parse(p->parse_ud, on_record, p);
  if (rc == 0 && p->filling->n) rc = flush(p);
  if (rc && rc != IVS_ESTOP) {
    p->worker_rc = rc;
    strncpy(p->worker_msg, ivs_error_message(), sizeof p->worker_msg - 1);
  }
  pthread_mutex_lock(&p->mu);
  if (p->filling && p->filling->n) batch_release(p->filling);
  p->done = 1;
  pthread_cond_broadcast(&p->changed);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int ivs_pipeline_run(ivs_parse_fn parse, void *parse_ud, ivs_ingest_ctx *ctx, ivs_item_fn consume, void *ud) {
  pipe_state *p = calloc(1, sizeof *p);
  batch *all = calloc(SLOTS, sizeof *all);
  if (!p || !all) {
    free(p);
    free(all);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->changed, NULL);
  p->filling = &all[0];
  for (int i = 1; i < SLOTS; i++) ring_put(&p->empty, &all[i]);
  p->parse = parse;
  p->parse_ud = parse_ud;
  p->ctx = ctx;
  pthread_t th;
  int rc = 0;
  if (pthread_create(&th, NULL, worker, p) != 0) {
    rc = ivs_error_set(IVS_ERROR, "cannot start the parser thread");
    goto out;
  }
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (p->full.count == 0 && !p->done) pthread_cond_wait(&p->changed, &p->mu);
    batch *b = p->full.count ? ring_take(&p->full) : NULL;
    pthread_mutex_unlock(&p->mu);
    if (!b) break; /* the worker finished and everything was taken */
    for (size_t i = 0; i < b->n && !rc; i++) rc = consume(&b->items[i], ud);
    pthread_mutex_lock(&p->mu);
    ring_put(&p->empty, b);
    if (rc) p->stop = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mu);
    if (rc) break;
  }
  pthread_join(th, NULL);
  if (!rc && p->worker_rc) rc = ivs_error_set(p->worker_rc, "%s", p->worker_msg);
out:
  for (int i = 0; i < SLOTS; i++) batch_release(&all[i]);
  pthread_cond_destroy(&p->changed);
  pthread_mutex_destroy(&p->mu);
  free(all);
  free(p);
  return rc;
}

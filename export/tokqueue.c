#include "export/tokqueue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/utf8.h"

#define BATCH_EXAMPLES 128
#define BATCH_TEXT ((size_t)256 << 10) /* bytes of text: a batch is handed over past this */
#define MAX_THREADS 64

/* An example in a batch: its strings as offsets into the batch's text (the
 * text may move while the batch fills). */
typedef struct {
  ivs_task_type type;
  size_t line;
  int has[2];
  size_t off[2], len[2], column[2];
  const char *field[2];
  size_t first_class, nclasses, classes_column;
  /* filled by the worker */
  size_t out_first, out_n, longest;
} job;

typedef struct {
  int is_job;
  size_t at; /* into diags or jobs */
} entry;

enum { FILLING, QUEUED, RUNNING, DONE };

typedef struct {
  entry *ent;
  size_t nent, capent;
  ivs_vdiag *diags; /* the validator's own */
  size_t ndiag, capdiag;
  job *jobs;
  size_t njob, capjob;
  char *text;
  size_t ntext, captext;
  size_t *coff, *clen; /* classes: offsets into text and lengths */
  size_t ncls, capcls, capclen;
  ivs_vdiag *out; /* the workers' warnings */
  size_t nout, capout;
  int state;
  int rc;            /* the first example that failed: its error */
  size_t failed_job;
  char err[512];
} batch;

/* A thread's own: the rules' scratch and the pointers of one example. */
typedef struct {
  ivs_tokscratch *scratch;
  const char **cls;
  size_t *lens, cap, capl;
} worker;

struct ivs_tokqueue {
  ivs_tokrules rules;
  ivs_tokqueue_deliver_fn deliver;
  ivs_tokqueue_length_fn length;
  void *ud;
  batch *ring;
  size_t nring;
  /* sequence numbers (slot = number % nring): head, the oldest not delivered;
   * next, the next for a worker; fill, the one the caller fills */
  size_t head, next, fill;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  pthread_t *th;
  worker *wk; /* one per thread asked for, and one more for the caller */
  unsigned nwk, nth;
  int stop, rc;
  char err[512];
};

/* ---- a worker's part ---- */

static int collect(const ivs_vdiag *d, void *ud) {
  batch *b = ud;
  if (ivs_grow((void **)&b->out, &b->capout, b->nout + 1, sizeof *b->out, 64)) return IVS_ENOMEM;
  b->out[b->nout++] = *d;
  return 0;
}

static void run_batch(const ivs_tokrules *r, worker *w, batch *b) {
  b->nout = 0;
  b->rc = 0;
  for (size_t i = 0; i < b->njob; i++) {
    job *jb = &b->jobs[i];
    ivs_tok_example ex = {.type = jb->type, .line = jb->line, .nclasses = jb->nclasses,
                          .classes_column = jb->classes_column};
    for (int f = 0; f < 2; f++)
      if (jb->has[f])
        ex.prompt[f] = b->text + jb->off[f], ex.prompt_len[f] = jb->len[f], ex.prompt_column[f] = jb->column[f],
        ex.prompt_field[f] = jb->field[f];
    int rc = 0;
    if (ivs_grow((void **)&w->cls, &w->cap, jb->nclasses + 1, sizeof *w->cls, 16) ||
        ivs_grow((void **)&w->lens, &w->capl, jb->nclasses + 1, sizeof *w->lens, 16))
      rc = IVS_ENOMEM;
    for (size_t j = 0; !rc && j < jb->nclasses; j++)
      w->cls[j] = b->text + b->coff[jb->first_class + j], w->lens[j] = b->clen[jb->first_class + j];
    ex.classes = w->cls;
    ex.class_lens = w->lens;
    jb->out_first = b->nout;
    if (!rc) rc = ivs_tokrules_check(r, w->scratch, &ex, &jb->longest, collect, b);
    jb->out_n = b->nout - jb->out_first;
    if (rc) {
      b->rc = rc;
      b->failed_job = i;
      snprintf(b->err, sizeof b->err, "%s", rc == IVS_ENOMEM ? "out of memory" : ivs_error_message());
      return;
    }
  }
}

static void *worker_main(void *arg) {
  ivs_tokqueue *q = ((void **)arg)[0];
  worker *w = ((void **)arg)[1];
  free(arg);
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (!q->stop && q->next == q->fill) pthread_cond_wait(&q->work, &q->mu);
    if (q->next == q->fill) break; /* stopping, nothing queued */
    batch *b = &q->ring[q->next % q->nring];
    q->next++;
    b->state = RUNNING;
    pthread_mutex_unlock(&q->mu);
    run_batch(&q->rules, w, b);
    pthread_mutex_lock(&q->mu);
    b->state = DONE;
    pthread_cond_broadcast(&q->done);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

/* ---- the caller's part ---- */

static void clear(batch *b) {
  b->nent = b->ndiag = b->njob = b->ntext = b->ncls = b->nout = 0;
  b->rc = 0;
  b->state = FILLING;
}

/* Delivers b in order; an example that failed ends it with its error. */
static int deliver(ivs_tokqueue *q, batch *b) {
  for (size_t i = 0; i < b->nent; i++) {
    const entry *e = &b->ent[i];
    if (!e->is_job) {
      q->deliver(&b->diags[e->at], q->ud);
      continue;
    }
    const job *jb = &b->jobs[e->at];
    if (b->rc && e->at >= b->failed_job) {
      for (size_t k = jb->out_first; k < jb->out_first + jb->out_n; k++) q->deliver(&b->out[k], q->ud);
      q->rc = b->rc;
      snprintf(q->err, sizeof q->err, "%s", b->err);
      return ivs_error_set(q->rc, "%s", q->err);
    }
    for (size_t k = jb->out_first; k < jb->out_first + jb->out_n; k++) q->deliver(&b->out[k], q->ud);
    if (q->length) q->length(jb->longest, q->ud);
  }
  return 0;
}

static int failed(const ivs_tokqueue *q) { return ivs_error_set(q->rc, "%s", q->err); }

/* Hands over the batch being filled.  With workers: delivers what is done at
 * the head, and waits while the ring is full. */
static int submit(ivs_tokqueue *q) {
  batch *b = &q->ring[q->fill % q->nring];
  if (!b->nent) return 0;
  if (!q->nth) {
    run_batch(&q->rules, &q->wk[0], b);
    int rc = deliver(q, b);
    clear(b);
    return rc;
  }
  int rc = 0;
  pthread_mutex_lock(&q->mu);
  b->state = QUEUED;
  q->fill++;
  pthread_cond_signal(&q->work);
  for (;;) {
    batch *h = &q->ring[q->head % q->nring];
    int full = q->fill - q->head == q->nring;
    if (q->head == q->fill || (h->state != DONE && !full)) break;
    while (h->state != DONE) pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    rc = deliver(q, h);
    clear(h);
    pthread_mutex_lock(&q->mu);
    q->head++;
    if (rc) break;
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

int ivs_tokqueue_new(ivs_tokqueue **out, const ivs_tokrules *rules, unsigned threads, ivs_tokqueue_deliver_fn deliver_fn,
                     ivs_tokqueue_length_fn length, void *ud) {
  *out = NULL;
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 1;
  }
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  unsigned nth = threads == 1 ? 0 : threads;
  ivs_tokqueue *q = calloc(1, sizeof *q);
  if (!q) return ivs_error_set(IVS_ENOMEM, "out of memory");
  q->rules = *rules;
  q->deliver = deliver_fn;
  q->length = length;
  q->ud = ud;
  q->nring = nth ? 2 * (size_t)nth + 2 : 1;
  q->ring = calloc(q->nring, sizeof *q->ring);
  q->wk = calloc((size_t)nth + 1, sizeof *q->wk);
  q->th = calloc((size_t)nth + 1, sizeof *q->th);
  int rc = q->ring && q->wk && q->th ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  q->nwk = nth + 1;
  for (unsigned i = 0; !rc && i <= nth; i++) rc = ivs_tokscratch_new(&q->wk[i].scratch);
  if (rc) {
    if (q->wk)
      for (unsigned i = 0; i <= nth; i++) ivs_tokscratch_free(q->wk[i].scratch);
    free(q->ring), free(q->wk), free(q->th), free(q);
    return rc;
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->work, NULL);
  pthread_cond_init(&q->done, NULL);
  for (unsigned i = 0; i < nth; i++) {
    void **arg = malloc(2 * sizeof *arg);
    if (!arg) break;
    arg[0] = q, arg[1] = &q->wk[i + 1];
    if (pthread_create(&q->th[q->nth], NULL, worker_main, arg)) {
      free(arg);
      break;
    }
    q->nth++;
  }
  if (!q->nth) q->nring = 1; /* no thread could start: everything on the caller's, one batch at a time */
  *out = q;
  return 0;
}

static void release(batch *b) {
  free(b->ent), free(b->diags), free(b->jobs), free(b->text), free(b->coff), free(b->clen), free(b->out);
}

void ivs_tokqueue_free(ivs_tokqueue *q) {
  if (!q) return;
  pthread_mutex_lock(&q->mu);
  q->stop = 1;
  q->fill = q->next; /* what is queued is not run */
  pthread_cond_broadcast(&q->work);
  pthread_mutex_unlock(&q->mu);
  for (unsigned i = 0; i < q->nth; i++) pthread_join(q->th[i], NULL);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->work);
  pthread_cond_destroy(&q->done);
  for (size_t i = 0; i < q->nring; i++) release(&q->ring[i]);
  for (unsigned i = 0; i < q->nwk; i++) {
    ivs_tokscratch_free(q->wk[i].scratch);
    free(q->wk[i].cls);
    free(q->wk[i].lens);
  }
  free(q->ring), free(q->wk), free(q->th), free(q);
}

unsigned ivs_tokqueue_threads(const ivs_tokqueue *q) { return q->nth; }

static int add_entry(batch *b, int is_job, size_t at) {
  if (ivs_grow((void **)&b->ent, &b->capent, b->nent + 1, sizeof *b->ent, 256)) return IVS_ENOMEM;
  b->ent[b->nent++] = (entry){is_job, at};
  return 0;
}

int ivs_tokqueue_diag(ivs_tokqueue *q, const ivs_vdiag *d) {
  if (q->rc) return failed(q);
  batch *b = &q->ring[q->fill % q->nring];
  if (ivs_grow((void **)&b->diags, &b->capdiag, b->ndiag + 1, sizeof *b->diags, 64)) return IVS_ENOMEM;
  b->diags[b->ndiag] = *d;
  if (add_entry(b, 0, b->ndiag)) return IVS_ENOMEM;
  b->ndiag++;
  return 0;
}

/* Appends s to the batch's text with each IVS_NUL made a NUL byte; *off and
 * *len receive where it went. */
static int add_text(batch *b, const char *s, size_t n, size_t *off, size_t *len) {
  if (b->ntext + n + 1 < n || ivs_grow((void **)&b->text, &b->captext, b->ntext + n + 1, 1, 4096)) return IVS_ENOMEM;
  char *o = b->text + b->ntext;
  const char *end = s + n;
  while (s < end) {
    const char *c = memchr(s, 0xC0, (size_t)(end - s));
    size_t k = c ? (size_t)(c - s) : (size_t)(end - s);
    memcpy(o, s, k);
    o += k, s += k;
    if (!c) break;
    if (end - s >= IVS_NUL_LEN && !memcmp(s, IVS_NUL, IVS_NUL_LEN)) *o++ = '\0', s += IVS_NUL_LEN;
    else *o++ = *s++;
  }
  *off = b->ntext;
  *len = (size_t)(o - (b->text + b->ntext));
  b->ntext += *len;
  return 0;
}

int ivs_tokqueue_example(ivs_tokqueue *q, const ivs_tok_example *ex) {
  if (q->rc) return failed(q);
  batch *b = &q->ring[q->fill % q->nring];
  if (ivs_grow((void **)&b->jobs, &b->capjob, b->njob + 1, sizeof *b->jobs, BATCH_EXAMPLES) ||
      ivs_grow((void **)&b->coff, &b->capcls, b->ncls + ex->nclasses + 1, sizeof *b->coff, 512) ||
      ivs_grow((void **)&b->clen, &b->capclen, b->ncls + ex->nclasses + 1, sizeof *b->clen, 512))
    return IVS_ENOMEM;
  job *jb = &b->jobs[b->njob];
  memset(jb, 0, sizeof *jb);
  jb->type = ex->type;
  jb->line = ex->line;
  for (int f = 0; f < 2; f++) {
    if (!ex->prompt[f]) continue;
    jb->has[f] = 1;
    jb->column[f] = ex->prompt_column[f];
    jb->field[f] = ex->prompt_field[f];
    if (add_text(b, ex->prompt[f], ex->prompt_len[f], &jb->off[f], &jb->len[f])) return IVS_ENOMEM;
  }
  jb->first_class = b->ncls;
  jb->nclasses = ex->nclasses;
  jb->classes_column = ex->classes_column;
  for (size_t j = 0; j < ex->nclasses; j++, b->ncls++)
    if (add_text(b, ex->classes[j], ex->class_lens ? ex->class_lens[j] : strlen(ex->classes[j]), &b->coff[b->ncls],
                 &b->clen[b->ncls]))
      return IVS_ENOMEM;
  if (add_entry(b, 1, b->njob)) return IVS_ENOMEM;
  b->njob++;
  if (b->njob >= BATCH_EXAMPLES || b->ntext >= BATCH_TEXT) return submit(q);
  return 0;
}

int ivs_tokqueue_flush(ivs_tokqueue *q) {
  if (q->rc) return failed(q);
  int rc = submit(q);
  if (rc || !q->nth) return rc;
  pthread_mutex_lock(&q->mu);
  while (!rc && q->head != q->fill) {
    batch *h = &q->ring[q->head % q->nring];
    while (h->state != DONE) pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    rc = deliver(q, h);
    clear(h);
    pthread_mutex_lock(&q->mu);
    q->head++;
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

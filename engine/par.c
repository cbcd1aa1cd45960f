/* The engine's threads (engine/par.h): a fixed pool woken for each split. */
#include "engine/par.h"

#include <cblas.h>
#include <pthread.h>

enum { MAX_THREADS = 64 };

static struct {
  pthread_mutex_t run;    /* held by the thread whose split runs */
  pthread_mutex_t mu;     /* the fields below */
  pthread_cond_t go, done;
  size_t want, started;   /* threads asked for; workers running (started - 1) */
  unsigned long gen;      /* one per split */
  size_t n, align, parts, left;
  ivs_par_fn fn;
  void *ud;
} P = {.run = PTHREAD_MUTEX_INITIALIZER, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static __thread int in_split;

static void part_range(size_t k, size_t *lo, size_t *hi) {
  size_t units = (P.n + P.align - 1) / P.align, per = units / P.parts, extra = units % P.parts;
  size_t a = k * per + (k < extra ? k : extra), b = a + per + (k < extra);
  *lo = a * P.align, *hi = b * P.align < P.n ? b * P.align : P.n;
}

static void *worker(void *arg) {
  size_t me = (size_t)arg;
  unsigned long seen = 0;
  in_split = 1;
  pthread_mutex_lock(&P.mu);
  for (;;) {
    while (P.gen == seen) pthread_cond_wait(&P.go, &P.mu);
    seen = P.gen;
    if (me >= P.parts) continue;
    size_t lo, hi;
    part_range(me, &lo, &hi);
    ivs_par_fn fn = P.fn;
    void *ud = P.ud;
    pthread_mutex_unlock(&P.mu);
    if (lo < hi) fn(ud, me, lo, hi);
    pthread_mutex_lock(&P.mu);
    if (--P.left == 0) pthread_cond_signal(&P.done);
  }
  return NULL;
}

size_t ivs_par_threads(void) {
  if (!P.want) {
    int n = openblas_get_num_threads();
    P.want = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
  }
  return P.want;
}

void ivs_par_set_threads(size_t n) { P.want = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }

void ivs_par_for(size_t n, size_t min, size_t align, ivs_par_fn fn, void *ud) {
  size_t threads = ivs_par_threads(), each = min ? min : 1, parts = n / each < threads ? n / each : threads;
  if (parts < 2 || in_split || pthread_mutex_trylock(&P.run)) {
    if (n) fn(ud, 0, 0, n);
    return;
  }
  int blas = openblas_get_num_threads();
  openblas_set_num_threads(1); /* before any part starts */
  pthread_mutex_lock(&P.mu);
  while (P.started + 1 < parts) { /* the workers, made when first needed */
    pthread_t th;
    if (pthread_create(&th, NULL, worker, (void *)(P.started + 1))) break;
    pthread_detach(th);
    P.started++;
  }
  if (parts > P.started + 1) parts = P.started + 1;
  P.n = n, P.align = align ? align : 1, P.parts = parts, P.left = parts - 1, P.fn = fn, P.ud = ud;
  P.gen++;
  size_t lo, hi;
  part_range(0, &lo, &hi);
  pthread_cond_broadcast(&P.go);
  pthread_mutex_unlock(&P.mu);
  in_split = 1;
  if (lo < hi) fn(ud, 0, lo, hi);
  in_split = 0;
  pthread_mutex_lock(&P.mu);
  while (P.left) pthread_cond_wait(&P.done, &P.mu);
  pthread_mutex_unlock(&P.mu);
  openblas_set_num_threads(blas);
  pthread_mutex_unlock(&P.run);
}

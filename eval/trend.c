#include "eval/trend.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/mem.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void ci(double *v, size_t n, double *lo, double *hi) {
  qsort(v, n, sizeof *v, cmp);
  *lo = v[(size_t)floor(0.025 * (double)(n - 1))];
  *hi = v[(size_t)ceil(0.975 * (double)(n - 1))];
}

/* OLS weights: slope = sum_m w[m] * y[m] over models lo..hi-1. */
static void ols_weights(const double *x, size_t lo, size_t hi, double *w) {
  double mx = 0, sxx = 0;
  for (size_t m = lo; m < hi; m++) mx += x[m];
  mx /= (double)(hi - lo);
  for (size_t m = lo; m < hi; m++) sxx += (x[m] - mx) * (x[m] - mx);
  for (size_t m = lo; m < hi; m++) w[m] = sxx > 0 ? (x[m] - mx) / sxx : 0;
}

/* Resamples [from, to) of the bootstrap.  Resample b draws from its own
 * generator, seeded from (seed, b): the result does not depend on how the
 * resamples are split between threads. */
typedef struct {
  const double *c;
  size_t N, from, to;
  uint64_t seed;
  double *b_all, *b_lo, *b_hi;
} boot_job;

/* Each resample draws N examples with replacement.  Instead of reading c at
 * N random places (a cache miss each on a large task), the draws are counted
 * first (one byte per example: the counts stay in cache) and c is then read
 * once, in order.  A count that wraps past 255 adds its 256 draws at once, so
 * the sums are exact. */
static void *boot_run(void *arg) {
  boot_job *j = arg;
  const double *c = j->c;
  size_t N = j->N;
  unsigned char *cnt = calloc(N, 1);
  for (size_t b = j->from; b < j->to; b++) {
    uint64_t s = j->seed ^ (0x9E3779B97F4A7C15ULL * (b + 1));
    s = ivs_splitmix(&s);
    double a = 0, l = 0, h = 0;
    for (size_t k = 0; k < N; k++) {
      /* an index in [0, N) from the high half of a 128-bit product: no division */
      size_t i = (size_t)(((unsigned __int128)ivs_splitmix(&s) * N) >> 64);
      if (!cnt) { /* no memory for the counts: read c directly */
        a += c[3 * i], l += c[3 * i + 1], h += c[3 * i + 2];
      } else if (++cnt[i] == 0) {
        a += 256 * c[3 * i], l += 256 * c[3 * i + 1], h += 256 * c[3 * i + 2];
      }
    }
    if (cnt) { /* c is finite, so w * c is +-0 when w is 0: adding it changes nothing, and no branch to mispredict */
      for (size_t i = 0; i < N; i++) {
        double w = cnt[i];
        a += w * c[3 * i], l += w * c[3 * i + 1], h += w * c[3 * i + 2];
      }
      memset(cnt, 0, N);
    }
    j->b_all[b] = a / (double)N, j->b_lo[b] = l / (double)N, j->b_hi[b] = h / (double)N;
  }
  free(cnt);
  return NULL;
}

int ivs_trend_fit(const double *x, size_t M, const double *metric, size_t N, int worse_up, size_t n_boot, uint64_t seed,
                  ivs_trend *out) {
  if (M < 2) return ivs_error_set(IVS_EINVAL, "a trend needs at least two model sizes; %zu given", M);
  for (size_t m = 1; m < M; m++)
    if (x[m] == x[m - 1]) return ivs_error_set(IVS_EINVAL, "two models have the same parameter count");
  if (!N) return ivs_error_set(IVS_EINVAL, "no examples");
  if (!n_boot) n_boot = 1000;
  /* The slope is linear in the per-example values, so each example contributes
   * c[i] = sum_m w[m] * metric[m][i] and a resample's slope is the mean of c
   * over the drawn examples: one read per draw instead of one per model. */
  size_t mid = M / 2;
  double *w = calloc(3 * M, sizeof *w), *c = malloc(3 * N * sizeof *c);
  double *b_all = malloc(n_boot * sizeof *b_all), *b_lo = malloc(n_boot * sizeof *b_lo), *b_hi = malloc(n_boot * sizeof *b_hi);
  if (!w || !c || !b_all || !b_lo || !b_hi) {
    free(w), free(c), free(b_all), free(b_lo), free(b_hi);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  ivs_mem_hint_huge(c, 3 * N * sizeof *c);
  ols_weights(x, 0, M, w);
  if (M >= 3) ols_weights(x, 0, mid + 1, w + M), ols_weights(x, mid, M, w + 2 * M);
  double all = 0;
  for (size_t i = 0; i < N; i++) {
    double a = 0, l = 0, h = 0;
    for (size_t m = 0; m < M; m++) {
      double v = metric[m * N + i];
      if (!isfinite(v)) {
        free(w), free(c), free(b_all), free(b_lo), free(b_hi);
        return ivs_error_set(IVS_EINVAL, "model %zu, example %zu: the metric is %g; a trend needs finite values", m, i, v);
      }
      a += w[m] * v, l += w[M + m] * v, h += w[2 * M + m] * v;
    }
    if (!isfinite(a) || !isfinite(l) || !isfinite(h)) {
      free(w), free(c), free(b_all), free(b_lo), free(b_hi);
      return ivs_error_set(IVS_EINVAL, "example %zu: metric values too large for a trend", i);
    }
    c[3 * i] = a, c[3 * i + 1] = l, c[3 * i + 2] = h;
    all += a;
  }
  out->slope = all / (double)N;
  /* two threads when the work is worth one */
  boot_job jobs[2] = {{c, N, 0, n_boot, seed, b_all, b_lo, b_hi}, {c, N, n_boot, n_boot, seed, b_all, b_lo, b_hi}};
  pthread_t th;
  int threaded = (double)N * (double)n_boot >= 1e7;
  if (threaded) {
    jobs[0].to = jobs[1].from = n_boot / 2;
    threaded = pthread_create(&th, NULL, boot_run, &jobs[1]) == 0;
    if (!threaded) jobs[0].to = n_boot;
  }
  boot_run(&jobs[0]);
  if (threaded) pthread_join(th, NULL);
  ci(b_all, n_boot, &out->lo, &out->hi);
  out->n_boot = n_boot;
  double sign = worse_up ? 1 : -1; /* > 0 after multiplying: worse */
  out->verdict = IVS_VERDICT_UNDEFINED;
  if (M >= 3) {
    double l1, h1, l2, h2;
    ci(b_lo, n_boot, &l1, &h1);
    ci(b_hi, n_boot, &l2, &h2);
    int first_worse = sign > 0 ? l1 > 0 : h1 < 0, first_better = sign > 0 ? h1 < 0 : l1 > 0;
    int last_worse = sign > 0 ? l2 > 0 : h2 < 0, last_better = sign > 0 ? h2 < 0 : l2 > 0;
    if (first_worse && last_better) out->verdict = IVS_VERDICT_U_SHAPED;
    else if (first_better && last_worse) out->verdict = IVS_VERDICT_INVERTED_U;
  }
  if (out->verdict == IVS_VERDICT_UNDEFINED) {
    int worse = sign > 0 ? out->lo > 0 : out->hi < 0, better = sign > 0 ? out->hi < 0 : out->lo > 0;
    out->verdict = worse ? IVS_VERDICT_INVERSE : better ? IVS_VERDICT_POSITIVE : IVS_VERDICT_FLAT;
  }
  free(w), free(c), free(b_all), free(b_lo), free(b_hi);
  return 0;
}

const char *ivs_verdict_name(ivs_verdict v) {
  static const char *const names[] = {"undefined", "inverse", "positive", "flat", "u-shaped", "inverted-u"};
  return (unsigned)v < sizeof names / sizeof *names ? names[v] : "undefined";
}

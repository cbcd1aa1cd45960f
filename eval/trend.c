#include "eval/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static double ols(const double *x, const double *y, size_t lo, size_t hi) {
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  size_t n = hi - lo;
  for (size_t i = lo; i < hi; i++) mx += x[i], my += y[i];
  mx /= (double)n, my /= (double)n;
  for (size_t i = lo; i < hi; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxx > 0 ? sxy / sxx : 0;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void ci(double *v, size_t n, double *lo, double *hi) {
  qsort(v, n, sizeof *v, cmp);
  *lo = v[(size_t)floor(0.025 * (double)(n - 1))];
  *hi = v[(size_t)ceil(0.975 * (double)(n - 1))];
}

int ivs_trend_fit(const double *x, size_t M, const double *metric, size_t N, int worse_up, size_t n_boot, uint64_t seed,
                  ivs_trend *out) {
  if (M < 2) return ivs_error_set(IVS_EINVAL, "a trend needs at least two model sizes; %zu given", M);
  for (size_t m = 1; m < M; m++)
    if (x[m] == x[m - 1]) return ivs_error_set(IVS_EINVAL, "two models have the same parameter count");
  if (!N) return ivs_error_set(IVS_EINVAL, "no examples");
  if (!n_boot) n_boot = 1000;
  double *mean = calloc(M, sizeof *mean), *b_all = malloc(n_boot * sizeof *b_all);
  double *b_lo = malloc(n_boot * sizeof *b_lo), *b_hi = malloc(n_boot * sizeof *b_hi);
  size_t *pick = malloc(N * sizeof *pick);
  if (!mean || !b_all || !b_lo || !b_hi || !pick) {
    free(mean), free(b_all), free(b_lo), free(b_hi), free(pick);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  for (size_t m = 0; m < M; m++) {
    for (size_t i = 0; i < N; i++) mean[m] += metric[m * N + i];
    mean[m] /= (double)N;
  }
  size_t mid = M / 2;
  out->slope = ols(x, mean, 0, M);
  uint64_t s = seed;
  double *bm = malloc(M * sizeof *bm);
  for (size_t b = 0; bm && b < n_boot; b++) {
    for (size_t i = 0; i < N; i++) pick[i] = (size_t)(splitmix(&s) % N);
    for (size_t m = 0; m < M; m++) {
      double t = 0;
      for (size_t i = 0; i < N; i++) t += metric[m * N + pick[i]];
      bm[m] = t / (double)N;
    }
    b_all[b] = ols(x, bm, 0, M);
    if (M >= 3) b_lo[b] = ols(x, bm, 0, mid + 1), b_hi[b] = ols(x, bm, mid, M);
  }
  free(bm);
  ci(b_all, n_boot, &out->lo, &out->hi);
  out->n_boot = n_boot;
  double sign = worse_up ? 1 : -1; /* > 0 after multiplying: worse */
  out->verdict = NULL;
  if (M >= 3) {
    double l1, h1, l2, h2;
    ci(b_lo, n_boot, &l1, &h1);
    ci(b_hi, n_boot, &l2, &h2);
    int first_worse = sign > 0 ? l1 > 0 : h1 < 0, first_better = sign > 0 ? h1 < 0 : l1 > 0;
    int last_worse = sign > 0 ? l2 > 0 : h2 < 0, last_better = sign > 0 ? h2 < 0 : l2 > 0;
    if (first_worse && last_better) out->verdict = "u-shaped";
    else if (first_better && last_worse) out->verdict = "inverted-u";
  }
  if (!out->verdict) {
    int worse = sign > 0 ? out->lo > 0 : out->hi < 0, better = sign > 0 ? out->hi < 0 : out->lo > 0;
    out->verdict = worse ? "inverse" : better ? "positive" : "flat";
  }
  free(mean), free(b_all), free(b_lo), free(b_hi), free(pick);
  return 0;
}

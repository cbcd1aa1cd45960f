/* The scaling-trend verdict: studentized paired bootstrap of the examples'
 * own slopes (eval/trend.h; docs/trend.md). */
#include "eval/trend.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/mem.h"
#include "eval/power.h"

/* components per metric: the whole slope, and with 3 models or more the two halves' */
#define MAX_Q (3 * IVS_EVAL_MAX_TRENDS)

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* OLS weights: slope = sum_m w[m] * y[m] over models lo..hi-1. */
static void ols_weights(const double *x, size_t lo, size_t hi, double *w) {
  double mx = 0, sxx = 0;
  for (size_t m = lo; m < hi; m++) mx += x[m];
  mx /= (double)(hi - lo);
  for (size_t m = lo; m < hi; m++) sxx += (x[m] - mx) * (x[m] - mx);
  for (size_t m = lo; m < hi; m++) w[m] = sxx > 0 ? (x[m] - mx) / sxx : 0;
}

/* Resamples [from, to) of the bootstrap, on one thread.  Resample b draws
 * from its own generator, seeded from (seed, b): the result does not depend
 * on how the resamples are split between threads or grouped, nor on how
 * many metrics share them. */
typedef struct {
  const double *d; /* N x Q: each example's slope components, centred on their means */
  size_t N, Q, from, to, n_boot;
  uint64_t seed;
  unsigned char *cnt; /* GROUP x N zero bytes, this job's own: resample r of a group counts in cnt + r N */
  double *tstar;      /* Q x n_boot: component q of resample b at [q * n_boot + b] */
} boot_job;

/* Resamples counted and summed together: one pass over d (the large array)
 * serves GROUP of them.  Each counts into its own N bytes, which stay in
 * cache while its draws land at random places. */
#define GROUP 4

/* The sums over a group's draws: s1[r][q] = sum_i n_ri d[i][q] and
 * s2[r][q] = sum_i n_ri d[i][q]^2, with n_ri the draws of example i in
 * resample r (cnt[r N + i], plus what wrapped past 255 and is already in s1,
 * s2).  Inlined with Q a constant, the accumulators stay in registers;
 * every resample's sums take the same steps in the same order whatever the
 * group, and zero counts are added too (d is finite, so they add +-0: no
 * unpredictable branch). */
static inline __attribute__((always_inline)) void sweep(const unsigned char *cnt, const double *d, size_t N, size_t Q,
                                                        double (*s1)[MAX_Q], double (*s2)[MAX_Q]) {
  double a1[GROUP][MAX_Q], a2[GROUP][MAX_Q];
  for (size_t r = 0; r < GROUP; r++)
    for (size_t q = 0; q < Q; q++) a1[r][q] = s1[r][q], a2[r][q] = s2[r][q];
  for (size_t i = 0; i < N; i++) {
    const double *di = d + i * Q;
    for (size_t q = 0; q < Q; q++)
      for (size_t r = 0; r < GROUP; r++) {
        double wd = (double)cnt[r * N + i] * di[q];
        a1[r][q] += wd, a2[r][q] += wd * di[q];
      }
  }
  for (size_t r = 0; r < GROUP; r++)
    for (size_t q = 0; q < Q; q++) s1[r][q] = a1[r][q], s2[r][q] = a2[r][q];
}

/* Each resample draws N examples with replacement.  Instead of reading d at
 * N random places (a cache miss each on a large task), the draws are counted
 * first (one byte per example: the counts stay in cache) and d
 * is then read once, in order, for a group of resamples.  A count that wraps
 * past 255 adds its 256 draws at once.  T* = (mean* - mean) / se*, with
 * mean = 0 after centring; a resample without variance gives -inf, 0 or
 * +inf by the sign of its mean. */
static void *boot_run(void *arg) {
  boot_job *j = arg;
  const double *d = j->d;
  size_t N = j->N, Q = j->Q;
  unsigned char *cnt = j->cnt;
  double s1[GROUP][MAX_Q], s2[GROUP][MAX_Q], n = (double)N;
  for (size_t b0 = j->from; b0 < j->to; b0 += GROUP) {
    size_t R = j->to - b0 < GROUP ? j->to - b0 : GROUP;
    memset(s1, 0, sizeof s1), memset(s2, 0, sizeof s2);
    for (size_t r = 0; r < R; r++) {
      uint64_t s = j->seed ^ (0x9E3779B97F4A7C15ULL * (b0 + r + 1));
      s = ivs_splitmix(&s);
      for (size_t k = 0; k < N; k++) {
        /* an index in [0, N) from the high half of a 128-bit product: no division */
        size_t i = (size_t)(((unsigned __int128)ivs_splitmix(&s) * N) >> 64);
        if (++cnt[r * N + i] == 0)
          for (size_t q = 0; q < Q; q++) {
            double wd = 256 * d[i * Q + q];
            s1[r][q] += wd, s2[r][q] += wd * d[i * Q + q];
          }
      }
    }
    if (Q == 3) sweep(cnt, d, N, 3, s1, s2);
    else if (Q == 1) sweep(cnt, d, N, 1, s1, s2);
    else sweep(cnt, d, N, Q, s1, s2);
    memset(cnt, 0, N * GROUP);
    for (size_t r = 0; r < R; r++)
      for (size_t q = 0; q < Q; q++) {
        double m = s1[r][q] / n, ss = s2[r][q] - s1[r][q] * m; /* sum of n_i (d_i - m)^2 */
        double se = ss > 0 ? sqrt(ss / (n - 1) / n) : 0;
        j->tstar[q * j->n_boot + b0 + r] = se > 0 ? m / se : m > 0 ? INFINITY : m < 0 ? -INFINITY : 0;
      }
  }
  return NULL;
}

/* The k-th smallest of sorted v[0..n) (k from 1), -inf for k = 0; and the
 * k-th largest, +inf for k = 0: the (B+1)a-th ordered values. */
static double kth_low(const double *v, size_t k) { return k ? v[k - 1] : -INFINITY; }
static double kth_high(const double *v, size_t n, size_t k) { return k ? v[n - k] : INFINITY; }

/* One component (a slope over some of the models): its mean over the
 * examples, standard error and sorted T*. */
typedef struct {
  double mean, se;
  const double *tstar;
} component;

/* The critical values of a one-sided test at tail probability a on each
 * side: *c_lo (<= 0) and *c_hi (>= 0), each the more extreme of the
 * bootstrap-t's ((B+1)a-th ordered T*) and Student's t with N - 1 degrees
 * of freedom.  A side is claimed only when both approximate level-a tests
 * claim it, so its level is at most the smaller of theirs and it holds when
 * either approximation does: Student's t when the slopes are heavy-tailed
 * but near symmetric (where the bootstrap-t is a little liberal at a few
 * hundred examples), the bootstrap-t when they are skewed (where Student's
 * t is).  N >= 2. */
static void criticals(const component *c, size_t N, size_t B, double a, double *c_lo, double *c_hi) {
  size_t k = (size_t)floor((double)(B + 1) * a);
  double t = ivs_student_t_quantile(1 - a, (double)(N - 1));
  *c_lo = fmin(kth_low(c->tstar, k), -t);
  *c_hi = fmax(kth_high(c->tstar, B, k), t);
}

/* The bounds of the interval with tail probability a on each side: lower, upper. */
static void bounds(const component *c, size_t N, size_t B, double a, double *lo, double *hi) {
  if (N < 2) {
    *lo = -INFINITY, *hi = INFINITY;
    return;
  }
  if (c->se == 0) { /* every example has the same slope */
    *lo = *hi = c->mean;
    return;
  }
  double c_lo, c_hi;
  criticals(c, N, B, a, &c_lo, &c_hi);
  *lo = isinf(c_hi) ? -INFINITY : c->mean - c_hi * c->se;
  *hi = isinf(c_lo) ? INFINITY : c->mean - c_lo * c->se;
}

/* +1: the component's slope is significantly worse (one-sided at a), -1
 * better, 0 neither.  sign: +1 when a rising metric is worse. */
static int significance(const component *c, size_t N, size_t B, double a, double sign) {
  double lo, hi;
  bounds(c, N, B, a, &lo, &hi);
  if (lo > 0) return sign > 0 ? 1 : -1;
  if (hi < 0) return sign > 0 ? -1 : 1;
  return 0;
}

/* The slope found with probability IVS_EVAL_TREND_POWER on either side:
 * (c + t_power) * se, c the larger of the two critical values (the side
 * harder to reach), t_power Student's quantile (eval/power.h). */
static double detectable(const component *c, size_t N, size_t B) {
  if (N < 2 || !isfinite(c->se)) return INFINITY;
  if (c->se == 0) return 0;
  double c_lo, c_hi;
  criticals(c, N, B, IVS_EVAL_TREND_LEVEL / 2, &c_lo, &c_hi);
  double crit = fmax(-c_lo, c_hi);
  if (isinf(crit)) return INFINITY;
  return ivs_power_detectable_at(crit, c->se, N, IVS_EVAL_TREND_POWER);
}

static void verdict_of(const component *cs, size_t J, size_t N, size_t B, int worse_up, ivs_trend *out) {
  double sign = worse_up ? 1 : -1;
  const component *all = &cs[0];
  out->slope = all->mean;
  bounds(all, N, B, IVS_EVAL_TREND_LEVEL / 2, &out->lo, &out->hi);
  out->detectable = detectable(all, N, B);
  out->verdict = IVS_VERDICT_UNDEFINED;
  if (J == 3) {
    int first = significance(&cs[1], N, B, IVS_EVAL_TREND_SHAPE_LEVEL, sign);
    int last = significance(&cs[2], N, B, IVS_EVAL_TREND_SHAPE_LEVEL, sign);
    if (first > 0 && last < 0) out->verdict = IVS_VERDICT_U_SHAPED;
    else if (first < 0 && last > 0) out->verdict = IVS_VERDICT_INVERTED_U;
  }
  if (out->verdict == IVS_VERDICT_UNDEFINED) {
    int s = significance(all, N, B, IVS_EVAL_TREND_LEVEL / 2, sign);
    out->verdict = s > 0 ? IVS_VERDICT_INVERSE : s < 0 ? IVS_VERDICT_POSITIVE : IVS_VERDICT_FLAT;
  }
}

/* The examples' slope components of every metric into d (N x Q), centred;
 * their means and standard errors into cs. */
static int components(const double *w, size_t M, size_t J, size_t N, const ivs_eval_trend_metric *metrics, size_t K,
                      double *d, component *cs) {
  size_t Q = K * J;
  double sum[MAX_Q] = {0}, ss[MAX_Q] = {0};
  for (size_t k = 0; k < K; k++) {
    const double *v = metrics[k].values;
    for (size_t i = 0; i < N; i++) {
      double c[3] = {0, 0, 0};
      int same = 1; /* the same value at every size: slopes exactly 0, not the rounding of weights summing to 0 */
      for (size_t m = 0; m < M; m++) {
        double y = v[m * N + i];
        same &= y == v[i];
        if (!isfinite(y)) {
          if (K > 1) return ivs_error_set(IVS_EINVAL, "metric %zu, model %zu, example %zu: the value is %g; a trend needs finite values", k, m, i, y);
          return ivs_error_set(IVS_EINVAL, "model %zu, example %zu: the metric is %g; a trend needs finite values", m, i, y);
        }
        for (size_t j = 0; j < J; j++) c[j] += w[j * M + m] * y;
      }
      if (same) c[0] = c[1] = c[2] = 0;
      for (size_t j = 0; j < J; j++) {
        if (!isfinite(c[j])) return ivs_error_set(IVS_EINVAL, "example %zu: metric values too large for a trend", i);
        d[i * Q + k * J + j] = c[j];
        sum[k * J + j] += c[j];
      }
    }
  }
  for (size_t q = 0; q < Q; q++) cs[q].mean = sum[q] / (double)N;
  for (size_t i = 0; i < N; i++)
    for (size_t q = 0; q < Q; q++) {
      double e = d[i * Q + q] - cs[q].mean;
      d[i * Q + q] = e, ss[q] += e * e;
    }
  for (size_t q = 0; q < Q; q++) {
    cs[q].se = N > 1 ? sqrt(ss[q] / (double)(N - 1) / (double)N) : NAN;
    if (!isfinite(cs[q].se)) cs[q].se = N > 1 ? INFINITY : NAN;
  }
  return 0;
}

int ivs_eval_trends(ivs_eval_trend *out, const double *x, size_t M, size_t N, const ivs_eval_trend_metric *metrics,
                    size_t K, size_t n_boot, uint64_t seed) {
  if (!out || !x || !metrics) return ivs_error_set(IVS_EUSAGE, "ivs_eval_trends: a NULL argument");
  if (K < 1 || K > IVS_EVAL_MAX_TRENDS)
    return ivs_error_set(IVS_EUSAGE, "ivs_eval_trends: 1 to %d metrics, got %zu", IVS_EVAL_MAX_TRENDS, K);
  for (size_t k = 0; k < K; k++)
    if (!metrics[k].values) return ivs_error_set(IVS_EUSAGE, "ivs_eval_trends: metric %zu has no values", k);
  if (M < 2) return ivs_error_set(IVS_EINVAL, "a trend needs at least two model sizes; %zu given", M);
  for (size_t m = 0; m < M; m++)
    if (!isfinite(x[m])) return ivs_error_set(IVS_EINVAL, "model %zu: log10(parameters) is %g", m, x[m]);
  for (size_t m = 1; m < M; m++) {
    if (x[m] == x[m - 1]) return ivs_error_set(IVS_EINVAL, "two models have the same parameter count");
    if (x[m] < x[m - 1]) return ivs_error_set(IVS_EINVAL, "the models are not sorted by size (model %zu)", m);
  }
  if (!N) return ivs_error_set(IVS_EINVAL, "no examples");
  if (!n_boot) n_boot = 1000;
  size_t J = M >= 3 ? 3 : 1, Q = K * J, mid = M / 2;
  /* The slope is linear in the per-example values, so each example
   * contributes its own slope and a resample's slope is their mean over the
   * drawn examples: one read per draw instead of one per model. */
  if (M > IVS_EVAL_MAX_MODELS) return ivs_error_set(IVS_EINVAL, "at most %d models in a trend", IVS_EVAL_MAX_MODELS);
  double w[3 * IVS_EVAL_MAX_MODELS];
  memset(w, 0, sizeof w);
  ols_weights(x, 0, M, w);
  if (J == 3) ols_weights(x, 0, mid + 1, w + M), ols_weights(x, mid, M, w + 2 * M);
  int rc = 0, threaded = 0;
  pthread_t th;
  component cs[MAX_Q];
  double *d = malloc(N * Q * sizeof *d), *tstar = malloc(n_boot * Q * sizeof *tstar);
  /* two threads when the work is worth one */
  int two = N > 1 && (double)N * (double)n_boot * (double)Q >= 3e7;
  unsigned char *cnt0 = calloc(N, GROUP), *cnt1 = two ? calloc(N, GROUP) : NULL;
  if (!d || !tstar || !cnt0 || (two && !cnt1)) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  ivs_mem_hint_huge(d, N * Q * sizeof *d);
  if ((rc = components(w, M, J, N, metrics, K, d, cs))) goto done;
  if (N > 1) { /* one example: nothing to resample, every bound infinite */
    boot_job jobs[2] = {{d, N, Q, 0, n_boot, n_boot, seed, cnt0, tstar}, {d, N, Q, n_boot, n_boot, n_boot, seed, cnt1, tstar}};
    if (two) {
      jobs[0].to = jobs[1].from = n_boot / 2;
      threaded = pthread_create(&th, NULL, boot_run, &jobs[1]) == 0;
      if (!threaded) jobs[0].to = n_boot;
    }
    boot_run(&jobs[0]);
    if (threaded) pthread_join(th, NULL);
    for (size_t q = 0; q < Q; q++) qsort(tstar + q * n_boot, n_boot, sizeof *tstar, cmp);
  }
  for (size_t q = 0; q < Q; q++) cs[q].tstar = tstar + q * n_boot;
  for (size_t k = 0; k < K; k++) {
    verdict_of(&cs[k * J], J, N, n_boot, metrics[k].higher_is_worse, &out[k]);
    out[k].n_boot = n_boot, out[k].n_tested = K;
  }
done:
  free(d), free(tstar), free(cnt0), free(cnt1);
  return rc;
}

int ivs_trend_fit(const double *x, size_t M, const double *metric, size_t N, int worse_up, size_t n_boot, uint64_t seed,
                  ivs_trend *out) {
  ivs_eval_trend_metric m = {metric, worse_up};
  return ivs_eval_trends(out, x, M, N, &m, 1, n_boot, seed);
}

const char *ivs_verdict_name(ivs_verdict v) {
  static const char *const names[] = {"undefined", "inverse", "positive", "flat", "u-shaped", "inverted-u"};
  return (unsigned)v < sizeof names / sizeof *names ? names[v] : "undefined";
}

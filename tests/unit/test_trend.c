/* The trend test (eval/trend.c, eval/power.c): Student's t quantiles, the
 * detectable slope, the studentized bootstrap against a direct
 * implementation, several metrics at once, degenerate inputs.  Its
 * calibration is trend_sim --check (test trend_calibration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "eval/power.h"
#include "eval/trend.h"
#include "invscale/eval.h"

static void test_t_quantiles(void **state) {
  (void)state;
  /* closed forms: nu = 1 is Cauchy, nu = 2 has t = (2p - 1) sqrt(2 / (4p(1 - p))) */
  assert_float_equal(ivs_student_t_quantile(0.975, 1), tan(0.475 * M_PI), 1e-8);
  assert_float_equal(ivs_student_t_quantile(0.8, 1), tan(0.3 * M_PI), 1e-9);
  assert_float_equal(ivs_student_t_quantile(0.975, 2), 0.95 * sqrt(2 / (4 * 0.975 * 0.025)), 1e-9);
  assert_float_equal(ivs_student_t_quantile(0.995, 2), 0.99 * sqrt(2 / (4 * 0.995 * 0.005)), 1e-9);
  /* printed tables (5 decimals) */
  assert_float_equal(ivs_student_t_quantile(0.975, 5), 2.57058, 1e-5);
  assert_float_equal(ivs_student_t_quantile(0.975, 10), 2.22814, 1e-5);
  assert_float_equal(ivs_student_t_quantile(0.975, 30), 2.04227, 1e-5);
  assert_float_equal(ivs_student_t_quantile(0.8, 10), 0.87906, 1e-5);
  assert_float_equal(ivs_student_t_quantile(0.995, 100), 2.62589, 1e-5);
  /* towards the normal: z_0.975 = 1.959964, z_0.8 = 0.841621 */
  assert_float_equal(ivs_student_t_quantile(0.975, 1e9), 1.959963985, 1e-7);
  assert_float_equal(ivs_student_t_quantile(0.8, 1e9), 0.841621234, 1e-7);
  assert_float_equal(ivs_student_t_quantile(0.5, 7), 0, 1e-9);
  /* the tail inverts the quantile */
  for (double nu = 1; nu < 1e6; nu *= 3.7)
    assert_float_equal(ivs_student_t_tail(ivs_student_t_quantile(0.975, nu), nu), 0.025, 1e-10);
  assert_true(isnan(ivs_student_t_quantile(0.3, 5)) && isnan(ivs_student_t_quantile(1, 5)));
  assert_true(isnan(ivs_student_t_quantile(0.9, 0.5)) && isnan(ivs_student_t_tail(-1, 3)));
}

static void test_detectable_formula(void **state) {
  (void)state;
  /* (z_0.975 + z_0.8) se for many examples; Student's quantiles for few */
  assert_float_equal(ivs_power_detectable(0.1, 1000000001, 0.05, 0.8), 0.28015852, 1e-7);
  double t = ivs_student_t_quantile(0.975, 9) + ivs_student_t_quantile(0.8, 9);
  assert_float_equal(ivs_power_detectable(2, 10, 0.05, 0.8), 2 * t, 1e-12);
  assert_true(isinf(ivs_power_detectable(1, 1, 0.05, 0.8)));
  assert_true(isinf(ivs_power_detectable(INFINITY, 100, 0.05, 0.8)));
  assert_true(ivs_power_detectable(0, 100, 0.05, 0.8) == 0);
  assert_float_equal(ivs_power_detectable_at(3, 0.5, 1000000001, 0.8), (3 + 0.841621234) * 0.5, 1e-7);
  assert_true(isinf(ivs_power_detectable_at(INFINITY, 0.5, 100, 0.8)));
}

/* ---- a direct implementation of the documented test, to compare with ---- */

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void weights(const double *x, size_t lo, size_t hi, double *w) {
  double mx = 0, sxx = 0;
  for (size_t m = lo; m < hi; m++) mx += x[m] / (double)(hi - lo);
  for (size_t m = lo; m < hi; m++) sxx += (x[m] - mx) * (x[m] - mx);
  for (size_t m = lo; m < hi; m++) w[m] = (x[m] - mx) / sxx;
}

typedef struct {
  double mean, se, lo, hi;       /* the 95% interval */
  double lo_s, hi_s;             /* the 99% interval (0.5% a side: the shape test's) */
  double crit;                   /* the larger 2.5% critical value */
} ref_component;

/* One component: c[i] the examples' slopes; resamples drawn exactly as
 * documented (resample b: SplitMix64 seeded with splitmix(seed ^ golden *
 * (b + 1)), index = high half of draw * N); T* over the drawn examples with
 * its own mean and standard deviation; critical values the (B+1)a-th
 * ordered T*, never inside Student's t. */
static ref_component reference(const double *c, size_t N, size_t B, uint64_t seed) {
  ref_component r;
  double s = 0, ss = 0;
  for (size_t i = 0; i < N; i++) s += c[i];
  r.mean = s / (double)N;
  for (size_t i = 0; i < N; i++) ss += (c[i] - r.mean) * (c[i] - r.mean);
  r.se = sqrt(ss / (double)(N - 1) / (double)N);
  double *t = malloc(B * sizeof *t), *draw = malloc(N * sizeof *draw);
  for (size_t b = 0; b < B; b++) {
    uint64_t st = seed ^ (0x9E3779B97F4A7C15ULL * (b + 1));
    st = ivs_splitmix(&st);
    double m = 0, v = 0;
    for (size_t k = 0; k < N; k++) {
      size_t i = (size_t)(((unsigned __int128)ivs_splitmix(&st) * N) >> 64);
      draw[k] = c[i], m += c[i];
    }
    m /= (double)N;
    for (size_t k = 0; k < N; k++) v += (draw[k] - m) * (draw[k] - m);
    t[b] = (m - r.mean) / sqrt(v / (double)(N - 1) / (double)N);
  }
  qsort(t, B, sizeof *t, cmpd);
  double a[2] = {0.025, 0.005}, *lo[2] = {&r.lo, &r.lo_s}, *hi[2] = {&r.hi, &r.hi_s};
  for (int k = 0; k < 2; k++) {
    size_t j = (size_t)floor((double)(B + 1) * a[k]);
    double st = ivs_student_t_quantile(1 - a[k], (double)(N - 1));
    double c_lo = fmin(t[j - 1], -st), c_hi = fmax(t[B - j], st);
    *lo[k] = r.mean - c_hi * r.se, *hi[k] = r.mean - c_lo * r.se;
    if (!k) r.crit = fmax(-c_lo, c_hi);
  }
  free(t), free(draw);
  return r;
}

/* Families of M models and N examples with heavy-tailed, shared-difficulty
 * values (loss-like), a slope b per decade and a bend h (the middle model's
 * values raised). */
static double *family(size_t M, size_t N, const double *x, double b, double h, uint64_t seed) {
  double *y = malloc(M * N * sizeof *y);
  uint64_t s = seed;
  for (size_t i = 0; i < N; i++) {
    double d = (double)(ivs_splitmix(&s) >> 11) * 0x1.0p-53 * 5;
    for (size_t m = 0; m < M; m++) {
      double u = (double)(ivs_splitmix(&s) >> 11) * 0x1.0p-53 + 1e-12;
      y[m * N + i] = d - log(u) + b * x[m] + (m == M / 2 ? h : 0);
    }
  }
  return y;
}

static void compare(size_t M, size_t N, size_t B, double b, uint64_t seed) {
  double x[8] = {8.1, 8.5, 9.2, 9.9, 10.0, 10.7, 11.3, 12.0};
  double *y = family(M, N, x, b, 0, seed);
  ivs_trend tr;
  assert_int_equal(ivs_trend_fit(x, M, y, N, 1, B, seed, &tr), 0);
  double w[8], *c = malloc(N * sizeof *c);
  weights(x, 0, M, w);
  for (size_t i = 0; i < N; i++) {
    c[i] = 0;
    for (size_t m = 0; m < M; m++) c[i] += w[m] * y[m * N + i];
  }
  ref_component r = reference(c, N, B, seed);
  assert_float_equal(tr.slope, r.mean, 1e-12 * (1 + fabs(r.mean)));
  assert_float_equal(tr.lo, r.lo, 1e-9 * (1 + fabs(r.lo)));
  assert_float_equal(tr.hi, r.hi, 1e-9 * (1 + fabs(r.hi)));
  double want = (r.crit + ivs_student_t_quantile(0.8, (double)(N - 1))) * r.se;
  assert_float_equal(tr.detectable, want, 1e-9 * want);
  ivs_verdict v = r.lo > 0 ? IVS_VERDICT_INVERSE : r.hi < 0 ? IVS_VERDICT_POSITIVE : IVS_VERDICT_FLAT;
  if (M >= 3) { /* the halves, at 0.5% a side */
    double wl[8], wh[8];
    size_t mid = M / 2;
    weights(x, 0, mid + 1, wl), weights(x, mid, M, wh);
    double *cl = malloc(N * sizeof *cl), *ch = malloc(N * sizeof *ch);
    for (size_t i = 0; i < N; i++) {
      cl[i] = ch[i] = 0;
      for (size_t m = 0; m <= mid; m++) cl[i] += wl[m] * y[m * N + i];
      for (size_t m = mid; m < M; m++) ch[i] += wh[m] * y[m * N + i];
    }
    ref_component rl = reference(cl, N, B, seed), rh = reference(ch, N, B, seed);
    if (rl.lo_s > 0 && rh.hi_s < 0) v = IVS_VERDICT_U_SHAPED;
    else if (rl.hi_s < 0 && rh.lo_s > 0) v = IVS_VERDICT_INVERTED_U;
    free(cl), free(ch);
  }
  assert_int_equal(tr.verdict, v);
  assert_int_equal(tr.n_boot, B);
  assert_int_equal(tr.n_tested, 1);
  free(y), free(c);
}

static void test_against_direct(void **state) {
  (void)state;
  compare(2, 60, 999, 0, 3);
  compare(4, 150, 1000, 0.05, 4);
  compare(8, 80, 399, -0.1, 5);
  compare(3, 500, 200, 0.3, 6); /* clearly inverse */
  /* large enough for two threads (N x B x 3 >= 3e7): the same numbers */
  compare(4, 20000, 600, 0.01, 7);
}

static void test_several_metrics(void **state) {
  (void)state;
  enum { M = 5, N = 400 };
  double x[M] = {8, 8.7, 9.5, 10.1, 11};
  double *loss = family(M, N, x, 0.2, 0, 11), *flat = family(M, N, x, 0, 0, 12), *acc = malloc(M * N * sizeof *acc);
  for (size_t i = 0; i < M * N; i++) acc[i] = loss[i] < 2.5; /* falls as the loss rises */
  double *neg = malloc(M * N * sizeof *neg);
  for (size_t i = 0; i < M * N; i++) neg[i] = -loss[i];
  ivs_eval_trend_metric ms[4] = {{loss, 1}, {acc, 0}, {flat, 1}, {neg, 0}};
  ivs_eval_trend all[4], one;
  assert_int_equal(ivs_eval_trends(all, x, M, N, ms, 4, 500, 9), 0);
  for (int k = 0; k < 4; k++) {
    assert_int_equal(ivs_eval_trends(&one, x, M, N, &ms[k], 1, 500, 9), 0);
    /* the same draws and the same steps: bit for bit */
    assert_true(one.slope == all[k].slope && one.lo == all[k].lo && one.hi == all[k].hi);
    assert_true(one.detectable == all[k].detectable);
    assert_int_equal(one.verdict, all[k].verdict);
    assert_int_equal(one.n_tested, 1);
    assert_int_equal(all[k].n_tested, 4);
  }
  assert_int_equal(all[0].verdict, IVS_VERDICT_INVERSE);
  assert_int_equal(all[1].verdict, IVS_VERDICT_INVERSE); /* an accuracy falling is worse */
  assert_int_equal(all[3].verdict, IVS_VERDICT_INVERSE); /* -loss falling, "higher is better" */
  assert_true(all[3].slope == -all[0].slope && all[3].lo == -all[0].hi && all[3].hi == -all[0].lo);
  assert_true(isfinite(all[2].detectable) && all[2].detectable > 0);
  /* errors */
  assert_int_equal(ivs_eval_trends(all, x, M, N, ms, 0, 100, 1), IVS_EUSAGE);
  assert_int_equal(ivs_eval_trends(all, x, M, N, ms, IVS_EVAL_MAX_TRENDS + 1, 100, 1), IVS_EUSAGE);
  assert_int_equal(ivs_eval_trends(NULL, x, M, N, ms, 1, 100, 1), IVS_EUSAGE);
  assert_int_equal(ivs_eval_trends(all, NULL, M, N, ms, 1, 100, 1), IVS_EUSAGE);
  ivs_eval_trend_metric none = {NULL, 1};
  assert_int_equal(ivs_eval_trends(all, x, M, N, &none, 1, 100, 1), IVS_EUSAGE);
  acc[2 * N + 7] = NAN;
  assert_int_equal(ivs_eval_trends(all, x, M, N, ms, 2, 100, 1), IVS_EINVAL);
  assert_string_equal(ivs_error_message(), "metric 1, model 2, example 7: the value is nan; a trend needs finite values");
  double down[M] = {8, 9, 8.5, 10, 11};
  assert_int_equal(ivs_eval_trends(all, down, M, N, ms, 1, 100, 1), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "not sorted by size"));
  assert_int_equal(ivs_eval_trends(all, x, 1, N, ms, 1, 100, 1), IVS_EINVAL);
  assert_int_equal(ivs_eval_trends(all, x, M, 0, ms, 1, 100, 1), IVS_EINVAL);
  free(loss), free(flat), free(acc), free(neg);
}

static void test_degenerate(void **state) {
  (void)state;
  double x[3] = {8, 9, 10};
  ivs_trend tr;
  /* one example: nothing to resample */
  double one[3] = {1, 2, 3};
  assert_int_equal(ivs_trend_fit(x, 3, one, 1, 1, 100, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_FLAT);
  assert_float_equal(tr.slope, 1, 1e-12);
  assert_true(isinf(tr.lo) && tr.lo < 0 && isinf(tr.hi) && tr.hi > 0 && isinf(tr.detectable));
  /* two examples (half the resamples have no variance): no verdict can be reached */
  double two[6] = {1, 1.5, 2, 3.5, 3, 2.5}; /* slopes 1 and 0.5 */
  assert_int_equal(ivs_trend_fit(x, 3, two, 2, 1, 1000, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_FLAT);
  assert_true(isinf(tr.detectable));
  /* every example with the same slope: certain */
  double same[9] = {1, 5, -2, 2, 6, -1, 3, 7, 0};
  assert_int_equal(ivs_trend_fit(x, 3, same, 3, 1, 100, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERSE);
  assert_true(tr.lo == tr.slope && tr.hi == tr.slope && tr.detectable == 0);
  /* the same value at every size for every example (0.1: the slope weights' rounding would make
   * it about 1e-17, "certain"; a probe's token count at its limit is such a metric): flat, 0 */
  double x4[4] = {7.1, 8.3, 9.2, 10.4}, flat[12];
  for (size_t i = 0; i < 12; i++) flat[i] = i % 3 ? 0.1 : 32;
  assert_int_equal(ivs_trend_fit(x4, 4, flat, 3, 1, 200, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_FLAT);
  assert_true(tr.slope == 0 && tr.lo == 0 && tr.hi == 0);
  /* too few resamples for a 2.5% tail ((B + 1) x 2.5% < 1): flat, nothing detectable */
  enum { N = 300 };
  double *y = family(3, N, x, 1, 0, 2);
  assert_int_equal(ivs_trend_fit(x, 3, y, N, 1, 38, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_FLAT);
  assert_true(isinf(tr.lo) && isinf(tr.hi) && isinf(tr.detectable));
  assert_int_equal(ivs_trend_fit(x, 3, y, N, 1, 39, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERSE);
  free(y);
}

/* shapes need both halves at 0.5% a side; a straight line never makes one */
static void test_shapes(void **state) {
  (void)state;
  enum { N = 400 };
  double x[5] = {8, 9, 10, 11, 12};
  ivs_trend tr;
  double *y = family(5, N, x, 0, 1.5, 21); /* the middle model worse: worse then better */
  assert_int_equal(ivs_trend_fit(x, 5, y, N, 1, 1000, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_U_SHAPED);
  assert_int_equal(ivs_trend_fit(x, 5, y, N, 0, 1000, 1, &tr), 0); /* an accuracy, the middle better */
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERTED_U);
  free(y);
  y = family(5, N, x, 2, 0, 22);
  assert_int_equal(ivs_trend_fit(x, 5, y, N, 1, 1000, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERSE);
  free(y);
  /* too few resamples for a 0.5% tail ((B + 1) x 0.5% < 1): no shape, the slope still */
  y = family(5, N, x, 0.5, 1.5, 23);
  assert_int_equal(ivs_trend_fit(x, 5, y, N, 1, 198, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERSE);
  assert_int_equal(ivs_trend_fit(x, 5, y, N, 1, 199, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_U_SHAPED);
  free(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_t_quantiles),     cmocka_unit_test(test_detectable_formula),
      cmocka_unit_test(test_against_direct),  cmocka_unit_test(test_several_metrics),
      cmocka_unit_test(test_degenerate),      cmocka_unit_test(test_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

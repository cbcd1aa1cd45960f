/* Student's t quantiles through the regularized incomplete beta function,
 * for the power statement (eval/power.h). */
#include "eval/power.h"

#include <math.h>

/* The continued fraction of I_x(a, b) (Abramowitz & Stegun 26.5.8),
 * evaluated by the modified Lentz method; converges quickly for
 * x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double f = d;
  for (int m = 1; m <= 100000; m++) {
    double m2 = 2.0 * m;
    /* the even step */
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d, c = 1 + num / c;
    if (fabs(d) < tiny) d = tiny;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d, f *= d * c;
    /* the odd step */
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d, c = 1 + num / c;
    if (fabs(d) < tiny) d = tiny;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double step = d * c;
    f *= step;
    if (fabs(step - 1) < eps) break;
  }
  return f;
}

/* log B(a, b).  With a large, lgamma(a) - lgamma(a + b) cancels most of
 * two big numbers (1e10 for a = 5e8: an error of 1e-6); Stirling's series
 * of the difference keeps it to rounding:
 *   lgamma(z) = (z - 1/2) log z - z + log(2 pi) / 2 + 1/(12 z) - 1/(360 z^3) + O(z^-5). */
static double lbeta(double a, double b) {
  double big = a > b ? a : b, small = a > b ? b : a;
  if (big < 100) return lgamma(a) + lgamma(b) - lgamma(a + b);
  double z = big + small;
  double diff = -(big - 0.5) * log1p(small / big) - small * log(z) + small + (1 / (12 * big) - 1 / (12 * z)) -
                (1 / (360 * big * big * big) - 1 / (360 * z * z * z));
  return lgamma(small) + diff;
}

/* I_x(a, b) with y = 1 - x given separately (no cancellation when x is
 * close to 1). */
static double beta_inc(double a, double b, double x, double y) {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  double lfront = a * log1p(-y) + b * log(y) - lbeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return exp(lfront) * beta_cf(a, b, x) / a;
  return 1 - exp(lfront) * beta_cf(b, a, y) / b;
}

double ivs_student_t_tail(double t, double nu) {
  if (!(t >= 0) || !(nu >= 1)) return NAN;
  if (isinf(t)) return 0;
  double t2 = t * t, x = nu / (nu + t2), y = t2 / (nu + t2);
  return 0.5 * beta_inc(nu / 2, 0.5, x, y);
}

double ivs_student_t_quantile(double p, double nu) {
  if (!(p >= 0.5 && p < 1) || !(nu >= 1)) return NAN;
  double q = 1 - p, lo = 0, hi = 1;
  while (ivs_student_t_tail(hi, nu) > q && hi < 1e300) lo = hi, hi *= 2;
  for (int k = 0; k < 200 && hi - lo > 1e-12 * hi; k++) { /* the tail falls as t grows */
    double mid = 0.5 * (lo + hi);
    if (ivs_student_t_tail(mid, nu) > q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

double ivs_power_detectable_at(double crit, double se, size_t n, double power) {
  if (n < 2 || !isfinite(se) || !isfinite(crit)) return INFINITY;
  if (se == 0) return 0;
  return (crit + ivs_student_t_quantile(power, (double)(n - 1))) * se;
}

double ivs_power_detectable(double se, size_t n, double level, double power) {
  if (n < 2) return INFINITY;
  return ivs_power_detectable_at(ivs_student_t_quantile(1 - level / 2, (double)(n - 1)), se, n, power);
}

/* The power statement of the trend test: the smallest slope it detects
 * 80% of the time at its 5% level (docs/trend.md).
 *
 * With s the standard deviation of the per-example slopes over N examples,
 * se = s / sqrt(N) and nu = N - 1, a slope delta is found (on its own side)
 * with probability about P(T_nu > t_{1-a/2,nu} - delta/se), so the slope
 * found with probability p is
 *
 *   delta_p = (t_{1-a/2,nu} + t_{p,nu}) * se,
 *
 * the usual approximation of the noncentral t for a one-sample t test
 * (e.g. Cohen 1988, ch. 2; the normal-theory form z_{1-a/2} + z_p as N
 * grows).  The per-example slopes are the trend's unit of resampling, so
 * "this many examples and these sizes" enter through s and N. */
#ifndef IVS_EVAL_POWER_H
#define IVS_EVAL_POWER_H

#include <stddef.h>

/* The p-quantile of Student's t with nu degrees of freedom, for p in
 * [0.5, 1) and nu >= 1 (else NaN); to about 1e-10 relative. */
double ivs_student_t_quantile(double p, double nu);

/* The upper tail P(T_nu > t) for t >= 0, nu >= 1 (else NaN). */
double ivs_student_t_tail(double t, double nu);

/* delta for a two-sided Student t test at `level` and detection
 * probability `power` with n examples whose slopes have the standard error
 * se: +inf when n < 2 or se is not finite; 0 when se is 0. */
double ivs_power_detectable(double se, size_t n, double level, double power);

/* The same for a test whose critical value (on the side considered) is
 * crit instead of t_{1-level/2}: (crit + t_{power,n-1}) * se. */
double ivs_power_detectable_at(double crit, double se, size_t n, double power);

#endif

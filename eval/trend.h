/* The scaling-trend verdict (docs/trend.md has the method, its sources and
 * its calibration).
 *
 * x = log10(params) of M models sorted by size.  Each example i has its own
 * least-squares slope c_i = sum_m w_m y_mi (w: the OLS weights of x); the
 * family's slope is their mean.  Examples are the unit of resampling (the
 * paired design: an example's values for every model stay together).
 *   - The slope's 95% interval is a studentized (bootstrap-t) interval:
 *     T = mean(c) / se(c) is referred to the resampled T* = (mean* - mean) /
 *     se*, whose 2.5% and 97.5% points (the (B+1)a-th ordered values), each
 *     taken no less extreme than Student's t_{0.975,N-1}, give
 *     [mean - t_hi se, mean - t_lo se].  An interval on the worse side (a
 *     rising loss, a falling accuracy) is "inverse", on the better side
 *     "positive", else "flat": at most 2.5% on each side on a family without
 *     trend, whether the slopes are skewed (where Student's t alone is not)
 *     or heavy-tailed (where the bootstrap-t alone is a little liberal).
 *   - With 3 or more models the slopes over the smaller half (models 0..m)
 *     and the larger half (m..M-1, m = M/2) are tested the same way at 0.5%
 *     one-sided each: worse-then-better, both significant, is "u-shaped"
 *     (Wei et al. 2022's shape), better-then-worse "inverted-u".  Both halves
 *     must reject (an intersection-union test), so on any linear family each
 *     shape is called at most 0.5% of the time.  A shape, when called, is the
 *     verdict.
 *   - detectable: the slope found 80% of the time at the 5% level
 *     (eval/power.h) with the test's own larger critical value, from the
 *     per-example slopes' variance; +inf when the resamples cannot reject.
 */
#ifndef IVS_EVAL_TREND_H
#define IVS_EVAL_TREND_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/eval.h"

typedef ivs_eval_trend ivs_trend;

/* One metric: ivs_eval_trends with K = 1.  metric: M rows of N per-example
 * values (row-major), all finite (else IVS_EINVAL naming model and example);
 * higher_is_worse: 1 for losses, 0 for accuracy. */
int ivs_trend_fit(const double *x, size_t M, const double *metric, size_t N, int higher_is_worse, size_t n_boot,
                  uint64_t seed, ivs_trend *out);

#endif

/* The scaling-trend verdict.
 *
 * With one mean metric per model (models sorted by size) and x = log10(params):
 * slope = the least-squares slope of the mean against x; its 95% interval
 * comes from a paired bootstrap over examples (the same resampled examples for
 * every model; n_boot resamples, seeded).  "Worse" means a rising loss (or a
 * falling accuracy).  Rule:
 *   - with 3 or more models, the slopes over the smaller half (models 0..m) and
 *     the larger half (m..M-1, m = M/2) are bootstrapped too: worse-then-better,
 *     both intervals excluding 0, is "u-shaped" (Wei et al. 2022's shape);
 *     better-then-worse is "inverted-u";
 *   - otherwise an interval entirely on the worse side is "inverse", entirely on
 *     the better side "positive", and one containing 0 "flat".
 */
#ifndef IVS_EVAL_TREND_H
#define IVS_EVAL_TREND_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/eval.h"

typedef struct ivs_trend {
  ivs_verdict verdict; /* inverse, positive, flat, u-shaped, inverted-u (never undefined) */
  double slope, lo, hi;
  size_t n_boot;
} ivs_trend;

/* x: log10(params) of M models, ascending; metric: M rows of N per-example
 * values (row-major), all finite (else IVS_EINVAL naming model and example);
 * higher_is_worse: 1 for losses, 0 for accuracy. */
int ivs_trend_fit(const double *x, size_t M, const double *metric, size_t N, int higher_is_worse, size_t n_boot,
                  uint64_t seed, ivs_trend *out);

#endif

/* Dawid & Skene (1979) EM aggregation of crowd labels.
 *
 * Start: each item's label shares (the majority-vote fractions, counting an
 * annotator's repeated judgments when the ratings keep them).  M-step: class
 * priors = mean item posteriors; each annotator's confusion matrix
 * err[a][observed][true] = posterior-weighted counts, optionally clipped below
 * at `clip` (crowd-kit uses 1e-10; the 1979 paper does not clip), normalised
 * over the observed label.  E-step: posterior of each true label proportional
 * to prior x product of err over the item's judgments (computed in log space).
 * One "iteration" is an E-step followed by an M-step; with max_iter 0 the
 * result is the starting point and its M-step (crowd-kit's "iter_0").
 * Stops when the summed absolute change of priors and confusion matrices is
 * below `tol`.
 */
#ifndef IVS_LABEL_AGGREGATE_H
#define IVS_LABEL_AGGREGATE_H

#include "label/agreement.h"

typedef struct ivs_ds_opts {
  size_t max_iter;     /* e.g. 100 */
  double tol;          /* e.g. 1e-5 */
  double clip;         /* 0: none */
  const long *clamp;   /* per item: a known label index (gold) held fixed, or -1; NULL: none */
} ivs_ds_opts;

typedef struct ivs_ds_result {
  size_t items, labels, annotators;
  double *posterior;  /* items x labels */
  double *prior;      /* labels */
  double *err;        /* annotators x labels(observed) x labels(true) */
  size_t *map;        /* items: most probable label (ties: first in sorted order) */
  size_t iterations;
  double log_likelihood;
} ivs_ds_result;

int ivs_dawid_skene(const ivs_ratings *r, const ivs_ds_opts *opts, ivs_ds_result *out);
void ivs_ds_result_release(ivs_ds_result *res);

#endif

/* Per-model aggregation of the scores, the guessing baseline and the rule
 * that leaves the trend undefined.  Internal to eval/. */
#ifndef IVS_EVAL_AGGREGATE_H
#define IVS_EVAL_AGGREGATE_H

#include <stddef.h>

#include "eval/score.h"
#include "invscale/eval.h"

/* mean and SEM (std with ddof=0 over sqrt(n); NaN when the mean is not
 * finite) of the metric (acc: correct, else loss) over s[0..n), n > 0;
 * accuracy (NaN for sequence_prob) and coverage, the mean of
 * exp(total_logprob) (NaN but for classification), into out (its name and
 * params untouched). */
void ivs_eval_aggregate(const ivs_score *s, size_t n, ivs_task_type type, int acc, ivs_eval_model_result *out);

/* Classification: the mean metric of guessing (acc: 1/classes, else
 * log(classes)) over n > 0 examples; NaN for other types. */
double ivs_eval_baseline(const size_t *n_classes, size_t n, ivs_task_type type, int acc);

/* A model whose mean is infinite (with --invert an answer of probability 1
 * scores -log(0), as in the prize's pipeline) leaves the trend undefined:
 * why (cap bytes) says so for the first such model of m[0..M) (scores[k]
 * its n scores), or is "" when every mean is finite.  Returns 1 when
 * undefined. */
int ivs_eval_why_undefined(const ivs_eval_model_result *m, const ivs_score *const *scores, size_t M, size_t n,
                           const char *metric, int invert, char *why, size_t cap);

#endif

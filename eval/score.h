/* Scoring exactly as the prize's evaluation pipeline (PRIZE-FORMAT.md, "Scoring").
 *
 * classification: lp[j] = log P(class j | prompt) summed over its tokens;
 *   loss = -log_softmax(lp)[answer], correct = argmax(lp) == answer (ties: the
 *   first index), total_logprob = logsumexp(lp).
 * sequence_prob: loss = -log P(completion | prompt), in nats, not normalised.
 * logodds: lo(x) = lp_x[0] - lp_x[1]; d = lo(prompt) - lo(other_prompt),
 *   negated when answer == 1; absolute_logodds uses |d|; correct is judged on
 *   other_prompt (argmax of its class log-probabilities == answer);
 *   total_logprob = logsumexp of other_prompt's class log-probabilities.
 * --invert scores the other classes: loss -> -log(1 - exp(-loss)), correct -> 1 - correct.
 */
#ifndef IVS_EVAL_SCORE_H
#define IVS_EVAL_SCORE_H

#include <stddef.h>

#include "core/example.h"

typedef struct ivs_score { /* 24 bytes: a million examples of four models take 96 MB */
  double loss;          /* classification/sequence_prob: loss; log-odds: the (absolute) difference */
  double total_logprob; /* NaN when not defined (sequence_prob) */
  int correct;          /* -1: not defined (sequence_prob) */
  unsigned predicted;   /* classification: argmax (tasks have at most 4096 classes) */
} ivs_score;

double ivs_logsumexp(const double *x, size_t n);
void ivs_score_classification(const double *lp, size_t n, size_t answer, int invert, ivs_score *out);
void ivs_score_sequence(double completion_logprob, ivs_score *out);
void ivs_score_logodds(const double prompt_lp[2], const double other_lp[2], size_t answer, int absolute,
                       ivs_score *out);

/* Scores examples 0..n-1 of a task of `type` into out[0..n): values laid out
 * as eval/backend.h says (classification: example i's classes from
 * offsets[i]; log-odds 4 per example; sequence_prob 1), n_classes and answer
 * per example (answer ignored for sequence_prob). */
void ivs_score_task(ivs_task_type type, const double *values, const size_t *offsets, const size_t *n_classes,
                    const size_t *answer, size_t n, int invert, ivs_score *out);

#endif

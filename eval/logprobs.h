/* The `logprobs:FILE` backend: log-probabilities computed elsewhere, one JSONL
 * line per example in task order:
 *   classification  {"index": i, "class_logprobs": [...]}
 *   sequence_prob   {"index": i, "completion_logprob": x}
 *   log-odds        {"index": i, "prompt_class_logprobs": [a, b], "other_prompt_class_logprobs": [c, d]}
 * The file must have exactly one line per example, indexes in order, finite
 * values <= 0 and each example's number of classes. */
#ifndef IVS_EVAL_LOGPROBS_H
#define IVS_EVAL_LOGPROBS_H

#include <stddef.h>

#include "core/example.h"

/* values: for classification the class log-probabilities of all examples
 * concatenated (example i starts at offsets[i], offsets has N+1 entries);
 * log-odds 4 per example (prompt a, b, other c, d); sequence_prob 1.
 * *values is malloc'd (caller frees). */
int ivs_logprobs_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                      double **values);

/* The `lmeval:FILE` backend: lm-evaluation-harness `--log_samples` JSONL of a
 * multiple-choice (or loglikelihood) task.  Each line has `doc_id` (the
 * example's index in the task file) and `resps`, one entry per class holding
 * [[loglikelihood, is_greedy]] (the log-likelihood may be a string).  Lines may
 * come in any order; every example needs exactly one.  Classification and
 * sequence_prob only (lm-eval has no log-odds tasks). */
int ivs_lmeval_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                    double **values);

#endif

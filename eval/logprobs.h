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
#include <stdint.h>

#include "core/example.h"

/* values: for classification the class log-probabilities of all examples
 * concatenated (example i starts at offsets[i], offsets has N+1 entries);
 * log-odds 4 per example (prompt a, b, other c, d); sequence_prob 1.
 * *values is malloc'd (caller frees). */
int ivs_logprobs_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                      double **values);

/* The same in two steps, so that a file can be read before the task is:
 * load checks what needs no task (JSON, index order, values finite and
 * <= 0, two values per side for log-odds) and keeps every value; a problem
 * in the content is kept in `bad` (with its line) for fit, which reports,
 * in the order of the file, a class count that differs from the task's,
 * lines beyond the task's N, that problem, or too few lines.  load returns
 * non-zero only when the file cannot be read.  fit hands the values over
 * (*values, the caller frees); release frees what is left. */
typedef struct ivs_logprobs_file {
  double *values;
  size_t nvalues, cap;
  uint32_t *counts; /* per record: its number of values */
  size_t n, ncap;
  struct ivs_logprobs_jump {
    size_t record, line;
  } *jumps; /* records after skipped blank lines, with their line */
  size_t njumps, jcap;
  int bad;
  size_t bad_line;
  char bad_msg[1024];
} ivs_logprobs_file;

int ivs_logprobs_load(const char *path, ivs_task_type type, ivs_logprobs_file *lf);
int ivs_logprobs_fit(const char *path, ivs_logprobs_file *lf, ivs_task_type type, const size_t *n_classes, size_t N,
                     double **values);
void ivs_logprobs_file_release(ivs_logprobs_file *lf);

/* The `lmeval:FILE` backend: lm-evaluation-harness `--log_samples` output of
 * a multiple-choice (or loglikelihood) task: JSON Lines (0.4.3 and later), or
 * one pretty-printed JSON array of the samples (0.4.0 to 0.4.2; a file whose
 * first non-blank byte is '[', read whole, at most 2 GiB; one cut short is
 * an error saying so).  A generation task's samples (generated text in
 * resps) are refused, named as such.  Each line has `doc_id` (the
 * example's index in the task file) and `resps`, one entry per class holding
 * [[loglikelihood, is_greedy]] (the log-likelihood may be a string).  Lines may
 * come in any order; every example needs exactly one.  Classification and
 * sequence_prob only (lm-eval has no log-odds tasks). */
int ivs_lmeval_read(const char *path, ivs_task_type type, const size_t *n_classes, size_t N, const size_t *offsets,
                    double **values);

#endif

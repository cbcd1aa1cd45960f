/* Per-model mean, SEM, accuracy and coverage; the baseline; the undefined
 * trend. */
#include "eval/aggregate.h"

#include <math.h>
#include <stdio.h>

void ivs_eval_aggregate(const ivs_score *s, size_t n, ivs_task_type type, int acc, ivs_eval_model_result *out) {
  double sum = 0, sq = 0, correct = 0, cov = 0;
  for (size_t i = 0; i < n; i++) {
    double v = acc ? s[i].correct : s[i].loss;
    sum += v, sq += v * v;
    correct += s[i].correct;
    cov += exp(s[i].total_logprob);
  }
  double N = (double)n;
  out->mean = sum / N;
  out->sem = isfinite(out->mean) ? sqrt(fmax(sq / N - out->mean * out->mean, 0)) / sqrt(N) : NAN;
  out->accuracy = type == IVS_TYPE_SEQUENCE_PROB ? NAN : correct / N;
  out->coverage = type == IVS_TYPE_CLASSIFICATION ? cov / N : NAN;
}

double ivs_eval_baseline(const size_t *n_classes, size_t n, ivs_task_type type, int acc) {
  if (type != IVS_TYPE_CLASSIFICATION) return NAN;
  double b = 0;
  for (size_t i = 0; i < n; i++) b += acc ? 1.0 / (double)n_classes[i] : log((double)n_classes[i]);
  return b / (double)n;
}

int ivs_eval_why_undefined(const ivs_eval_model_result *m, const ivs_score *const *scores, size_t M, size_t n,
                           const char *metric, int invert, char *why, size_t cap) {
  if (cap) why[0] = '\0';
  for (size_t k = 0; k < M; k++) {
    if (isfinite(m[k].mean)) continue;
    size_t count = 0, first = 0;
    for (size_t i = n; i-- > 0;)
      if (!isfinite(scores[k][i].loss)) count++, first = i;
    snprintf(why, cap, "the mean %s of model '%s' is infinite: %zu of %zu examples have an infinite loss (the first: "
             "example %zu%s)", metric, m[k].name, count, n, first,
             invert ? "; --invert scores an answer of probability 1 as -log(0)" : "");
    return 1;
  }
  return 0;
}

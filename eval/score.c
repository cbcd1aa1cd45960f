#include "eval/score.h"

#include <math.h>

double ivs_logsumexp(const double *x, size_t n) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (x[i] > m) m = x[i];
  if (m == -INFINITY) return -INFINITY;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}

static unsigned argmax(const double *x, size_t n) {
  unsigned b = 0;
  for (unsigned i = 1; i < n; i++)
    if (x[i] > x[b]) b = i; /* strict: the first index wins a tie */
  return b;
}

void ivs_score_classification(const double *lp, size_t n, size_t answer, int invert, ivs_score *out) {
  double z = ivs_logsumexp(lp, n);
  out->total_logprob = z;
  out->predicted = argmax(lp, n);
  out->correct = out->predicted == answer;
  out->loss = z - lp[answer];
  if (invert) {
    out->loss = -log1p(-exp(-out->loss)); /* -log(1 - p(answer)) */
    out->correct = !out->correct;
  }
}

void ivs_score_sequence(double completion_logprob, ivs_score *out) {
  out->loss = -completion_logprob;
  out->correct = -1;
  out->predicted = 0;
  out->total_logprob = NAN;
}

void ivs_score_logodds(const double prompt_lp[2], const double other_lp[2], size_t answer, int absolute,
                       ivs_score *out) {
  double d = (prompt_lp[0] - prompt_lp[1]) - (other_lp[0] - other_lp[1]);
  if (answer == 1) d = -d;
  out->loss = absolute ? fabs(d) : d;
  out->predicted = argmax(other_lp, 2);
  out->correct = out->predicted == answer;
  out->total_logprob = ivs_logsumexp(other_lp, 2);
}

void ivs_score_task(ivs_task_type type, const double *values, const size_t *offsets, const size_t *n_classes,
                    const size_t *answer, size_t n, int invert, ivs_score *out) {
  for (size_t i = 0; i < n; i++) {
    if (type == IVS_TYPE_CLASSIFICATION) ivs_score_classification(values + offsets[i], n_classes[i], answer[i], invert, &out[i]);
    else if (ivs_type_is_logodds(type))
      ivs_score_logodds(values + 4 * i, values + 4 * i + 2, answer[i], type == IVS_TYPE_ABSOLUTE_LOGODDS, &out[i]);
    else ivs_score_sequence(values[i], &out[i]);
  }
}

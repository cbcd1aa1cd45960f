/* The share of rising examples and the steepest rises and falls. */
#include "eval/examples.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Keeps idx[0..*n) (at most top) the examples of largest sign * slope, in
 * order; one pass over the slopes, an insertion only when an example beats
 * the last kept (few after the first thousands). */
static void keep_top(const double *slope, size_t N, double sign, size_t top, size_t *idx, size_t *n) {
  *n = 0;
  for (size_t i = 0; i < N; i++) {
    double v = sign * slope[i];
    if (!(v > 0) || !isfinite(v)) continue;
    if (*n == top && !(v > sign * slope[idx[*n - 1]])) continue; /* ties: the earlier example stays */
    size_t k = *n < top ? (*n)++ : *n - 1;
    while (k > 0 && v > sign * slope[idx[k - 1]]) idx[k] = idx[k - 1], k--;
    idx[k] = i;
  }
}

static int copy_list(const double *slope, const ivs_eval_task *t, const size_t *idx, size_t n,
                     ivs_eval_example **list, size_t *count) {
  if (!n) return 0;
  if (!(*list = calloc(n, sizeof **list))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++) {
    ivs_eval_example *e = &(*list)[k];
    e->index = idx[k], e->slope = slope[idx[k]];
    if (!(e->prompt = strdup(ivs_eval_task_text(t, idx[k], 0)))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    *count = k + 1;
  }
  return 0;
}

int ivs_eval_examples_pick(const double *slope, const ivs_eval_task *t, size_t top, ivs_eval_result *out) {
  size_t N = t->n, finite = 0, rising = 0;
  for (size_t i = 0; i < N; i++)
    if (isfinite(slope[i])) finite++, rising += slope[i] > 0;
  out->share_rising = finite ? (double)rising / (double)finite : NAN;
  if (top > IVS_EVAL_MAX_TOP) top = IVS_EVAL_MAX_TOP;
  if (!top) return 0;
  size_t *idx = malloc(top * sizeof *idx), n;
  if (!idx) return ivs_error_set(IVS_ENOMEM, "out of memory");
  keep_top(slope, N, 1, top, idx, &n);
  int rc = copy_list(slope, t, idx, n, &out->rising, &out->n_rising);
  if (!rc) keep_top(slope, N, -1, top, idx, &n), rc = copy_list(slope, t, idx, n, &out->falling, &out->n_falling);
  free(idx);
  return rc;
}

void ivs_eval_examples_release(ivs_eval_result *r) {
  for (size_t k = 0; k < r->n_rising; k++) free(r->rising[k].prompt);
  for (size_t k = 0; k < r->n_falling; k++) free(r->falling[k].prompt);
  free(r->rising), free(r->falling);
  r->rising = r->falling = NULL;
  r->n_rising = r->n_falling = 0;
}

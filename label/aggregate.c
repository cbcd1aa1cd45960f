#include "label/aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* In agreement.c: the judgments as flat index arrays grouped by item. */
int ivs_ratings_flat(const ivs_ratings *r, size_t *n, const uint32_t **item, const uint32_t **annotator,
                     const uint32_t **label, const size_t **start);

static void m_step(const ivs_ratings *r, const size_t *start, const uint32_t *ann, const uint32_t *lab,
                   const ivs_ds_opts *o, ivs_ds_result *res) {
  size_t I = res->items, L = res->labels, A = res->annotators;
  for (size_t j = 0; j < L; j++) {
    double s = 0;
    for (size_t i = 0; i < I; i++) s += res->posterior[i * L + j];
    res->prior[j] = s / (double)I;
  }
  memset(res->err, 0, A * L * L * sizeof *res->err);
  for (size_t i = 0; i < I; i++)
    for (size_t k = start[i]; k < start[i + 1]; k++)
      for (size_t t = 0; t < L; t++) res->err[(ann[k] * L + lab[k]) * L + t] += res->posterior[i * L + t];
  for (size_t a = 0; a < A; a++)
    for (size_t t = 0; t < L; t++) {
      double s = 0;
      for (size_t ob = 0; ob < L; ob++) {
        double *e = &res->err[(a * L + ob) * L + t];
        if (o->clip > 0 && *e < o->clip) *e = o->clip;
        s += *e;
      }
      for (size_t ob = 0; ob < L; ob++) res->err[(a * L + ob) * L + t] = s > 0 ? res->err[(a * L + ob) * L + t] / s : 1.0 / (double)L;
    }
  (void)r;
}

/* Gold items keep their known label with certainty. */
static void clamp(const ivs_ds_opts *o, ivs_ds_result *res) {
  if (!o->clamp) return;
  for (size_t i = 0; i < res->items; i++)
    if (o->clamp[i] >= 0 && (size_t)o->clamp[i] < res->labels)
      for (size_t t = 0; t < res->labels; t++) res->posterior[i * res->labels + t] = t == (size_t)o->clamp[i];
}

/* Posteriors from priors and confusion matrices; returns the log-likelihood.
 * lerr: scratch of annotators x labels x labels for the logarithms, taken
 * once per step rather than once per judgment. */
static double e_step(const size_t *start, const uint32_t *ann, const uint32_t *lab, ivs_ds_result *res, double *logp,
                     double *lerr) {
  size_t I = res->items, L = res->labels;
  for (size_t k = 0; k < res->annotators * L * L; k++) lerr[k] = log(res->err[k]);
  double ll = 0;
  for (size_t i = 0; i < I; i++) {
    double mx = -INFINITY;
    for (size_t t = 0; t < L; t++) logp[t] = log(res->prior[t]);
    for (size_t k = start[i]; k < start[i + 1]; k++) {
      const double *row = &lerr[(ann[k] * L + lab[k]) * L];
      for (size_t t = 0; t < L; t++) logp[t] += row[t];
    }
    for (size_t t = 0; t < L; t++)
      if (logp[t] > mx) mx = logp[t];
    double z = 0;
    for (size_t t = 0; t < L; t++) z += mx > -INFINITY ? exp(logp[t] - mx) : 0;
    for (size_t t = 0; t < L; t++) res->posterior[i * L + t] = mx > -INFINITY ? exp(logp[t] - mx) / z : 1.0 / (double)L;
    ll += mx + log(z);
  }
  return ll;
}

int ivs_dawid_skene(const ivs_ratings *r, const ivs_ds_opts *o, ivs_ds_result *res) {
  memset(res, 0, sizeof *res);
  size_t n;
  const uint32_t *item, *ann, *lab;
  const size_t *start;
  int rc = ivs_ratings_flat(r, &n, &item, &ann, &lab, &start);
  if (rc) return rc;
  (void)item;
  size_t I = ivs_ratings_items(r), L = ivs_ratings_labels(r), A = ivs_ratings_annotators(r);
  if (!I || !L) return ivs_error_set(IVS_EINVAL, "Dawid-Skene: no judgments");
  res->items = I, res->labels = L, res->annotators = A;
  res->posterior = calloc(I * L, sizeof *res->posterior);
  res->prior = calloc(L, sizeof *res->prior);
  res->err = calloc(A * L * L, sizeof *res->err);
  res->map = calloc(I, sizeof *res->map);
  double *old = malloc((L + A * L * L) * sizeof *old), *logp = malloc(L * sizeof *logp);
  double *lerr = malloc((A * L * L + 1) * sizeof *lerr);
  if (!res->posterior || !res->prior || !res->err || !res->map || !old || !logp || !lerr) {
    free(old), free(logp), free(lerr);
    ivs_ds_result_release(res);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  /* start: label shares per item */
  for (size_t i = 0; i < I; i++) {
    size_t m = start[i + 1] - start[i];
    for (size_t k = start[i]; k < start[i + 1]; k++) res->posterior[i * L + lab[k]] += 1.0 / (double)m;
    if (!m)
      for (size_t t = 0; t < L; t++) res->posterior[i * L + t] = 1.0 / (double)L;
  }
  clamp(o, res);
  m_step(r, start, ann, lab, o, res);
  for (size_t it = 0; it < o->max_iter; it++) {
    memcpy(old, res->prior, L * sizeof *old);
    memcpy(old + L, res->err, A * L * L * sizeof *old);
    e_step(start, ann, lab, res, logp, lerr);
    clamp(o, res);
    m_step(r, start, ann, lab, o, res);
    res->iterations = it + 1;
    double change = 0;
    for (size_t k = 0; k < L; k++) change += fabs(res->prior[k] - old[k]);
    for (size_t k = 0; k < A * L * L; k++) change += fabs(res->err[k] - old[L + k]);
    if (change < o->tol) break;
  }
  /* log-likelihood of the final parameters (posteriors left as they are) */
  double *keep = malloc(I * L * sizeof *keep);
  if (keep) {
    memcpy(keep, res->posterior, I * L * sizeof *keep);
    res->log_likelihood = e_step(start, ann, lab, res, logp, lerr);
    memcpy(res->posterior, keep, I * L * sizeof *keep);
    free(keep);
  }
  for (size_t i = 0; i < I; i++) {
    size_t best = 0;
    for (size_t t = 1; t < L; t++)
      if (res->posterior[i * L + t] > res->posterior[i * L + best]) best = t;
    res->map[i] = best;
  }
  free(old);
  free(logp);
  free(lerr);
  return 0;
}

void ivs_ds_result_release(ivs_ds_result *res) {
  free(res->posterior);
  free(res->prior);
  free(res->err);
  free(res->map);
  memset(res, 0, sizeof *res);
}

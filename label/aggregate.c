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

double ivs_ds_accuracy(const ivs_ds_result *res, size_t a) {
  size_t L = res->labels;
  double acc = 0;
  for (size_t t = 0; t < L; t++) acc += res->prior[t] * res->err[(a * L + t) * L + t];
  return acc;
}

/* ---- aggregation: one final label per item ---- */

static const char *const method_names[] = {"majority", "dawid-skene"};

int ivs_agg_method_parse(const char *name, ivs_agg_method *out) {
  for (int m = 0; m < 2; m++)
    if (!strcmp(name, method_names[m])) {
      *out = (ivs_agg_method)m;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE, "unknown aggregation method '%s' (majority, dawid-skene)", name);
}

const char *ivs_agg_method_name(ivs_agg_method m) { return method_names[m == IVS_AGG_DAWID_SKENE]; }

int ivs_aggregate(const ivs_ratings *r, const long *clamp, const ivs_aggregate_opts *o, ivs_aggregation *out) {
  static const ivs_aggregate_opts defaults = IVS_AGGREGATE_OPTS_INIT;
  if (!o) o = &defaults;
  memset(out, 0, sizeof *out);
  size_t I = ivs_ratings_items(r), L = ivs_ratings_labels(r);
  out->items = I;
  out->labels = malloc((I ? I : 1) * sizeof *out->labels);
  out->confidence = malloc((I ? I : 1) * sizeof *out->confidence);
  int rc = 0;
  if (!out->labels || !out->confidence) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  } else if (o->method == IVS_AGG_DAWID_SKENE) {
    ivs_ds_opts dso = {o->max_iter, o->tol, o->clip, clamp};
    ivs_ds_result res;
    if (!(rc = ivs_dawid_skene(r, &dso, &res))) {
      /* the final label: the most probable one, with its posterior */
      for (size_t i = 0; i < I; i++)
        out->labels[i] = res.map[i], out->confidence[i] = res.posterior[i * L + res.map[i]];
      out->iterations = res.iterations;
      out->log_likelihood = res.log_likelihood;
      ivs_ds_result_release(&res);
    }
  } else {
    rc = ivs_majority_vote(r, out->labels, out->confidence);
  }
  if (rc) ivs_aggregation_release(out);
  return rc;
}

void ivs_aggregation_release(ivs_aggregation *a) {
  free(a->labels);
  free(a->confidence);
  memset(a, 0, sizeof *a);
}

int ivs_aggregate_store(ivs_store *st, const char *batch, const ivs_aggregate_opts *o, ivs_ratings **r,
                        ivs_aggregation *out, size_t *written) {
  static const ivs_aggregate_opts defaults = IVS_AGGREGATE_OPTS_INIT;
  if (!o) o = &defaults;
  memset(out, 0, sizeof *out);
  *written = 0;
  int ds = o->method == IVS_AGG_DAWID_SKENE;
  long *gold = NULL;
  int rc = ivs_ratings_new(r);
  if (!rc) rc = ivs_ratings_from_store(st, batch, ds, *r); /* Dawid-Skene counts repeated judgments */
  if (!rc && ds) { /* gold items of the store's batches are held at their known answer */
    size_t I = ivs_ratings_items(*r);
    if (!(gold = malloc((I ? I : 1) * sizeof *gold))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    else rc = ivs_gold_clamp(st, *r, gold);
  }
  if (!rc) rc = ivs_aggregate(*r, gold, o, out);
  free(gold);
  if (!rc) rc = ivs_final_labels_set(st, *r, out->labels, out->confidence, ivs_agg_method_name(o->method), written);
  if (rc) {
    ivs_aggregation_release(out);
    ivs_ratings_free(*r);
    *r = NULL;
  }
  return rc;
}

#include "label/agreement.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"

/* ---- interned names ---- */

typedef struct {
  char **names;
  size_t n, cap;
  size_t *slots; /* open addressing: index + 1, 0 empty */
  size_t nslots;
} names;

static uint64_t hash_s(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

static void names_free(names *t) {
  for (size_t i = 0; i < t->n; i++) free(t->names[i]);
  free(t->names);
  free(t->slots);
}

/* Index of s, added when new; (size_t)-1 on OOM. */
static size_t names_get(names *t, const char *s) {
  if ((t->n + 1) * 2 > t->nslots) {
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    size_t *sl = calloc(ns, sizeof *sl);
    if (!sl) return (size_t)-1;
    for (size_t i = 0; i < t->n; i++) {
      size_t j = hash_s(t->names[i]) & (ns - 1);
      while (sl[j]) j = (j + 1) & (ns - 1);
      sl[j] = i + 1;
    }
    free(t->slots);
    t->slots = sl;
    t->nslots = ns;
  }
  size_t j = hash_s(s) & (t->nslots - 1);
  while (t->slots[j]) {
    if (!strcmp(t->names[t->slots[j] - 1], s)) return t->slots[j] - 1;
    j = (j + 1) & (t->nslots - 1);
  }
  if (t->n == t->cap && ivs_grow((void **)&t->names, &t->cap, t->n + 1, sizeof *t->names, 64)) return (size_t)-1;
  if (!(t->names[t->n] = strdup(s))) return (size_t)-1;
  t->slots[j] = ++t->n;
  return t->n - 1;
}

/* ---- ratings ---- */

typedef struct {
  uint32_t item, annotator, label;
  uint32_t seq;
} judgment;

struct ivs_ratings {
  names items, annotators, labels;
  judgment *j;
  size_t n, cap;
  size_t *start; /* per item: first judgment (after finish); start[n_items] = n */
  int finished;
  int keep_repeats;
  uint32_t *fi, *fa, *fl; /* flat copies for aggregation (built on demand) */
  /* the order of text labels for ordinal alpha (ivs_ratings_set_order) */
  char **order;
  size_t order_n;
  int order_weak; /* 1: used only when the labels are not all numbers */
};

int ivs_ratings_new(ivs_ratings **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

void ivs_ratings_free(ivs_ratings *r) {
  if (!r) return;
  names_free(&r->items);
  names_free(&r->annotators);
  names_free(&r->labels);
  free(r->j);
  free(r->start);
  free(r->fi), free(r->fa), free(r->fl);
  for (size_t k = 0; k < r->order_n; k++) free(r->order[k]);
  free(r->order);
  free(r);
}

int ivs_ratings_add(ivs_ratings *r, const char *item, const char *annotator, const char *label) {
  if (r->finished) return ivs_error_set(IVS_EUSAGE, "ratings already finished");
  if (r->n == UINT32_MAX) return ivs_error_set(IVS_ELIMIT, "too many judgments");
  if (r->n == r->cap && ivs_grow((void **)&r->j, &r->cap, r->n + 1, sizeof *r->j, 1024)) return IVS_ENOMEM;
  size_t i = names_get(&r->items, item), a = names_get(&r->annotators, annotator), l = names_get(&r->labels, label);
  if (i == (size_t)-1 || a == (size_t)-1 || l == (size_t)-1) return ivs_error_set(IVS_ENOMEM, "out of memory");
  r->j[r->n] = (judgment){(uint32_t)i, (uint32_t)a, (uint32_t)l, (uint32_t)r->n};
  r->n++;
  return 0;
}

static const names *sort_ctx;
static int cmp_name_idx(const void *x, const void *y) {
  return strcmp(sort_ctx->names[*(const size_t *)x], sort_ctx->names[*(const size_t *)y]);
}
static int cmp_judgment(const void *x, const void *y) {
  const judgment *a = x, *b = y;
  if (a->item != b->item) return a->item < b->item ? -1 : 1;
  if (a->annotator != b->annotator) return a->annotator < b->annotator ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int ivs_ratings_finish(ivs_ratings *r) {
  if (r->finished) return 0;
  /* labels in sorted order, so that ties and orders are reproducible */
  size_t nl = r->labels.n;
  size_t *order = malloc((nl ? nl : 1) * sizeof *order), *rank = malloc((nl ? nl : 1) * sizeof *rank);
  char **sorted = malloc((nl ? nl : 1) * sizeof *sorted);
  if (!order || !rank || !sorted) {
    free(order), free(rank), free(sorted);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < nl; i++) order[i] = i;
  sort_ctx = &r->labels;
  qsort(order, nl, sizeof *order, cmp_name_idx);
  for (size_t i = 0; i < nl; i++) rank[order[i]] = i, sorted[i] = r->labels.names[order[i]];
  if (nl) memcpy(r->labels.names, sorted, nl * sizeof *sorted); /* no labels: names is NULL */
  free(r->labels.slots); /* the lookup table is stale now; nothing is added after finish */
  r->labels.slots = NULL;
  r->labels.nslots = 0;
  for (size_t k = 0; k < r->n; k++) r->j[k].label = (uint32_t)rank[r->j[k].label];
  free(order), free(rank), free(sorted);
  /* the latest judgment of an annotator on an item counts */
  if (r->n) qsort(r->j, r->n, sizeof *r->j, cmp_judgment);
  size_t w = 0;
  for (size_t k = 0; k < r->n; k++) {
    if (w && !r->keep_repeats && r->j[w - 1].item == r->j[k].item && r->j[w - 1].annotator == r->j[k].annotator) w--;
    r->j[w++] = r->j[k];
  }
  r->n = w;
  r->start = calloc(r->items.n + 1, sizeof *r->start);
  if (!r->start) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t k = 0; k < r->n; k++) r->start[r->j[k].item + 1]++;
  for (size_t i = 0; i < r->items.n; i++) r->start[i + 1] += r->start[i];
  r->finished = 1;
  return 0;
}

void ivs_ratings_keep_repeats(ivs_ratings *r) { r->keep_repeats = 1; }

/* Flat arrays of the judgments grouped by item, for aggregate.c. */
int ivs_ratings_flat(const ivs_ratings *r, size_t *n, const uint32_t **item, const uint32_t **annotator,
                     const uint32_t **label, const size_t **start) {
  ivs_ratings *m = (ivs_ratings *)r; /* the cache is not part of the value */
  if (!m->fi) {
    m->fi = malloc((r->n ? r->n : 1) * sizeof *m->fi);
    m->fa = malloc((r->n ? r->n : 1) * sizeof *m->fa);
    m->fl = malloc((r->n ? r->n : 1) * sizeof *m->fl);
    if (!m->fi || !m->fa || !m->fl) return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t k = 0; k < r->n; k++) m->fi[k] = r->j[k].item, m->fa[k] = r->j[k].annotator, m->fl[k] = r->j[k].label;
  }
  *n = r->n;
  *item = m->fi;
  *annotator = m->fa;
  *label = m->fl;
  *start = r->start;
  return 0;
}

size_t ivs_ratings_items(const ivs_ratings *r) { return r->items.n; }

long ivs_ratings_item_index(const ivs_ratings *r, const char *name) {
  if (!r->items.nslots) return -1;
  size_t j = hash_s(name) & (r->items.nslots - 1);
  while (r->items.slots[j]) {
    if (!strcmp(r->items.names[r->items.slots[j] - 1], name)) return (long)(r->items.slots[j] - 1);
    j = (j + 1) & (r->items.nslots - 1);
  }
  return -1;
}
size_t ivs_ratings_annotators(const ivs_ratings *r) { return r->annotators.n; }
size_t ivs_ratings_labels(const ivs_ratings *r) { return r->labels.n; }
size_t ivs_ratings_judgments(const ivs_ratings *r) { return r->n; }
const char *ivs_ratings_item_name(const ivs_ratings *r, size_t i) { return r->items.names[i]; }
const char *ivs_ratings_annotator_name(const ivs_ratings *r, size_t a) { return r->annotators.names[a]; }
const char *ivs_ratings_label_name(const ivs_ratings *r, size_t l) { return r->labels.names[l]; }

int ivs_level_parse(const char *name, ivs_level *out) {
  static const char *const n[] = {"nominal", "ordinal", "interval", "ratio"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, n[i])) {
      *out = (ivs_level)i;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE, "unknown level '%s' (nominal, ordinal, interval, ratio)", name);
}

/* ---- Krippendorff's alpha ---- */

/* Coincidence matrix o (V x V) over the items selected by `weight` (NULL:
 * every item once; else item i counts weight[i] times, for the bootstrap).
 * `map` folds labels (NULL: identity) into V values. */
static int coincidences(const ivs_ratings *r, const size_t *weight, const size_t *map, size_t V, double *o) {
  double *cnt = calloc(V, sizeof *cnt);
  if (!cnt) return ivs_error_set(IVS_ENOMEM, "out of memory");
  memset(o, 0, V * V * sizeof *o);
  for (size_t i = 0; i < r->items.n; i++) {
    size_t w = weight ? weight[i] : 1, m = r->start[i + 1] - r->start[i];
    if (!w || m < 2) continue;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) cnt[map ? map[r->j[k].label] : r->j[k].label] += 1;
    for (size_t c = 0; c < V; c++) {
      if (cnt[c] == 0) continue;
      for (size_t d = 0; d < V; d++)
        if (cnt[d] != 0) o[c * V + d] += (double)w * cnt[c] * (cnt[d] - (c == d)) / (double)(m - 1);
    }
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) cnt[map ? map[r->j[k].label] : r->j[k].label] = 0;
  }
  free(cnt);
  return 0;
}

/* alpha from a coincidence matrix and a delta matrix (squared distances). */
static int alpha_from(const double *o, const double *delta, size_t V, double *alpha) {
  double n = 0, Do = 0, De = 0;
  double *nc = calloc(V ? V : 1, sizeof *nc);
  if (!nc) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t c = 0; c < V; c++)
    for (size_t d = 0; d < V; d++) nc[c] += o[c * V + d];
  for (size_t c = 0; c < V; c++) n += nc[c];
  int rc = 0;
  if (n == 0) {
    rc = ivs_error_set(IVS_EINVAL, "alpha is undefined: no item has judgments from two annotators");
  } else {
    for (size_t c = 0; c < V; c++)
      for (size_t d = 0; d < V; d++) {
        Do += o[c * V + d] * delta[c * V + d];
        De += nc[c] * nc[d] * delta[c * V + d];
      }
    De /= n - 1;
    if (De == 0) rc = ivs_error_set(IVS_EINVAL, "alpha is undefined: the pairable judgments hold a single value");
    else *alpha = 1.0 - Do / De;
  }
  free(nc);
  return rc;
}

int ivs_ratings_set_order(ivs_ratings *r, const char *const *labels, size_t n, int weak) {
  char **o = n ? calloc(n, sizeof *o) : NULL;
  if (n && !o) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t k = 0; k < n; k++)
    if (!(o[k] = strdup(labels[k]))) {
      for (size_t q = 0; q < k; q++) free(o[q]);
      free(o);
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    }
  for (size_t k = 0; k < r->order_n; k++) free(r->order[k]);
  free(r->order);
  r->order = o, r->order_n = n, r->order_weak = weak;
  return 0;
}

/* Ranks of the labels in the given order; IVS_EINVAL naming a label the
 * order misses. */
static int ordered_labels(const ivs_ratings *r, double *val) {
  for (size_t l = 0; l < r->labels.n; l++) {
    size_t k = 0;
    while (k < r->order_n && strcmp(r->order[k], r->labels.names[l])) k++;
    if (k == r->order_n) {
      char list[300] = "";
      size_t o = 0;
      for (size_t q = 0; q < r->order_n && o + 1 < sizeof list; q++) {
        int w = snprintf(list + o, sizeof list - o, "%s%s", q ? ", " : "", r->order[q]);
        if (w < 0) break;
        o += (size_t)w;
      }
      return ivs_error_set(IVS_EINVAL, "label '%s' is not in the order of the labels (%s)", r->labels.names[l], list);
    }
    val[l] = (double)k;
  }
  return 0;
}

static int all_numeric(const ivs_ratings *r) {
  for (size_t l = 0; l < r->labels.n; l++) {
    char *end;
    double v = strtod(r->labels.names[l], &end);
    if (end == r->labels.names[l] || *end || !isfinite(v)) return 0;
  }
  return 1;
}

/* Numeric values of the labels, sorted ascending (for ordinal/interval/ratio). */
static int numeric_labels(const ivs_ratings *r, double *val) {
  for (size_t l = 0; l < r->labels.n; l++) {
    char *end;
    val[l] = strtod(r->labels.names[l], &end);
    if (end == r->labels.names[l] || *end || !isfinite(val[l]))
      return ivs_error_set(IVS_EINVAL, "label '%s' is not a number (interval and ratio need numbers; ordinal needs numbers or an order of the labels, e.g. --order)",
                           r->labels.names[l]);
  }
  return 0;
}

static int delta_matrix(const ivs_ratings *r, ivs_level level, const double *o, double *delta) {
  size_t V = r->labels.n;
  if (level == IVS_LEVEL_NOMINAL) {
    for (size_t c = 0; c < V; c++)
      for (size_t d = 0; d < V; d++) delta[c * V + d] = c != d;
    return 0;
  }
  double *val = malloc(V * sizeof *val);
  size_t *ord = malloc(V * sizeof *ord);
  double *nc = calloc(V, sizeof *nc);
  int by_order = level == IVS_LEVEL_ORDINAL && r->order && (!r->order_weak || !all_numeric(r));
  int rc = (!val || !ord || !nc) ? ivs_error_set(IVS_ENOMEM, "out of memory")
           : by_order              ? ordered_labels(r, val)
                                   : numeric_labels(r, val);
  if (!rc && level == IVS_LEVEL_ORDINAL) {
    /* ranks by numeric value; n_g: marginals of the coincidence matrix */
    for (size_t c = 0; c < V; c++) {
      ord[c] = c;
      for (size_t d = 0; d < V; d++) nc[c] += o[c * V + d];
    }
    for (size_t a = 1; a < V; a++) /* insertion sort of label indices by value */
      for (size_t b = a; b > 0 && val[ord[b]] < val[ord[b - 1]]; b--) {
        size_t t = ord[b];
        ord[b] = ord[b - 1];
        ord[b - 1] = t;
      }
    for (size_t x = 0; x < V; x++)
      for (size_t y = 0; y < V; y++) {
        size_t lo = x < y ? x : y, hi = x < y ? y : x;
        double s = 0;
        for (size_t g = lo; g <= hi; g++) s += nc[ord[g]];
        s -= (nc[ord[x]] + nc[ord[y]]) / 2;
        delta[ord[x] * V + ord[y]] = s * s;
      }
  } else if (!rc) {
    for (size_t c = 0; c < V; c++)
      for (size_t d = 0; d < V; d++) {
        double a = val[c], b = val[d], x = a - b;
        if (level == IVS_LEVEL_INTERVAL) delta[c * V + d] = x * x;
        else delta[c * V + d] = (a + b == 0) ? 0 : (x / (a + b)) * (x / (a + b));
      }
  }
  free(val);
  free(ord);
  free(nc);
  return rc;
}

static int alpha_weighted(const ivs_ratings *r, ivs_level level, const size_t *weight, double *alpha) {
  size_t V = r->labels.n;
  if (V == 0) return ivs_error_set(IVS_EINVAL, "alpha is undefined: no judgments");
  double *o = malloc(V * V * sizeof *o), *delta = malloc(V * V * sizeof *delta);
  int rc = (!o || !delta) ? ivs_error_set(IVS_ENOMEM, "out of memory") : coincidences(r, weight, NULL, V, o);
  if (!rc) rc = delta_matrix(r, level, o, delta);
  if (!rc) rc = alpha_from(o, delta, V, alpha);
  free(o);
  free(delta);
  return rc;
}

int ivs_alpha(const ivs_ratings *r, ivs_level level, double *alpha) { return alpha_weighted(r, level, NULL, alpha); }

int ivs_alpha_custom(const ivs_ratings *r, ivs_delta_fn fn, void *ud, double *alpha) {
  size_t V = r->labels.n;
  if (V == 0) return ivs_error_set(IVS_EINVAL, "alpha is undefined: no judgments");
  double *o = malloc(V * V * sizeof *o), *delta = malloc(V * V * sizeof *delta);
  int rc = (!o || !delta) ? ivs_error_set(IVS_ENOMEM, "out of memory") : coincidences(r, NULL, NULL, V, o);
  for (size_t c = 0; !rc && c < V; c++)
    for (size_t d = 0; d < V; d++) delta[c * V + d] = fn(r->labels.names[c], r->labels.names[d], ud);
  if (!rc) rc = alpha_from(o, delta, V, alpha);
  free(o);
  free(delta);
  return rc;
}

int ivs_alpha_label(const ivs_ratings *r, size_t label, double *alpha) {
  size_t V = r->labels.n;
  size_t *map = malloc((V ? V : 1) * sizeof *map);
  if (!map) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t l = 0; l < V; l++) map[l] = l == label;
  double o[4], delta[4] = {0, 1, 1, 0};
  int rc = coincidences(r, NULL, map, 2, o);
  if (!rc) rc = alpha_from(o, delta, 2, alpha);
  free(map);
  return rc;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int ivs_alpha_bootstrap(const ivs_ratings *r, ivs_level level, size_t n, uint64_t seed, double *lo, double *hi) {
  size_t N = r->items.n, ok = 0;
  size_t *w = malloc((N ? N : 1) * sizeof *w);
  double *vals = malloc((n ? n : 1) * sizeof *vals);
  if (!w || !vals) {
    free(w), free(vals);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  uint64_t s = seed;
  for (size_t b = 0; b < n; b++) {
    memset(w, 0, N * sizeof *w);
    for (size_t k = 0; k < N; k++) w[ivs_splitmix(&s) % N]++;
    double a;
    int arc = alpha_weighted(r, level, w, &a);
    if (arc == 0) vals[ok++] = a;
    else if (arc != IVS_EINVAL) { /* out of memory: no interval, rather than one of fewer resamples */
      free(w), free(vals);
      return arc;
    } /* else an undefined resample, skipped */
  }
  int rc = 0;
  if (ok < n / 2 || ok == 0) {
    rc = ivs_error_set(IVS_EINVAL, "bootstrap: alpha was undefined in %zu of %zu resamples", n - ok, n);
  } else {
    qsort(vals, ok, sizeof *vals, cmp_double);
    *lo = vals[(size_t)floor(0.025 * (double)(ok - 1))];
    *hi = vals[(size_t)ceil(0.975 * (double)(ok - 1))];
  }
  free(w);
  free(vals);
  return rc;
}

/* ---- kappas ---- */

int ivs_fleiss_kappa(const ivs_ratings *r, double *kappa) {
  size_t V = r->labels.n, m = 0, N = 0, first = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    size_t mi = r->start[i + 1] - r->start[i];
    if (!mi) continue;
    if (!m) m = mi, first = i;
    else if (mi != m)
      return ivs_error_set(IVS_EINVAL,
                           "Fleiss' kappa needs the same number of judgments on every item: '%s' has %zu, '%s' has %zu",
                           r->items.names[first], m, r->items.names[i], mi);
    N++;
  }
  if (m < 2) return ivs_error_set(IVS_EINVAL, "Fleiss' kappa is undefined: items need at least 2 judgments");
  double *p = calloc(V, sizeof *p), *cnt = calloc(V, sizeof *cnt);
  if (!p || !cnt) {
    free(p), free(cnt);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  double Pbar = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    if (r->start[i + 1] == r->start[i]) continue;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) cnt[r->j[k].label]++;
    double s = 0;
    for (size_t c = 0; c < V; c++) {
      s += cnt[c] * cnt[c];
      p[c] += cnt[c];
      cnt[c] = 0;
    }
    Pbar += (s - (double)m) / ((double)m * (double)(m - 1));
  }
  Pbar /= (double)N;
  double Pe = 0;
  for (size_t c = 0; c < V; c++) {
    double pc = p[c] / ((double)N * (double)m);
    Pe += pc * pc;
  }
  free(p), free(cnt);
  if (Pe == 1) return ivs_error_set(IVS_EINVAL, "Fleiss' kappa is undefined: every judgment has the same label");
  *kappa = (Pbar - Pe) / (1 - Pe);
  return 0;
}

/* Contingency of annotators a (rows) and b (cols) over shared items. */
static int contingency(const ivs_ratings *r, size_t a, size_t b, double *t, size_t *shared) {
  size_t V = r->labels.n;
  memset(t, 0, V * V * sizeof *t);
  *shared = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    long la = -1, lb = -1;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) {
      if (r->j[k].annotator == a) la = r->j[k].label;
      if (r->j[k].annotator == b) lb = r->j[k].label;
    }
    if (la >= 0 && lb >= 0) t[(size_t)la * V + (size_t)lb]++, (*shared)++;
  }
  if (!*shared)
    return ivs_error_set(IVS_EINVAL, "'%s' and '%s' judged no item in common", r->annotators.names[a],
                         r->annotators.names[b]);
  return 0;
}

static int pair_stat(const ivs_ratings *r, size_t a, size_t b, int scott, double *out, size_t *shared) {
  size_t V = r->labels.n;
  double *t = malloc((V ? V * V : 1) * sizeof *t);
  if (!t) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t n = 0;
  int rc = contingency(r, a, b, t, &n);
  if (!rc) {
    double po = 0, pe = 0;
    for (size_t c = 0; c < V; c++) {
      double row = 0, col = 0;
      for (size_t d = 0; d < V; d++) row += t[c * V + d], col += t[d * V + c];
      po += t[c * V + c];
      pe += scott ? ((row + col) / (2.0 * (double)n)) * ((row + col) / (2.0 * (double)n))
                  : (row / (double)n) * (col / (double)n);
    }
    po /= (double)n;
    if (pe == 1) rc = ivs_error_set(IVS_EINVAL, "%s is undefined: both annotators used one label only",
                                    scott ? "Scott's pi" : "Cohen's kappa");
    else *out = (po - pe) / (1 - pe);
  }
  if (shared) *shared = n;
  free(t);
  return rc;
}

int ivs_cohen_kappa(const ivs_ratings *r, size_t a, size_t b, double *kappa, size_t *shared) {
  return pair_stat(r, a, b, 0, kappa, shared);
}

int ivs_scott_pi(const ivs_ratings *r, size_t a, size_t b, double *pi, size_t *shared) {
  return pair_stat(r, a, b, 1, pi, shared);
}

int ivs_percent_agreement(const ivs_ratings *r, double *share) {
  double sum = 0;
  size_t units = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    size_t m = r->start[i + 1] - r->start[i], agree = 0;
    if (m < 2) continue;
    for (size_t x = r->start[i]; x < r->start[i + 1]; x++)
      for (size_t y = x + 1; y < r->start[i + 1]; y++) agree += r->j[x].label == r->j[y].label;
    sum += (double)agree / ((double)m * (double)(m - 1) / 2);
    units++;
  }
  if (!units) return ivs_error_set(IVS_EINVAL, "percent agreement is undefined: no item has two judgments");
  *share = sum / (double)units;
  return 0;
}

int ivs_annotator_agreement(const ivs_ratings *r, size_t a, double *share, size_t *pairs) {
  size_t agree = 0, total = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    long la = -1;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++)
      if (r->j[k].annotator == a) la = r->j[k].label;
    if (la < 0) continue;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++)
      if (r->j[k].annotator != a) total++, agree += r->j[k].label == (uint32_t)la;
  }
  *pairs = total;
  if (!total) return ivs_error_set(IVS_EINVAL, "'%s' shares no item with another annotator", r->annotators.names[a]);
  *share = (double)agree / (double)total;
  return 0;
}

int ivs_majority_vote(const ivs_ratings *r, size_t *labels, double *conf) {
  size_t V = r->labels.n;
  size_t *cnt = calloc(V ? V : 1, sizeof *cnt);
  if (!cnt) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < r->items.n; i++) {
    size_t m = r->start[i + 1] - r->start[i], best = 0;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) cnt[r->j[k].label]++;
    for (size_t c = 1; c < V; c++)
      if (cnt[c] > cnt[best]) best = c; /* strict: the first label in sorted order wins a tie */
    labels[i] = best;
    if (conf) conf[i] = m ? (double)cnt[best] / (double)m : 0;
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) cnt[r->j[k].label] = 0;
  }
  free(cnt);
  return 0;
}

int ivs_annotator_skills(const ivs_ratings *r, double *skills) {
  size_t I = r->items.n, A = r->annotators.n;
  size_t *mv = malloc((I ? I : 1) * sizeof *mv), *hit = calloc(A ? A : 1, sizeof *hit), *tot = calloc(A ? A : 1, sizeof *tot);
  int rc = (!mv || !hit || !tot) ? ivs_error_set(IVS_ENOMEM, "out of memory") : ivs_majority_vote(r, mv, NULL);
  for (size_t i = 0; !rc && i < I; i++)
    for (size_t k = r->start[i]; k < r->start[i + 1]; k++) tot[r->j[k].annotator]++, hit[r->j[k].annotator] += r->j[k].label == mv[i];
  for (size_t a = 0; !rc && a < A; a++) skills[a] = tot[a] ? (double)hit[a] / (double)tot[a] : 0;
  free(mv), free(hit), free(tot);
  return rc;
}

/* Per item label scores: product (consistency) or sum (uncertainty). */
static void item_scores(const ivs_ratings *r, size_t i, const double *skills, int product, double *score) {
  size_t K = r->labels.n;
  for (size_t l = 0; l < K; l++) score[l] = product ? 1 : 0;
  for (size_t k = r->start[i]; k < r->start[i + 1]; k++)
    for (size_t l = 0; l < K; l++) {
      double s = skills ? skills[r->j[k].annotator] : 1;
      double f = r->j[k].label == l ? s : (skills ? (1 - s) / (double)(K - 1) : 0);
      if (product) score[l] *= f;
      else score[l] += f;
    }
  double z = 0;
  for (size_t l = 0; l < K; l++) z += score[l];
  for (size_t l = 0; l < K; l++) score[l] = z > 0 ? score[l] / z : 1.0 / (double)K;
}

int ivs_consistency(const ivs_ratings *r, double *out) {
  size_t I = r->items.n, K = r->labels.n;
  if (K < 2 || !I) return ivs_error_set(IVS_EINVAL, "consistency is undefined: fewer than two labels");
  double *skills = malloc((r->annotators.n ? r->annotators.n : 1) * sizeof *skills), *score = malloc(K * sizeof *score);
  size_t *mv = malloc(I * sizeof *mv);
  int rc = (!skills || !score || !mv) ? ivs_error_set(IVS_ENOMEM, "out of memory") : ivs_annotator_skills(r, skills);
  if (!rc) rc = ivs_majority_vote(r, mv, NULL);
  double sum = 0;
  for (size_t i = 0; !rc && i < I; i++) {
    item_scores(r, i, skills, 1, score);
    sum += score[mv[i]];
  }
  if (!rc) *out = sum / (double)I;
  free(skills), free(score), free(mv);
  return rc;
}

int ivs_uncertainty(const ivs_ratings *r, const double *skills, double *out) {
  size_t I = r->items.n, K = r->labels.n;
  if (!I || !K) return ivs_error_set(IVS_EINVAL, "uncertainty is undefined: no judgments");
  double *score = malloc(K * sizeof *score), sum = 0;
  if (!score) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < I; i++) {
    item_scores(r, i, skills, 0, score);
    for (size_t l = 0; l < K; l++)
      if (score[l] > 0) sum -= score[l] * log(score[l]);
  }
  free(score);
  *out = sum / (double)I;
  return 0;
}

/* Scoring many sequences: common prefixes once, masked batches, packed
 * forwards, a kept prefix, the head only where needed (engine/batch.h). */
#include "engine/batch.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/model_impl.h"

enum { MIN_KEPT = 32, HEAD_BLOCK = 64, DEFAULT_PACK = 512 };

typedef struct {
  size_t r0, r1; /* its requests */
  size_t p;      /* their longest common prefix */
  size_t pp;     /* the prefix rows that need running: min(p, longest - 1) */
  size_t cmin;   /* the smallest n_ctx */
  size_t rows;   /* rows it needs with nothing kept */
} group;

typedef struct {
  uint32_t row; /* the batch row whose state predicts the token */
  int32_t target;
  size_t req;
  double lp;
} entry;

static size_t lcp(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
  size_t k = 0;
  while (k < na && k < nb && a[k] == b[k]) k++;
  return k;
}

static size_t min2(size_t a, size_t b) { return a < b ? a : b; }

static int check_reqs(const ivs_model *m, const ivs_lm_req *reqs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const ivs_lm_req *r = &reqs[i];
    if (r->n_ctx == 0 || r->n_ctx >= r->n)
      return ivs_error_set(IVS_EINVAL, "request %zu: n_ctx %zu must be at least 1 and below the length %zu", i, r->n_ctx,
                           r->n);
    if (r->n > m->T + 1) /* the last token is only predicted */
      return ivs_error_set(IVS_EINVAL, "request %zu: %zu tokens: the model's context is %zu (and the last token)", i, r->n,
                           m->T);
    for (size_t k = 0; k < r->n; k++)
      if (r->ids[k] < 0 || (size_t)r->ids[k] >= m->V)
        return ivs_error_set(IVS_EINVAL, "request %zu: token %zu: id %d is outside the vocabulary (0 to %zu)", i, k,
                             r->ids[k], m->V - 1);
  }
  return 0;
}

static int make_groups(const ivs_lm_req *reqs, size_t n, group **out, size_t *ng, size_t *most) {
  group *g = malloc((n ? n : 1) * sizeof *g);
  if (!g) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t k = 0;
  *most = 0;
  for (size_t r0 = 0, r1; r0 < n; r0 = r1) {
    size_t p = reqs[r0].n, longest = 0, cmin = reqs[r0].n_ctx;
    for (r1 = r0; r1 < n && reqs[r1].group == reqs[r0].group; r1++) {
      p = min2(p, lcp(reqs[r0].ids, reqs[r0].n, reqs[r1].ids, reqs[r1].n));
      longest = reqs[r1].n > longest ? reqs[r1].n : longest;
      cmin = min2(cmin, reqs[r1].n_ctx);
    }
    group *G = &g[k++];
    G->r0 = r0, G->r1 = r1, G->p = p, G->pp = min2(p, longest - 1), G->cmin = cmin, G->rows = G->pp;
    for (size_t j = r0; j < r1; j++)
      if (reqs[j].n - 1 > p) G->rows += reqs[j].n - 1 - p;
    if (G->rows > *most) *most = G->rows;
  }
  *out = g, *ng = k;
  return 0;
}

/* The head at the rows the entries name; each entry's log p. */
static int run_head(const ivs_model *m, const float *hidden, size_t nrows, entry *es, size_t ne, float *logits,
                    float *gather) {
  size_t E = m->E, V = m->V;
  /* the distinct rows, ascending, and the entries of each (counting sort) */
  size_t *start = calloc(nrows + 1, sizeof *start), *order = malloc((ne ? ne : 1) * sizeof *order);
  size_t *uniq = malloc((nrows ? nrows : 1) * sizeof *uniq);
  if (!start || !order || !uniq) {
    free(start), free(order), free(uniq);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  for (size_t e = 0; e < ne; e++) start[es[e].row + 1]++;
  size_t nu = 0;
  for (size_t r = 0; r < nrows; r++) {
    if (start[r + 1]) uniq[nu++] = r;
    start[r + 1] += start[r];
  }
  size_t *fill = malloc((nrows ? nrows : 1) * sizeof *fill);
  int rc = fill ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  if (fill) memcpy(fill, start, nrows * sizeof *fill);
  for (size_t e = 0; e < ne && !rc; e++) order[fill[es[e].row]++] = e;
  for (size_t u0 = 0; u0 < nu && !rc; u0 += HEAD_BLOCK) {
    size_t cnt = min2(HEAD_BLOCK, nu - u0);
    for (size_t u = 0; u < cnt; u++) memcpy(gather + u * E, hidden + uniq[u0 + u] * E, E * sizeof *gather);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cnt, (int)V, (int)E, 1.0f, gather, (int)E, m->head,
                (int)E, 0.0f, logits, (int)V);
    for (size_t u = 0; u < cnt && !rc; u++) {
      const float *z = logits + u * V;
      size_t best = 0;
      for (size_t v = 1; v < V; v++)
        if (z[v] > z[best]) best = v;
      double mx = z[best], sum = 0;
      for (size_t v = 0; v < V; v++) sum += exp((double)z[v] - mx);
      size_t row = uniq[u0 + u];
      if (!isfinite(sum) || !isfinite(mx)) {
        rc = ivs_model_nonfinite_error(m);
        ivs_error_prefix("request %zu", es[order[start[row]]].req);
        break;
      }
      double lse = log(sum);
      for (size_t k = start[row]; k < start[row + 1]; k++) {
        entry *en = &es[order[k]];
        en->lp = (double)z[en->target] - mx - lse;
      }
    }
  }
  free(start), free(order), free(uniq), free(fill);
  return rc;
}

int ivs_model_score_batch(ivs_model *m, const ivs_lm_req *reqs, size_t n, const ivs_batch_opts *o, double *sum_lp,
                          ivs_batch_stats *stats) {
  ivs_batch_stats st;
  memset(&st, 0, sizeof st);
  int rc = check_reqs(m, reqs, n);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) sum_lp[i] = 0, st.tokens += reqs[i].n;
  group *gs = NULL;
  size_t ng = 0, most = 0;
  if ((rc = make_groups(reqs, n, &gs, &ng, &most))) return rc;
  size_t per_token = m->L * 2 * m->KV * m->hd * sizeof(float);
  size_t keep_max = o && o->cache_bytes ? min2(o->cache_bytes / per_token, m->T) : 0;
  size_t R = o && o->pack_rows ? o->pack_rows : DEFAULT_PACK;
  if (most > R) R = most;
  ivs_kv *kv = NULL;
  int32_t *ids = malloc(R * sizeof *ids);
  ivs_row *rows = malloc(R * sizeof *rows);
  float *hidden = malloc(R * m->E * sizeof *hidden), *logits = malloc(HEAD_BLOCK * m->V * sizeof *logits),
        *gather = malloc(HEAD_BLOCK * m->E * sizeof *gather);
  entry *es = NULL;
  size_t ecap = 0;
  if (!ids || !rows || !hidden || !logits || !gather) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!rc) rc = ivs_kv_new_rows(&kv, m, keep_max + R);
  const int32_t *kept = NULL; /* the kept prefix: the first nk tokens of kept */
  size_t nk = 0, done = 0;
  for (size_t g = 0; g < ng && !rc;) {
    /* at a pack's start: keep a new prefix when this group and the next
     * share a long one that the kept prefix does not give */
    const group *G = &gs[g];
    const int32_t *pre = reqs[G->r0].ids;
    size_t have = min2(lcp(pre, G->p, kept, nk), G->cmin - 1);
    if (have < MIN_KEPT && keep_max >= MIN_KEPT && g + 1 < ng) {
      const group *H = &gs[g + 1];
      size_t c = lcp(pre, G->p, reqs[H->r0].ids, H->p);
      c = min2(min2(c, G->cmin - 1), min2(H->cmin - 1, keep_max));
      if (c >= MIN_KEPT) {
        kv->len = 0, kv->rows = NULL;
        if ((rc = ivs_model_extend(m, kv, pre, c, NULL))) break;
        kept = pre, nk = c, st.run += c;
      }
    }
    size_t b = 0, ne = 0;
    for (; g < ng; g++) {
      G = &gs[g];
      pre = reqs[G->r0].ids;
      size_t a = min2(min2(lcp(pre, G->p, kept, nk), G->cmin - 1), G->pp);
      size_t need = G->rows - a;
      if (b > 0 && b + need > R) break;
      uint32_t s = (uint32_t)(nk + b), pend;
      for (size_t i = a; i < G->pp; i++, b++) {
        ids[b] = pre[i];
        rows[b] = (ivs_row){.pos = (uint32_t)i, .a = (uint32_t)a, .s = s};
      }
      pend = (uint32_t)(nk + b);
      for (size_t j = G->r0; j < G->r1; j++) {
        const ivs_lm_req *r = &reqs[j];
        size_t cstart = b;
        for (size_t i = G->p; i + 1 < r->n; i++, b++) {
          ids[b] = r->ids[i];
          rows[b] = (ivs_row){.pos = (uint32_t)i, .a = (uint32_t)a, .s = s, .hole_lo = pend, .hole_hi = (uint32_t)(nk + cstart)};
        }
        if (ne + r->n > ecap) {
          size_t cap = (ne + r->n) * 2;
          entry *p = realloc(es, cap * sizeof *p);
          if (!p) {
            rc = ivs_error_set(IVS_ENOMEM, "out of memory");
            break;
          }
          es = p, ecap = cap;
        }
        for (size_t k = r->n_ctx; k < r->n; k++) {
          size_t pred = k - 1, row = pred < G->p ? (s - nk) + (pred - a) : cstart + (pred - G->p);
          es[ne++] = (entry){(uint32_t)row, r->ids[k], j, 0};
        }
      }
      if (rc) break;
      st.kept += a;
    }
    if (rc) break;
    kv->len = nk, kv->rows = rows;
    rc = ivs_model_extend(m, kv, ids, b, hidden);
    kv->len = nk, kv->rows = NULL;
    st.run += b, st.forwards++;
    if (!rc) rc = run_head(m, hidden, b, es, ne, logits, gather);
    for (size_t e = 0; e < ne && !rc; e++) sum_lp[es[e].req] += es[e].lp;
    done = g < ng ? gs[g].r0 : n;
    if (!rc && o && o->progress) o->progress(done, n, st.run, o->ud);
  }
  if (stats) *stats = st;
  ivs_kv_free(kv);
  free(gs), free(ids), free(rows), free(hidden), free(logits), free(gather), free(es);
  return rc;
}

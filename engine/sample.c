/* Greedy and sampled choice of the next token (engine/sample.h). */
#include "engine/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"

struct ivs_sample_scratch {
  size_t V;
  float *w;     /* weights exp((z - max) / T), or the values being selected */
  uint32_t *id; /* candidate ids */
  float *tmp;   /* for selections */
};

int ivs_sampler_check(const ivs_sampler *s) {
  if (s->greedy) return 0;
  if (!(s->temperature > 0) || !isfinite(s->temperature))
    return ivs_error_set(IVS_EINVAL, "temperature %g: must be above 0 for sampling (or greedy)", s->temperature);
  if (!(s->top_p > 0 && s->top_p <= 1)) return ivs_error_set(IVS_EINVAL, "top-p %g: must be in (0, 1]", s->top_p);
  return 0;
}

static uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double ivs_sample_uniform(uint64_t seed, uint64_t stream, uint64_t sample, uint64_t step) {
  uint64_t x = mix(mix(mix(mix(seed) ^ stream) ^ sample) ^ step);
  return (double)(x >> 11) * 0x1.0p-53;
}

int ivs_sample_scratch_new(ivs_sample_scratch **out, size_t V) {
  *out = NULL;
  ivs_sample_scratch *sc = calloc(1, sizeof *sc);
  if (sc) sc->V = V, sc->w = malloc(V * sizeof *sc->w), sc->id = malloc(V * sizeof *sc->id),
                   sc->tmp = malloc(V * sizeof *sc->tmp);
  if (!sc || !sc->w || !sc->id || !sc->tmp) {
    ivs_sample_scratch_free(sc);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  *out = sc;
  return 0;
}

void ivs_sample_scratch_free(ivs_sample_scratch *sc) {
  if (!sc) return;
  free(sc->w), free(sc->id), free(sc->tmp);
  free(sc);
}

/* Order of the candidates: larger logit first, then lower id. */
static _Thread_local const float *sort_z;
static int by_logit(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  float za = sort_z[a], zb = sort_z[b];
  if (za != zb) return za > zb ? -1 : 1;
  return a < b ? -1 : a > b;
}

/* The k-th largest of v[0..n) (k >= 1), reordering v (quickselect). */
static float kth_largest(float *v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1, want = k - 1;
  while (lo < hi) {
    float pivot = v[lo + (hi - lo) / 2];
    size_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] > pivot) i++;
      while (v[j] < pivot) j--;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j], v[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return v[want];
  }
  return v[want];
}

/* The k-th largest of z[0..V) through a min-heap of the k largest so far
 * (heap: k floats): one comparison for most elements. */
static float kth_by_heap(const float *z, size_t V, size_t k, float *heap) {
  size_t n = 0;
  for (size_t v = 0; v < V; v++) {
    float x = z[v];
    size_t i;
    if (n < k) { /* sift up */
      for (i = n++; i > 0 && heap[(i - 1) / 2] > x; i = (i - 1) / 2) heap[i] = heap[(i - 1) / 2];
      heap[i] = x;
    } else if (x > heap[0]) { /* replace the smallest, sift down */
      for (i = 0;;) {
        size_t c = 2 * i + 1;
        if (c >= k) break;
        if (c + 1 < k && heap[c + 1] < heap[c]) c++;
        if (heap[c] >= x) break;
        heap[i] = heap[c], i = c;
      }
      heap[i] = x;
    }
  }
  return heap[0];
}

/* The same by quickselect on a copy (for a large k). */
static float kth_by_select(const float *z, size_t V, size_t k, float *copy) {
  memcpy(copy, z, V * sizeof *z);
  return kth_largest(copy, V, k);
}

static void sort_candidates(const float *z, uint32_t *id, size_t n) {
  sort_z = z;
  qsort(id, n, sizeof *id, by_logit);
}

/* w[i] = exp((z[id[i]] - zmax) / T) for the n candidates (all of the
 * vocabulary in id order when all); their sum. */
static double weights(const float *z, float zmax, float inv_t, const uint32_t *id, size_t n, int all, float *w) {
  if (all) {
    for (size_t i = 0; i < n; i++) w[i] = (z[i] - zmax) * inv_t;
    ivs_act_exp(w, n);
    for (size_t i = 0; i < n; i++)
      if (z[i] == -INFINITY) w[i] = 0;
  } else
    for (size_t i = 0; i < n; i++) w[i] = expf((z[id[i]] - zmax) * inv_t);
  double total = 0;
  for (size_t i = 0; i < n; i++) total += w[i];
  return total;
}

static void swap_to(ivs_sample_scratch *sc, size_t to, size_t from) {
  uint32_t t = sc->id[to];
  float tw = sc->w[to];
  sc->id[to] = sc->id[from], sc->w[to] = sc->w[from];
  sc->id[from] = t, sc->w[from] = tw;
}

/* Moves the candidates with the m largest weights (and any tied with the
 * m-th) to the front; how many that is. */
static size_t front_largest(ivs_sample_scratch *sc, size_t n, size_t m, float *tmp) {
  memcpy(tmp, sc->w, n * sizeof *tmp);
  float cut = kth_largest(tmp, n, m);
  size_t front = 0;
  for (size_t i = 0; i < n; i++)
    if (sc->w[i] > cut) swap_to(sc, front++, i);
  for (size_t i = front; i < n; i++)
    if (sc->w[i] == cut) swap_to(sc, front++, i);
  return front;
}

int32_t ivs_sample_pick(const float *z, size_t V, const ivs_sampler *s, double u, ivs_sample_scratch *sc) {
  size_t best = 0;
  for (size_t v = 1; v < V; v++)
    if (z[v] > z[best]) best = v;
  if (!isfinite(z[best])) return -1;
  if (s->greedy) return (int32_t)best;
  float inv_t = (float)(1.0 / s->temperature), zmax = z[best];
  /* the candidates: every token, or those at least the k-th largest logit */
  size_t n = 0;
  int all = !(s->top_k && s->top_k < V);
  if (!all) {
    float kth = s->top_k <= 4096 ? kth_by_heap(z, V, s->top_k, sc->tmp) : kth_by_select(z, V, s->top_k, sc->w);
    for (size_t v = 0; v < V; v++)
      if (z[v] >= kth) sc->id[n++] = (uint32_t)v;
  } else {
    for (size_t v = 0; v < V; v++) sc->id[v] = (uint32_t)v;
    n = V;
  }
  double total = weights(z, zmax, inv_t, sc->id, n, all, sc->w);
  if (s->top_p < 1 && n > 1) {
    /* most of the mass is in few tokens: sort the largest m, m growing until they hold top_p */
    size_t m = n;
    if (n > 256) {
      for (size_t want = 256;; want *= 4) {
        m = front_largest(sc, n, want < n ? want : n, sc->tmp);
        double head = 0;
        for (size_t i = 0; i < m; i++) head += sc->w[i];
        if (m >= n || head >= s->top_p * total) break;
      }
    }
    sort_candidates(z, sc->id, m);
    double before = 0, limit = s->top_p * total;
    size_t keep = 0;
    while (keep < m && before < limit) before += expf((z[sc->id[keep]] - zmax) * inv_t), keep++;
    n = keep;
    total = weights(z, zmax, inv_t, sc->id, n, 0, sc->w);
  }
  double target = u * total, acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc += sc->w[i];
    if (acc > target) return (int32_t)sc->id[i];
  }
  return (int32_t)sc->id[n - 1];
}

/* The probes' per-generation metrics (eval/probe_metrics.h). */
#include "eval/probe_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/hash.h"

static _Thread_local int metrics_failed;

int ivs_probe_metrics_failed(void) { return metrics_failed; }

static uint64_t ngram_hash(const uint64_t *u, size_t order) {
  uint64_t h = 0x243F6A8885A308D3ULL;
  for (size_t k = 0; k < order; k++) h = ivs_hash_mix(h, u[k]);
  return h;
}

/* The number of distinct n-grams among those of k sequences (each
 * sequence's own n - order + 1; none across their ends): an open hash table
 * of (sequence, start) pairs, each n-gram compared whole on a hash match.
 * (size_t)-1 when out of memory; *grams gets their number. */
static size_t distinct_ngrams(const uint64_t *const *u, const size_t *n, size_t k, size_t order, size_t *grams) {
  size_t total = 0;
  for (size_t s = 0; s < k; s++) total += n[s] >= order ? n[s] - order + 1 : 0;
  *grams = total;
  size_t cap = 16;
  while (cap < total * 2) cap *= 2;
  size_t(*slot)[2] = malloc(cap * sizeof *slot);
  uint64_t *hash = malloc(cap * sizeof *hash);
  if (!slot || !hash) {
    free(slot), free(hash);
    return (size_t)-1;
  }
  for (size_t j = 0; j < cap; j++) slot[j][0] = (size_t)-1;
  size_t distinct = 0;
  for (size_t s = 0; s < k; s++)
    for (size_t i = 0; i + order <= n[s]; i++) {
      uint64_t h = ngram_hash(u[s] + i, order);
      size_t j = (size_t)h & (cap - 1);
      for (;; j = (j + 1) & (cap - 1)) {
        if (slot[j][0] == (size_t)-1) {
          slot[j][0] = s, slot[j][1] = i, hash[j] = h, distinct++;
          break;
        }
        if (hash[j] == h && !memcmp(u[slot[j][0]] + slot[j][1], u[s] + i, order * sizeof **u)) break;
      }
    }
  free(slot), free(hash);
  return distinct;
}

double ivs_probe_distinct_corpus(const uint64_t *const *u, const size_t *n, size_t k, size_t order) {
  metrics_failed = 0;
  size_t grams;
  if (order < 1) return NAN;
  size_t d = distinct_ngrams(u, n, k, order, &grams);
  if (d == (size_t)-1) {
    metrics_failed = 1;
    ivs_error_set(IVS_ENOMEM, "out of memory");
    return NAN;
  }
  return grams ? (double)d / (double)grams : NAN;
}

double ivs_probe_distinct(const uint64_t *u, size_t n, size_t order) {
  if (order < 1 || n < order) {
    metrics_failed = 0;
    return NAN;
  }
  return ivs_probe_distinct_corpus(&u, &n, 1, order);
}

double ivs_probe_seq_rep(const uint64_t *u, size_t n, size_t order) {
  double d = ivs_probe_distinct(u, n, order);
  return isnan(d) ? d : 1.0 - d;
}

void ivs_probe_loop_find(const uint64_t *u, size_t n, size_t max_period, size_t min_repeats, ivs_probe_loop *out) {
  memset(out, 0, sizeof *out);
  if (min_repeats < 2) min_repeats = 2;
  for (size_t p = 1; p <= max_period && p * min_repeats <= n; p++) {
    /* the tail of min_repeats * p tokens is p-periodic: u[i] == u[i + p] */
    size_t from = n - p * min_repeats, i = from;
    while (i + p < n && u[i] == u[i + p]) i++;
    if (i + p < n) continue;
    size_t start = from;
    while (start > 0 && u[start - 1] == u[start - 1 + p]) start--;
    out->found = 1, out->period = p, out->start = start, out->repeats = (n - start) / p;
    return;
  }
}

int ivs_probe_compression(const char *text, size_t n, double *ratio) {
  if (!n) {
    *ratio = NAN;
    return 0;
  }
  uLongf cap = compressBound((uLong)n);
  Bytef *dst = malloc(cap);
  if (!dst) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int z = compress2(dst, &cap, (const Bytef *)text, (uLong)n, 9);
  free(dst);
  if (z == Z_MEM_ERROR) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (z != Z_OK) return ivs_error_set(IVS_ERROR, "zlib failed (%d)", z);
  *ratio = (double)cap / (double)n;
  return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_alnum_before(const char *s, size_t i) {
  if (i == 0) return 0;
  unsigned char c = (unsigned char)s[i - 1];
  if (is_digit((char)c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c >= 0x80; /* the end of a non-ASCII character: counted as a letter ("x−3" is not -3) */
}

int ivs_probe_number(const char *text, size_t n, double *value) {
  const char *nl = memchr(text, '\n', n);
  if (nl) n = (size_t)(nl - text);
  size_t i = 0;
  for (; i < n; i++)
    if (is_digit(text[i]) || (text[i] == '.' && i + 1 < n && is_digit(text[i + 1]))) break;
  if (i == n) return 0;
  char buf[400];
  size_t k = 0;
  /* the sign just before */
  if (i >= 1 && (text[i - 1] == '-' || text[i - 1] == '+') && !is_alnum_before(text, i - 1))
    buf[k++] = text[i - 1];
  else if (i >= 3 && !memcmp(text + i - 3, "\xE2\x88\x92", 3) && !is_alnum_before(text, i - 3))
    buf[k++] = '-';
  if (text[i] == '.') buf[k++] = '0';
  size_t j = i, group = 0;
  while (j < n && is_digit(text[j]) && k < 300) buf[k++] = text[j++], group++;
  /* thousands separators: ",ddd" groups after a first group of 1 to 3 digits */
  if (group >= 1 && group <= 3)
    while (j + 3 < n && text[j] == ',' && is_digit(text[j + 1]) && is_digit(text[j + 2]) && is_digit(text[j + 3]) &&
           (j + 4 >= n || !is_digit(text[j + 4])) && k + 3 < 300) {
      memcpy(buf + k, text + j + 1, 3), k += 3, j += 4;
    }
  if (j + 1 < n && text[j] == '.' && is_digit(text[j + 1])) {
    buf[k++] = text[j++];
    while (j < n && is_digit(text[j]) && k < 398) buf[k++] = text[j++];
  }
  buf[k] = '\0';
  double v = strtod(buf, NULL);
  if (!isfinite(v)) return 0;
  *value = v;
  return 1;
}

int ivs_probe_anchoring(double control, double low, double high, double *effect, double *pull_low, double *pull_high) {
  if (!isfinite(control) || !isfinite(low) || !isfinite(high) || control == 0) return -1;
  double h = high / control - 1, l = low / control - 1;
  *effect = h * h + l * l;
  *pull_high = h;
  *pull_low = -l;
  return isfinite(*effect) ? 0 : -1;
}

uint64_t ivs_probe_text_unit(const char *s, size_t n) { return ivs_hash_bytes(0x3C6EF372FE94F82BULL, s, n); }

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int ivs_probe_word_units(const char *text, size_t n, uint64_t **units, size_t *count) {
  *units = NULL, *count = 0;
  size_t words = 0;
  for (size_t i = 0; i < n; i++)
    if (!is_space(text[i]) && (i == 0 || is_space(text[i - 1]))) words++;
  if (!words) return 0;
  uint64_t *u = malloc(words * sizeof *u);
  if (!u) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && is_space(text[i])) i++;
    size_t s = i;
    while (i < n && !is_space(text[i])) i++;
    if (i > s) u[k++] = ivs_probe_text_unit(text + s, i - s);
  }
  *units = u, *count = k;
  return 0;
}

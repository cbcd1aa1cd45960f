/* The BPE model: the vocabulary and merges of tokenizer.json, and one word
 * turned into ids as HF's BPE::merge_word and Word::merge_all do (lowest
 * rank first, then leftmost; unknown characters through byte_fallback or
 * unk_token, fused or not). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "tokenizer/internal.h"

static uint64_t hstr(const char *s, size_t n) { return ivs_hash_bytes(0x51ED27, s, n); }

int32_t tk_vocab_get(const ivs_tokenizer *t, const char *s, size_t n) {
  const tk_bpe *m = &t->bpe;
  for (size_t i = hstr(s, n) & m->vmask;; i = (i + 1) & m->vmask) {
    int32_t id = m->vmap[i];
    if (id < 0) return -1;
    const tk_span *sp = &t->tok[id];
    if (sp->len == n && memcmp(t->pool.data + sp->off, s, n) == 0) return id;
  }
}

/* Points the string of id at the vocabulary hash, replacing an earlier id of
 * the same string (a key given twice: the last one counts, as in serde). */
static void vocab_put(ivs_tokenizer *t, int32_t id) {
  tk_bpe *m = &t->bpe;
  const tk_span *sp = &t->tok[id];
  const char *s = t->pool.data + sp->off;
  for (size_t i = hstr(s, sp->len) & m->vmask;; i = (i + 1) & m->vmask) {
    int32_t o = m->vmap[i];
    if (o < 0 || (t->tok[o].len == sp->len && memcmp(t->pool.data + t->tok[o].off, s, sp->len) == 0)) {
      m->vmap[i] = id;
      return;
    }
  }
}

static uint64_t mkey(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static inline const tk_merge *merge_get(const tk_bpe *m, int32_t a, int32_t b) {
  uint64_t k = mkey(a, b);
  for (size_t i = ivs_hash_mix(0, k) & m->mmask;; i = (i + 1) & m->mmask) {
    if (m->mmap[i].key == k) return &m->mmap[i];
    if (m->mmap[i].key == 0) return NULL;
  }
}

static size_t table_size(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

static int id_of(const cJSON *e, int32_t *id) {
  if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= (double)IVS_TOK_MAX_VOCAB ||
      e->valuedouble != (double)(int32_t)e->valuedouble)
    return -1;
  *id = (int32_t)e->valuedouble;
  return 0;
}

static int load_vocab(ivs_tokenizer *t, const cJSON *vocab, const char *path) {
  const cJSON *e;
  int32_t id = 0, max = -1;
  size_t nv = 0, bytes = 0;
  cJSON_ArrayForEach(e, vocab) {
    if (id_of(e, &id)) return ivs_error_set(IVS_EINVAL, "%s: model BPE: vocab entry '%.100s' has a bad id", path, e->string);
    if (id > max) max = id;
    nv++;
    bytes += strlen(e->string);
  }
  if (bytes >= UINT32_MAX / 2) return tk_fail(IVS_ELIMIT, path, "model BPE: the vocabulary's strings are over 2 GiB");
  t->ntok = (size_t)max + 1;
  if (!(t->tok = malloc((t->ntok ? t->ntok : 1) * sizeof *t->tok)) || ivs_buf_reserve(&t->pool, bytes + 1))
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->ntok; i++) t->tok[i] = (tk_span){TK_NO_TOKEN, 0};
  cJSON_ArrayForEach(e, vocab) {
    id_of(e, &id);
    if (t->tok[id].off != TK_NO_TOKEN)
      return ivs_error_set(IVS_EINVAL, "%s: model BPE: id %d is given to two tokens", path, (int)id);
    size_t n = strlen(e->string);
    t->tok[id] = (tk_span){(uint32_t)t->pool.len, (uint32_t)n};
    if (ivs_buf_append(&t->pool, e->string, n)) return IVS_ENOMEM;
  }
  tk_bpe *m = &t->bpe;
  size_t cap = table_size(nv);
  if (!(m->vmap = malloc(cap * sizeof *m->vmap))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  memset(m->vmap, 0xFF, cap * sizeof *m->vmap);
  m->vmask = cap - 1;
  m->nvocab = nv;
  cJSON_ArrayForEach(e, vocab) {
    id_of(e, &id);
    vocab_put(t, id);
  }
  return 0;
}

static int load_merges(ivs_tokenizer *t, const cJSON *merges, const char *path) {
  tk_bpe *m = &t->bpe;
  if (merges && !cJSON_IsArray(merges)) return tk_fail(IVS_EINVAL, path, "model BPE: 'merges' is not an array");
  size_t nm = (size_t)cJSON_GetArraySize(merges);
  if (nm > IVS_TOK_MAX_MERGES) return tk_fail(IVS_ELIMIT, path, "model BPE: more merges than the limit");
  size_t cap = table_size(nm);
  if (!(m->mmap = calloc(cap, sizeof *m->mmap))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  m->mmask = cap - 1;
  ivs_buf cat = IVS_BUF_INIT;
  uint32_t rank = 0;
  int rc = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, merges) {
    const char *a, *b;
    size_t na, nb;
    if (cJSON_IsString(e)) {
      const char *sp = strchr(e->valuestring, ' ');
      if (!sp) {
        rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u '%.100s' is not two tokens", path, rank, e->valuestring);
        break;
      }
      a = e->valuestring, na = (size_t)(sp - a), b = sp + 1, nb = strlen(b);
    } else if (cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) && cJSON_IsString(e->child->next)) {
      a = e->child->valuestring, na = strlen(a), b = e->child->next->valuestring, nb = strlen(b);
    } else {
      rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u is neither \"a b\" nor [a, b]", path, rank);
      break;
    }
    int32_t ia = tk_vocab_get(t, a, na), ib = tk_vocab_get(t, b, nb);
    ivs_buf_clear(&cat);
    if ((rc = ivs_buf_append(&cat, a, na)) || (rc = ivs_buf_append(&cat, b, nb))) break;
    int32_t in = tk_vocab_get(t, cat.data, cat.len);
    if (ia < 0 || ib < 0 || in < 0) {
      rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u '%.100s' '%.100s' names a token not in the vocab", path,
                         rank, a, b);
      break;
    }
    uint64_t k = mkey(ia, ib);
    size_t i = ivs_hash_mix(0, k) & m->mmask;
    while (m->mmap[i].key && m->mmap[i].key != k) i = (i + 1) & m->mmask;
    m->mmap[i] = (tk_merge){k, rank, in}; /* a pair given twice: the last rank counts, as in HF's map */
    rank++;
  }
  ivs_buf_release(&cat);
  return rc;
}

int tk_bpe_load(ivs_tokenizer *t, const cJSON *model, const char *path) {
  const char *ty = tk_type(model);
  if (!ty) return tk_fail(IVS_EINVAL, path, "model: missing 'type'");
  if (strcmp(ty, "BPE") != 0) return ivs_error_set(IVS_EINVAL, "%s: model type '%s' is not supported", path, ty);
  tk_bpe *m = &t->bpe;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, "dropout");
  if (cJSON_IsNumber(v) && v->valuedouble > 0) return tk_fail(IVS_EINVAL, path, "model BPE: dropout is not supported");
  v = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
  if (cJSON_IsString(v) && v->valuestring[0])
    return tk_fail(IVS_EINVAL, path, "model BPE: continuing_subword_prefix is not supported");
  v = cJSON_GetObjectItemCaseSensitive(model, "end_of_word_suffix");
  if (cJSON_IsString(v) && v->valuestring[0]) return tk_fail(IVS_EINVAL, path, "model BPE: end_of_word_suffix is not supported");
  m->fuse_unk = tk_bool(model, "fuse_unk", 0);
  m->byte_fallback = tk_bool(model, "byte_fallback", 0);
  m->ignore_merges = tk_bool(model, "ignore_merges", 0);
  const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
  if (!cJSON_IsObject(vocab)) return tk_fail(IVS_EINVAL, path, "model BPE: 'vocab' is not an object");
  if ((size_t)cJSON_GetArraySize(vocab) > IVS_TOK_MAX_VOCAB) return tk_fail(IVS_ELIMIT, path, "model BPE: vocab over the limit");
  int rc = load_vocab(t, vocab, path);
  if (!rc) rc = load_merges(t, cJSON_GetObjectItemCaseSensitive(model, "merges"), path);
  if (rc) return rc;
  m->unk = -1;
  v = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
  if (cJSON_IsString(v)) {
    m->unk = tk_vocab_get(t, v->valuestring, strlen(v->valuestring));
    if (m->unk < 0) {
      m->unk = -2;
      if (!(m->unk_name = strdup(v->valuestring))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    }
  }
  static const char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; b++) {
    char name[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
    m->byte_tok[b] = tk_vocab_get(t, name, 6);
  }
  for (int c = 0; c < 128; c++) {
    char ch = (char)c;
    m->char_tok[c] = tk_vocab_get(t, &ch, 1);
  }
  return 0;
}

void tk_bpe_release(tk_bpe *m) {
  free(m->vmap);
  free(m->mmap);
  free(m->unk_name);
}

/* ---- one word ---- */

typedef struct { int32_t id; int32_t prev, next; uint32_t rank; int32_t merged; } sym; /* rank/merged: the pair with next */

#define NO_RANK UINT32_MAX

static void pair_rank(const tk_bpe *m, sym *s, int32_t i) {
  if (i < 0) return;
  s[i].rank = NO_RANK;
  if (s[i].next < 0) return;
  const tk_merge *g = merge_get(m, s[i].id, s[s[i].next].id);
  if (g) s[i].rank = g->rank, s[i].merged = g->id;
}

/* Merges by rank: the lowest-ranked adjacent pair first, the leftmost of equal
 * ranks (HF's heap of (rank, position)).  A scan for the minimum over the
 * linked symbols: the words are short, and a long one costs O(n^2) at worst,
 * bounded by the caller's word limit. */
static void merge_all(const tk_bpe *m, sym *s, size_t ns) {
  for (size_t i = 0; i < ns; i++) s[i].prev = (int32_t)i - 1, s[i].next = i + 1 < ns ? (int32_t)i + 1 : -1;
  for (size_t i = 0; i < ns; i++) pair_rank(m, s, (int32_t)i);
  for (;;) {
    uint32_t best = NO_RANK;
    int32_t at = -1;
    for (int32_t i = 0; i >= 0; i = s[i].next)
      if (s[i].rank < best) best = s[i].rank, at = i;
    if (at < 0) break;
    int32_t r = s[at].next;
    s[at].id = s[at].merged;
    s[at].next = s[r].next;
    if (s[r].next >= 0) s[s[r].next].prev = at;
    pair_rank(m, s, at);
    pair_rank(m, s, s[at].prev);
  }
}

typedef struct { uint32_t rank; int32_t pos, left, right; } hent;

static int hless(const hent *x, const hent *y) { return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos); }

static void heap_push(hent *h, size_t *n, hent e) {
  size_t i = (*n)++;
  while (i > 0 && hless(&e, &h[(i - 1) / 2])) h[i] = h[(i - 1) / 2], i = (i - 1) / 2;
  h[i] = e;
}

static hent heap_pop(hent *h, size_t *n) {
  hent top = h[0], last = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && hless(&h[c + 1], &h[c])) c++;
    if (!hless(&h[c], &last)) break;
    h[i] = h[c], i = c;
  }
  if (*n) h[i] = last;
  return top;
}

static void push_pair(const tk_bpe *m, const sym *s, int32_t i, hent *h, size_t *nh) {
  if (i < 0 || s[i].next < 0) return;
  const tk_merge *g = merge_get(m, s[i].id, s[s[i].next].id);
  if (g) heap_push(h, nh, (hent){g->rank, i, s[i].id, s[s[i].next].id});
}

/* The same order through a heap, for long words.  Each merge pushes at most
 * two entries, so 3 * ns entries are enough. */
static void merge_heap(const tk_bpe *m, sym *s, size_t ns, hent *h) {
  size_t nh = 0;
  for (size_t i = 0; i < ns; i++) s[i].prev = (int32_t)i - 1, s[i].next = i + 1 < ns ? (int32_t)i + 1 : -1;
  for (size_t i = 0; i + 1 < ns; i++) push_pair(m, s, (int32_t)i, h, &nh);
  while (nh) {
    hent e = heap_pop(h, &nh);
    sym *l = &s[e.pos];
    if (l->id != e.left || l->next < 0 || s[l->next].id != e.right) continue; /* stale */
    const tk_merge *g = merge_get(m, e.left, e.right);
    int32_t r = l->next;
    l->id = g->id;
    l->next = s[r].next;
    s[r].id = -1;
    if (s[r].next >= 0) s[s[r].next].prev = e.pos;
    push_pair(m, s, l->prev, h, &nh);
    push_pair(m, s, e.pos, h, &nh);
  }
}

#define SCAN_MAX 48 /* symbols up to which the scan beats the heap */

int tk_bpe_word(const ivs_tokenizer *t, const char *w, size_t n, int32_t **out, size_t *nout, size_t *cap) {
  const tk_bpe *m = &t->bpe;
  if (m->ignore_merges) {
    int32_t id = tk_vocab_get(t, w, n);
    if (id >= 0) {
      if (*nout == *cap && ivs_grow((void **)out, cap, *nout + 1, sizeof **out, 256)) return IVS_ENOMEM;
      (*out)[(*nout)++] = id;
      return 0;
    }
  }
  sym small[64];
  sym *s = small;
  hent *h = NULL;
  if (n > 64 && !(s = malloc(n * sizeof *s))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t ns = 0;
  int32_t unk_len = 0; /* a pending unknown (HF adds it when the next known symbol comes) */
  int rc = 0;
  for (size_t i = 0, adv; i < n; i += adv) {
    unsigned char c = (unsigned char)w[i];
    adv = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (adv > n - i) adv = n - i;
    int32_t id = c < 0x80 ? m->char_tok[c] : tk_vocab_get(t, w + i, adv);
    if (id >= 0) {
      if (unk_len) s[ns++] = (sym){m->unk, 0, 0, 0, 0}, unk_len = 0;
      s[ns++] = (sym){id, 0, 0, 0, 0};
      continue;
    }
    if (m->byte_fallback) {
      int all = 1;
      for (size_t b = 0; b < adv; b++) all &= m->byte_tok[(unsigned char)w[i + b]] >= 0;
      if (all) { /* the pending unknown stays pending, as in HF */
        for (size_t b = 0; b < adv; b++) s[ns++] = (sym){m->byte_tok[(unsigned char)w[i + b]], 0, 0, 0, 0};
        continue;
      }
    }
    if (m->unk == -2) {
      rc = ivs_error_set(IVS_EINVAL, "unk_token '%.100s' is not in the vocabulary", m->unk_name);
      goto out;
    }
    if (m->unk < 0) continue; /* no unk_token: the character is dropped, as in HF */
    if (unk_len && !m->fuse_unk) s[ns++] = (sym){m->unk, 0, 0, 0, 0};
    unk_len = 1;
  }
  if (unk_len) s[ns++] = (sym){m->unk, 0, 0, 0, 0};
  if (ns > SCAN_MAX) {
    if (!(h = malloc(3 * ns * sizeof *h))) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      goto out;
    }
    merge_heap(m, s, ns, h);
  } else if (ns > 1) {
    merge_all(m, s, ns);
  } else if (ns == 1) {
    s[0].next = -1;
  }
  size_t k = 0;
  for (int32_t i = ns ? 0 : -1; i >= 0; i = s[i].next) k++;
  if (*nout + k > *cap && ivs_grow((void **)out, cap, *nout + k, sizeof **out, 256)) {
    rc = IVS_ENOMEM;
    goto out;
  }
  for (int32_t i = ns ? 0 : -1; i >= 0; i = s[i].next) (*out)[(*nout)++] = s[i].id;
out:
  if (s != small) free(s);
  free(h);
  return rc;
}

/* Encoding: the pipeline (added tokens, normalizer, added tokens again,
 * pre-tokenizers, the model) over a list of pieces, in a workspace kept per
 * thread with a cache of word -> ids, so that a loaded tokenizer stays
 * read-only and many threads may encode with it at once. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "tokenizer/internal.h"

int tk_emit(tk_work *w, size_t off, size_t len, int32_t added, int first) {
  if (!len && added < 0) return 0; /* HF drops empty pieces */
  if (w->nq == w->capq && ivs_grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q, 64)) return IVS_ENOMEM;
  w->q[w->nq++] = (tk_piece){(uint32_t)off, (uint32_t)len, added, (uint8_t)first};
  return 0;
}

void tk_swap(tk_work *w) {
  tk_piece *p = w->p;
  size_t c = w->capp;
  w->p = w->q, w->capp = w->capq, w->np = w->nq;
  w->q = p, w->capq = c, w->nq = 0;
}

/* ---- the word cache: one tokenizer's words at a time ---- */

#define CACHE_BITS 16
#define CACHE_SLOTS ((size_t)1 << CACHE_BITS)
#define CACHE_MAX_WORD 64
#define CACHE_MAX_IDS ((size_t)1 << 20)
#define CACHE_PROBES 8

typedef struct { uint64_t h; uint32_t koff, klen, ioff, nids; } centry;

typedef struct tk_cache {
  uint64_t serial;
  centry slot[CACHE_SLOTS];
  size_t used;
  ivs_buf keys;
  int32_t *ids;
  size_t nids, capids;
} tk_cache;

static void cache_clear(tk_cache *c, uint64_t serial) {
  memset(c->slot, 0, sizeof c->slot);
  c->used = 0;
  c->serial = serial;
  ivs_buf_clear(&c->keys);
  c->nids = 0;
}

static const centry *cache_get(const tk_cache *c, uint64_t h, const char *s, size_t n) {
  for (size_t k = 0, i = h & (CACHE_SLOTS - 1); k < CACHE_PROBES; k++, i = (i + 1) & (CACHE_SLOTS - 1)) {
    const centry *e = &c->slot[i];
    if (!e->h) return NULL;
    if (e->h == h && e->klen == n && memcmp(c->keys.data + e->koff, s, n) == 0) return e;
  }
  return NULL;
}

/* Remembers a word (best effort: a full cache starts again empty). */
static void cache_put(tk_cache *c, uint64_t h, const char *s, size_t n, const int32_t *ids, size_t nids) {
  if (c->used * 2 >= CACHE_SLOTS || c->nids + nids > CACHE_MAX_IDS) cache_clear(c, c->serial);
  for (size_t k = 0, i = h & (CACHE_SLOTS - 1); k < CACHE_PROBES; k++, i = (i + 1) & (CACHE_SLOTS - 1)) {
    centry *e = &c->slot[i];
    if (e->h) continue;
    if (c->nids + nids > c->capids &&
        ivs_grow((void **)&c->ids, &c->capids, c->nids + nids, sizeof *c->ids, 4096)) return;
    size_t koff = c->keys.len;
    if (ivs_buf_append(&c->keys, s, n)) return;
    memcpy(c->ids + c->nids, ids, nids * sizeof *ids);
    *e = (centry){h, (uint32_t)koff, (uint32_t)n, (uint32_t)c->nids, (uint32_t)nids};
    c->nids += nids;
    c->used++;
    return;
  }
}

/* ---- the per-thread workspace ---- */

#define ARENA_LIMIT ((size_t)UINT32_MAX) /* pieces hold 32-bit offsets */

static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static _Thread_local tk_work *ws; /* also reachable here, for leak checkers */

static void ws_free(void *p) {
  tk_work *w = p;
  if (!w) return;
  ivs_buf_release(&w->arena);
  ivs_buf_release(&w->tmp);
  ivs_buf_release(&w->tmp2);
  free(w->p);
  free(w->q);
  free(w->segs.v);
  pcre2_match_data_free(w->segs.md);
  if (w->cache) {
    ivs_buf_release(&w->cache->keys);
    free(w->cache->ids);
    free(w->cache);
  }
  free(w);
  ws = NULL;
}

static void ws_key_init(void) { pthread_key_create(&ws_key, ws_free); }

static tk_work *ws_get(void) {
  if (ws) return ws;
  pthread_once(&ws_once, ws_key_init);
  tk_work *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  ivs_buf_init(&w->arena, ARENA_LIMIT);
  ivs_buf_init(&w->tmp, ARENA_LIMIT);
  ivs_buf_init(&w->tmp2, ARENA_LIMIT);
  pthread_setspecific(ws_key, w);
  return ws = w;
}

/* After a long text: memory back, the cache kept. */
static void ws_trim(tk_work *w) {
  if (w->arena.cap > ((size_t)16 << 20)) ivs_buf_release(&w->arena), ivs_buf_init(&w->arena, ARENA_LIMIT);
  if (w->tmp.cap > ((size_t)16 << 20)) ivs_buf_release(&w->tmp), ivs_buf_init(&w->tmp, ARENA_LIMIT);
  if (w->tmp2.cap > ((size_t)16 << 20)) ivs_buf_release(&w->tmp2), ivs_buf_init(&w->tmp2, ARENA_LIMIT);
  if (w->capp > ((size_t)1 << 20)) free(w->p), w->p = NULL, w->capp = 0;
  if (w->capq > ((size_t)1 << 20)) free(w->q), w->q = NULL, w->capq = 0;
  if (w->segs.cap > ((size_t)1 << 20)) free(w->segs.v), w->segs.v = NULL, w->segs.cap = 0;
}

/* ---- the pipeline ---- */

static int model(const ivs_tokenizer *t, tk_work *w, int32_t **out, size_t *nout, size_t *cap) {
  if (!w->cache && (w->cache = calloc(1, sizeof *w->cache))) ivs_buf_init(&w->cache->keys, 0);
  tk_cache *c = w->cache;
  if (c && c->serial != t->serial) cache_clear(c, t->serial);
  int rc = 0;
  for (size_t k = 0; k < w->np && !rc; k++) {
    const tk_piece *pc = &w->p[k];
    if (pc->added >= 0) {
      if (*nout == *cap && ivs_grow((void **)out, cap, *nout + 1, sizeof **out, 256)) return IVS_ENOMEM;
      (*out)[(*nout)++] = pc->added;
      continue;
    }
    const char *word = w->arena.data + pc->off;
    if (!c || pc->len > CACHE_MAX_WORD) {
      rc = tk_bpe_word(t, word, pc->len, out, nout, cap);
      continue;
    }
    uint64_t h = ivs_hash_bytes(0xCAC4E, word, pc->len) | 1;
    const centry *e = cache_get(c, h, word, pc->len);
    if (e) {
      if (*nout + e->nids > *cap && ivs_grow((void **)out, cap, *nout + e->nids, sizeof **out, 256)) return IVS_ENOMEM;
      if (e->nids) memcpy(*out + *nout, c->ids + e->ioff, e->nids * sizeof **out);
      *nout += e->nids;
      continue;
    }
    size_t at = *nout;
    if (!(rc = tk_bpe_word(t, word, pc->len, out, nout, cap)) && *nout > at)
      cache_put(c, h, word, pc->len, *out + at, *nout - at); /* a word of dropped characters is not kept */
  }
  return rc;
}

static int encode(const ivs_tokenizer *t, const char *text, size_t len, int add_special, int32_t **ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  if (len > IVS_TOK_MAX_TEXT) return ivs_error_set(IVS_ELIMIT, "text of %zu bytes is over the encode limit", len);
  size_t ok = ivs_utf8_valid_prefix((const unsigned char *)text, len, 0);
  if (ok != len) return ivs_error_set(IVS_EINVAL, "text is not valid UTF-8 at byte %zu", ok);
  tk_work *w = ws_get();
  if (!w) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int32_t *out = NULL;
  size_t nout = 0, cap = 0;
  int rc = 0;
  if (add_special && t->nprefix) {
    if (ivs_grow((void **)&out, &cap, t->nprefix, sizeof *out, 256)) return IVS_ENOMEM;
    memcpy(out, t->prefix, t->nprefix * sizeof *out);
    nout = t->nprefix;
  }
  ivs_buf_clear(&w->arena);
  w->np = w->nq = 0;
  if (len) {
    rc = ivs_buf_append(&w->arena, text, len);
    if (!rc) rc = tk_emit(w, 0, len, -1, 1);
    if (!rc) tk_swap(w);
    if (!rc && t->trie[0].n) rc = tk_added_split(t, w, 0);
    if (!rc && t->nnorm) rc = tk_normalize(t, w);
    if (!rc && t->trie[1].n) rc = tk_added_split(t, w, 1);
    if (!rc && t->npre) rc = tk_pretokenize(t, w);
    if (!rc) rc = model(t, w, &out, &nout, &cap);
  }
  if (!rc && add_special && t->nsuffix) {
    if (nout + t->nsuffix > cap && ivs_grow((void **)&out, &cap, nout + t->nsuffix, sizeof *out, 256)) rc = IVS_ENOMEM;
    else memcpy(out + nout, t->suffix, t->nsuffix * sizeof *out), nout += t->nsuffix;
  }
  ws_trim(w);
  if (rc) {
    free(out);
    return rc;
  }
  *ids = out;
  *n = nout;
  return 0;
}

int ivs_tokenizer_encode(const ivs_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n) {
  return encode(t, text, len, 0, ids, n);
}

int ivs_tokenizer_encode_special(const ivs_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n) {
  return encode(t, text, len, 1, ids, n);
}

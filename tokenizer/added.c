/* Added tokens: numbered as HF's AddedVocabulary numbers them, found with a
 * byte trie (leftmost-longest, as its Aho-Corasick automaton), and split out
 * of the text with their flags (single_word, lstrip, rstrip) in two passes:
 * the tokens with normalized false on the original text, the others (in
 * their normalized form) on each normalized piece. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "tokenizer/internal.h"

/* ---- the trie ---- */

static int32_t new_node(tk_trie *tr, char byte) {
  if (tr->n == tr->cap && ivs_grow((void **)&tr->node, &tr->cap, tr->n + 1, sizeof *tr->node, 256)) return -1;
  tr->node[tr->n] = (tk_node){-1, -1, -1, (uint8_t)byte};
  return (int32_t)tr->n++;
}

static int trie_add(tk_trie *tr, const char *s, size_t n, int32_t token) {
  int32_t at = tr->root[(unsigned char)s[0]];
  if (at < 0 && (at = tr->root[(unsigned char)s[0]] = new_node(tr, s[0])) < 0) return IVS_ENOMEM;
  for (size_t i = 1; i < n; i++) {
    int32_t c = tr->node[at].child, prev = -1;
    while (c >= 0 && tr->node[c].byte != (uint8_t)s[i]) prev = c, c = tr->node[c].next;
    if (c < 0) { /* indexes, not pointers: new_node may move the array */
      if ((c = new_node(tr, s[i])) < 0) return IVS_ENOMEM;
      if (prev < 0) tr->node[at].child = c;
      else tr->node[prev].next = c;
    }
    at = c;
  }
  if (tr->node[at].token < 0) tr->node[at].token = token; /* the same string twice: the first one */
  return 0;
}

/* The longest token spelled at s[0..n), or -1; *len gets its length. */
static int32_t trie_longest(const tk_trie *tr, const char *s, size_t n, size_t *len) {
  int32_t at = tr->root[(unsigned char)s[0]], best = -1;
  for (size_t i = 0; at >= 0;) {
    const tk_node *nd = &tr->node[at];
    if (nd->token >= 0) best = nd->token, *len = i + 1;
    if (++i == n) break;
    unsigned char c = (unsigned char)s[i];
    for (at = nd->child; at >= 0 && tr->node[at].byte != c; at = tr->node[at].next) {
    }
  }
  return best;
}

/* ---- loading ---- */

static int set_token_string(ivs_tokenizer *t, int32_t id, const char *s, size_t n) {
  if ((size_t)id >= t->ntok) {
    size_t cap = t->ntok;
    if (ivs_grow((void **)&t->tok, &cap, (size_t)id + 1, sizeof *t->tok, 1024)) return IVS_ENOMEM;
    for (size_t i = t->ntok; i <= (size_t)id; i++) t->tok[i] = (tk_span){TK_NO_TOKEN, 0};
    t->ntok = (size_t)id + 1;
  }
  if (t->pool.len + n >= UINT32_MAX / 2) return ivs_error_set(IVS_ELIMIT, "token strings over 2 GiB");
  t->tok[id] = (tk_span){(uint32_t)t->pool.len, (uint32_t)n};
  return ivs_buf_append(&t->pool, s, n);
}

static size_t hash_slot(const ivs_tokenizer *t, const char *s, size_t n) {
  return ivs_hash_bytes(0xADD, s, n) & t->amask;
}

const tk_added *tk_added_exact(const ivs_tokenizer *t, const char *s, size_t n) {
  if (!t->amap) return NULL;
  for (size_t i = hash_slot(t, s, n);; i = (i + 1) & t->amask) {
    int32_t k = t->amap[i];
    if (k < 0) return NULL;
    if (t->added[k].len == n && memcmp(t->added[k].content, s, n) == 0) return &t->added[k];
  }
}

int tk_added_load(ivs_tokenizer *t, const cJSON *list, const char *path) {
  if (!list || cJSON_IsNull(list)) return 0;
  if (!cJSON_IsArray(list)) return tk_fail(IVS_EINVAL, path, "added_tokens: not an array");
  size_t n = (size_t)cJSON_GetArraySize(list);
  if (n > IVS_TOK_MAX_VOCAB) return tk_fail(IVS_ELIMIT, path, "added_tokens: more than the vocabulary limit");
  if (!n) return 0;
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  if (!(t->added = calloc(n, sizeof *t->added)) || !(t->amap = malloc(cap * sizeof *t->amap)))
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  memset(t->amap, 0xFF, cap * sizeof *t->amap);
  t->amask = cap - 1;
  int32_t max_added = -1, vocab_size = (int32_t)t->bpe.nvocab;
  const cJSON *e;
  size_t index = 0;
  cJSON_ArrayForEach(e, list) {
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(e, "id"), *c = cJSON_GetObjectItemCaseSensitive(e, "content");
    if (!cJSON_IsNumber(jid) || !cJSON_IsString(c) || jid->valuedouble < 0 || jid->valuedouble >= (double)IVS_TOK_MAX_VOCAB)
      return ivs_error_set(IVS_EINVAL, "%s: added_tokens[%zu]: no valid 'id' and 'content'", path, index);
    index++;
    const char *s = c->valuestring;
    size_t len = strlen(s);
    if (!len) continue; /* HF ignores an empty token */
    /* HF's numbering: the vocabulary's id, an earlier added token's, or the next one */
    tk_added *a = (tk_added *)tk_added_exact(t, s, len);
    int32_t id = tk_vocab_get(t, s, len);
    if (id < 0 && a) id = a->id;
    if (id < 0) id = max_added < 0 ? vocab_size : max_added >= vocab_size || vocab_size == 0 ? max_added + 1 : vocab_size;
    if ((double)id != jid->valuedouble)
      return ivs_error_set(IVS_EINVAL, "%s: added token '%.100s' has id %.0f but Hugging Face numbers it %d", path, s,
                           jid->valuedouble, (int)id);
    if (id >= (int32_t)IVS_TOK_MAX_VOCAB) return tk_fail(IVS_ELIMIT, path, "added_tokens: an id over the limit");
    if (!a) {
      a = &t->added[t->nadded];
      if (!(a->content = strdup(s))) return ivs_error_set(IVS_ENOMEM, "out of memory");
      a->len = len;
      size_t i = hash_slot(t, s, len);
      while (t->amap[i] >= 0) i = (i + 1) & t->amask;
      t->amap[i] = (int32_t)t->nadded++;
    }
    a->id = id;
    if (id > max_added) max_added = id;
    a->single_word = (uint8_t)tk_bool(e, "single_word", 0);
    a->lstrip = (uint8_t)tk_bool(e, "lstrip", 0);
    a->rstrip = (uint8_t)tk_bool(e, "rstrip", 0);
    a->special = (uint8_t)tk_bool(e, "special", 0);
    a->normalized = (uint8_t)tk_bool(e, "normalized", !a->special);
    int rc = set_token_string(t, id, s, len); /* an added token's string wins over the vocabulary's for decoding */
    if (rc) return rc;
  }
  if (!(t->is_special = calloc(t->ntok, 1))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->nadded; i++) t->is_special[t->added[i].id] |= t->added[i].special;
  return 0;
}

int tk_added_build(ivs_tokenizer *t, const char *path) {
  ivs_buf out = IVS_BUF_INIT, tmp = IVS_BUF_INIT;
  int rc = 0;
  for (int k = 0; k < 2; k++) memset(t->trie[k].root, 0xFF, sizeof t->trie[k].root);
  for (size_t i = 0; i < t->nadded && !rc; i++) {
    tk_added *a = &t->added[i];
    if (a->normalized && t->nnorm) {
      if ((rc = tk_normalize_str(t, a->content, a->len, &out, &tmp))) break;
      if (!(a->match = malloc(out.len + 1))) {
        rc = ivs_error_set(IVS_ENOMEM, "out of memory");
        break;
      }
      memcpy(a->match, out.data, out.len + 1);
      a->match_len = out.len;
    } else {
      a->match = a->content, a->match_len = a->len;
    }
    if (a->match_len) rc = trie_add(&t->trie[a->normalized], a->match, a->match_len, (int32_t)i);
  }
  ivs_buf_release(&out);
  ivs_buf_release(&tmp);
  if (rc == IVS_ENOMEM) tk_fail(rc, path, "out of memory");
  return rc;
}

void tk_added_release(ivs_tokenizer *t) {
  for (size_t i = 0; i < t->nadded; i++) {
    if (t->added[i].match != t->added[i].content) free(t->added[i].match);
    free(t->added[i].content);
  }
  free(t->added);
  free(t->amap);
  free(t->is_special);
  for (int k = 0; k < 2; k++) free(t->trie[k].node);
}

/* ---- splitting ---- */

/* Rust regex \w at the end of s[0..n) / at the start of s[0..n). */
static int ends_with_word(const char *s, size_t n) {
  size_t st;
  return n && tk_is_rust_word(tk_prev(s, n, &st));
}

static int starts_with_word(const char *s, size_t n) {
  size_t adv;
  return n && tk_is_rust_word(tk_next(s, n, &adv));
}

/* HF's find_matches on one piece: the matches, each widened by its flags,
 * and the text between them. */
static int split_piece(const ivs_tokenizer *t, const tk_trie *tr, tk_work *w, tk_piece pc) {
  const char *s = w->arena.data + pc.off;
  size_t n = pc.len, start_offset = 0, i = 0, mlen = 0, adv, st;
  int rc = 0;
  while (i < n && !rc) {
    if (tr->root[(unsigned char)s[i]] < 0) {
      i++;
      continue;
    }
    int32_t k = trie_longest(tr, s + i, n - i, &mlen);
    if (k < 0) {
      i++;
      continue;
    }
    const tk_added *a = &t->added[k];
    size_t start = i, stop = i + mlen;
    i = stop; /* the search goes on after the match, whatever the flags make of it */
    if (a->single_word && (ends_with_word(s, start) || starts_with_word(s + stop, n - stop))) continue;
    if (a->lstrip) {
      size_t ns = start;
      while (ns > 0 && tk_is_space(tk_prev(s, ns, &st))) ns = st;
      start = ns > start_offset ? ns : start_offset;
    }
    if (a->rstrip)
      while (stop < n && tk_is_space(tk_next(s + stop, n - stop, &adv))) stop += adv;
    if (start_offset < start) rc = tk_emit(w, pc.off + start_offset, start - start_offset, -1, pc.first && start_offset == 0);
    if (!rc && w->nq == w->capq && ivs_grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q, 64)) rc = IVS_ENOMEM;
    if (!rc) w->q[w->nq++] = (tk_piece){(uint32_t)(pc.off + start), (uint32_t)(stop > start ? stop - start : 0), a->id, 0};
    start_offset = stop;
  }
  if (!rc && start_offset < n) rc = tk_emit(w, pc.off + start_offset, n - start_offset, -1, pc.first && start_offset == 0);
  return rc;
}

int tk_added_split(const ivs_tokenizer *t, tk_work *w, int normalized) {
  const tk_trie *tr = &t->trie[normalized];
  int rc = 0;
  for (size_t k = 0; k < w->np && !rc; k++) {
    tk_piece pc = w->p[k];
    rc = pc.added >= 0 ? tk_emit(w, pc.off, pc.len, pc.added, pc.first) : split_piece(t, tr, w, pc);
  }
  tk_swap(w);
  return rc;
}

#include "export/tokrules.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"

/* The tail re-tokenized with each class starts at a word: a space, then an
 * ASCII letter, after a character that is not whitespace.  Every supported
 * pre-tokenizer pattern (GPT-2's, Llama-3's) starts a piece there and looks
 * at most one character past a piece; both characters are the prompt's, so
 * the pieces before the cut are the same with any class after the prompt,
 * NFC cannot compose across a space, and ByteLevel's add_prefix_space leaves
 * a text that starts with a space alone.  What could still reach from before
 * the cut into the class is an added token holding the whole tail: the tail
 * is at least TAIL_BYTES long.  No such word among the last TAIL_TOKENS
 * tokens: the texts are tokenized whole. */
#define TAIL_BYTES 16
#define TAIL_TOKENS 64
#define SHOW_TOKENS 4 /* tokens listed in a message, then "..." */
#define SHOW_TOKEN_BYTES 24
#define SHOW_CLASS_BYTES 40

/* ---- per-thread scratch: buffers and the tokens of classes seen before ---- */

typedef struct {
  uint64_t h; /* 0: empty */
  char *s;
  size_t len;
  int32_t *ids;
  size_t n;
} class_ent;

#define CACHE_SLOTS 4096     /* a power of two */
#define CACHE_FILL 3072      /* entries kept at most */
#define CACHE_MAX_CLASS 256  /* longer classes are tokenized each time */

/* One class of the current example. */
typedef struct {
  int32_t *ids; /* its tokens alone */
  size_t n;
  int owned;    /* ids are the scratch's to free (else they live in the cache) */
  int32_t first; /* its first scored token, or -1 */
} class_toks;

struct ivs_tokscratch {
  char *text;
  size_t textcap;
  int32_t *joint;
  size_t jointcap;
  class_ent *cache; /* CACHE_SLOTS, allocated on first use */
  size_t ncache;
  class_toks *cls;
  size_t clscap;
  size_t cuts;
};

size_t ivs_tokscratch_cuts(const ivs_tokscratch *s) { return s->cuts; }

int ivs_tokscratch_new(ivs_tokscratch **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

void ivs_tokscratch_free(ivs_tokscratch *s) {
  if (!s) return;
  for (size_t i = 0; s->cache && i < CACHE_SLOTS; i++)
    if (s->cache[i].h) free(s->cache[i].s), free(s->cache[i].ids);
  free(s->cache);
  free(s->text);
  free(s->joint);
  free(s->cls);
  free(s);
}

/* Encodes, with the line named when the tokenizer refuses the text. */
static int enc(const ivs_tokrules *r, size_t line, const char *s, size_t n, int32_t **ids, size_t *k) {
  int rc = ivs_tokenizer_encode(r->tok, s, n, ids, k);
  if (rc && rc != IVS_ENOMEM) ivs_error_prefix("line %zu: cannot tokenize", line);
  return rc;
}

/* The tokens of class text s alone; *owned says whether the caller frees them
 * (not when they live in the cache). */
static int class_ids(const ivs_tokrules *r, ivs_tokscratch *s, size_t line, const char *c, size_t len, int32_t **ids,
                     size_t *n, int *owned) {
  class_ent *e = NULL;
  uint64_t h = 0;
  if (len <= CACHE_MAX_CLASS) {
    if (!s->cache && !(s->cache = calloc(CACHE_SLOTS, sizeof *s->cache))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    h = ivs_hash_bytes(17, c, len) | 1;
    size_t j = h & (CACHE_SLOTS - 1);
    while (s->cache[j].h && !(s->cache[j].h == h && s->cache[j].len == len && !memcmp(s->cache[j].s, c, len)))
      j = (j + 1) & (CACHE_SLOTS - 1);
    e = &s->cache[j];
    if (e->h) {
      *ids = e->ids, *n = e->n, *owned = 0;
      return 0;
    }
  }
  int rc = enc(r, line, c, len, ids, n);
  if (rc) return rc;
  *owned = 1;
  if (e && s->ncache < CACHE_FILL) {
    char *copy = malloc(len + 1);
    if (copy) {
      memcpy(copy, c, len);
      *e = (class_ent){h, copy, len, *ids, *n};
      s->ncache++;
      *owned = 0;
    }
  }
  return 0;
}

/* ---- messages ---- */

typedef struct {
  char *s;
  size_t n, cap;
} msg;

static void put(msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(msg *m, const char *fmt, ...) {
  if (m->n + 1 >= m->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(m->s + m->n, m->cap - m->n, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  m->n = (size_t)k < m->cap - m->n ? m->n + (size_t)k : m->cap - 1;
}

/* s[0..n) quoted as a JSON string would be (control characters escaped),
 * cut after about `max` bytes on a character boundary with "..." after. */
static void put_quoted(msg *m, const char *s, size_t n, size_t max) {
  put(m, "\"");
  size_t i = 0;
  for (; i < n && i < max; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') put(m, "\\%c", c);
    else if (c == '\n') put(m, "\\n");
    else if (c == '\t') put(m, "\\t");
    else if (c == '\r') put(m, "\\r");
    else if (c < 0x20 || c == 0x7F) put(m, "\\u%04x", c);
    else put(m, "%c", c);
  }
  while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) put(m, "%c", s[i++]); /* finish the character */
  put(m, i < n ? "...\"" : "\"");
}

/* One token, decoded. */
static void put_token(msg *m, const ivs_tokrules *r, int32_t id) {
  char *t = NULL;
  size_t n = 0;
  if (ivs_tokenizer_decode(r->tok, &id, 1, 0, &t, &n) == 0) put_quoted(m, t, n, SHOW_TOKEN_BYTES);
  else put(m, "#%d", (int)id);
  free(t);
}

/* Up to SHOW_TOKENS tokens, space separated. */
static void put_tokens(msg *m, const ivs_tokrules *r, const int32_t *ids, size_t n) {
  for (size_t i = 0; i < n && i < SHOW_TOKENS; i++) {
    if (i) put(m, " ");
    put_token(m, r, ids[i]);
  }
  if (n > SHOW_TOKENS) put(m, " ...");
}

/* Cuts m back to whole UTF-8 characters (vsnprintf may have cut one). */
static void finish_utf8(msg *m) {
  size_t i = m->n, back = 0;
  while (i > 0 && back < 4 && ((unsigned char)m->s[i - 1] & 0xC0) == 0x80) i--, back++;
  if (i > 0 && ((unsigned char)m->s[i - 1] & 0x80)) {
    unsigned char lead = (unsigned char)m->s[i - 1];
    size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (need != back) m->n = i - 1;
  }
  m->s[m->n] = '\0';
}

typedef struct {
  const ivs_tokrules *r;
  ivs_tokscratch *s;
  const ivs_tok_example *ex;
  ivs_vdiag d;
  msg m;
  ivs_tok_diag_fn fn;
  void *ud;
} out;

static void start(out *o, const char *rule, const char *field, size_t column) {
  o->d.is_error = 0;
  o->d.line = o->ex->line;
  o->d.column = column;
  o->d.rule = rule;
  snprintf(o->d.field, sizeof o->d.field, "%s", field);
  o->m = (msg){o->d.message, 0, sizeof o->d.message};
  o->d.message[0] = '\0';
}

static int send(out *o) {
  finish_utf8(&o->m);
  return o->fn(&o->d, o->ud);
}

/* "class 2 (" yes")" or "the completion (" yes")" */
static void put_class(out *o, size_t j) {
  if (o->ex->type == IVS_TYPE_SEQUENCE_PROB) put(&o->m, "the completion (");
  else put(&o->m, "class %zu (", j);
  put_quoted(&o->m, o->ex->classes[j], o->ex->class_lens[j], SHOW_CLASS_BYTES);
  put(&o->m, ")");
}

/* ---- the checks ---- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int word_start(const char *p, size_t len, size_t at) {
  if (at == 0 || at + 1 >= len || p[at] != ' ' || is_space(p[at - 1])) return 0;
  char c = p[at + 1];
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One prompt's tokens, and where the tail re-tokenized with each class
 * starts: tokens [0, k) cover bytes [0, cut).  k == cut == 0: whole texts. */
typedef struct {
  const char *p;
  size_t len;
  int32_t *ids;
  size_t n, k, cut;
} prompt_toks;

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
  return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

/* Decodes ids[i-g+1..i] and checks it is the text just before byte `end`. */
static int tail_matches(const ivs_tokrules *r, const prompt_toks *pt, size_t i, size_t g, size_t end, size_t *len) {
  char *t = NULL;
  size_t n = 0;
  int ok = ivs_tokenizer_decode(r->tok, pt->ids + i + 1 - g, g, 0, &t, &n) == 0 && n <= end &&
           !memcmp(pt->p + end - n, t, n);
  free(t);
  *len = n;
  return ok;
}

static int plan_cut(const ivs_tokrules *r, ivs_tokscratch *s, size_t line, prompt_toks *pt) {
  pt->k = pt->cut = 0;
  if (r->whole || pt->len < 2 * TAIL_BYTES || pt->n < 4) return 0;
  size_t end = pt->len, i = pt->n - 1, seen = 0;
  while (i >= 1 && seen < TAIL_TOKENS) {
    size_t g = 1, n = 0;
    /* a character split over several tokens decodes only with all of them */
    while (g <= 4 && g <= i && !tail_matches(r, pt, i, g, end, &n)) g++;
    if (g > 4 || g > i) return 0;
    end -= n;
    i -= g;
    seen += g;
    if (pt->len - end >= TAIL_BYTES && word_start(pt->p, pt->len, end)) {
      /* tokens [0, i] cover [0, end): the tail, tokenized alone, must give back the rest */
      int32_t *t;
      size_t nt;
      int rc = enc(r, line, pt->p + end, pt->len - end, &t, &nt);
      if (rc) return rc;
      if (same_ids(t, nt, pt->ids + i + 1, pt->n - i - 1)) pt->k = i + 1, pt->cut = end, s->cuts++;
      free(t);
      return 0;
    }
  }
  return 0;
}

static int grow_text(ivs_tokscratch *s, size_t need) {
  return ivs_grow((void **)&s->text, &s->textcap, need, 1, 4096);
}

/* tokenize(prompt + class): the prompt's tokens [0, k) and the tail + class
 * tokenized, into s->joint. */
static int joint_ids(const ivs_tokrules *r, ivs_tokscratch *s, size_t line, const prompt_toks *pt, const char *c,
                     size_t clen, size_t *nj) {
  size_t tl = pt->len - pt->cut;
  if (tl + clen < tl || grow_text(s, tl + clen + 1)) return ivs_error_set(IVS_ENOMEM, "out of memory");
  memcpy(s->text, pt->p + pt->cut, tl);
  memcpy(s->text + tl, c, clen);
  int32_t *t;
  size_t nt;
  int rc = enc(r, line, s->text, tl + clen, &t, &nt);
  if (rc) return rc;
  if (ivs_grow((void **)&s->joint, &s->jointcap, pt->k + nt + 1, sizeof *s->joint, 1024)) {
    free(t);
    return IVS_ENOMEM;
  }
  if (pt->k) memcpy(s->joint, pt->ids, pt->k * sizeof *pt->ids);
  if (nt) memcpy(s->joint + pt->k, t, nt * sizeof *t);
  free(t);
  *nj = pt->k + nt;
  return 0;
}

static int trailing_space(const prompt_toks *pt) { return pt->len && is_space(pt->p[pt->len - 1]); }

/* token-boundary for class j after prompt field f. */
static int boundary(out *o, size_t f, const prompt_toks *pt, size_t j, const int32_t *joint, size_t nj, size_t nc) {
  size_t l = 0;
  while (l < pt->n && l < nj && joint[l] == pt->ids[l]) l++;
  if (l == pt->n && nj - pt->n == nc) return 0;
  const ivs_tok_example *ex = o->ex;
  int logodds = ivs_type_is_logodds(ex->type);
  const char *pf = ex->prompt_field[f];
  start(o, "token-boundary", ex->type == IVS_TYPE_SEQUENCE_PROB ? "completion" : "classes", ex->classes_column);
  put_class(o, j);
  if (l < pt->n) {
    put(&o->m, " does not start on a token boundary after the %s: its last token%s ", pf, pt->n - l > 1 ? "s" : "");
    put_tokens(&o->m, o->r, pt->ids + l, pt->n - l);
    put(&o->m, " and the %s become ", ex->type == IVS_TYPE_SEQUENCE_PROB ? "completion" : "class");
    put_tokens(&o->m, o->r, joint + l, nj - l);
  } else {
    put(&o->m, " is %zu token%s alone but %zu after the %s", nc, nc == 1 ? "" : "s", nj - pt->n, pf);
  }
  if (logodds) {
    put(&o->m, "; log-odds scoring asks for the class's token after the %s's own tokens, a split the text does not have",
        pf);
  } else if (nc <= nj) {
    if (nc == 1) put(&o->m, "; the prize scored the last token, ");
    else put(&o->m, "; the prize scored the last %zu tokens, ", nc);
    put_tokens(&o->m, o->r, joint + nj - nc, nc);
  }
  if (trailing_space(pt)) put(&o->m, " (the %s ends in whitespace: move it to the start of the classes)", pf);
  return send(o);
}

/* max-tokens for prompt field f: its longest prompt + class, class j. */
static int too_long(out *o, size_t f, const prompt_toks *pt, size_t j, size_t total, size_t special, size_t max) {
  const ivs_tok_example *ex = o->ex;
  int seq = ex->type == IVS_TYPE_SEQUENCE_PROB;
  start(o, "max-tokens", ex->prompt_field[f], ex->prompt_column[f]);
  put(&o->m, "%s + ", ex->prompt_field[f]);
  if (seq) put(&o->m, "completion");
  else put(&o->m, "class %zu", j);
  put(&o->m, " is %zu tokens (the %s %zu", total, ex->prompt_field[f], pt->n);
  if (special) put(&o->m, ", special tokens %zu", special);
  put(&o->m, "), over --max-tokens %zu: the prize's local models cut such inputs on the right, and the %s with them",
      max, seq ? "completion" : "class");
  return send(o);
}

/* single-token for log-odds class j. */
static int not_one_token(out *o, size_t j) {
  const class_toks *c = &o->s->cls[j];
  start(o, "single-token", "classes", o->ex->classes_column);
  put_class(o, j);
  put(&o->m, " is %zu tokens", c->n);
  if (c->n) put(&o->m, ", "), put_tokens(&o->m, o->r, c->ids, c->n);
  put(&o->m, ": a log-odds class must be one token");
  if (c->n) {
    put(&o->m, " (the prize's pipeline used the last, ");
    put_token(&o->m, o->r, c->ids[c->n - 1]);
    put(&o->m, ")");
  }
  return send(o);
}

typedef struct {
  int32_t tok;
  size_t j;
} first_tok;

static int cmp_first(const void *a, const void *b) {
  const first_tok *x = a, *y = b;
  if (x->tok != y->tok) return x->tok < y->tok ? -1 : 1;
  return x->j < y->j ? -1 : x->j > y->j;
}

/* same-first-token: of the classes sharing a first token, the pair found
 * first in class order (smallest second index). */
static int same_first(out *o) {
  size_t nc = o->ex->nclasses, a = 0, b = 0;
  const class_toks *c = o->s->cls;
  if (nc <= 64) {
    for (size_t j = 1; j < nc && !b; j++)
      for (size_t i = 0; i < j; i++)
        if (c[j].first >= 0 && c[i].first == c[j].first) {
          a = i, b = j;
          break;
        }
  } else {
    first_tok *v = malloc(nc * sizeof *v);
    if (!v) return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t j = 0; j < nc; j++) v[j] = (first_tok){c[j].first, j};
    qsort(v, nc, sizeof *v, cmp_first);
    /* in each run of one token, its two smallest indexes; the run whose second is smallest */
    for (size_t i = 0; i + 1 < nc; i++)
      if (v[i].tok >= 0 && v[i + 1].tok == v[i].tok && (i == 0 || v[i - 1].tok != v[i].tok) && (!b || v[i + 1].j < b))
        a = v[i].j, b = v[i + 1].j;
    free(v);
  }
  if (!b) return 0;
  start(o, "same-first-token", "classes", o->ex->classes_column);
  put(&o->m, "classes %zu and %zu both start with the token ", a, b);
  put_token(&o->m, o->r, c[a].first);
  if (ivs_type_is_logodds(o->ex->type)) put(&o->m, ": as one-token log-odds classes they are the same");
  else put(&o->m, " after the prompt: the first scored token does not tell them apart");
  return send(o);
}

int ivs_tokrules_check(const ivs_tokrules *r, ivs_tokscratch *s, const ivs_tok_example *ex, size_t *longest,
                       ivs_tok_diag_fn fn, void *ud) {
  *longest = 0;
  size_t max = r->max_tokens ? r->max_tokens : IVS_TOK_DEFAULT_MAX, nc = ex->nclasses, got = 0;
  const int32_t *sp;
  size_t npre, nsuf;
  ivs_tokenizer_special_prefix(r->tok, &sp, &npre);
  ivs_tokenizer_special_suffix(r->tok, &sp, &nsuf);
  int logodds = ivs_type_is_logodds(ex->type), rc = 0;
  if (ivs_grow((void **)&s->cls, &s->clscap, nc + 1, sizeof *s->cls, 16)) return IVS_ENOMEM;
  for (; got < nc && !rc; got++) {
    class_toks *c = &s->cls[got];
    c->first = -1;
    if ((rc = class_ids(r, s, ex->line, ex->classes[got], ex->class_lens[got], &c->ids, &c->n, &c->owned))) break;
  }
  out o = {r, s, ex, {0}, {0}, fn, ud};
  prompt_toks pt = {0};
  for (size_t f = 0; f < 2 && !rc; f++) {
    if (!ex->prompt[f]) continue;
    pt = (prompt_toks){ex->prompt[f], ex->prompt_len[f], NULL, 0, 0, 0};
    if ((rc = enc(r, ex->line, pt.p, pt.len, &pt.ids, &pt.n)) || (rc = plan_cut(r, s, ex->line, &pt))) break;
    size_t top = 0, top_j = 0;
    for (size_t j = 0; j < nc && !rc; j++) {
      class_toks *c = &s->cls[j];
      size_t nj = 0;
      if ((rc = joint_ids(r, s, ex->line, &pt, ex->classes[j], ex->class_lens[j], &nj))) break;
      if (j == 0 || nj + npre + nsuf > top) top = nj + npre + nsuf, top_j = j;
      /* the first token the prize scored (log-odds: the class alone's) */
      if (f == 0) c->first = logodds ? (c->n ? c->ids[0] : -1) : c->n && c->n <= nj ? s->joint[nj - c->n] : -1;
      rc = boundary(&o, f, &pt, j, s->joint, nj, c->n);
    }
    if (!rc && top > *longest) *longest = top;
    if (!rc && nc && top > max) rc = too_long(&o, f, &pt, top_j, top, npre + nsuf, max);
    free(pt.ids);
    pt.ids = NULL;
  }
  free(pt.ids);
  for (size_t j = 0; logodds && j < nc && !rc; j++)
    if (s->cls[j].n != 1) rc = not_one_token(&o, j);
  if (!rc && ex->type != IVS_TYPE_SEQUENCE_PROB) rc = same_first(&o);
  for (size_t j = 0; j < got && j < nc; j++)
    if (s->cls[j].owned) free(s->cls[j].ids);
  return rc;
}

/* Patterns as Hugging Face runs them (Oniguruma, Ruby syntax) through PCRE2
 * with JIT, and the cutting of a piece into matches and the text between.
 *
 * The two engines agree on \p{..}, \d, classes, look-around and (?i); where
 * they differ the pattern is rewritten before PCRE2 compiles it:
 *   \s  White_Space (Oniguruma includes U+0085, PCRE2's \s does not)
 *   \w  Oniguruma's word: letters, marks, numbers (No too), connector
 *       punctuation and the circled and squared letters (Other_Alphabetic)
 *   \h  a hexadecimal digit (PCRE2: horizontal space)
 *   ^ $ line anchors (Ruby), hence PCRE2_MULTILINE
 * Inside a class \S, \W and \H stay PCRE2's (no tokenizer uses them). */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/grow.h"
#include "tokenizer/internal.h"

#define WS_CLASS "\\t\\n\\x0B\\f\\r\\x{85}\\p{Z}"
#define WORD_CLASS "\\p{L}\\p{M}\\p{N}\\p{Pc}\\x{24B6}-\\x{24E9}\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}"
#define HEX_CLASS "0-9a-fA-F"

static int translate(const char *pat, size_t n, ivs_buf *out) {
  int rc = 0, in_class = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    char c = pat[i];
    if (c == '\\' && i + 1 < n) {
      char e = pat[++i];
      const char *cls = e == 's' || e == 'S' ? WS_CLASS : e == 'w' || e == 'W' ? WORD_CLASS : e == 'h' || e == 'H' ? HEX_CLASS : NULL;
      int neg = e == 'S' || e == 'W' || e == 'H';
      if (!cls || (in_class && neg)) {
        if (!(rc = ivs_buf_putc(out, '\\'))) rc = ivs_buf_putc(out, e);
      } else if (in_class) {
        rc = ivs_buf_puts(out, cls);
      } else {
        if (!(rc = ivs_buf_puts(out, neg ? "[^" : "["))) rc = ivs_buf_puts(out, cls);
        if (!rc) rc = ivs_buf_putc(out, ']');
      }
      continue;
    }
    if (in_class && c == '[' && i + 1 < n && pat[i + 1] == ':') { /* [:alpha:] */
      const char *end = memchr(pat + i, ']', n - i);
      size_t k = end ? (size_t)(end - pat) + 1 : n;
      rc = ivs_buf_append(out, pat + i, k - i);
      i = k - 1;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = 1;
      rc = ivs_buf_putc(out, c);
      /* a ']' right after '[' or '[^' is a literal */
      if (!rc && i + 1 < n && pat[i + 1] == '^') rc = ivs_buf_putc(out, pat[++i]);
      if (!rc && i + 1 < n && pat[i + 1] == ']') rc = ivs_buf_append(out, "\\]", 2), i++;
      continue;
    }
    if (in_class && c == ']') in_class = 0;
    rc = ivs_buf_putc(out, c);
  }
  return rc;
}

int tk_regex_compile(pcre2_code **out, const char *pat, size_t n, int literal, const char *path, const char *what) {
  ivs_buf b = IVS_BUF_INIT;
  int rc = literal ? 0 : translate(pat, n, &b);
  if (rc) return rc;
  int err;
  PCRE2_SIZE at;
  uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP | PCRE2_MULTILINE);
  *out = pcre2_compile((PCRE2_SPTR)(literal ? pat : b.data ? b.data : ""), literal ? n : b.len, opts, &err, &at, NULL);
  ivs_buf_release(&b);
  if (!*out) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return ivs_error_set(IVS_EINVAL, "%s: %s: regex '%.*s' does not compile: %s", path, what, (int)(n > 200 ? 200 : n), pat,
                         (const char *)msg);
  }
  pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* the interpreter runs it when JIT is unavailable */
  return 0;
}

static int push(tk_segs *s, size_t a, size_t b, int m) {
  if (s->n == s->cap && ivs_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v, 64)) return IVS_ENOMEM;
  s->v[s->n++] = (tk_seg){(uint32_t)a, (uint32_t)b, m};
  return 0;
}

int tk_regex_segments(const pcre2_code *re, const char *s, size_t n, tk_segs *out) {
  out->n = 0;
  if (!out->md && !(out->md = pcre2_match_data_create(8, NULL))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t prev = 0, pos = 0, last_match_end = SIZE_MAX;
  int rc = 0;
  while (pos <= n && !rc) {
    int r = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, out->md, NULL);
    if (r == PCRE2_ERROR_NOMATCH) break;
    if (r < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(r, msg, sizeof msg);
      return ivs_error_set(IVS_ELIMIT, "regex match failed: %s", (const char *)msg);
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(out->md);
    size_t a = ov[0], b = ov[1];
    if (a == b && last_match_end == b) { /* Oniguruma's iterator: no empty match right after a match */
      pos = b < n ? b + (size_t)(((unsigned char)s[b] < 0xC0) ? 1 : ((unsigned char)s[b] < 0xE0) ? 2
                                                                    : ((unsigned char)s[b] < 0xF0) ? 3 : 4)
                  : b + 1;
      continue;
    }
    last_match_end = b;
    pos = b;
    if (prev != a) rc = push(out, prev, a, 0);
    if (!rc) rc = push(out, a, b, 1);
    prev = b;
  }
  if (!rc && prev != n) rc = push(out, prev, n, 0);
  return rc;
}

int tk_char_segments(int (*pred)(int32_t c, uint32_t arg), uint32_t arg, const char *s, size_t n, tk_segs *out) {
  out->n = 0;
  size_t last = 0, adv;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i += adv) {
    int32_t c = tk_next(s + i, n - i, &adv);
    if (!pred(c, arg)) continue;
    if (last < i) rc = push(out, last, i, 0);
    if (!rc) rc = push(out, i, i + adv, 1);
    last = i + adv;
  }
  if (!rc && n > last) rc = push(out, last, n, 0);
  return rc;
}

void tk_segs_behave(tk_segs *s, int behavior, int invert) {
  tk_seg *v = s->v;
  size_t nv = s->n, no = 0;
  if (invert)
    for (size_t i = 0; i < nv; i++) v[i].m = !v[i].m;
  int pm = 0;
  switch (behavior) {
  case TK_REMOVED:
    for (size_t i = 0; i < nv; i++)
      if (!v[i].m) v[no++] = v[i];
    break;
  case TK_ISOLATED: no = nv; break;
  case TK_MERGED_PREV:
    for (size_t i = 0; i < nv; i++) {
      int m = v[i].m;
      if (m && !pm && no) v[no - 1].b = v[i].b;
      else v[no++] = v[i];
      pm = m;
    }
    break;
  case TK_CONTIGUOUS:
    for (size_t i = 0; i < nv; i++) {
      int m = v[i].m;
      if (m == pm && no) v[no - 1].b = v[i].b;
      else v[no++] = v[i];
      pm = m;
    }
    break;
  case TK_MERGED_NEXT: { /* folded from the right into the tail of v */
    size_t k = nv;
    for (size_t i = nv; i-- > 0;) {
      int m = v[i].m;
      if (m && !pm && k < nv) v[k].a = v[i].a;
      else v[--k] = v[i];
      pm = m;
    }
    memmove(v, v + k, (nv - k) * sizeof *v);
    no = nv - k;
    break;
  }
  }
  for (size_t i = 0; i < no; i++) v[i].m = 0;
  s->n = no;
}

int tk_replace_all(const pcre2_code *re, const char *content, size_t content_len, const char *s, size_t n, ivs_buf *out,
                   pcre2_match_data **md) {
  ivs_buf_clear(out);
  if (!n) return ivs_buf_reserve(out, 1);
  tk_segs segs = {NULL, 0, 0, *md};
  int rc = tk_regex_segments(re, s, n, &segs);
  *md = segs.md;
  for (size_t i = 0; i < segs.n && !rc; i++) {
    const tk_seg *g = &segs.v[i];
    rc = g->m ? ivs_buf_append(out, content, content_len) : ivs_buf_append(out, s + g->a, g->b - g->a);
  }
  if (!rc) rc = ivs_buf_reserve(out, 1);
  free(segs.v);
  return rc;
}

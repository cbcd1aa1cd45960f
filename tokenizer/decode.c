/* Decoding: ids to token strings, then the decoders in turn over the list of
 * strings (HF's decode_chain), then the strings joined.  ByteLevel, Metaspace,
 * Replace, ByteFallback, Fuse, Strip and Sequence; without a decoder the
 * tokens are joined with spaces, as HF does. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "tokenizer/internal.h"

int tk_decoder_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth) {
  if (!j || cJSON_IsNull(j)) return 0;
  const char *ty = tk_type(j);
  if (!ty) return tk_fail(IVS_EINVAL, path, "decoder: missing 'type'");
  t->has_decoder = 1;
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "decoders"), *e;
    if (!cJSON_IsArray(l)) return tk_fail(IVS_EINVAL, path, "decoder Sequence: 'decoders' is not an array");
    if (depth >= TK_MAX_DEPTH) return tk_fail(IVS_ELIMIT, path, "decoder: Sequences nested too deep");
    cJSON_ArrayForEach(e, l) {
      int rc = tk_decoder_load(t, e, path, depth + 1);
      if (rc) return rc;
    }
    return 0;
  }
  static const char *const names[] = {"ByteLevel", "Metaspace", "Replace", "ByteFallback", "Fuse", "Strip"};
  int type = -1;
  for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
    if (strcmp(ty, names[i]) == 0) type = i;
  if (type < 0) return ivs_error_set(IVS_EINVAL, "%s: decoder type '%s' is not supported", path, ty);
  if (t->ndec == TK_MAX_STEPS) return tk_fail(IVS_ELIMIT, path, "decoder: more than 32 decoders");
  tk_dec *d = &t->dec[t->ndec++];
  memset(d, 0, sizeof *d);
  d->type = type;
  if (type == D_METASPACE) {
    int32_t c = tk_char_field(j, "replacement");
    if (c < 0) return tk_fail(IVS_EINVAL, path, "decoder Metaspace: 'replacement' is not one character");
    d->ch = (uint32_t)c;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
    d->prepend = PREPEND_ALWAYS;
    if (cJSON_IsString(ps)) d->prepend = !strcmp(ps->valuestring, "never") ? PREPEND_NEVER : !strcmp(ps->valuestring, "first") ? PREPEND_FIRST : PREPEND_ALWAYS;
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space"))) d->prepend = PREPEND_NEVER;
  } else if (type == D_REPLACE) {
    return tk_replace_load(j, &d->re, &d->content, &d->content_len, path, "decoder Replace");
  } else if (type == D_STRIP) {
    int32_t c = tk_char_field(j, "content");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "start"), *b = cJSON_GetObjectItemCaseSensitive(j, "stop");
    if (c < 0 || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || b->valuedouble < 0 ||
        a->valuedouble > 1e6 || b->valuedouble > 1e6)
      return tk_fail(IVS_EINVAL, path, "decoder Strip: needs 'content' (one character), 'start' and 'stop'");
    d->ch = (uint32_t)c, d->start = (size_t)a->valuedouble, d->stop = (size_t)b->valuedouble;
  }
  return 0;
}

/* A list of strings: spans into one buffer. */
typedef struct {
  ivs_buf text;
  tk_span *v;
  size_t n, cap;
} strlist;

static int sl_add(strlist *l, const char *s, size_t n) {
  if (l->n == l->cap && ivs_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 64)) return IVS_ENOMEM;
  l->v[l->n++] = (tk_span){(uint32_t)l->text.len, (uint32_t)n};
  return ivs_buf_append(&l->text, s, n);
}

/* Starts a string that the caller appends to l->text; sl_end closes it. */
static void sl_begin(strlist *l, size_t *mark) { *mark = l->text.len; }
static int sl_end(strlist *l, size_t mark) {
  if (l->n == l->cap && ivs_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 64)) return IVS_ENOMEM;
  l->v[l->n++] = (tk_span){(uint32_t)mark, (uint32_t)(l->text.len - mark)};
  return 0;
}

static const char *sl_at(const strlist *l, size_t i) { return l->text.data ? l->text.data + l->v[i].off : ""; }

static void sl_reset(strlist *l) {
  ivs_buf_clear(&l->text);
  l->n = 0;
}

static void sl_release(strlist *l) {
  ivs_buf_release(&l->text);
  free(l->v);
}

/* Appends s with invalid UTF-8 replaced by U+FFFD, one per maximal invalid
 * prefix (Rust's String::from_utf8_lossy). */
static int put_lossy(ivs_buf *b, const unsigned char *s, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n && !rc;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      size_t j = i;
      while (j < n && s[j] < 0x80) j++;
      rc = ivs_buf_append(b, s + i, j - i), i = j;
      continue;
    }
    size_t need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    size_t k = 1;
    while (need && k <= need && i + k < n && s[i + k] >= (k == 1 ? lo : 0x80) && s[i + k] <= (k == 1 ? hi : 0xBF)) k++;
    rc = need && k == need + 1 ? ivs_buf_append(b, s + i, k) : ivs_buf_append(b, "\xEF\xBF\xBD", 3);
    i += k;
  }
  return rc;
}

static int valid_utf8(const unsigned char *s, size_t n) {
  ivs_buf b = IVS_BUF_INIT;
  for (size_t i = 0; i < n; i++)
    if (s[i] >= 0x80) {
      int rc = put_lossy(&b, s, n), ok = !rc && b.len == n && memcmp(b.data, s, n) == 0;
      ivs_buf_release(&b);
      return ok;
    }
  return 1;
}

/* "<0xAB>" (Rust's u8::from_str_radix also takes "+A"), or -1. */
static int byte_token(const char *s, size_t n) {
  if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0 && !(i == 3 && c == '+')) return -1;
    v = d < 0 ? v : v * 16 + d;
  }
  return v;
}

static int step(const ivs_tokenizer *t, const tk_dec *d, strlist *in, strlist *out, pcre2_match_data **md, ivs_buf *tmp) {
  int rc = 0;
  size_t mark, adv;
  switch (d->type) {
  case D_BYTELEVEL: {
    ivs_buf_clear(tmp);
    for (size_t i = 0; i < in->n && !rc; i++) {
      const char *s = sl_at(in, i);
      size_t n = in->v[i].len, m = tmp->len;
      int mapped = 1;
      for (size_t j = 0; j < n && mapped && !rc; j += adv) {
        int32_t c = tk_next(s + j, n - j, &adv);
        if (c < 0 || c >= 324 || t->cp_byte[c] < 0) mapped = 0;
        else rc = ivs_buf_putc(tmp, (char)t->cp_byte[c]);
      }
      if (!mapped && !rc) tmp->len = m, rc = ivs_buf_append(tmp, s, n);
    }
    sl_begin(out, &mark);
    if (!rc) rc = put_lossy(&out->text, (const unsigned char *)(tmp->data ? tmp->data : ""), tmp->len);
    return rc ? rc : sl_end(out, mark);
  }
  case D_FUSE:
    sl_begin(out, &mark);
    for (size_t i = 0; i < in->n && !rc; i++) rc = ivs_buf_append(&out->text, sl_at(in, i), in->v[i].len);
    return rc ? rc : sl_end(out, mark);
  case D_BYTE_FALLBACK: {
    ivs_buf_clear(tmp);
    for (size_t i = 0; i <= in->n && !rc; i++) {
      const char *s = i < in->n ? sl_at(in, i) : NULL;
      int b = s ? byte_token(s, in->v[i].len) : -1;
      if (b >= 0) {
        rc = ivs_buf_putc(tmp, (char)b);
        continue;
      }
      if (tmp->len) { /* the bytes so far as one string, or one U+FFFD per byte */
        if (valid_utf8((const unsigned char *)tmp->data, tmp->len)) rc = sl_add(out, tmp->data, tmp->len);
        else
          for (size_t k = 0; k < tmp->len && !rc; k++) rc = sl_add(out, "\xEF\xBF\xBD", 3);
        ivs_buf_clear(tmp);
      }
      if (s && !rc) rc = sl_add(out, s, in->v[i].len);
    }
    return rc;
  }
  case D_METASPACE:
    for (size_t i = 0; i < in->n && !rc; i++) {
      const char *s = sl_at(in, i);
      size_t n = in->v[i].len;
      sl_begin(out, &mark);
      for (size_t j = 0; j < n && !rc; j += adv) {
        int32_t c = tk_next(s + j, n - j, &adv);
        if ((uint32_t)c != d->ch) rc = ivs_buf_append(&out->text, s + j, adv);
        else if (i != 0 || d->prepend == PREPEND_NEVER) rc = ivs_buf_putc(&out->text, ' ');
      }
      if (!rc) rc = sl_end(out, mark);
    }
    return rc;
  case D_REPLACE:
    for (size_t i = 0; i < in->n && !rc; i++) {
      rc = tk_replace_all(d->re, d->content, d->content_len, sl_at(in, i), in->v[i].len, tmp, md);
      if (!rc) rc = sl_add(out, tmp->data, tmp->len);
    }
    return rc;
  case D_STRIP:
    for (size_t i = 0; i < in->n && !rc; i++) {
      const char *s = sl_at(in, i);
      size_t n = in->v[i].len, a = 0, b = n, st;
      for (size_t k = 0; k < d->start && a < n; k++) {
        if ((uint32_t)tk_next(s + a, n - a, &adv) != d->ch) break;
        a += adv;
      }
      for (size_t k = 0; k < d->stop && b > a; k++) {
        if ((uint32_t)tk_prev(s, b, &st) != d->ch) break;
        b = st;
      }
      rc = sl_add(out, s + a, b - a);
    }
    return rc;
  }
  return 0;
}

int ivs_tokenizer_decode(const ivs_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **text,
                         size_t *len) {
  *text = NULL;
  *len = 0;
  strlist a = {IVS_BUF_INIT, NULL, 0, 0}, b = {IVS_BUF_INIT, NULL, 0, 0};
  ivs_buf tmp = IVS_BUF_INIT, out = IVS_BUF_INIT;
  pcre2_match_data *md = NULL;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    size_t tl;
    const char *tk = ivs_tokenizer_id_to_token(t, ids[i], &tl);
    if (!tk) rc = ivs_error_set(IVS_EINVAL, "id %d has no token", (int)ids[i]);
    else if (!(skip_special && t->is_special && t->is_special[ids[i]])) rc = sl_add(&a, tk, tl);
  }
  strlist *cur = &a, *next = &b;
  for (size_t k = 0; k < t->ndec && !rc; k++) {
    sl_reset(next);
    rc = step(t, &t->dec[k], cur, next, &md, &tmp);
    strlist *x = cur;
    cur = next, next = x;
  }
  for (size_t i = 0; i < cur->n && !rc; i++) {
    if (i && !t->has_decoder) rc = ivs_buf_putc(&out, ' ');
    if (!rc) rc = ivs_buf_append(&out, sl_at(cur, i), cur->v[i].len);
  }
  if (!rc) rc = ivs_buf_reserve(&out, 1);
  sl_release(&a);
  sl_release(&b);
  ivs_buf_release(&tmp);
  pcre2_match_data_free(md);
  if (rc) {
    ivs_buf_release(&out);
    return rc;
  }
  *text = ivs_buf_detach(&out, len);
  return 0;
}

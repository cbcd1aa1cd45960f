/* Normalizers: NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, Strip,
 * StripAccents, Replace, Prepend, ByteLevel and Sequence.  Each piece of
 * text outside the added tokens is normalized on its own, as HF does. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/error.h"
#include "tokenizer/internal.h"

int tk_normalizer_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth) {
  if (!j || cJSON_IsNull(j)) return 0;
  const char *ty = tk_type(j);
  if (!ty) return tk_fail(IVS_EINVAL, path, "normalizer: missing 'type'");
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "normalizers"), *e;
    if (!cJSON_IsArray(l)) return tk_fail(IVS_EINVAL, path, "normalizer Sequence: 'normalizers' is not an array");
    if (depth >= TK_MAX_DEPTH) return tk_fail(IVS_ELIMIT, path, "normalizer: Sequences nested too deep");
    cJSON_ArrayForEach(e, l) {
      int rc = tk_normalizer_load(t, e, path, depth + 1);
      if (rc) return rc;
    }
    return 0;
  }
  static const char *const names[] = {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "StripAccents", "Replace",
                                      "Prepend", "ByteLevel"};
  int type = -1;
  for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
    if (strcmp(ty, names[i]) == 0) type = i;
  if (type < 0) return ivs_error_set(IVS_EINVAL, "%s: normalizer type '%s' is not supported", path, ty);
  if (t->nnorm == TK_MAX_STEPS) return tk_fail(IVS_ELIMIT, path, "normalizer: more than 32 normalizers");
  tk_norm *n = &t->norm[t->nnorm++];
  memset(n, 0, sizeof *n);
  n->type = type;
  if (type == N_STRIP) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "strip_left"), *r = cJSON_GetObjectItemCaseSensitive(j, "strip_right");
    if (!cJSON_IsBool(l) || !cJSON_IsBool(r))
      return tk_fail(IVS_EINVAL, path, "normalizer Strip: 'strip_left' and 'strip_right' must be booleans");
    n->left = cJSON_IsTrue(l), n->right = cJSON_IsTrue(r);
  } else if (type == N_REPLACE) {
    return tk_replace_load(j, &n->re, &n->content, &n->content_len, path, "normalizer Replace");
  } else if (type == N_PREPEND) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prepend");
    if (!cJSON_IsString(p)) return tk_fail(IVS_EINVAL, path, "normalizer Prepend: 'prepend' is not a string");
    n->content_len = strlen(p->valuestring);
    if (!(n->content = strdup(p->valuestring))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  return 0;
}

static int ascii(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return 0;
  return 1;
}

static int unicode_form(int type, const char *s, size_t n, ivs_buf *out) {
  if (ascii(s, n)) return ivs_buf_append(out, s, n); /* every form leaves ASCII as it is */
  int opts = UTF8PROC_STABLE | (type == N_NFC || type == N_NFKC ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE) |
             (type == N_NFKC || type == N_NFKD ? UTF8PROC_COMPAT : 0);
  utf8proc_uint8_t *dst = NULL;
  utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst, (utf8proc_option_t)opts);
  if (k < 0) return ivs_error_set(IVS_EINVAL, "unicode normalization failed: %s", utf8proc_errmsg(k));
  int rc = ivs_buf_append(out, dst, (size_t)k);
  free(dst);
  return rc;
}

static int apply(const ivs_tokenizer *t, const tk_norm *nm, const char *s, size_t n, ivs_buf *out, pcre2_match_data **md) {
  size_t adv;
  int rc = 0;
  switch (nm->type) {
  case N_NFC: case N_NFD: case N_NFKC: case N_NFKD:
    return unicode_form(nm->type, s, n, out);
  case N_LOWERCASE:
    for (size_t i = 0; i < n && !rc; i += adv) rc = tk_put_lower(out, tk_next(s + i, n - i, &adv));
    return rc;
  case N_STRIP: {
    size_t a = 0, b = n, st;
    while (nm->left && a < b && tk_is_space(tk_next(s + a, b - a, &adv))) a += adv;
    while (nm->right && b > a && tk_is_space(tk_prev(s + a, b - a, &st))) b = a + st;
    return ivs_buf_append(out, s + a, b - a);
  }
  case N_STRIP_ACCENTS:
    for (size_t i = 0; i < n && !rc; i += adv)
      if (!tk_is_mark(tk_next(s + i, n - i, &adv))) rc = ivs_buf_append(out, s + i, adv);
    return rc;
  case N_REPLACE:
    return tk_replace_all(nm->re, nm->content, nm->content_len, s, n, out, md);
  case N_PREPEND:
    if (n && (rc = ivs_buf_append(out, nm->content, nm->content_len))) return rc;
    return ivs_buf_append(out, s, n);
  case N_BYTELEVEL:
    for (size_t i = 0; i < n && !rc; i++) rc = ivs_buf_put_utf8(out, t->byte_cp[(unsigned char)s[i]]);
    return rc;
  }
  return 0;
}

int tk_normalize_str(const ivs_tokenizer *t, const char *s, size_t n, ivs_buf *out, ivs_buf *tmp) {
  pcre2_match_data *md = NULL;
  int rc = 0;
  ivs_buf_clear(out);
  if ((rc = ivs_buf_append(out, s, n))) return rc;
  for (size_t k = 0; k < t->nnorm && !rc; k++) {
    ivs_buf_clear(tmp);
    if ((rc = apply(t, &t->norm[k], out->data ? out->data : "", out->len, tmp, &md))) break;
    ivs_buf x = *out; /* the result becomes out; the old text is the next scratch */
    *out = *tmp;
    *tmp = x;
  }
  pcre2_match_data_free(md);
  if (!rc) rc = ivs_buf_reserve(out, 1);
  return rc;
}

int tk_normalize(const ivs_tokenizer *t, tk_work *w) {
  int rc = 0;
  for (size_t k = 0; k < w->np && !rc; k++) {
    tk_piece pc = w->p[k];
    if (pc.added >= 0) {
      rc = tk_emit(w, pc.off, pc.len, pc.added, pc.first);
      continue;
    }
    if ((rc = tk_normalize_str(t, w->arena.data + pc.off, pc.len, &w->tmp, &w->tmp2))) break;
    size_t off = w->arena.len;
    if ((rc = ivs_buf_append(&w->arena, w->tmp.data, w->tmp.len))) break;
    rc = tk_emit(w, off, w->tmp.len, -1, pc.first);
  }
  tk_swap(w);
  return rc;
}

/* Pre-tokenizers: ByteLevel, Split, Metaspace, Digits, Whitespace,
 * WhitespaceSplit, Punctuation, CharDelimiterSplit, BertPreTokenizer and
 * Sequence.  Each one cuts every piece that is not an added token, as HF's
 * PreTokenizedString::split does; empty pieces are dropped. */
#include <string.h>

#include "core/error.h"
#include "tokenizer/internal.h"

/* GPT-2's pattern, as HF's ByteLevel compiles it. */
static const char GPT2_RE[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static tk_pre *new_step(ivs_tokenizer *t, int type, const char *path) {
  if (t->npre == TK_MAX_STEPS) {
    tk_fail(IVS_ELIMIT, path, "pre_tokenizer: more than 32 pre-tokenizers");
    return NULL;
  }
  tk_pre *q = &t->pre[t->npre++];
  memset(q, 0, sizeof *q);
  q->type = type;
  q->behavior = TK_ISOLATED;
  return q;
}

static int behavior(const cJSON *j, int dflt, const char *path, const char *what) {
  static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "behavior");
  if (!b && dflt >= 0) return dflt;
  for (int i = 0; i < 5 && cJSON_IsString(b); i++)
    if (strcmp(b->valuestring, names[i]) == 0) return i;
  return ivs_error_set(IVS_EINVAL, "%s: pre_tokenizer %s: unknown 'behavior' %s", path, what,
                       cJSON_IsString(b) ? b->valuestring : "(not a string)");
}

static size_t encode_utf8(char *o, uint32_t c) {
  if (c < 0x80) return o[0] = (char)c, 1;
  if (c < 0x800) return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3F)), 2;
  if (c < 0x10000) return o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | ((c >> 6) & 0x3F)), o[2] = (char)(0x80 | (c & 0x3F)), 3;
  o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | ((c >> 12) & 0x3F)), o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  o[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

static int load_metaspace(tk_pre *q, const cJSON *j, const char *path) {
  int32_t c = tk_char_field(j, "replacement");
  if (c < 0) return tk_fail(IVS_EINVAL, path, "pre_tokenizer Metaspace: 'replacement' is not one character");
  q->ch = (uint32_t)c;
  q->rep_len = (uint8_t)encode_utf8(q->rep, q->ch);
  q->split = tk_bool(j, "split", 1);
  const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
  q->prepend = PREPEND_ALWAYS;
  if (ps) {
    static const char *const names[] = {"always", "first", "never"};
    q->prepend = -1;
    for (int i = 0; i < 3 && cJSON_IsString(ps); i++)
      if (strcmp(ps->valuestring, names[i]) == 0) q->prepend = i;
    if (q->prepend < 0) return tk_fail(IVS_EINVAL, path, "pre_tokenizer Metaspace: unknown 'prepend_scheme'");
  }
  const cJSON *aps = cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space"); /* the older spelling */
  if (cJSON_IsFalse(aps)) {
    if (q->prepend != PREPEND_NEVER && ps)
      return tk_fail(IVS_EINVAL, path, "pre_tokenizer Metaspace: add_prefix_space does not match prepend_scheme");
    q->prepend = PREPEND_NEVER;
  }
  return 0;
}

int tk_pretokenizer_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth) {
  if (!j || cJSON_IsNull(j)) return 0;
  const char *ty = tk_type(j);
  if (!ty) return tk_fail(IVS_EINVAL, path, "pre_tokenizer: missing 'type'");
  int rc = 0;
  tk_pre *q;
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers"), *e;
    if (!cJSON_IsArray(l)) return tk_fail(IVS_EINVAL, path, "pre_tokenizer Sequence: 'pretokenizers' is not an array");
    if (depth >= TK_MAX_DEPTH) return tk_fail(IVS_ELIMIT, path, "pre_tokenizer: Sequences nested too deep");
    cJSON_ArrayForEach(e, l) if ((rc = tk_pretokenizer_load(t, e, path, depth + 1))) return rc;
    return 0;
  }
  if (strcmp(ty, "ByteLevel") == 0) {
    if (!(q = new_step(t, P_BYTELEVEL, path))) return IVS_ELIMIT;
    q->add_prefix_space = tk_bool(j, "add_prefix_space", 1);
    q->use_regex = tk_bool(j, "use_regex", 1);
    if (q->use_regex) rc = tk_regex_compile(&q->re, GPT2_RE, sizeof GPT2_RE - 1, 0, path, "pre_tokenizer ByteLevel");
  } else if (strcmp(ty, "Split") == 0) {
    if (!(q = new_step(t, P_SPLIT, path))) return IVS_ELIMIT;
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern");
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex"), *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
    const cJSON *s = cJSON_IsString(rx) ? rx : str;
    if (!cJSON_IsString(s)) return tk_fail(IVS_EINVAL, path, "pre_tokenizer Split: 'pattern' is neither Regex nor String");
    if ((q->behavior = behavior(j, -1, path, "Split")) < 0) return q->behavior;
    q->invert = tk_bool(j, "invert", 0);
    rc = tk_regex_compile(&q->re, s->valuestring, strlen(s->valuestring), s == str, path, "pre_tokenizer Split");
  } else if (strcmp(ty, "Metaspace") == 0) {
    if (!(q = new_step(t, P_METASPACE, path))) return IVS_ELIMIT;
    rc = load_metaspace(q, j, path);
  } else if (strcmp(ty, "Digits") == 0) {
    if (!(q = new_step(t, P_DIGITS, path))) return IVS_ELIMIT;
    q->individual = tk_bool(j, "individual_digits", 0);
    q->behavior = q->individual ? TK_ISOLATED : TK_CONTIGUOUS;
  } else if (strcmp(ty, "Whitespace") == 0) {
    if (!new_step(t, P_WHITESPACE, path)) return IVS_ELIMIT;
  } else if (strcmp(ty, "WhitespaceSplit") == 0 || strcmp(ty, "BertPreTokenizer") == 0) {
    if (!(q = new_step(t, P_WHITESPACE_SPLIT, path))) return IVS_ELIMIT;
    q->behavior = TK_REMOVED;
    if (ty[0] == 'B' && !new_step(t, P_PUNCTUATION, path)) return IVS_ELIMIT; /* then punctuation, isolated */
  } else if (strcmp(ty, "Punctuation") == 0) {
    if (!(q = new_step(t, P_PUNCTUATION, path))) return IVS_ELIMIT;
    if ((q->behavior = behavior(j, TK_ISOLATED, path, "Punctuation")) < 0) return q->behavior;
  } else if (strcmp(ty, "CharDelimiterSplit") == 0) {
    if (!(q = new_step(t, P_CHAR_DELIMITER, path))) return IVS_ELIMIT;
    int32_t c = tk_char_field(j, "delimiter");
    if (c < 0) return tk_fail(IVS_EINVAL, path, "pre_tokenizer CharDelimiterSplit: 'delimiter' is not one character");
    q->ch = (uint32_t)c;
    q->behavior = TK_REMOVED;
  } else {
    return ivs_error_set(IVS_EINVAL, "%s: pre_tokenizer type '%s' is not supported", path, ty);
  }
  return rc;
}

/* ---- applying them ---- */

static int is_char(int32_t c, uint32_t ch) { return (uint32_t)c == ch; }
static int is_space(int32_t c, uint32_t u) { return (void)u, tk_is_space(c); }
static int is_numeric(int32_t c, uint32_t u) { return (void)u, tk_is_numeric(c); }
static int is_punct(int32_t c, uint32_t u) { return (void)u, tk_is_punct(c); }

/* The kept segments of w->segs as pieces of the text at arena offset `off`. */
static int emit_segs(tk_work *w, size_t off, int first) {
  int rc = 0;
  for (size_t i = 0; i < w->segs.n && !rc; i++) {
    const tk_seg *g = &w->segs.v[i];
    rc = tk_emit(w, off + g->a, g->b - g->a, -1, first && g->a == 0);
  }
  return rc;
}

/* Whitespace: the runs of word characters and the runs of other characters
 * that are not spaces (HF's \w+|[^\w\s]+, kept; the rest removed). */
static int whitespace(tk_work *w, tk_piece pc) {
  const char *s = w->arena.data + pc.off;
  size_t i = 0, adv;
  int rc = 0;
  while (i < pc.len && !rc) {
    int32_t c = tk_next(s + i, pc.len - i, &adv);
    if (tk_is_space(c)) {
      i += adv;
      continue;
    }
    int word = tk_is_rust_word(c);
    size_t start = i;
    for (i += adv; i < pc.len; i += adv) {
      c = tk_next(s + i, pc.len - i, &adv);
      if (tk_is_space(c) || tk_is_rust_word(c) != word) break;
    }
    rc = tk_emit(w, pc.off + start, i - start, -1, pc.first && start == 0);
  }
  return rc;
}

static int put_bytes(const ivs_tokenizer *t, ivs_buf *b, const char *s, size_t n) {
  int rc = ivs_buf_reserve(b, 2 * n);
  if (rc) return rc;
  char *o = b->data + b->len;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp = t->byte_cp[c];
    if (cp < 0x80) *o++ = (char)cp;
    else *o++ = (char)(0xC0 | (cp >> 6)), *o++ = (char)(0x80 | (cp & 0x3F));
  }
  b->len = (size_t)(o - b->data);
  b->data[b->len] = 0;
  return 0;
}

static int bytelevel(const ivs_tokenizer *t, const tk_pre *q, tk_work *w, tk_piece pc) {
  ivs_buf_clear(&w->tmp);
  int rc = 0;
  if (q->add_prefix_space && w->arena.data[pc.off] != ' ') rc = ivs_buf_putc(&w->tmp, ' ');
  if (!rc) rc = ivs_buf_append(&w->tmp, w->arena.data + pc.off, pc.len);
  if (rc) return rc;
  const char *s = w->tmp.data;
  size_t n = w->tmp.len;
  if (!q->use_regex) {
    size_t off = w->arena.len;
    return (rc = put_bytes(t, &w->arena, s, n)) ? rc : tk_emit(w, off, w->arena.len - off, -1, pc.first);
  }
  if ((rc = tk_regex_segments(q->re, s, n, &w->segs))) return rc;
  for (size_t i = 0; i < w->segs.n && !rc; i++) {
    const tk_seg *g = &w->segs.v[i];
    size_t off = w->arena.len;
    if ((rc = put_bytes(t, &w->arena, s + g->a, g->b - g->a))) break;
    rc = tk_emit(w, off, w->arena.len - off, -1, pc.first && g->a == 0);
  }
  return rc;
}

static int metaspace(const tk_pre *q, tk_work *w, tk_piece pc) {
  const char *s = w->arena.data + pc.off;
  /* spaces become the replacement first, so a leading space counts as one */
  int starts = s[0] == ' ' || (pc.len >= q->rep_len && memcmp(s, q->rep, q->rep_len) == 0);
  int rc = 0;
  ivs_buf_clear(&w->tmp);
  if (!starts && (q->prepend == PREPEND_ALWAYS || (q->prepend == PREPEND_FIRST && pc.first)))
    rc = ivs_buf_append(&w->tmp, q->rep, q->rep_len);
  for (size_t i = 0; i < pc.len && !rc; i++)
    rc = s[i] == ' ' ? ivs_buf_append(&w->tmp, q->rep, q->rep_len) : ivs_buf_putc(&w->tmp, s[i]);
  if (rc) return rc;
  size_t off = w->arena.len;
  if ((rc = ivs_buf_append(&w->arena, w->tmp.data, w->tmp.len))) return rc;
  if (!q->split) return tk_emit(w, off, w->tmp.len, -1, pc.first);
  if ((rc = tk_char_segments(is_char, q->ch, w->arena.data + off, w->tmp.len, &w->segs))) return rc;
  tk_segs_behave(&w->segs, TK_MERGED_NEXT, 0);
  return emit_segs(w, off, pc.first);
}

static int step(const ivs_tokenizer *t, const tk_pre *q, tk_work *w, tk_piece pc) {
  const char *s = w->arena.data + pc.off;
  int rc;
  switch (q->type) {
  case P_BYTELEVEL: return bytelevel(t, q, w, pc);
  case P_METASPACE: return metaspace(q, w, pc);
  case P_WHITESPACE: return whitespace(w, pc);
  case P_SPLIT: rc = tk_regex_segments(q->re, s, pc.len, &w->segs); break;
  case P_DIGITS: rc = tk_char_segments(is_numeric, 0, s, pc.len, &w->segs); break;
  case P_WHITESPACE_SPLIT: rc = tk_char_segments(is_space, 0, s, pc.len, &w->segs); break;
  case P_PUNCTUATION: rc = tk_char_segments(is_punct, 0, s, pc.len, &w->segs); break;
  default: rc = tk_char_segments(is_char, q->ch, s, pc.len, &w->segs); break;
  }
  if (rc) return rc;
  tk_segs_behave(&w->segs, q->behavior, q->invert);
  return emit_segs(w, pc.off, pc.first);
}

int tk_pretokenize(const ivs_tokenizer *t, tk_work *w) {
  for (size_t k = 0; k < t->npre; k++) {
    int rc = 0;
    for (size_t i = 0; i < w->np && !rc; i++) {
      tk_piece pc = w->p[i];
      rc = pc.added >= 0 ? tk_emit(w, pc.off, pc.len, pc.added, pc.first) : step(t, &t->pre[k], w, pc);
    }
    tk_swap(w);
    if (rc) return rc;
  }
  return 0;
}

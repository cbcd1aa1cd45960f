#include "core/pylit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/grow.h"
#include "core/utf8.h"

void ivs_strlist_release(ivs_strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

int ivs_strlist_push(ivs_strlist *l, const char *s, size_t n) {
  if (l->n >= IVS_MAX_CLASSES)
    return ivs_error_set(IVS_ELIMIT, "more than %d classes", IVS_MAX_CLASSES);
  if (ivs_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items, 4)) return IVS_ENOMEM;
  char *copy = malloc(n + 1);
  if (!copy) return ivs_error_set(IVS_ENOMEM, "out of memory");
  memcpy(copy, s, n);
  copy[n] = '\0';
  l->items[l->n++] = copy;
  return 0;
}

typedef struct {
  const char *s;
  size_t len, pos, err_at;
} lexer;

static int fail(lexer *lx, size_t at, const char *msg, const char *detail) {
  lx->err_at = at;
  return ivs_error_set(IVS_EPARSE, "%s%s", msg, detail ? detail : "");
}

static void skip_space(lexer *lx) {
  while (lx->pos < lx->len) {
    char c = lx->s[lx->pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      lx->pos++;
    } else if (c == '#') {
      while (lx->pos < lx->len && lx->s[lx->pos] != '\n') lx->pos++;
    } else {
      break;
    }
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads `digits` hex digits at lx->pos; returns -1 if they are not there. */
static long read_hex(lexer *lx, int digits) {
  if (lx->len - lx->pos < (size_t)digits) return -1;
  long v = 0;
  for (int i = 0; i < digits; i++) {
    int h = hexval(lx->s[lx->pos + (size_t)i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  lx->pos += (size_t)digits;
  return v;
}

static int put_codepoint(lexer *lx, ivs_buf *out, long cp, size_t at) {
  if (cp == 0) return (void)at, ivs_buf_append(out, IVS_NUL, IVS_NUL_LEN);
  if (cp > 0x10FFFF) return fail(lx, at, "escape beyond U+10FFFF", NULL);
  if (cp >= 0xD800 && cp <= 0xDFFF)
    return fail(lx, at, "lone surrogate escape (not valid UTF-8)", NULL);
  return ivs_buf_put_utf8(out, (unsigned long)cp);
}

/* One escape sequence; lx->pos is just after the backslash. */
static int read_escape(lexer *lx, ivs_buf *out) {
  size_t at = lx->pos - 1;
  if (lx->pos >= lx->len) return fail(lx, at, "unterminated string", NULL);
  char c = lx->s[lx->pos++];
  long cp;
  switch (c) {
  case '\n': return 0; /* line continuation */
  case '\\': return ivs_buf_putc(out, '\\');
  case '\'': return ivs_buf_putc(out, '\'');
  case '"': return ivs_buf_putc(out, '"');
  case 'a': return ivs_buf_putc(out, '\a');
  case 'b': return ivs_buf_putc(out, '\b');
  case 'f': return ivs_buf_putc(out, '\f');
  case 'n': return ivs_buf_putc(out, '\n');
  case 'r': return ivs_buf_putc(out, '\r');
  case 't': return ivs_buf_putc(out, '\t');
  case 'v': return ivs_buf_putc(out, '\v');
  case 'x':
    if ((cp = read_hex(lx, 2)) < 0) return fail(lx, at, "truncated \\xXX escape", NULL);
    return put_codepoint(lx, out, cp, at);
  case 'u':
    if ((cp = read_hex(lx, 4)) < 0) return fail(lx, at, "truncated \\uXXXX escape", NULL);
    if (cp >= 0xD800 && cp <= 0xDBFF && lx->len - lx->pos >= 6 && lx->s[lx->pos] == '\\' &&
        lx->s[lx->pos + 1] == 'u') {
      size_t save = lx->pos;
      lx->pos += 2;
      long lo = read_hex(lx, 4);
      if (lo >= 0xDC00 && lo <= 0xDFFF) return put_codepoint(lx, out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), at);
      lx->pos = save;
    }
    return put_codepoint(lx, out, cp, at);
  case 'U':
    if ((cp = read_hex(lx, 8)) < 0) return fail(lx, at, "truncated \\UXXXXXXXX escape", NULL);
    return put_codepoint(lx, out, cp, at);
  case 'N':
    return fail(lx, at, "\\N{...} escapes are not supported; write the character itself", NULL);
  default:
    if (c >= '0' && c <= '7') {
      cp = c - '0';
      for (int i = 0; i < 2 && lx->pos < lx->len && lx->s[lx->pos] >= '0' && lx->s[lx->pos] <= '7'; i++)
        cp = cp * 8 + (lx->s[lx->pos++] - '0');
      return put_codepoint(lx, out, cp, at);
    }
    /* Python keeps unknown escapes as they are. */
    lx->pos--;
    return ivs_buf_putc(out, '\\');
  }
}

/* A typographic quote inside an unterminated string is the usual cause. */
static const char *typographic_hint(const char *s, size_t n) {
  static const char *marks[] = {"\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D"};
  for (size_t i = 0; i + 3 <= n; i++)
    for (size_t k = 0; k < 4; k++)
      if (memcmp(s + i, marks[k], 3) == 0) return " (a typographic quote cannot close a Python string)";
  return NULL;
}

/* One string literal (with optional prefix) appended to `out`. */
static int read_string(lexer *lx, ivs_buf *out) {
  size_t start = lx->pos;
  int raw = 0;
  size_t k = lx->pos;
  while (k < lx->len && k - start < 2 && lx->s[k] && strchr("uUrRbBfF", lx->s[k])) k++;
  if (k >= lx->len || (lx->s[k] != '\'' && lx->s[k] != '"'))
    return fail(lx, start, "expected a quoted string", NULL);
  for (; lx->pos < k; lx->pos++) {
    char p = lx->s[lx->pos];
    if (p == 'b' || p == 'B') return fail(lx, start, "bytes literal where a string was expected", NULL);
    if (p == 'f' || p == 'F') return fail(lx, start, "f-string where a plain string was expected", NULL);
    if (p == 'r' || p == 'R') raw = 1;
  }
  char q = lx->s[lx->pos];
  int triple = lx->len - lx->pos >= 3 && lx->s[lx->pos + 1] == q && lx->s[lx->pos + 2] == q;
  lx->pos += triple ? 3 : 1;
  size_t body = lx->pos;
  for (;;) {
    if (lx->pos >= lx->len)
      return fail(lx, start, "unterminated string", typographic_hint(lx->s + body, lx->len - body));
    char c = lx->s[lx->pos];
    if (c == q) {
      if (!triple) {
        lx->pos++;
        return 0;
      }
      if (lx->len - lx->pos >= 3 && lx->s[lx->pos + 1] == q && lx->s[lx->pos + 2] == q) {
        lx->pos += 3;
        return 0;
      }
    }
    if (c == '\n' && !triple)
      return fail(lx, start, "unterminated string", typographic_hint(lx->s + body, lx->pos - body));
    if (c == '\0') return fail(lx, lx->pos, "NUL character in string", NULL);
    int rc;
    if (c == '\\' && !raw) {
      lx->pos++;
      rc = read_escape(lx, out);
    } else if (c == '\\') { /* raw: the backslash stays and shields the next char */
      size_t n = lx->len - lx->pos >= 2 ? 2 : 1;
      rc = ivs_buf_append(out, lx->s + lx->pos, n);
      lx->pos += n;
    } else {
      rc = ivs_buf_putc(out, c);
      lx->pos++;
    }
    if (rc) return rc;
  }
}

int ivs_pylist_parse(const char *s, size_t len, ivs_strlist *out, size_t *err_offset) {
  lexer lx = {s, len, 0, 0};
  ivs_buf item;
  ivs_buf_init(&item, len + 16);
  int rc = 0;
  memset(out, 0, sizeof *out);

  size_t valid = ivs_utf8_valid_prefix_nul((const unsigned char *)s, len); /* a JSON string's \u0000 arrives so */
  if (valid != len) {
    rc = fail(&lx, valid, "invalid UTF-8", NULL);
    goto done;
  }
  skip_space(&lx);
  if (lx.pos >= len || s[lx.pos] != '[') {
    rc = fail(&lx, lx.pos, lx.pos < len && s[lx.pos] == '(' ? "classes must be a list, not a tuple"
                                                            : "classes must be a list such as [' Yes', ' No']",
              NULL);
    goto done;
  }
  lx.pos++;
  for (;;) {
    skip_space(&lx);
    if (lx.pos < len && s[lx.pos] == ']') {
      lx.pos++;
      break;
    }
    ivs_buf_clear(&item);
    /* adjacent literals concatenate: 'a' "b" == 'ab' */
    int parts = 0;
    while (lx.pos < len && s[lx.pos] != ',' && s[lx.pos] != ']') {
      if ((rc = read_string(&lx, &item))) {
        const char *hint = parts ? typographic_hint(item.data, item.len) : NULL;
        if (rc == IVS_EPARSE && hint) ivs_error_set(rc, "expected ',' or ']' after a string%s", hint);
        goto done;
      }
      parts++;
      skip_space(&lx);
    }
    if (!parts) {
      rc = fail(&lx, lx.pos, lx.pos < len ? "expected a quoted string" : "missing closing ']'", NULL);
      goto done;
    }
    if ((rc = ivs_strlist_push(out, item.data ? item.data : "", item.len))) {
      lx.err_at = lx.pos;
      goto done;
    }
    if (lx.pos >= len) {
      rc = fail(&lx, lx.pos, "missing closing ']'", NULL);
      goto done;
    }
    if (s[lx.pos] == ',') lx.pos++;
  }
  skip_space(&lx);
  if (lx.pos != len) rc = fail(&lx, lx.pos, "unexpected text after the closing ']'", NULL);

done:
  ivs_buf_release(&item);
  if (rc) {
    ivs_strlist_release(out);
    if (err_offset) *err_offset = lx.err_at;
  }
  return rc;
}

/* Python's repr of one str: single quotes unless the text holds ' and no ". */
static int write_str(ivs_buf *b, const char *s) {
  char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
  int rc = ivs_buf_putc(b, q);
  for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
    unsigned char c = *p;
    char esc[8];
    if (c == '\\' || c == (unsigned char)q) {
      esc[0] = '\\', esc[1] = (char)c, esc[2] = 0;
    } else if (c == '\n') {
      strcpy(esc, "\\n");
    } else if (c == '\r') {
      strcpy(esc, "\\r");
    } else if (c == '\t') {
      strcpy(esc, "\\t");
    } else if (c < 0x20 || c == 0x7F) {
      snprintf(esc, sizeof esc, "\\x%02x", c);
    } else if (c == 0xC0 && p[1] == 0x80) { /* IVS_NUL */
      strcpy(esc, "\\x00");
      p++;
    } else if (c == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) { /* C1 controls */
      snprintf(esc, sizeof esc, "\\x%02x", p[1]);
      p++;
    } else if (c == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) { /* line/paragraph separator */
      snprintf(esc, sizeof esc, "\\u%04x", p[2] == 0xA8 ? 0x2028 : 0x2029);
      p += 2;
    } else {
      esc[0] = (char)c, esc[1] = 0;
    }
    rc = ivs_buf_puts(b, esc);
  }
  return rc ? rc : ivs_buf_putc(b, q);
}

int ivs_pylist_write(ivs_buf *b, char *const *items, size_t n) {
  int rc = ivs_buf_putc(b, '[');
  for (size_t i = 0; i < n && !rc; i++) {
    if (i) rc = ivs_buf_puts(b, ", ");
    if (!rc) rc = write_str(b, items[i]);
  }
  return rc ? rc : ivs_buf_putc(b, ']');
}

#include "core/json.h"

#include <string.h>

int ivs_json_put_string(ivs_buf *b, const char *s, size_t n) {
  /* worst case: every byte becomes \u00XX */
  int rc = ivs_buf_reserve(b, n * 6 + 2);
  if (rc) return rc;
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      memcpy(o, "u00", 3);
      o[3] = "0123456789abcdef"[c >> 4];
      o[4] = "0123456789abcdef"[c & 15];
      o += 5;
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
  return 0;
}

int ivs_json_put_string_array(ivs_buf *b, char *const *items, size_t n) {
  int rc = ivs_buf_putc(b, '[');
  for (size_t i = 0; !rc && i < n; i++) {
    if (i) rc = ivs_buf_putc(b, ',');
    if (!rc) rc = ivs_json_put_string(b, items[i], strlen(items[i]));
  }
  return rc ? rc : ivs_buf_putc(b, ']');
}

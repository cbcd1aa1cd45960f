#include "core/json.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "core/utf8.h"

/* ext: IVS_NUL written as \u0000 (a file for people and other programs);
 * else passed through as cJSON does (JSON invscale reads back itself). */
static int put_string(ivs_buf *b, const char *s, size_t n, int ext) {
  /* worst case: every byte becomes \u00XX */
  int rc = ivs_buf_reserve(b, n * 6 + 2);
  if (rc) return rc;
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && !(ext && c == 0xC0 && i + 1 < n && s[i + 1] == '\x80')) {
      *o++ = (char)c;
      continue;
    }
    if (c == 0xC0) { /* IVS_NUL */
      memcpy(o, "\\u0000", 6);
      o += 6, i++;
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

static int put_array(ivs_buf *b, char *const *items, size_t n, int ext) {
  int rc = ivs_buf_putc(b, '[');
  for (size_t i = 0; !rc && i < n; i++) {
    if (i) rc = ivs_buf_putc(b, ',');
    if (!rc) rc = put_string(b, items[i], strlen(items[i]), ext);
  }
  return rc ? rc : ivs_buf_putc(b, ']');
}

int ivs_json_put_string(ivs_buf *b, const char *s, size_t n) { return put_string(b, s, n, 0); }
int ivs_json_put_string_array(ivs_buf *b, char *const *items, size_t n) { return put_array(b, items, n, 0); }
int ivs_json_put_text(ivs_buf *b, const char *s, size_t n) { return put_string(b, s, n, 1); }
int ivs_json_put_text_array(ivs_buf *b, char *const *items, size_t n) { return put_array(b, items, n, 1); }

char *ivs_json_print(const cJSON *item) {
  char *t = cJSON_PrintUnformatted(item);
  if (!t || !strstr(t, IVS_NUL)) return t;
  size_t n = strlen(t), k = 0;
  for (const char *p = t; (p = strstr(p, IVS_NUL)); p += IVS_NUL_LEN) k++;
  char *o = cJSON_malloc(n + 4 * k + 1), *q = o; /* 2 bytes become the 6 of \u0000 */
  if (!o) {
    cJSON_free(t);
    return NULL;
  }
  for (const char *p = t; *p;)
    if ((unsigned char)p[0] == 0xC0 && (unsigned char)p[1] == 0x80) memcpy(q, "\\u0000", 6), q += 6, p += 2;
    else *q++ = *p++;
  *q = '\0';
  cJSON_free(t);
  return o;
}

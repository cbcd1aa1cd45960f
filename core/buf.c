#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/mem.h"

void ivs_buf_init(ivs_buf *b, size_t limit) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->limit = limit;
}

void ivs_buf_release(ivs_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void ivs_buf_clear(ivs_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

int ivs_buf_reserve(ivs_buf *b, size_t extra) {
  size_t limit = b->limit ? b->limit : IVS_BUF_DEFAULT_LIMIT;
  if (extra > limit - b->len)
    return ivs_error_set(IVS_ELIMIT, "value longer than the limit of %zu bytes", limit);
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!b->data) ivs_mem_hint_huge(p, cap); /* a large first reservation; a grown block may have moved unaligned */
  b->data = p;
  b->cap = cap;
  return 0;
}

int ivs_buf_append(ivs_buf *b, const void *p, size_t n) {
  int rc = ivs_buf_reserve(b, n);
  if (rc) return rc;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int ivs_buf_putc(ivs_buf *b, char c) { return ivs_buf_append(b, &c, 1); }
int ivs_buf_puts(ivs_buf *b, const char *s) { return ivs_buf_append(b, s, strlen(s)); }

int ivs_buf_put_utf8(ivs_buf *b, unsigned long c) {
  unsigned char u[4];
  size_t n;
  if (c < 0x80) {
    u[0] = (unsigned char)c;
    n = 1;
  } else if (c < 0x800) {
    u[0] = (unsigned char)(0xC0 | (c >> 6));
    u[1] = (unsigned char)(0x80 | (c & 0x3F));
    n = 2;
  } else if (c < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (c >> 12));
    u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (c & 0x3F));
    n = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (c >> 18));
    u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (c & 0x3F));
    n = 4;
  }
  return ivs_buf_append(b, u, n);
}

char *ivs_buf_detach(ivs_buf *b, size_t *len) {
  if (!b->data && ivs_buf_reserve(b, 0)) return NULL;
  char *p = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

#include "core/utf8.h"


#include <stdint.h>
#include <string.h>

size_t ivs_utf8_valid_prefix(const unsigned char *s, size_t n, int incomplete_ok) {
  size_t i = 0;
  while (i < n) {
    /* ASCII runs, eight bytes at a time */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F; /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return i;
    for (size_t k = 1; k < len; k++) {
      if (i + k >= n) return incomplete_ok ? n : i;
      unsigned char d = s[i + k];
      if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return i;
    }
    i += len;
  }
  return i;
}

size_t ivs_utf8_count(const char *s, size_t n) {
  size_t cp = 0, i = 0;
  /* eight bytes at a time: count the bytes that are not continuation bytes */
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    uint64_t cont = (w & ~(w << 1)) & 0x8080808080808080ULL; /* 10xxxxxx: bit 7 set, bit 6 clear */
    cp += 8 - (size_t)(((cont >> 7) * 0x0101010101010101ULL) >> 56);
  }
  for (; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) cp++;
  return cp;
}

size_t ivs_utf8_valid_prefix_nul(const unsigned char *s, size_t n) {
  size_t at = 0;
  for (;;) {
    at += ivs_utf8_valid_prefix(s + at, n - at, 0);
    if (at + 1 < n && s[at] == 0xC0 && s[at + 1] == 0x80) at += IVS_NUL_LEN;
    else return at;
  }
}

void ivs_nul_visible(char *s) {
  for (; (s = strstr(s, IVS_NUL)); s += IVS_NUL_LEN) s[0] = '\\', s[1] = '0';
}

/* Character classes as the Rust tokenizers library sees them: Rust's char
 * methods and its regex crate's \w, over utf8proc's tables.  The input is
 * always valid UTF-8 (checked once at the start of an encode). */
#include <utf8proc.h>

#include "tokenizer/internal.h"

int32_t tk_next(const char *s, size_t n, size_t *adv) {
  const unsigned char *u = (const unsigned char *)s;
  if (u[0] < 0x80) {
    *adv = 1;
    return u[0];
  }
  utf8proc_int32_t c;
  utf8proc_ssize_t k = utf8proc_iterate(u, (utf8proc_ssize_t)n, &c);
  *adv = k > 0 ? (size_t)k : 1;
  return k > 0 ? c : -1;
}

int32_t tk_prev(const char *s, size_t n, size_t *start) {
  size_t i = n - 1;
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
  size_t adv;
  *start = i;
  return tk_next(s + i, n - i, &adv);
}

int tk_is_space(int32_t c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Other_Alphabetic outside the letter, mark and number categories: the
 * circled and squared Latin letters. */
static int other_alphabetic_symbol(int32_t c) {
  return (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
         (c >= 0x1F170 && c <= 0x1F189);
}

int tk_is_rust_word(int32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return 1;
  switch (utf8proc_category(c)) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
    return 1;
  default:
    return other_alphabetic_symbol(c);
  }
}

int tk_is_numeric(int32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  utf8proc_category_t k = utf8proc_category(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

int tk_is_punct(int32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  utf8proc_category_t k = utf8proc_category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

int tk_is_mark(int32_t c) {
  if (c < 0x300) return 0;
  utf8proc_category_t k = utf8proc_category(c);
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_ME;
}

int tk_put_lower(ivs_buf *b, int32_t c) {
  if (c < 0x80) return ivs_buf_putc(b, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
  if (c == 0x130) return ivs_buf_append(b, "i\xCC\x87", 3); /* the one unconditional two-character lowercase */
  return ivs_buf_put_utf8(b, (unsigned long)utf8proc_tolower(c));
}

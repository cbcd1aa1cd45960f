/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef IVS_CORE_UTF8_H
#define IVS_CORE_UTF8_H

#include <stddef.h>

/* Returns the length of the longest valid prefix of s[0..n).  Equal to n when
 * the whole range is valid.  When `incomplete_ok` is set, a truncated but
 * otherwise valid sequence at the very end counts as valid (for streaming). */
size_t ivs_utf8_valid_prefix(const unsigned char *s, size_t n, int incomplete_ok);

/* Number of code points in s[0..n) (for column numbers); s must be valid
 * (IVS_NUL counts as one). */
size_t ivs_utf8_count(const char *s, size_t n);

/* How invscale holds a NUL character (U+0000) inside a string: as the two
 * bytes C0 80 ("modified UTF-8"), so that every string stays a C string.  An
 * escaped NUL in the input (\u0000 in JSON, \x00, \0 or \u0000 in a Python
 * literal) becomes IVS_NUL; the writers turn it back (JSON \u0000, Python
 * \x00).  C0 80 is not valid UTF-8, so it never comes from a file's raw
 * bytes: the readers refuse it there, like a raw NUL byte. */
#define IVS_NUL "\xC0\x80"
#define IVS_NUL_LEN 2

/* Rewrites each IVS_NUL in the C string s as the two characters \0, in
 * place (the same length), for a message that quotes text. */
void ivs_nul_visible(char *s);

/* Like ivs_utf8_valid_prefix (complete sequences only), with IVS_NUL accepted. */
size_t ivs_utf8_valid_prefix_nul(const unsigned char *s, size_t n);

#endif

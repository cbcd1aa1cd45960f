/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
#ifndef IVS_CORE_UTF8_H
#define IVS_CORE_UTF8_H

#include <stddef.h>

/* Returns the length of the longest valid prefix of s[0..n).  Equal to n when
 * the whole range is valid.  When `incomplete_ok` is set, a truncated but
 * otherwise valid sequence at the very end counts as valid (for streaming). */
size_t ivs_utf8_valid_prefix(const unsigned char *s, size_t n, int incomplete_ok);

/* Number of code points in s[0..n) (for column numbers); s must be valid. */
size_t ivs_utf8_count(const char *s, size_t n);

#endif

/* The match:FILE metric's pattern sets: named PCRE2 patterns, one a line.
 *
 *   # a comment; blank lines are skipped
 *   NAME  PATTERN
 *
 * NAME is 1 to 48 of [A-Za-z0-9_-], unique in the file; PATTERN is the rest
 * of the line after the blanks that follow NAME (trailing blanks and a '\r'
 * dropped), compiled as UTF-8 (PCRE2_UTF, invalid UTF-8 in a text matched as
 * such rather than refused: PCRE2_MATCH_INVALID_UTF); case-insensitive only
 * when the pattern says so with (?i).  At most IVS_PROBE_MAX_PATTERNS
 * patterns, IVS_PROBE_PATTERNS_MAX_BYTES bytes of file.  Internal to eval/. */
#ifndef IVS_EVAL_PROBE_MATCH_H
#define IVS_EVAL_PROBE_MATCH_H

#include <stddef.h>

#define IVS_PROBE_MAX_PATTERNS 256
#define IVS_PROBE_PATTERNS_MAX_BYTES ((size_t)1 << 20)
#define IVS_PROBE_PATTERN_NAME_MAX 48

typedef struct ivs_probe_patterns ivs_probe_patterns;

/* Parses text[0..len) (path names it in messages) into *out (the caller
 * frees it with ivs_probe_patterns_free).  IVS_EINVAL "PATH:LINE: ..." for a
 * bad name, a name twice, a line without a pattern, or a pattern PCRE2
 * refuses (its message and the offset in the pattern); IVS_ELIMIT past the
 * limits; IVS_EINVAL for a file without patterns. */
int ivs_probe_patterns_parse(const char *text, size_t len, const char *path, ivs_probe_patterns **out);

/* Reads the file at path and parses it (IVS_EIO naming it when it cannot). */
int ivs_probe_patterns_load(const char *path, ivs_probe_patterns **out);

size_t ivs_probe_patterns_count(const ivs_probe_patterns *p);
const char *ivs_probe_patterns_name(const ivs_probe_patterns *p, size_t k); /* borrowed */

/* counts[k] = the non-overlapping matches of pattern k in text[0..n) (an
 * empty match moves on by one character).  Returns 0, or IVS_ELIMIT naming
 * the pattern when PCRE2's match limit stops it (catastrophic backtracking),
 * IVS_ENOMEM. */
int ivs_probe_patterns_match(const ivs_probe_patterns *p, const char *text, size_t n, size_t *counts);

void ivs_probe_patterns_free(ivs_probe_patterns *p); /* NULL: no-op */

#endif

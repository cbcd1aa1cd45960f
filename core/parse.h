/* Checked reading of numbers and names given as text (command-line options,
 * --map values, settings): the whole string must be the value, within the
 * range the caller states.  "1e8x", "abc", "" and, for unsigned values, "-1"
 * are refused.  On failure the functions return IVS_EUSAGE with a message
 * naming `what` (for example "--bootstrap") and the text given; *out is then
 * untouched. */
#ifndef IVS_CORE_PARSE_H
#define IVS_CORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A finite decimal number (strtod syntax, no hex, no inf/nan) in [lo, hi]. */
int ivs_parse_double(const char *what, const char *s, double lo, double hi, double *out);
/* A decimal integer without sign in [lo, hi]. */
int ivs_parse_u64(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* The same for the common types. */
int ivs_parse_size(const char *what, const char *s, size_t lo, size_t hi, size_t *out);
int ivs_parse_int(const char *what, const char *s, int lo, int hi, int *out);
/* A number of bytes: digits with an optional K, M, G or T (powers of 1024),
 * at most hi. */
int ivs_parse_bytes(const char *what, const char *s, uint64_t hi, uint64_t *out);

/* s as one of names[0..n) (exact match); *out is its index.  The message
 * lists the names. */
int ivs_parse_enum(const char *what, const char *s, const char *const *names, size_t n, int *out);

#endif

#include "core/parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Only what strtod reads as a plain decimal: digits, one point, an exponent. */
static int plain_decimal(const char *s) {
  const char *p = s + (*s == '-' || *s == '+');
  if (!*p) return 0;
  for (; *p; p++)
    if (!strchr("0123456789.eE+-", *p)) return 0;
  return 1;
}

int ivs_parse_double(const char *what, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = plain_decimal(s) ? strtod(s, &end) : 0;
  if (!plain_decimal(s) || end == s || *end || errno == ERANGE || !isfinite(v))
    return ivs_error_set(IVS_EUSAGE, "%s: expected a number, got '%s'", what, s);
  if (!(v >= lo && v <= hi)) return ivs_error_set(IVS_EUSAGE, "%s: %g to %g, got '%s'", what, lo, hi, s);
  *out = v;
  return 0;
}

int ivs_parse_u64(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  const char *p = s;
  uint64_t v = 0;
  if (!*p) return ivs_error_set(IVS_EUSAGE, "%s: expected a whole number, got '%s'", what, s);
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return ivs_error_set(IVS_EUSAGE, "%s: expected a whole number, got '%s'", what, s);
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return ivs_error_set(IVS_EUSAGE, "%s: %llu to %llu, got '%s'", what,
                                                        (unsigned long long)lo, (unsigned long long)hi, s);
    v = v * 10 + d;
  }
  if (v < lo || v > hi)
    return ivs_error_set(IVS_EUSAGE, "%s: %llu to %llu, got '%s'", what, (unsigned long long)lo, (unsigned long long)hi, s);
  *out = v;
  return 0;
}

int ivs_parse_size(const char *what, const char *s, size_t lo, size_t hi, size_t *out) {
  uint64_t v;
  int rc = ivs_parse_u64(what, s, lo, hi, &v);
  if (!rc) *out = (size_t)v;
  return rc;
}

int ivs_parse_bytes(const char *what, const char *s, uint64_t hi, uint64_t *out) {
  size_t n = strlen(s);
  int shift = 0;
  char num[32];
  if (n && strchr("KkMmGgTt", s[n - 1])) {
    const char *units = "KMGT";
    shift = 10 * (int)(strchr(units, s[n - 1] & ~0x20) - units + 1);
    n--;
  }
  uint64_t v;
  if (!n || n >= sizeof num) return ivs_error_set(IVS_EUSAGE, "%s: expected a size such as 512M or 2G, got '%s'", what, s);
  memcpy(num, s, n), num[n] = '\0';
  if (ivs_parse_u64(what, num, 0, UINT64_MAX >> shift, &v) || (v << shift) > hi)
    return ivs_error_set(IVS_EUSAGE, "%s: expected a size such as 512M or 2G (at most %llu bytes), got '%s'", what,
                         (unsigned long long)hi, s);
  *out = v << shift;
  return 0;
}

int ivs_parse_int(const char *what, const char *s, int lo, int hi, int *out) {
  uint64_t v;
  int neg = *s == '-';
  /* the magnitude first, so that "-x" and "--1" get the same message as "x" */
  if (ivs_parse_u64(what, s + neg, 0, UINT64_MAX, &v))
    return ivs_error_set(IVS_EUSAGE, "%s: expected a whole number, got '%s'", what, s);
  if (v > (uint64_t)INT32_MAX + 1 || (neg ? -(int64_t)v < lo : (int64_t)v > hi) || (!neg && (int64_t)v < lo))
    return ivs_error_set(IVS_EUSAGE, "%s: %d to %d, got '%s'", what, lo, hi, s);
  *out = neg ? (int)-(int64_t)v : (int)v;
  return 0;
}

int ivs_parse_enum(const char *what, const char *s, const char *const *names, size_t n, int *out) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, names[i])) {
      *out = (int)i;
      return 0;
    }
  char list[512] = "";
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof list; i++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
  return ivs_error_set(IVS_EUSAGE, "%s: %s, got '%s'", what, list, s);
}

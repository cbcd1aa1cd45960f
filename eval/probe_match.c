/* Pattern sets for the match:FILE metric (eval/probe_match.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "eval/probe_match.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"

#define MATCH_LIMIT 1000000u /* PCRE2's backtracking budget per match attempt */

typedef struct {
  char name[IVS_PROBE_PATTERN_NAME_MAX + 1];
  pcre2_code *re;
} pattern;

struct ivs_probe_patterns {
  pattern p[IVS_PROBE_MAX_PATTERNS];
  size_t n;
  pcre2_match_context *mctx;
  pcre2_match_data *md;
};

void ivs_probe_patterns_free(ivs_probe_patterns *p) {
  if (!p) return;
  for (size_t k = 0; k < p->n; k++) pcre2_code_free(p->p[k].re);
  pcre2_match_context_free(p->mctx);
  pcre2_match_data_free(p->md);
  free(p);
}

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int parse_line(ivs_probe_patterns *ps, const char *s, size_t n, const char *path, size_t line) {
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  if (i == n || s[i] == '#') return 0;
  size_t ns = i;
  while (i < n && name_char(s[i])) i++;
  size_t nl = i - ns;
  if (!nl || (i < n && s[i] != ' ' && s[i] != '\t'))
    return ivs_error_set(IVS_EINVAL, "%s:%zu: a line is NAME PATTERN, NAME of letters, digits, '_' and '-'", path, line);
  if (nl > IVS_PROBE_PATTERN_NAME_MAX)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: a pattern name of at most %d characters", path, line,
                         IVS_PROBE_PATTERN_NAME_MAX);
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  if (i == n) return ivs_error_set(IVS_EINVAL, "%s:%zu: pattern '%.*s' has no expression", path, line, (int)nl, s + ns);
  for (size_t k = 0; k < ps->n; k++)
    if (strlen(ps->p[k].name) == nl && !memcmp(ps->p[k].name, s + ns, nl))
      return ivs_error_set(IVS_EINVAL, "%s:%zu: pattern '%.*s' is named twice", path, line, (int)nl, s + ns);
  if (ps->n == IVS_PROBE_MAX_PATTERNS)
    return ivs_error_set(IVS_ELIMIT, "%s:%zu: more than %d patterns", path, line, IVS_PROBE_MAX_PATTERNS);
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)(s + i), n - i, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
  if (!re) {
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(err, msg, sizeof msg) < 0) snprintf((char *)msg, sizeof msg, "error %d", err);
    return ivs_error_set(IVS_EINVAL, "%s:%zu: pattern '%.*s': %s at offset %zu of the expression", path, line, (int)nl,
                         s + ns, (const char *)msg, (size_t)off);
  }
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* when it cannot, the interpreter runs it */
  memcpy(ps->p[ps->n].name, s + ns, nl);
  ps->p[ps->n].name[nl] = '\0';
  ps->p[ps->n++].re = re;
  return 0;
}

int ivs_probe_patterns_parse(const char *text, size_t len, const char *path, ivs_probe_patterns **out) {
  *out = NULL;
  if (len > IVS_PROBE_PATTERNS_MAX_BYTES)
    return ivs_error_set(IVS_ELIMIT, "%s: a pattern file of at most %zu bytes", path, IVS_PROBE_PATTERNS_MAX_BYTES);
  ivs_probe_patterns *ps = calloc(1, sizeof *ps);
  if (!ps) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int rc = 0;
  size_t line = 1;
  for (size_t i = 0; i < len && !rc; line++) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
    if (memchr(text + i, '\0', n)) rc = ivs_error_set(IVS_EINVAL, "%s:%zu: a NUL byte", path, line);
    else rc = parse_line(ps, text + i, n, path, line);
    i += n + 1;
  }
  if (!rc && !ps->n) rc = ivs_error_set(IVS_EINVAL, "%s: no patterns", path);
  if (!rc) {
    ps->mctx = pcre2_match_context_create(NULL);
    ps->md = pcre2_match_data_create(1, NULL);
    if (!ps->mctx || !ps->md) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    else pcre2_set_match_limit(ps->mctx, MATCH_LIMIT);
  }
  if (rc) {
    ivs_probe_patterns_free(ps);
    return rc;
  }
  *out = ps;
  return 0;
}

int ivs_probe_patterns_load(const char *path, ivs_probe_patterns **out) {
  *out = NULL;
  ivs_buf b;
  int rc = ivs_file_read_all(path, IVS_PROBE_PATTERNS_MAX_BYTES, &b);
  if (rc) {
    ivs_buf_release(&b);
    return rc;
  }
  rc = ivs_probe_patterns_parse(b.data, b.len, path, out);
  ivs_buf_release(&b);
  return rc;
}

size_t ivs_probe_patterns_count(const ivs_probe_patterns *p) { return p ? p->n : 0; }

const char *ivs_probe_patterns_name(const ivs_probe_patterns *p, size_t k) { return p->p[k].name; }

int ivs_probe_patterns_match(const ivs_probe_patterns *p, const char *text, size_t n, size_t *counts) {
  for (size_t k = 0; k < p->n; k++) {
    size_t c = 0, at = 0;
    while (at <= n) {
      int r = pcre2_match(p->p[k].re, (PCRE2_SPTR)text, n, at, 0, p->md, p->mctx);
      if (r == PCRE2_ERROR_NOMATCH) break;
      if (r == PCRE2_ERROR_MATCHLIMIT || r == PCRE2_ERROR_DEPTHLIMIT || r == PCRE2_ERROR_HEAPLIMIT)
        return ivs_error_set(IVS_ELIMIT, "pattern '%s': PCRE2's match limit reached (the expression backtracks too much)",
                             p->p[k].name);
      if (r == PCRE2_ERROR_NOMEMORY) return ivs_error_set(IVS_ENOMEM, "out of memory");
      if (r < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(r, msg, sizeof msg);
        return ivs_error_set(IVS_ERROR, "pattern '%s': %s", p->p[k].name, (const char *)msg);
      }
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
      c++;
      if (ov[1] > ov[0]) at = ov[1];
      else { /* an empty match: on by one character */
        at = ov[1] + 1;
        while (at < n && ((unsigned char)text[at] & 0xC0) == 0x80) at++;
      }
    }
    counts[k] = c;
  }
  return 0;
}

#include "ingest/jsonl.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "core/utf8.h"

long ivs_json_find_nul_escape(const char *s, size_t n) {
  /* Backslashes only mean something inside strings (elsewhere the JSON is
   * invalid anyway), so jump from one to the next. */
  const char *p = s, *end = s + n;
  while ((p = memchr(p, '\\', (size_t)(end - p))) && p + 1 < end) {
    if (p[1] == 'u' && end - p >= 6 && !memcmp(p + 2, "0000", 4)) return (long)(p - s);
    p += 2; /* the escaped character, which may itself be a backslash */
  }
  return -1;
}

/* The line with each \u0000 escape replaced by IVS_NUL (cJSON would end the
 * string there), in b (initialised by the caller); *nuls gets how many.  The
 * line itself when it has none. */
static const char *with_nuls(const char *line, size_t *len, ivs_buf *b, size_t *nuls) {
  long at = ivs_json_find_nul_escape(line, *len);
  *nuls = 0;
  if (at < 0) return line;
  const char *p = line, *end = line + *len;
  while (at >= 0) {
    if (ivs_buf_append(b, p, (size_t)at) || ivs_buf_append(b, IVS_NUL, IVS_NUL_LEN)) return NULL;
    p += at + 6, ++*nuls;
    at = ivs_json_find_nul_escape(p, (size_t)(end - p));
  }
  if (ivs_buf_append(b, p, (size_t)(end - p))) return NULL;
  *len = b->len;
  return b->data;
}

/* A position in the rewritten line as one in the original (each IVS_NUL
 * before it was the 6 characters of \u0000; raw input never holds a C0). */
static size_t original_at(const char *s, size_t at, size_t nuls) {
  size_t before = 0;
  for (size_t k = 0; nuls && k < at; k++) before += (unsigned char)s[k] == 0xC0;
  return at + 4 * before;
}

static int parse_line(const char *path, size_t lineno, const char *line, size_t len, size_t nuls, ivs_record_fn cb,
                      void *ud);

int ivs_jsonl_line(const char *path, size_t lineno, const char *line, size_t len, ivs_record_fn cb, void *ud) {
  size_t i = 0;
  while (i < len && strchr(" \t\r\n", line[i])) i++;
  if (i == len) return 0;
  size_t nuls;
  ivs_buf rewritten;
  ivs_buf_init(&rewritten, SIZE_MAX / 2);
  if (!(line = with_nuls(line, &len, &rewritten, &nuls))) {
    ivs_buf_release(&rewritten);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  int rc = parse_line(path, lineno, line, len, nuls, cb, ud);
  ivs_buf_release(&rewritten);
  return rc;
}

static int parse_line(const char *path, size_t lineno, const char *line, size_t len, size_t nuls, ivs_record_fn cb,
                      void *ud) {

  const char *end = NULL;
  ivs_json_oom_reset();
  cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
  if (!obj && ivs_json_oom()) return ivs_error_set(IVS_ENOMEM, "%s:%zu: out of memory", path, lineno);
  char msg[200];
  ivs_record rec = {NULL, 0, lineno, NULL, 0};
  ivs_field *fields = NULL;
  if (!obj) {
    size_t at = end ? original_at(line, (size_t)(end - line), nuls) : 0;
    /* cJSON reports the nesting limit as a plain parse failure: say which */
    size_t depth = 0, maxd = 0;
    for (size_t k = 0; k < len; k++)
      if (line[k] == '[' || line[k] == '{') maxd = ++depth > maxd ? depth : maxd;
      else if (line[k] == ']' || line[k] == '}') depth = depth ? depth - 1 : 0;
    if (maxd > CJSON_NESTING_LIMIT)
      snprintf(msg, sizeof msg, "JSON nested deeper than %d levels", CJSON_NESTING_LIMIT);
    else
      snprintf(msg, sizeof msg, "invalid JSON near character %zu", at + 1);
    rec.error = msg;
    rec.error_column = at + 1;
  } else {
    size_t j = len;
    if (end) {
      j = (size_t)(end - line);
      while (j < len && strchr(" \t\r\n", line[j])) j++;
    }
    if (j < len) {
      j = original_at(line, j, nuls);
      snprintf(msg, sizeof msg, "text after the JSON value at character %zu", j + 1);
      rec.error = msg;
      rec.error_column = j + 1;
    } else if (!cJSON_IsObject(obj)) {
      snprintf(msg, sizeof msg, "expected a JSON object, found %s",
               cJSON_IsArray(obj) ? "an array" : cJSON_IsString(obj) ? "a string" : "a scalar");
      rec.error = msg;
    } else {
      size_t n = (size_t)cJSON_GetArraySize(obj);
      fields = calloc(n ? n : 1, sizeof *fields);
      if (!fields) {
        cJSON_Delete(obj);
        return ivs_error_set(IVS_ENOMEM, "out of memory");
      }
      const cJSON *it;
      cJSON_ArrayForEach(it, obj) {
        for (size_t k = 0; k < rec.n && !rec.error; k++)
          if (!strcmp(fields[k].name, it->string)) {
            snprintf(msg, sizeof msg, "duplicate key '%.100s'", it->string);
            rec.error = msg;
          }
        fields[rec.n++] = (ivs_field){it->string, NULL, 0, it, 0};
      }
      rec.fields = fields;
      if (rec.error) rec.n = 0;
    }
  }
  int rc = cb(&rec, ud);
  free(fields);
  cJSON_Delete(obj);
  return rc;
}

int ivs_jsonl_read(const char *path, const ivs_jsonl_opts *opts, ivs_record_fn cb, void *ud) {
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) return rc;
  rd.progress = opts->progress;
  rd.progress_ud = opts->progress_ud;
  ivs_buf line;
  ivs_buf_init(&line, opts->max_line ? opts->max_line : (size_t)16 << 20);
  size_t lineno;
  while ((rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    if (opts->transient) ivs_json_arena_begin();
    rc = ivs_jsonl_line(path, lineno, line.data ? line.data : "", line.len, cb, ud);
    if (opts->transient) ivs_json_arena_end();
    if (rc) break;
  }
  if (opts->transient) ivs_json_arena_release();
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  return rc < 0 ? rc : rc > 1 ? rc : 0;
}

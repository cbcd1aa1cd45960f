#include "ingest/text.h"

#include <string.h>

#include "core/error.h"

int ivs_text_unit_parse(const char *name, ivs_text_unit *out) {
  if (!strcmp(name, "line")) *out = IVS_UNIT_LINE;
  else if (!strcmp(name, "paragraph")) *out = IVS_UNIT_PARAGRAPH;
  else if (!strcmp(name, "file")) *out = IVS_UNIT_FILE;
  else return ivs_error_set(IVS_EUSAGE, "--unit: expected line, paragraph or file, got '%s'", name);
  return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_ws(s[i])) return 0;
  return 1;
}

/* Emits the unit with its trailing whitespace removed.  Line breaks were
 * already taken off by the reader, so anything removed here is counted. */
static int emit(ivs_buf *unit, size_t first_line, ivs_record_fn cb, void *ud, size_t *n_trimmed) {
  size_t n = unit->len;
  while (n && is_ws(unit->data[n - 1])) n--;
  if (n == 0) return 0;
  if (unit->len != n) (*n_trimmed)++;
  unit->data[n] = '\0';
  ivs_field f = {"prompt", unit->data, n, NULL, 1};
  ivs_record rec = {&f, 1, first_line, NULL, 0};
  return cb(&rec, ud);
}

int ivs_text_read(const char *path, const ivs_text_opts *opts, ivs_record_fn cb, void *ud, size_t *n_trimmed) {
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) return rc;
  rd.progress = opts->progress;
  rd.progress_ud = opts->progress_ud;
  size_t limit = opts->max_field ? opts->max_field : (size_t)1 << 20;
  ivs_buf line, unit;
  ivs_buf_init(&line, limit);
  ivs_buf_init(&unit, limit);
  *n_trimmed = 0;
  size_t lineno, first = 0;
  for (;;) {
    rc = ivs_reader_line(&rd, &line, &lineno);
    if (rc <= 0) break;
    const char *s = line.data ? line.data : "";
    if (opts->unit == IVS_UNIT_LINE) {
      ivs_buf_clear(&unit);
      if ((rc = ivs_buf_append(&unit, s, line.len))) goto limit;
      rc = emit(&unit, lineno, cb, ud, n_trimmed);
      ivs_buf_clear(&unit);
      if (rc) break;
      continue;
    }
    if (opts->unit == IVS_UNIT_PARAGRAPH && blank(s, line.len)) {
      if (unit.len && (rc = emit(&unit, first, cb, ud, n_trimmed))) break;
      ivs_buf_clear(&unit);
      continue;
    }
    if (!unit.len) first = lineno;
    if (unit.len && (rc = ivs_buf_putc(&unit, '\n'))) goto limit;
    if ((rc = ivs_buf_append(&unit, s, line.len))) goto limit;
  }
  if (rc == 0 && unit.len) rc = emit(&unit, first, cb, ud, n_trimmed);
  goto done;
limit:
  if (rc == IVS_ELIMIT)
    rc = ivs_error_set(IVS_ELIMIT, "%s:%zu: %s longer than the limit of %zu bytes (see --max-field-size)", path, lineno,
                       opts->unit == IVS_UNIT_LINE ? "line" : opts->unit == IVS_UNIT_FILE ? "file" : "paragraph", limit);
done:
  ivs_buf_release(&line);
  ivs_buf_release(&unit);
  ivs_reader_close(&rd);
  return rc;
}

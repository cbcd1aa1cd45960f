/* libFuzzer: the prize rules on arbitrary records, fed as JSONL lines (or as
 * CSV when the input starts with 'p'), with every diagnostic formatted. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/json_arena.h"
#include "export/rules.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

typedef struct {
  ivs_validator *v;
  const char *raw;
  size_t raw_len;
} state;

static int on_diag(const ivs_vdiag *d, void *ud) {
  (void)ud;
  char buf[600];
  snprintf(buf, sizeof buf, "%zu:%zu %s %s %s", d->line, d->column, d->rule, d->field, d->message);
  return 0;
}

static int on_record(const ivs_record *rec, void *ud) {
  state *s = ud;
  return ivs_validator_record(s->v, rec, s->raw, s->raw_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_validate_opts o = {IVS_TYPE_AUTO, 3, 1, on_diag, NULL, 0};
  if (size && data[0] == 'l') o.type = IVS_TYPE_LOGODDS;
  state s = {NULL, NULL, 0};
  if (ivs_validator_new(&s.v, &o)) return 0;
  const char *p = (const char *)data, *end = p + size;
  if (size && data[0] == 'p') {
    ivs_csv_opts co = {.delim = ',', .max_field = 4096};
    ivs_csv_read_mem("fuzz.csv", p, size, &co, on_record, &s);
  } else {
    size_t line = 1;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
      s.raw = p;
      s.raw_len = n;
      if (line % 2) ivs_json_arena_begin(); /* odd lines as `validate` parses them, even ones on malloc */
      ivs_jsonl_line("fuzz.jsonl", line, p, n, on_record, &s);
      if (line++ % 2) ivs_json_arena_end();
      p += n + (nl != NULL);
    }
  }
  ivs_validator_finish(s.v);
  ivs_validator_free(s.v);
  return 0;
}

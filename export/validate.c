#include "export/validate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "ingest/reader.h"

/* Decides the kind from the first bytes (and the name when that is unclear). */
static int sniff(const char *path, ivs_file_kind *kind, size_t *expected) {
  FILE *f = fopen(path, "rb");
  if (!f) return ivs_error_set(IVS_EIO, "%s: cannot open: %s", path, strerror(errno));
  char head[65536];
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = '\0';
  /* records expected: the file size over the mean line length at its start */
  size_t lines = 0;
  for (size_t k = 0; k < n; k++) lines += head[k] == '\n';
  struct stat sb;
  *expected = lines && n == sizeof head - 1 && stat(path, &sb) == 0 ? (size_t)sb.st_size / (n / lines) : 0;
  size_t i = n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
  while (i < n && strchr(" \t\r\n", head[i])) i++;
  size_t len = strlen(path);
  int csv_name = len > 4 && (!strcmp(path + len - 4, ".csv") || !strcmp(path + len - 4, ".tsv"));
  if (i < n && head[i] == '{') *kind = IVS_FILE_JSONL;
  else if (memchr(head, '\0', n))
    return ivs_error_set(IVS_EUSAGE, "%s: a binary file, neither CSV nor JSON Lines", path);
  else if (i < n && head[i] == '[' && !csv_name)
    return ivs_error_set(IVS_EUSAGE, "%s: a JSON array, not JSON Lines (one object per line)", path);
  else if (i < n && (csv_name || strstr(head, "prompt"))) *kind = IVS_FILE_CSV;
  else
    return ivs_error_set(IVS_EUSAGE, "%s: neither JSON Lines nor a CSV with a 'prompt' column", path);
  return 0;
}

typedef struct {
  ivs_validator *v;
  const char *raw;
  size_t raw_len;
} run_state;

static int on_record(const ivs_record *rec, void *ud) {
  run_state *rs = ud;
  return ivs_validator_record(rs->v, rec, rs->raw, rs->raw_len);
}

/* "file:12:3: message" -> line 12, column 3, "message" */
static void report_reader_error(ivs_validator *v, const char *path, const char *rule) {
  const char *m = ivs_error_message();
  size_t line = 0, col = 0, plen = strlen(path);
  if (!strncmp(m, path, plen) && m[plen] == ':') {
    m += plen + 1;
    if (sscanf(m, "%zu:%zu", &line, &col) < 1) line = 0;
    while (*m && *m != ' ') m++;
    while (*m == ' ') m++;
  }
  ivs_validator_report(v, 1, line, col, rule, "", m);
}

int ivs_validate_file(const char *path, const ivs_validate_file_opts *opts, ivs_validate_stats *stats,
                      ivs_file_kind *kind) {
  *kind = IVS_FILE_UNKNOWN;
  memset(stats, 0, sizeof *stats);
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path); /* missing, directory, empty */
  if (rc) return rc;
  ivs_reader_close(&rd);
  size_t expected = 0;
  if ((rc = sniff(path, kind, &expected))) return rc;

  ivs_validator *v;
  ivs_validate_opts vo = {opts->type, opts->min_examples, *kind == IVS_FILE_JSONL, opts->on_diag, opts->ud, expected};
  if ((rc = ivs_validator_new(&v, &vo))) return rc;
  run_state rs = {v, NULL, 0};
  size_t max = opts->max_line ? opts->max_line : (size_t)16 << 20;
  if (*kind == IVS_FILE_CSV) {
    size_t len = strlen(path);
    ivs_csv_opts co = {len > 4 && !strcmp(path + len - 4, ".tsv") ? '\t' : ',', max, NULL, NULL, NULL};
    rc = ivs_csv_read(path, &co, on_record, &rs);
    if (rc && rc != IVS_ENOMEM) {
      report_reader_error(v, path, rc == IVS_ELIMIT ? "line-too-long" : "csv");
      rc = 0;
    }
  } else {
    if ((rc = ivs_reader_open(&rd, path))) goto done;
    ivs_buf line;
    ivs_buf_init(&line, max);
    size_t lineno;
    for (;;) {
      rc = ivs_reader_line(&rd, &line, &lineno);
      if (rc == 0) break;
      if (rc == IVS_ELIMIT) { /* report, and go on with the next line */
        report_reader_error(v, path, "line-too-long");
        rc = 0;
        continue;
      }
      if (rc < 0) { /* encoding: the rest of the file cannot be trusted */
        report_reader_error(v, path, "encoding");
        rc = 0;
        break;
      }
      rs.raw = line.data ? line.data : "";
      rs.raw_len = line.len;
      ivs_json_arena_begin(); /* the validator keeps nothing of the tree */
      rc = ivs_jsonl_line(path, lineno, rs.raw, rs.raw_len, on_record, &rs);
      ivs_json_arena_end();
      if (rc == IVS_EPARSE) { /* \u0000 */
        report_reader_error(v, path, "encoding");
        rc = 0;
      }
      if (rc) break;
    }
    ivs_buf_release(&line);
    ivs_reader_close(&rd);
    ivs_json_arena_release();
  }
  if (!rc) rc = ivs_validator_finish(v);
  *stats = *ivs_validator_stats(v);
done:
  ivs_validator_free(v);
  return rc;
}

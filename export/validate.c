#include "export/validate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "ingest/reader.h"
#include "ingest/taskfile.h"

typedef struct {
  ivs_validator *v;
  const char *raw;
  size_t raw_len;
} run_state;

static int on_record(const ivs_record *rec, void *ud) {
  run_state *rs = ud;
  return ivs_validator_record(rs->v, rec, rs->raw, rs->raw_len);
}

/* A note of the CSV reader (a column without a name) is a warning. */
static void on_csv_note(size_t line, size_t column, const char *text, void *ud) {
  ivs_validator_report(ud, 0, line, column, "unnamed-column", "", text);
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

/* ---- JSON Lines, and large files in two halves at once ---- */

typedef struct {
  const char *path;
  size_t max;
  ivs_validator *v;
  unsigned long long start, end; /* bytes; end 0: to the end of the file */
  size_t first_line;
  int probe;       /* the second half: stop at the first diagnostic (see dirty) */
  int dirty;       /* the probe saw a diagnostic or failed: its work is not used */
  int stopped;     /* an encoding error: the rest of the file is not read */
  size_t next_line;
  int rc;
} range_job;

static int probe_diag(const ivs_vdiag *d, void *ud) {
  (void)d;
  *(int *)ud = 1;
  return 0;
}

/* Validates the lines of one byte range. */
static int run_range(range_job *j) {
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, j->path);
  if (!rc && j->end) rc = ivs_reader_range(&rd, j->start, j->end);
  if (rc) {
    ivs_reader_close(&rd);
    return rc;
  }
  rd.line = j->first_line;
  run_state rs = {j->v, NULL, 0};
  ivs_buf line;
  ivs_buf_init(&line, j->max);
  size_t lineno;
  while (!rc && !j->dirty) {
    rc = ivs_reader_line(&rd, &line, &lineno);
    if (rc == 0) break;
    if (rc < 0 && j->probe) {
      j->dirty = 1;
      break;
    }
    if (rc == IVS_ELIMIT) { /* report, and go on with the next line */
      report_reader_error(j->v, j->path, "line-too-long");
      rc = 0;
      continue;
    }
    if (rc == IVS_ENOMEM) break;
    if (rc < 0) { /* encoding: the rest of the file cannot be trusted */
      report_reader_error(j->v, j->path, "encoding");
      j->stopped = 1;
      rc = 0;
      break;
    }
    rs.raw = line.data ? line.data : "";
    rs.raw_len = line.len;
    ivs_json_arena_begin(); /* the validator keeps nothing of the tree */
    rc = ivs_jsonl_line(j->path, lineno, rs.raw, rs.raw_len, on_record, &rs);
    ivs_json_arena_end();
    if (rc == IVS_EPARSE) { /* \u0000 */
      if (j->probe) j->dirty = 1;
      else report_reader_error(j->v, j->path, "encoding");
      rc = 0;
    }
  }
  if (rc && j->probe) j->dirty = 1, rc = 0;
  j->next_line = rd.line;
  ivs_buf_release(&line);
  ivs_reader_close(&rd);
  ivs_json_arena_release();
  return rc;
}

static void *probe_thread(void *arg) {
  range_job *j = arg;
  j->rc = run_range(j);
  return NULL;
}

/* Where the second half starts: just after the first newline past the
 * middle, or 0: do not split. */
static unsigned long long split_point(const char *path, unsigned long long size) {
  FILE *f = fopen(path, "rb");
  char buf[65536];
  unsigned long long at = 0, from = size / 2;
  if (f && fseeko(f, (off_t)from, SEEK_SET) == 0) {
    size_t n = fread(buf, 1, sizeof buf, f);
    const char *nl = memchr(buf, '\n', n);
    if (nl && from + (unsigned long long)(nl - buf) + 1 < size) at = from + (unsigned long long)(nl - buf) + 1;
  }
  if (f) fclose(f);
  return at;
}

/* The task type the first line gives (what `first` will infer), or AUTO when
 * that line is not a valid record. */
static ivs_task_type first_type(const char *path, const ivs_validate_opts *vo) {
  ivs_validate_opts o = *vo;
  o.on_diag = NULL, o.expected = 0, o.tokenizer = NULL;
  ivs_validator *t;
  if (ivs_validator_new(&t, &o)) return IVS_TYPE_AUTO;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno;
  ivs_task_type type = IVS_TYPE_AUTO;
  if (ivs_reader_first_line(path, &line, &lineno)) {
    run_state rs = {t, line.data, line.len};
    if (!ivs_jsonl_line(path, lineno, rs.raw, rs.raw_len, on_record, &rs) && ivs_validator_stats(t)->examples)
      type = ivs_validator_stats(t)->type;
  }
  ivs_buf_release(&line);
  ivs_validator_free(t);
  return type;
}

/* A large file is validated in two halves at once: the first by v, with its
 * diagnostics as they come; the second by a probe validator that reports
 * nothing.  When the probe saw nothing to report and shares no prompt with
 * the first half, v takes over its counts (the same result as reading on);
 * otherwise v reads the second half itself. */
static int validate_jsonl(const char *path, size_t max, ivs_validator *v, const ivs_validate_opts *vo, int one_pass) {
  struct stat sb;
  unsigned long long size = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? (unsigned long long)sb.st_size : 0;
  /* with a tokenizer, its threads do the work: one pass */
  unsigned long long mid =
      !one_pass && !vo->tokenizer && size >= ((unsigned long long)32 << 20) ? split_point(path, size) : 0;
  ivs_task_type type = mid ? (vo->type != IVS_TYPE_AUTO ? vo->type : first_type(path, vo)) : IVS_TYPE_AUTO;
  range_job a = {path, max, v, 0, 0, 1, 0, 0, 0, 0, 0};
  if (type == IVS_TYPE_AUTO) return run_range(&a); /* small, or no type to give the probe */
  range_job b = {path, max, NULL, mid, size, 1, 1, 0, 0, 0, 0};
  ivs_validate_opts po = *vo;
  po.type = type, po.min_examples = 0, po.on_diag = probe_diag, po.ud = &b.dirty, po.expected = vo->expected / 2;
  ivs_validator *pv;
  if (ivs_validator_new(&pv, &po)) return run_range(&a);
  b.v = pv;
  a.end = mid;
  pthread_t th;
  int threaded = pthread_create(&th, NULL, probe_thread, &b) == 0;
  int rc = run_range(&a);
  if (threaded) pthread_join(th, NULL);
  if (!rc && !a.stopped && (!threaded || b.dirty || !ivs_validator_absorb(v, pv))) {
    range_job rest = {path, max, v, mid, size, a.next_line, 0, 0, 0, 0, 0};
    rc = run_range(&rest);
  }
  ivs_validator_free(pv);
  return rc;
}

int ivs_validate_file(const char *path, const ivs_validate_file_opts *opts, ivs_validate_stats *stats,
                      ivs_file_kind *kind) {
  *kind = IVS_FILE_UNKNOWN;
  memset(stats, 0, sizeof *stats);
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path); /* missing, directory, empty */
  if (rc) return rc;
  ivs_reader_close(&rd);
  ivs_taskfile_kind tk;
  if ((rc = ivs_taskfile_detect(path, 0, &tk))) return rc;
  *kind = tk.format == IVS_TASKFILE_JSONL ? IVS_FILE_JSONL : IVS_FILE_CSV;
  size_t expected = tk.expected_records;

  ivs_validator *v;
  ivs_validate_opts vo = {.type = opts->type, .min_examples = opts->min_examples, .json_types = *kind == IVS_FILE_JSONL,
                          .on_diag = opts->on_diag, .ud = opts->ud, .expected = expected,
                          .tokenizer = opts->tokenizer, .max_tokens = opts->max_tokens, .threads = opts->threads};
  if ((rc = ivs_validator_new(&v, &vo))) return rc;
  run_state rs = {v, NULL, 0};
  size_t max = opts->max_line ? opts->max_line : (size_t)16 << 20;
  if (*kind == IVS_FILE_CSV) {
    ivs_taskfile_opts to = IVS_TASKFILE_OPTS_INIT;
    to.max_field = max, to.on_note = on_csv_note, to.note_ud = v;
    rc = ivs_taskfile_read(path, &tk, &to, on_record, &rs);
    if (rc && rc != IVS_ENOMEM) {
      report_reader_error(v, path, rc == IVS_ELIMIT ? "line-too-long" : "csv");
      rc = 0;
    }
  } else {
    rc = validate_jsonl(path, max, v, &vo, opts->one_pass);
  }
  if (!rc) rc = ivs_validator_finish(v);
  *stats = *ivs_validator_stats(v);
  ivs_validator_free(v);
  return rc;
}

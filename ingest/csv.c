#include "ingest/csv.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/utf8.h"

/* libcsv's realloc hook has no user pointer, so the field limit of the parse
 * running on this thread lives here. */
static _Thread_local size_t field_limit;
static _Thread_local int field_limit_hit;

/* libcsv grows its field buffer by a fixed step; a large step keeps long
 * fields from costing thousands of reallocations. */
#define CSV_BLOCK ((size_t)64 << 10)

static void *limited_realloc(void *p, size_t n) {
  if (n > field_limit + CSV_BLOCK + 1) {
    field_limit_hit = 1;
    return NULL;
  }
  return realloc(p, n);
}

static int no_space(unsigned char c) {
  (void)c;
  return 0; /* keep spaces and tabs: fields round-trip byte for byte */
}

typedef struct {
  const char *path;
  const ivs_csv_opts *opts;
  ivs_record_fn cb;
  void *ud;
  size_t max_field;
  /* current record: field bytes (each NUL-terminated) and offsets */
  ivs_buf data;
  size_t *offs, *lens;
  size_t nf, cap;
  size_t newlines;  /* newlines inside the current record's fields */
  size_t seg_line;  /* line of the segment being fed */
  /* header */
  char **names;
  size_t ncols;
  int skip_first;   /* pandas index column */
  int have_header;
  unsigned char *unnamed; /* per column: no name in the header */
  size_t *filled;         /* per column: records with a value (unnamed columns only) */
  size_t header_line;
  ivs_field *fields;
  int stop, fatal;
  size_t records;
} csv_state;

static void on_field(void *s, size_t len, void *data) {
  csv_state *st = data;
  if (st->stop) return;
  if (len > st->max_field) {
    size_t k = st->nf - (size_t)st->skip_first;
    const char *name = st->have_header && k < st->ncols ? st->names[k] : "";
    st->fatal = ivs_error_set(IVS_ELIMIT, "%s:%zu: field %zu%s%s%s longer than the limit of %zu bytes (see --max-field-size)",
                              st->path, st->seg_line, st->nf + 1, *name ? " (" : "", name, *name ? ")" : "",
                              st->max_field);
    st->stop = 1;
    return;
  }
  if (st->nf == IVS_MAX_COLUMNS) {
    st->fatal = ivs_error_set(IVS_ELIMIT, "%s:%zu: more than %d fields in a record", st->path, st->seg_line,
                              IVS_MAX_COLUMNS);
    st->stop = 1;
    return;
  }
  size_t cap = st->cap;
  if (ivs_grow((void **)&st->offs, &cap, st->nf + 1, sizeof *st->offs, 16) ||
      ivs_grow((void **)&st->lens, &st->cap, st->nf + 1, sizeof *st->lens, 16)) {
    st->fatal = IVS_ENOMEM;
    st->stop = 1;
    return;
  }
  st->offs[st->nf] = st->data.len;
  st->lens[st->nf] = len;
  int rc = ivs_buf_append(&st->data, s, len);
  if (!rc) rc = ivs_buf_putc(&st->data, '\0');
  if (rc == IVS_ENOMEM) {
    st->fatal = rc;
    st->stop = 1;
    return;
  }
  if (rc) {
    st->fatal = ivs_error_set(IVS_ELIMIT, "%s:%zu: record longer than the limit of %zu bytes", st->path,
                              st->seg_line, st->data.limit);
    st->stop = 1;
    return;
  }
  for (const char *p = s, *e = p + len; p && (p = memchr(p, '\n', (size_t)(e - p))); p++) st->newlines++;
  st->nf++;
}

static int set_header(csv_state *st) {
  size_t first = 0;
  if (st->nf > 1 && st->lens[0] == 0) {
    st->skip_first = 1;
    first = 1;
  }
  st->ncols = st->nf - first;
  st->names = calloc(st->ncols, sizeof *st->names);
  st->fields = calloc(st->ncols, sizeof *st->fields);
  st->unnamed = calloc(st->ncols, 1);
  st->filled = calloc(st->ncols, sizeof *st->filled);
  if (!st->names || !st->fields || !st->unnamed || !st->filled) return ivs_error_set(IVS_ENOMEM, "out of memory");
  st->header_line = st->seg_line;
  for (size_t i = 0; i < st->ncols; i++) {
    const char *name = st->data.data + st->offs[first + i];
    char pandas[32];
    if (!*name) { /* pandas' name for it */
      snprintf(pandas, sizeof pandas, "Unnamed: %zu", first + i);
      name = pandas;
      st->unnamed[i] = 1;
    }
    for (size_t k = 0; k < i; k++)
      if (!strcmp(st->names[k], name))
        return ivs_error_set(IVS_EPARSE, "%s:%zu:%zu: duplicate column '%s' in the header", st->path, st->seg_line,
                             first + i + 1, name);
    if (!(st->names[i] = strdup(name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  if (st->opts->map) {
    for (int f = 0; f < IVS_F_COUNT; f++) {
      const char *want = st->opts->map->src[f];
      int found = 0;
      for (size_t i = 0; want && i < st->ncols; i++) found |= !strcmp(st->names[i], want);
      if (want && !found) {
        ivs_buf cols = IVS_BUF_INIT;
        for (size_t i = 0; i < st->ncols && cols.len < 400; i++) {
          if (i) ivs_buf_puts(&cols, ", ");
          ivs_buf_puts(&cols, st->names[i]);
        }
        int rc = ivs_error_set(IVS_EUSAGE, "%s:%zu: --map %s=%s: no column '%s' in the header (columns: %s)", st->path,
                               st->seg_line, ivs_task_field_names[f], want, want, cols.data ? cols.data : "");
        ivs_buf_release(&cols);
        return rc;
      }
    }
  }
  st->have_header = 1;
  return 0;
}

static void on_record(int term, void *data) {
  (void)term;
  csv_state *st = data;
  if (st->stop) return;
  size_t start = st->seg_line - st->newlines;
  if (!st->have_header) {
    int rc = set_header(st);
    if (rc) {
      st->fatal = rc;
      st->stop = 1;
    }
  } else {
    char msg[160];
    ivs_record rec = {st->fields, 0, start, NULL, 0};
    size_t have = st->nf - (size_t)st->skip_first;
    if (st->nf < (size_t)st->skip_first || have != st->ncols) {
      snprintf(msg, sizeof msg, "expected %zu fields as in the header, found %zu", st->ncols + (size_t)st->skip_first,
               st->nf);
      rec.error = msg;
    } else {
      size_t n = 0;
      for (size_t i = 0; i < st->ncols; i++) {
        size_t k = i + (size_t)st->skip_first;
        if (st->unnamed[i] && !st->lens[k]) continue; /* pandas' NaN: no value */
        if (st->unnamed[i]) st->filled[i]++;
        st->fields[n++] = (ivs_field){st->names[i], st->data.data + st->offs[k], st->lens[k], NULL, k + 1};
      }
      rec.n = n;
    }
    st->records++;
    int rc = st->cb(&rec, st->ud);
    if (rc) {
      st->fatal = rc;
      st->stop = 1;
    }
  }
  st->nf = 0;
  st->newlines = 0;
  ivs_buf_clear(&st->data);
}

/* Feeds one segment; returns 0 or a fatal code. */
static int feed(csv_state *st, struct csv_parser *p, const char *seg, size_t n, size_t line, size_t col,
                size_t *rec_start) {
  st->seg_line = line;
  if (p->pstate == 0) *rec_start = line; /* no record in progress */
  size_t done = csv_parse(p, seg, n, on_field, on_record, st);
  if (st->fatal) return st->fatal;
  if (done != n) {
    size_t c = col + ivs_utf8_count(seg, done) + 1;
    if (field_limit_hit)
      return ivs_error_set(IVS_ELIMIT, "%s:%zu:%zu: field longer than the limit of %zu bytes (see --max-field-size)",
                           st->path, line, c, st->max_field);
    if (csv_error(p) == CSV_EPARSE)
      return ivs_error_set(IVS_EPARSE, "%s:%zu:%zu: malformed quoting (a quote inside an unquoted field, or text after a closing quote)",
                           st->path, line, c);
    return ivs_error_set(IVS_ENOMEM, "%s:%zu: %s", st->path, line, csv_strerror(csv_error(p)));
  }
  return 0;
}

typedef struct {
  const char *data;
  size_t len, pos, line;
} mem_src;

static int run(const char *path, ivs_reader *rd, mem_src *mem, const ivs_csv_opts *opts, ivs_record_fn cb, void *ud) {
  csv_state st;
  memset(&st, 0, sizeof st);
  st.path = path;
  st.opts = opts;
  st.cb = cb;
  st.ud = ud;
  st.max_field = opts->max_field ? opts->max_field : IVS_DEFAULT_MAX_FIELD;
  ivs_buf_init(&st.data, st.max_field * 16);
  field_limit = st.max_field;
  field_limit_hit = 0;

  struct csv_parser p;
  int rc = 0;
  /* TSV files often hold quotes inside unquoted fields (["a", "b"]); only CSV
   * gets RFC 4180's strict quoting. */
  unsigned char mode = CSV_STRICT_FINI | (opts->delim == '\t' ? 0 : CSV_STRICT);
  if (csv_init(&p, mode)) return ivs_error_set(IVS_ENOMEM, "out of memory");
  csv_set_realloc_func(&p, limited_realloc);
  csv_set_blk_size(&p, CSV_BLOCK);
  csv_set_space_func(&p, no_space);
  csv_set_delim(&p, (unsigned char)(opts->delim ? opts->delim : ','));

  size_t rec_start = 1, line = 1;
  for (;;) {
    const char *seg;
    size_t n, col = 0;
    int end;
    if (rd) {
      size_t seg_line = rd->line;
      col = rd->col;
      rc = ivs_reader_next(rd, &seg, &n, &end);
      if (rc <= 0) break;
      line = seg_line;
    } else {
      /* memory input: the caller validated encoding */
      if (mem->pos >= mem->len) break;
      seg = mem->data + mem->pos;
      const char *nl = memchr(seg, '\n', mem->len - mem->pos);
      n = nl ? (size_t)(nl - seg) + 1 : mem->len - mem->pos;
      mem->pos += n;
      line = mem->line;
      if (nl) mem->line++;
    }
    if ((rc = feed(&st, &p, seg, n, line, col, &rec_start))) break;
    if (st.stop) break;
  }
  if (rc == 0 && !st.stop) {
    st.seg_line = line;
    if (csv_fini(&p, on_field, on_record, &st) != 0 && !st.fatal)
      rc = ivs_error_set(IVS_EPARSE, "%s:%zu: unterminated quoted field (the quote opened in the record starting on line %zu is never closed)",
                         path, line, rec_start);
    else if (st.fatal)
      rc = st.fatal;
  }
  if (rc == 0 && st.fatal) rc = st.fatal;
  if (rc == 0 && !st.have_header && !st.stop) rc = ivs_error_set(IVS_EPARSE, "%s: no header row", path);
  for (size_t i = 0; rc == 0 && opts->on_note && i < st.ncols; i++) {
    if (!st.unnamed[i]) continue;
    char note[160];
    size_t col = i + (size_t)st.skip_first + 1;
    if (st.filled[i])
      snprintf(note, sizeof note, "column %zu has no name: its values (%zu record%s) are kept as '%s', as pandas names it",
               col, st.filled[i], st.filled[i] == 1 ? "" : "s", st.names[i]);
    else
      snprintf(note, sizeof note, "column %zu has no name and no values: ignored", col);
    opts->on_note(st.header_line, col, note, opts->note_ud);
  }
  csv_free(&p);
  for (size_t i = 0; i < st.ncols && st.names; i++) free(st.names[i]);
  free(st.names);
  free(st.fields);
  free(st.unnamed);
  free(st.filled);
  free(st.offs);
  free(st.lens);
  ivs_buf_release(&st.data);
  return rc;
}

int ivs_csv_read(const char *path, const ivs_csv_opts *opts, ivs_record_fn cb, void *ud) {
  ivs_reader rd;
  int rc = ivs_reader_open(&rd, path);
  if (rc) return rc;
  rd.progress = opts->progress;
  rd.progress_ud = opts->progress_ud;
  rc = run(path, &rd, NULL, opts, cb, ud);
  ivs_reader_close(&rd);
  return rc;
}

int ivs_csv_read_mem(const char *name, const char *data, size_t len, const ivs_csv_opts *opts, ivs_record_fn cb,
                     void *ud) {
  if (ivs_utf8_valid_prefix((const unsigned char *)data, len, 0) != len || memchr(data, '\0', len))
    return ivs_error_set(IVS_EPARSE, "%s: invalid UTF-8 or NUL byte", name);
  if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) data += 3, len -= 3;
  mem_src m = {data, len, 0, 1};
  return run(name, NULL, &m, opts, cb, ud);
}

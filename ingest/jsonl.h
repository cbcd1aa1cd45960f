/* JSON Lines input (through cJSON): one object per line, blank lines skipped.
 * Each object's members become the record's fields (JSON values).  A line
 * that is not valid JSON, not an object, nested deeper than cJSON's limit, or
 * has a duplicate key is handed over as a record with its error set.  Fatal:
 * encoding errors, NUL characters (also as \u0000 escapes, which cJSON would
 * silently truncate), a line over the limit. */
#ifndef IVS_INGEST_JSONL_H
#define IVS_INGEST_JSONL_H

#include "ingest/reader.h"
#include "ingest/record.h"

typedef struct ivs_jsonl_opts {
  size_t max_line;          /* bytes; 0: 16 MiB */
  ivs_progress_fn progress; /* optional */
  void *progress_ud;
  int transient;            /* the callback keeps nothing of a record: parse in the JSON arena */
} ivs_jsonl_opts;

#define IVS_JSONL_OPTS_INIT {0, NULL, NULL, 0}

int ivs_jsonl_read(const char *path, const ivs_jsonl_opts *opts, ivs_record_fn cb, void *ud);

/* Parses one line (len bytes, need not be NUL-terminated) and calls cb once
 * unless the line is blank.  Exposed for tests and fuzzing. */
int ivs_jsonl_line(const char *path, size_t lineno, const char *line, size_t len, ivs_record_fn cb, void *ud);

/* Offset of the first \u0000 escape in JSON text, or -1. */
long ivs_json_find_nul_escape(const char *s, size_t n);

#endif

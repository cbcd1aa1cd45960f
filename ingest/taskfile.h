/* The one reader of task files: whether a file is CSV, TSV or JSON Lines is
 * decided here, the same way for ingest, validate and eval.
 *
 * The content decides first: a first non-blank character '{' is JSON Lines;
 * otherwise a file named .csv or .tsv, or whose first line names a 'prompt'
 * column, is a table, tab-separated when it is named .tsv or its header line
 * has tabs and no commas.  A binary file (a NUL byte), a JSON array and
 * anything else are refused with a message naming the file.  The name is
 * only a hint: a .csv file holding JSON Lines is read as JSON Lines, and the
 * kind says so. */
#ifndef IVS_INGEST_TASKFILE_H
#define IVS_INGEST_TASKFILE_H

#include <stddef.h>

#include "ingest/reader.h"
#include "ingest/record.h"

#include "invscale/ingest.h" /* ivs_taskfile_format, _kind, _detect, _format_name */

typedef struct ivs_taskfile_opts {
  size_t max_field;          /* CSV field / JSONL line in bytes; 0: each reader's default */
  const ivs_fieldmap *map;   /* CSV: its source columns must be in the header */
  ivs_progress_fn progress;  /* optional */
  void *progress_ud;
  int transient;             /* JSONL: the callback keeps nothing of a record */
  void (*on_note)(size_t line, size_t column, const char *text, void *ud); /* CSV: see ingest/csv.h */
  void *note_ud;
} ivs_taskfile_opts;

#define IVS_TASKFILE_OPTS_INIT {0, NULL, NULL, NULL, 0, NULL, NULL}

/* Reads `path` as `kind` says (from ivs_taskfile_detect), calling cb for
 * each record; see ingest/csv.h and ingest/jsonl.h for what reaches it. */
int ivs_taskfile_read(const char *path, const ivs_taskfile_kind *kind, const ivs_taskfile_opts *opts,
                      ivs_record_fn cb, void *ud);

#endif

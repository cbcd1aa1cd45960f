/* CSV and TSV input (RFC 4180, through libcsv).
 *
 * The first record is the header.  A leading unnamed column (pandas' index)
 * is skipped.  Any other column without a name is read as pandas reads it,
 * as "Unnamed: K" (K its 0-based position); its empty cells are left out of
 * the records, so a column with no values at all (a trailing comma) is
 * ignored; on_note says which it was.  Quoted fields may hold delimiters, quotes ("") and newlines; CRLF
 * and a UTF-8 BOM are accepted.  Every record is handed to the callback with
 * the line it starts on; a record with the wrong number of fields is handed
 * over with its error set.  Fatal errors (encoding, unterminated quote, limits,
 * a --map column missing from the header) end the read with a negative code.
 */
#ifndef IVS_INGEST_CSV_H
#define IVS_INGEST_CSV_H

#include "ingest/reader.h"
#include "ingest/record.h"

#define IVS_DEFAULT_MAX_FIELD ((size_t)1 << 20)
#define IVS_MAX_COLUMNS 1024

typedef struct ivs_csv_opts {
  char delim;                /* ',' (default when 0) or '\t' */
  size_t max_field;          /* bytes; 0: IVS_DEFAULT_MAX_FIELD */
  const ivs_fieldmap *map;   /* optional: its source columns must be in the header */
  ivs_progress_fn progress;  /* optional */
  void *progress_ud;
  /* optional: what the reader did that the caller should tell (a column
   * without a name, ignored or renamed); text borrowed for the call */
  void (*on_note)(size_t line, size_t column, const char *text, void *ud);
  void *note_ud;
} ivs_csv_opts;

#define IVS_CSV_OPTS_INIT {',', 0, NULL, NULL, NULL, NULL, NULL}

int ivs_csv_read(const char *path, const ivs_csv_opts *opts, ivs_record_fn cb, void *ud);

/* Same, from memory (for tests and fuzzing); `name` is used in messages. */
int ivs_csv_read_mem(const char *name, const char *data, size_t len, const ivs_csv_opts *opts, ivs_record_fn cb,
                     void *ud);

#endif

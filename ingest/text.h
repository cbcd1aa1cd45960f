/* Plain text input: unlabelled prompts for annotation.
 *
 * Units: IVS_UNIT_LINE (each non-blank line), IVS_UNIT_PARAGRAPH (blocks
 * separated by blank or whitespace-only lines; inner newlines kept) or
 * IVS_UNIT_FILE (the whole file).  Each unit becomes a record with one field,
 * `prompt`.  Trailing whitespace (spaces, tabs, CR, LF, FF, VT) is removed,
 * since the prize rejects prompts ending in whitespace; units where anything
 * besides the line break itself was removed are counted in *n_trimmed. */
#ifndef IVS_INGEST_TEXT_H
#define IVS_INGEST_TEXT_H

#include "ingest/reader.h"
#include "ingest/record.h"

#include "invscale/ingest.h" /* ivs_text_unit, ivs_text_unit_parse */

typedef struct ivs_text_opts {
  ivs_text_unit unit;
  size_t max_field;         /* bytes per unit; 0: 1 MiB */
  ivs_progress_fn progress;
  void *progress_ud;
} ivs_text_opts;

#define IVS_TEXT_OPTS_INIT {IVS_UNIT_LINE, 0, NULL, NULL}

int ivs_text_read(const char *path, const ivs_text_opts *opts, ivs_record_fn cb, void *ud, size_t *n_trimmed);

#endif

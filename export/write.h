/* Writing stored examples in the prize's task format.
 *
 * JSONL: one object per example with the task fields of its type, in the
 * prize's order (prompt, other_prompt, classes, answer_index / prompt,
 * completion), then its metadata members that do not clash with them.
 * `classes` is a JSON array, or with classes_python the string form of the
 * March 2023 release ("[' a', ' b']").
 * CSV: a header of the task fields and every metadata key seen (in order of
 * first appearance), every field quoted, `classes` as a Python list literal
 * (what pandas.read_csv + ast.literal_eval expect), "\n" line ends.
 */
#ifndef IVS_EXPORT_WRITE_H
#define IVS_EXPORT_WRITE_H

#include <stdio.h>

#include "core/buf.h"
#include "core/example.h"
#include "store/store.h"

#include "invscale/export.h" /* ivs_export_opts */

typedef struct ivs_exporter ivs_exporter;

int ivs_exporter_new(ivs_exporter **out, const ivs_export_opts *opts);
void ivs_exporter_free(ivs_exporter *e);
/* CSV: call for every example first so the header knows all metadata keys. */
int ivs_exporter_scan(ivs_exporter *e, const ivs_stored_example *ex);
/* Writes the header (CSV only; nothing for JSONL). */
int ivs_exporter_header(ivs_exporter *e, FILE *f);
int ivs_exporter_write(ivs_exporter *e, const ivs_stored_example *ex, FILE *f);
/* Lines written so far (header included). */
size_t ivs_exporter_lines(const ivs_exporter *e);

#endif

/* Reading (item, annotator, label) judgments from a CSV, TSV or JSONL file.
 * Columns are found by name: item (or task), annotator (or worker), label; a
 * map "item=COL,annotator=COL,label=COL" renames them. */
#ifndef IVS_LABEL_TRIPLES_H
#define IVS_LABEL_TRIPLES_H

#include "label/agreement.h"

typedef struct ivs_triples_map {
  const char *item, *annotator, *label; /* NULL: the default names */
} ivs_triples_map;

/* Parses "item=task,annotator=worker,label=answer" into *m (pointers into a
 * copy the caller frees with free(*owned)). */
int ivs_triples_map_parse(ivs_triples_map *m, const char *spec, char **owned);

/* Adds every judgment of `path` to r (not finished).  A row with an empty
 * item, annotator or label is an error naming its line. */
int ivs_triples_read(const char *path, const ivs_triples_map *m, ivs_ratings *r);

#endif

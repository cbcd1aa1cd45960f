/* Reading (item, annotator, label) judgments from a CSV, TSV or JSONL file:
 * declared in invscale/label.h (ivs_triples_map, ivs_triples_map_parse,
 * ivs_triples_read). */
#ifndef IVS_LABEL_TRIPLES_H
#define IVS_LABEL_TRIPLES_H

#include "invscale/label.h"

#endif

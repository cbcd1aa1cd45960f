/* JSON forms of stored examples (the `examples list --format jsonl` line and,
 * later, the export). */
#ifndef IVS_EXPORT_JSON_H
#define IVS_EXPORT_JSON_H

#include "core/buf.h"
#include "store/store.h"

/* Appends one JSON object (no newline): id, type, the task fields the example
 * has (classes as a JSON array), metadata, tag and source {file, line}.
 * Strings are written byte for byte (only JSON's required escapes). */
int ivs_stored_example_json(const ivs_stored_example *ex, ivs_buf *out);

#endif

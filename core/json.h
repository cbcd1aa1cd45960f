/* Writing JSON text straight into a buffer.  cJSON builds a tree first; on
 * the ingest path (one array and one object per row, a million rows) that
 * tree costs more than the rest of the row, so the two hot shapes are written
 * directly.  Output matches cJSON_PrintUnformatted: only '"', '\\' and
 * control characters are escaped, UTF-8 passes through. */
#ifndef IVS_CORE_JSON_H
#define IVS_CORE_JSON_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..n) as a quoted JSON string. */
int ivs_json_put_string(ivs_buf *b, const char *s, size_t n);

/* Appends ["a","b",...] for the n strings. */
int ivs_json_put_string_array(ivs_buf *b, char *const *items, size_t n);

#endif

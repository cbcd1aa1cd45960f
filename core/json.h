/* Writing JSON text straight into a buffer.  cJSON builds a tree first; on
 * the ingest path (one array and one object per row, a million rows) that
 * tree costs more than the rest of the row, so the two hot shapes are written
 * directly.  Output matches cJSON_PrintUnformatted: only '"', '\\' and
 * control characters are escaped, UTF-8 passes through. */
#ifndef IVS_CORE_JSON_H
#define IVS_CORE_JSON_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..n) as a quoted JSON string, for JSON that invscale reads
 * back itself (the store's columns): IVS_NUL (core/utf8.h) passes through,
 * as in cJSON's output, so that cJSON reads the whole string back. */
int ivs_json_put_string(ivs_buf *b, const char *s, size_t n);
/* Appends ["a","b",...] for the n strings, the same way. */
int ivs_json_put_string_array(ivs_buf *b, char *const *items, size_t n);

/* The same for files that people and other programs read: IVS_NUL is
 * written as \u0000. */
int ivs_json_put_text(ivs_buf *b, const char *s, size_t n);
int ivs_json_put_text_array(ivs_buf *b, char *const *items, size_t n);

/* cJSON_PrintUnformatted(item) with IVS_NUL as \u0000, for such files.
 * Free with cJSON_free; NULL when out of memory. */
struct cJSON;
char *ivs_json_print(const struct cJSON *item);

#endif

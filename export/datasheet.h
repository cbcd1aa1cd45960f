/* The submission datasheet: the fields the prize's form asked for, kept in
 * the store's meta table, rendered as Markdown. */
#ifndef IVS_EXPORT_DATASHEET_H
#define IVS_EXPORT_DATASHEET_H

#include <stddef.h>

#include "core/buf.h"

typedef struct ivs_datasheet_field {
  const char *key;      /* as given to `invscale meta set` */
  const char *title;    /* heading in datasheet.md */
  int required;
} ivs_datasheet_field;

extern const ivs_datasheet_field ivs_datasheet_fields[];
extern const size_t ivs_datasheet_nfields;

/* The field for key, or NULL. */
const ivs_datasheet_field *ivs_datasheet_find(const char *key);

/* Renders the datasheet; values[i] belongs to ivs_datasheet_fields[i] (NULL:
 * not set).  `stats` is a preformatted summary paragraph (may be NULL). */
int ivs_datasheet_render(ivs_buf *out, const char *const *values, const char *stats);

/* A file-name-safe slug of the task name: lower-case ASCII letters, digits
 * and single hyphens, at most 48 characters; "task" when nothing is left. */
void ivs_slug(const char *name, char *out, size_t cap);

#endif

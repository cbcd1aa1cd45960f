/* Template expansion: rows of a template file whose fields hold {name}
 * placeholders, filled from a fillers CSV.
 *
 * Default: every template row is expanded once per fillers row (columns read
 * together).  With `product`, once per element of the cartesian product of the
 * distinct non-empty values of each fillers column.  `{{` and `}}` stand for
 * literal braces.  The classes field is parsed before filling, so a filler
 * holding quotes cannot break the list.  Each expansion is handed over as a
 * record: the template's fields, then the filler values and `template_row` as
 * extra fields (kept as metadata).  A placeholder without a filler column is a
 * fatal error naming it and the template row. */
#ifndef IVS_INGEST_TEMPLATE_H
#define IVS_INGEST_TEMPLATE_H

#include "ingest/record.h"

#define IVS_MAX_EXPANSIONS 10000000UL

typedef struct ivs_template_opts {
  int product;
  int template_is_jsonl;     /* else CSV */
  const ivs_fieldmap *map;   /* to know which field is `classes` */
  size_t max_field;
} ivs_template_opts;

#define IVS_TEMPLATE_OPTS_INIT {0, 0, NULL, 0}

int ivs_template_expand(const char *template_path, const char *fillers_path, const ivs_template_opts *opts,
                        ivs_record_fn cb, void *ud);

/* Fills one string: placeholders replaced by values[i] for names[i].  On an
 * unknown name or a stray brace returns IVS_EINVAL with a message. Exposed for
 * tests and fuzzing. */
struct ivs_buf;
int ivs_template_fill(const char *tmpl, const char *const *names, const char *const *values, size_t n,
                      struct ivs_buf *out);

#endif

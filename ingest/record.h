/* Records: what every source parser yields, and their conversion to examples.
 *
 * A record is a list of named fields, each either a string (CSV, text, XML)
 * or a JSON value (JSONL).  ivs_ingest_convert() maps the record onto the task
 * fields (with --map renames and the old `biased_prompt` name), infers the task
 * type from the first record when asked to, parses `classes` and
 * `answer_index`, keeps every other field as JSON metadata, and checks the
 * example.  A record the parser already found broken (wrong field count, bad
 * JSON) carries its error and is turned into a diagnostic.
 */
#ifndef IVS_INGEST_RECORD_H
#define IVS_INGEST_RECORD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/example.h"

typedef struct ivs_field {
  const char *name; /* borrowed */
  const char *str;  /* string value (NUL-terminated, len bytes), or NULL when json is set */
  size_t len;
  const cJSON *json; /* borrowed JSON value, or NULL */
  size_t column;     /* 1-based source column of the field (CSV: field number), 0 if unknown */
} ivs_field;

typedef struct ivs_record {
  const ivs_field *fields; /* borrowed for the duration of the callback */
  size_t n;
  size_t line;       /* first line of the record */
  const char *error; /* set when the parser already rejected the record */
  size_t error_column;
} ivs_record;

/* Return 0 to go on, nonzero to stop the parser (it then returns that value). */
typedef int (*ivs_record_fn)(const ivs_record *rec, void *ud);

#include "invscale/ingest.h" /* ivs_diag, ivs_fieldmap and its functions, IVS_F_* */

extern const char *const ivs_task_field_names[IVS_F_COUNT];

typedef struct ivs_ingest_ctx {
  const char *path;        /* borrowed, for messages */
  ivs_task_type type;      /* IVS_TYPE_AUTO: inferred from the first record */
  int type_inferred;       /* out: set when the type was inferred */
  const ivs_fieldmap *map; /* borrowed, may be NULL */
  ivs_strlist fixed_classes; /* owned; used when a record has no classes (text ingest) */
  int has_fixed_classes;
  int drop_extra;          /* do not keep unmapped fields as metadata */
  int first_seen;          /* the first record was checked for the fields every record needs */
  /* counters filled while converting */
  size_t biased_prompt_rows;  /* rows that used the old name biased_prompt (old_name_rows[0]) */
  size_t old_name_rows[IVS_OLD_NAMES]; /* rows that used each of ivs_old_names */
  size_t trailing_space_rows; /* prompts ending in whitespace (kept, the validator flags them) */
} ivs_ingest_ctx;

/* Infers the type from field names (after the map); IVS_EUSAGE if it cannot. */
int ivs_type_infer(const ivs_record *rec, const ivs_fieldmap *map, ivs_task_type *out);

/* Converts rec into *ex (initialised by the callee).  Returns 0, IVS_EINVAL
 * with *diag filled for an invalid record (ex released), or another negative
 * code for a fatal error (last error set). */
int ivs_ingest_convert(ivs_ingest_ctx *ctx, const ivs_record *rec, ivs_example *ex, ivs_diag *diag);

void ivs_ingest_ctx_release(ivs_ingest_ctx *ctx);

/* The field named `name` (or `alt`, when not NULL), or NULL.  Borrowed. */
const ivs_field *ivs_record_field(const ivs_record *rec, const char *name, const char *alt);
/* A field's value as text: strings as they are, JSON numbers printed (into
 * buf); NULL for a NULL field or another JSON type.  Borrowed. */
const char *ivs_field_text(const ivs_field *f, char *buf, size_t cap);

#endif

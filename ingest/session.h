/* An import session: one source file into the project store, in one
 * transaction.
 *
 * The file is parsed (and its records converted) on a worker thread while the
 * calling thread stores the examples (ingest/pipeline.h).  Invalid records are
 * counted and the first IVS_IMPORT_REJECTS_KEPT of them kept, or, with
 * `strict`, end the import.  When nothing new was stored (every example a
 * duplicate, or a failure) the store is left exactly as it was: the
 * transaction is rolled back, so not even the import is recorded. */
#ifndef IVS_INGEST_SESSION_H
#define IVS_INGEST_SESSION_H

#include <stddef.h>

#include "ingest/record.h"
#include "ingest/text.h"
#include "ingest/xml.h"
#include "store/store.h"

#define IVS_IMPORT_REJECTS_KEPT 1000

typedef enum {
  IVS_SOURCE_CSV,
  IVS_SOURCE_JSONL,
  IVS_SOURCE_TEXT,
  IVS_SOURCE_TEMPLATE,
  IVS_SOURCE_XML,
  IVS_SOURCE_HTML
} ivs_source_format;

/* "csv", "jsonl", "text", "template", "xml", "html" -> format; IVS_EUSAGE
 * naming the formats for anything else. */
int ivs_source_format_parse(const char *name, ivs_source_format *out);
const char *ivs_source_format_name(ivs_source_format f); /* static string */

typedef struct ivs_import_opts {
  ivs_source_format format;
  ivs_task_type type;          /* IVS_TYPE_AUTO: inferred (text: classification) */
  const char *tag;             /* every example gets it; NULL: none */
  int strict;                  /* the first invalid record ends the import, nothing stored */
  size_t max_field;            /* bytes; 0: IVS_DEFAULT_MAX_FIELD.  Lines and records may be 16 times that */
  const ivs_fieldmap *map;     /* --map; NULL: none */
  int tsv;                     /* csv: tab-separated (also when the task-file reader finds a TSV) */
  ivs_text_unit unit;          /* text */
  const ivs_strlist *classes;  /* text: every prompt gets these classes; NULL: none */
  const char *fill;            /* template: the fillers CSV (required) */
  int product;                 /* template: the cartesian product of the fillers */
  const char *record;          /* xml/html: the records' XPath (required) */
  const ivs_xml_field *fields; /* xml/html: at least one */
  size_t n_fields;
  ivs_progress_fn progress;    /* optional, called on the worker thread */
  void *progress_ud;
} ivs_import_opts;

#define IVS_IMPORT_OPTS_INIT \
  {IVS_SOURCE_CSV, IVS_TYPE_AUTO, NULL, 0, 0, NULL, 0, IVS_UNIT_LINE, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL}

typedef struct ivs_import_result {
  ivs_task_type type;      /* the type read (given or inferred) */
  int type_inferred;
  size_t imported, duplicates, invalid;
  size_t trimmed;          /* text: prompts whose trailing whitespace was removed */
  size_t biased_prompt_rows, trailing_space_rows;
  ivs_diag *rejects;       /* owned (ivs_import_result_release): the first invalid records */
  size_t n_rejects;
} ivs_import_result;

/* Checks that the options name what their format needs (a template's
 * fillers, xml's record and fields); IVS_EUSAGE with a message otherwise. */
int ivs_import_opts_check(const ivs_import_opts *opts);

/* Imports `path` into st (checking the options first).  Returns 0 when the file was read (res->invalid may
 * still count skipped records); otherwise a negative code with the last error
 * set, and the store unchanged: IVS_EUSAGE for impossible options (a template
 * without fill, xml without record or fields), IVS_EINVAL for the first
 * invalid record with `strict` (the message ends in "(--strict: nothing
 * imported)"), the parser's code for a fatal input error, IVS_ESTORE.  res is
 * initialised by the callee in every case and released by the caller. */
int ivs_import_run(ivs_store *st, const char *path, const ivs_import_opts *opts, ivs_import_result *res);
void ivs_import_result_release(ivs_import_result *res);

#endif

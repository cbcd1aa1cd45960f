/* invscale: reading source files into the project store.
 *
 * An import (ivs_import_run) reads one file of examples (CSV or TSV, JSON
 * Lines, plain text, templates with fillers, XML or HTML) into the store in
 * one transaction: a failed import leaves the store exactly as it was.  The
 * task-file reader (ivs_taskfile_detect) decides whether a file is CSV, TSV or
 * JSON Lines the same way for ingest, validate and eval.
 *
 * Errors: every function returns 0 or a negative IVS_E* code (invscale/core.h)
 * with the message, naming file, line and field, in ivs_error_message().
 */
#ifndef INVSCALE_INGEST_H
#define INVSCALE_INGEST_H

#include <stddef.h>

#include "invscale/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ivs_store ivs_store; /* invscale/store.h */

/* ---- the task-file reader ---- */

typedef enum { IVS_TASKFILE_JSONL, IVS_TASKFILE_CSV, IVS_TASKFILE_TSV } ivs_taskfile_format;

typedef struct ivs_taskfile_kind {
  ivs_taskfile_format format;
  const char *why;          /* static: what decided it, e.g. "the first line is a JSON object" */
  size_t expected_records;  /* the file's size over its first lines' mean length; 0: unknown */
} ivs_taskfile_kind;

/* "jsonl", "csv" or "tsv" (static). */
const char *ivs_taskfile_format_name(ivs_taskfile_format f);

/* Flags of ivs_taskfile_detect. */
enum {
  IVS_TASKFILE_ANY_TABLE = 1 /* a table needs no 'prompt' column (a template, a --map'ed CSV) */
};

/* Decides the format of `path` from its first 64 KiB, the content first and
 * the name as a hint: a first non-blank character '{' is JSON Lines (even in
 * a file named .csv); otherwise a file named .csv or .tsv, or whose first
 * line names a 'prompt' column (any first line with IVS_TASKFILE_ANY_TABLE),
 * is a table, tab-separated when named .tsv or when its header has tabs and no
 * commas.  A blank file goes by its name (.csv, .tsv, else JSON Lines), so
 * that its reader says what is missing.  Returns 0 and fills *out; IVS_EIO
 * when the file cannot be read or is empty; IVS_EUSAGE for a binary file, a
 * JSON array or anything else.  Thread-safe. */
int ivs_taskfile_detect(const char *path, int flags, ivs_taskfile_kind *out);

/* ---- what an import reads ---- */

/* One diagnostic about one record: where, which field, what. */
typedef struct ivs_diag {
  size_t line, column; /* column 0: not known */
  char field[64];
  char message[512];
} ivs_diag;

/* The task fields a --map can rename. */
enum { IVS_F_PROMPT, IVS_F_CLASSES, IVS_F_ANSWER_INDEX, IVS_F_OTHER_PROMPT, IVS_F_COMPLETION, IVS_F_COUNT };

/* Old names of task fields, read when the field itself is absent (and not
 * --map'ed), each with an old-name warning: biased_prompt (other_prompt),
 * filled_template (prompt), answer_ix and answer_idx (answer_index). */
#define IVS_OLD_NAMES 4
typedef struct ivs_old_name {
  const char *name;
  int field; /* IVS_F_* */
} ivs_old_name;
extern const ivs_old_name ivs_old_names[IVS_OLD_NAMES];

/* --map: for each task field, the source field (column, key) it is read
 * from.  A zeroed struct maps every field to its own name. */
typedef struct ivs_fieldmap {
  char *src[IVS_F_COUNT]; /* owned; NULL: the field's own name */
} ivs_fieldmap;

/* Parses "prompt=question,classes=options" into *m (adding to it);
 * IVS_EUSAGE naming an unknown field or a malformed pair. */
int ivs_fieldmap_parse(ivs_fieldmap *m, const char *spec);
void ivs_fieldmap_release(ivs_fieldmap *m); /* m stays usable (zeroed) */
/* The source name of task field f (borrowed from m, or static).  m may be NULL. */
const char *ivs_fieldmap_source(const ivs_fieldmap *m, int f);

/* Plain text: each non-blank line, each paragraph, or the whole file is a prompt. */
typedef enum { IVS_UNIT_LINE, IVS_UNIT_PARAGRAPH, IVS_UNIT_FILE } ivs_text_unit;
/* "line", "paragraph", "file"; IVS_EUSAGE otherwise. */
int ivs_text_unit_parse(const char *name, ivs_text_unit *out);

#define IVS_XML_MAX_FIELDS 32
/* XML/HTML: a task field and the XPath (relative to a record) it is read from. */
typedef struct ivs_xml_field {
  const char *name;  /* borrowed */
  const char *xpath; /* borrowed */
} ivs_xml_field;

/* ---- an import ---- */

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

/* Every pointer is borrowed for the duration of ivs_import_run. */
typedef struct ivs_import_opts {
  ivs_source_format format;
  ivs_task_type type;          /* IVS_TYPE_AUTO: inferred from the first record (text: classification) */
  const char *tag;             /* every example gets it; NULL: none */
  int strict;                  /* the first invalid record ends the import, nothing stored */
  size_t max_field;            /* bytes; 0: 1 MiB.  Lines and records may be 16 times that */
  const ivs_fieldmap *map;     /* NULL: none */
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
  size_t old_name_rows[IVS_OLD_NAMES]; /* records that used each of ivs_old_names (biased_prompt_rows: [0]) */
  ivs_diag *rejects;       /* owned (ivs_import_result_release): the first invalid records */
  size_t n_rejects;
  ivs_strlist notes;       /* owned: what the reader noted ("3:5: column 5 has no name ..."), one line each */
} ivs_import_result;

/* Checks that the options name what their format needs (a template's
 * fillers, xml's record and fields); IVS_EUSAGE with a message otherwise. */
int ivs_import_opts_check(const ivs_import_opts *opts);

/* Imports `path` into the open store st.  An example of the same type and
 * task fields as a stored one is a duplicate and is skipped.  Returns 0 when
 * the file was read (res->invalid may still count skipped records); otherwise
 * a negative code with the store unchanged: IVS_EUSAGE for impossible
 * options, IVS_EINVAL for the first invalid record with `strict` (the message
 * ends in "(--strict: nothing imported)"), IVS_EIO/IVS_EPARSE/IVS_ELIMIT for
 * a fatal input error, IVS_ESTORE, IVS_ENOMEM.  When nothing new was stored
 * the transaction is rolled back.  res is initialised by the callee in every
 * case (also on failure) and released by the caller. */
int ivs_import_run(ivs_store *st, const char *path, const ivs_import_opts *opts, ivs_import_result *res);
void ivs_import_result_release(ivs_import_result *res);

#ifdef __cplusplus
}
#endif
#endif

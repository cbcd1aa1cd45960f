/* invscale: checking task files against the Inverse Scaling Prize's rules,
 * and writing the store's examples as a task file or a submission package.
 *
 * Validation needs no store: ivs_validate_file reads a CSV or JSONL file
 * (decided as invscale/ingest.h's task-file reader does) and reports every
 * broken rule through a callback, with line, column, field and rule id.
 * Export and package write atomically (a temporary file, fsynced and
 * renamed): on failure nothing is left behind.
 *
 * Errors: every function returns 0 or a negative IVS_E* code (invscale/core.h)
 * with the message in ivs_error_message().
 */
#ifndef INVSCALE_EXPORT_H
#define INVSCALE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ivs_store ivs_store; /* invscale/store.h */

/* ---- validation ---- */

/* One broken rule.  Rule ids (static strings): errors not-object
 * duplicate-key json required-field field-type mixed-types classes
 * answer-index empty trailing-whitespace min-examples encoding line-too-long;
 * warnings old-name leading-space duplicate conflicting-answers
 * answer-balance similar-classes few-examples unnamed-column, and with a
 * tokenizer token-boundary single-token same-first-token max-tokens. */
typedef struct ivs_vdiag {
  int is_error;        /* else a warning */
  size_t line, column; /* line 0: about the whole file; column 0: not known */
  const char *rule;    /* static */
  char field[64];
  char message[400];
} ivs_vdiag;

/* Called for every diagnostic, in line order; d is borrowed for the call.
 * Return 0 to go on. */
typedef int (*ivs_vdiag_fn)(const ivs_vdiag *d, void *ud);

#define IVS_STAT_BUCKETS 17 /* 0..15, and 16 for "16 or more" */

typedef struct ivs_validate_stats {
  size_t examples, errors, warnings;
  size_t class_counts[IVS_STAT_BUCKETS];  /* examples by number of classes */
  size_t answer_counts[IVS_STAT_BUCKETS]; /* examples by answer_index */
  size_t prompt_p50, prompt_p90, prompt_p99, prompt_max; /* characters */
  ivs_task_type type;
  int type_inferred;
  /* with a tokenizer: each tokenized example's longest prompt + class
   * (sequence_prob: + completion; log-odds: other_prompt too) in tokens */
  int tokenized;
  size_t tokens_p50, tokens_p90, tokens_p99, tokens_max;
} ivs_validate_stats;

typedef enum { IVS_FILE_UNKNOWN, IVS_FILE_CSV, IVS_FILE_JSONL } ivs_file_kind;

typedef struct ivs_validate_file_opts {
  ivs_task_type type;   /* IVS_TYPE_AUTO: inferred from the first record */
  size_t min_examples;  /* the prize's minimum is 300 */
  size_t max_line;      /* bytes per JSONL line / CSV field; 0: 16 MiB */
  ivs_vdiag_fn on_diag; /* NULL: diagnostics only counted */
  void *ud;
  /* JSONL of 32 MiB and more is read in two halves at once (same results);
   * set to read it in one pass (to compare the two in tests). */
  int one_pass;
  /* The tokenizer rules (token-boundary, single-token, same-first-token,
   * max-tokens) with a tokenizer of the tokenizer module (tokenizer/tokenizer.h,
   * ivs_tokenizer_load), borrowed for the call; NULL: not checked.  The file is
   * then read in one pass and its examples tokenized on `threads` threads (0:
   * one per core; 1: the calling thread only), with the same output. */
  const struct ivs_tokenizer *tokenizer;
  size_t max_tokens; /* max-tokens: prompt + class over this many tokens; 0: 1023 (GPT-2's in the prize's pipeline) */
  unsigned threads;
} ivs_validate_file_opts;

#define IVS_VALIDATE_FILE_OPTS_INIT {IVS_TYPE_AUTO, 300, 0, NULL, NULL, 0, NULL, 0, 0}

/* Validates `path`.  Returns 0 when the file could be read (it may still be
 * invalid: see stats->errors); IVS_EIO when it cannot be opened or is empty,
 * IVS_EUSAGE when it is neither CSV nor JSONL.  *kind tells which it was. */
int ivs_validate_file(const char *path, const ivs_validate_file_opts *opts, ivs_validate_stats *stats,
                      ivs_file_kind *kind);

/* ---- export ---- */

typedef struct ivs_export_opts {
  int csv;            /* else JSONL */
  int classes_python; /* JSONL: classes as the string of a Python list (the March 2023 form) */
  ivs_task_type type;
} ivs_export_opts;

/* A diagnostic about the written file, with the example it concerns. */
typedef struct ivs_export_diag {
  const ivs_vdiag *d;      /* borrowed for the callback */
  int has_origin;          /* the line falls on an example: the three below are set */
  int64_t example_id;      /* the example's id in the store */
  const char *source;      /* borrowed: the file it was imported from ("?" if unknown) */
  int64_t source_line;     /* its line there */
} ivs_export_diag;

typedef int (*ivs_export_diag_fn)(const ivs_export_diag *d, void *ud);

typedef struct ivs_export_task_opts {
  const char *out;            /* the file to write (required) */
  ivs_export_opts format;     /* type (required, not AUTO), csv, classes_python */
  const char *tag;            /* only examples with this tag; NULL: any */
  size_t min_examples;        /* the prize's minimum is 300 */
  ivs_export_diag_fn on_diag; /* every diagnostic of the check; NULL: none */
  void *ud;
} ivs_export_task_opts;

#define IVS_EXPORT_TASK_OPTS_INIT {NULL, {0, 0, IVS_TYPE_AUTO}, NULL, 300, NULL, NULL}

typedef struct ivs_export_task_report {
  size_t examples, errors, warnings;
} ivs_export_task_report;

/* Writes the labelled examples (sequence_prob: all) of the type, checks the
 * file exactly as written, and renames it into place when it breaks no error
 * rule.  Returns 0 when the file is in place; IVS_EINVAL when there is nothing
 * to export or an error rule is broken (rep->errors; nothing is left behind),
 * IVS_EIO, IVS_ESTORE, IVS_ENOMEM.  rep is filled in every case. */
int ivs_export_task(ivs_store *st, const ivs_export_task_opts *opts, ivs_export_task_report *rep);

/* ---- the submission package ---- */

#define IVS_MAX_PARTS 100

typedef struct ivs_package_opts {
  const char *out;        /* the zip to write (required) */
  ivs_task_type type;     /* IVS_TYPE_AUTO: the one labelled type in the store */
  const char *tag;        /* NULL: all */
  const char *parts_by;   /* metadata field; NULL: one part */
  size_t min_examples;
  ivs_vdiag_fn on_diag;   /* validation diagnostics of the packaged data; NULL: none */
  void *ud;
} ivs_package_opts;

#define IVS_PACKAGE_OPTS_INIT {NULL, IVS_TYPE_AUTO, NULL, NULL, 300, NULL, NULL}

typedef struct ivs_package_report {
  size_t examples, parts, warnings;
  ivs_task_type type;
  char names[IVS_MAX_PARTS + 3][96]; /* files in the zip */
  size_t nnames;
} ivs_package_report;

/* Writes the zip (the task as CSV parts split by a metadata field, the JSONL,
 * and datasheet.md from the project's meta) atomically.  Fails with
 * IVS_EINVAL naming missing datasheet fields, too few examples, examples
 * without the parts field, or data that breaks an error rule; nothing is left
 * behind on failure. */
int ivs_package_write(ivs_store *st, const ivs_package_opts *opts, ivs_package_report *rep);

#ifdef __cplusplus
}
#endif
#endif

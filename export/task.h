/* Exporting the store's examples of one type as a task file: written to a
 * temporary file, checked against the prize's rules exactly as written, and
 * renamed into place only when no error rule is broken. */
#ifndef IVS_EXPORT_TASK_H
#define IVS_EXPORT_TASK_H

#include <stdint.h>

#include "export/rules.h"
#include "export/write.h"
#include "store/store.h"

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
  const char *out;           /* the file to write (required) */
  ivs_export_opts format;    /* type (required, not AUTO), csv, classes_python */
  const char *tag;           /* only examples with this tag; NULL: any */
  size_t min_examples;       /* the prize's minimum is 300 */
  ivs_export_diag_fn on_diag; /* every diagnostic of the check; NULL: none */
  void *ud;
} ivs_export_task_opts;

#define IVS_EXPORT_TASK_OPTS_INIT {NULL, {0, 0, IVS_TYPE_AUTO}, NULL, 300, NULL, NULL}

typedef struct ivs_export_task_report {
  size_t examples, errors, warnings;
} ivs_export_task_report;

/* Writes the labelled examples (sequence_prob: all) of the type.  Returns 0
 * when the file is in place; IVS_EINVAL when there is nothing to export or the
 * written data breaks an error rule (rep->errors; nothing is left behind),
 * IVS_EIO, IVS_ESTORE, IVS_ENOMEM.  rep is filled in every case. */
int ivs_export_task(ivs_store *st, const ivs_export_task_opts *opts, ivs_export_task_report *rep);

#endif

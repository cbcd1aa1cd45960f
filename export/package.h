/* The submission package: a zip with the task as CSV parts (split by a
 * metadata field), the JSONL, and datasheet.md from the project's meta. */
#ifndef IVS_EXPORT_PACKAGE_H
#define IVS_EXPORT_PACKAGE_H

#include "export/rules.h"
#include "store/store.h"

#define IVS_MAX_PARTS 100

typedef struct ivs_package_opts {
  const char *out;        /* the zip to write */
  ivs_task_type type;     /* IVS_TYPE_AUTO: the one labelled type in the store */
  const char *tag;        /* NULL: all */
  const char *parts_by;   /* metadata field; NULL: one part */
  size_t min_examples;
  ivs_vdiag_fn on_diag;   /* validation diagnostics of the packaged data */
  void *ud;
} ivs_package_opts;

typedef struct ivs_package_report {
  size_t examples, parts, warnings;
  ivs_task_type type;
  char names[IVS_MAX_PARTS + 3][96]; /* files in the zip */
  size_t nnames;
} ivs_package_report;

/* Writes the zip atomically.  Fails with IVS_EINVAL naming missing datasheet
 * fields, too few examples, examples without the parts field, or data that
 * breaks an error rule; nothing is left behind on failure. */
int ivs_package_write(ivs_store *st, const ivs_package_opts *opts, ivs_package_report *rep);

#endif

/* Validating a task file (CSV or JSONL) against the prize's rules; no store
 * needed.  See export/rules.h for the rules. */
#ifndef IVS_EXPORT_VALIDATE_H
#define IVS_EXPORT_VALIDATE_H

#include "export/rules.h"

typedef enum { IVS_FILE_UNKNOWN, IVS_FILE_CSV, IVS_FILE_JSONL } ivs_file_kind;

typedef struct ivs_validate_file_opts {
  ivs_task_type type;   /* IVS_TYPE_AUTO: inferred from the first record */
  size_t min_examples;
  size_t max_line;      /* bytes per JSONL line / CSV field; 0: 16 MiB */
  ivs_vdiag_fn on_diag;
  void *ud;
  /* JSONL of 32 MiB and more is read in two halves at once (same results);
   * set to read it in one pass (to compare the two in tests). */
  int one_pass;
} ivs_validate_file_opts;

/* Validates `path`.  Returns 0 when the file could be read (it may still be
 * invalid: see stats->errors), IVS_EIO when it cannot be opened or is empty,
 * IVS_EUSAGE when it is neither CSV nor JSONL.  *kind tells which it was. */
int ivs_validate_file(const char *path, const ivs_validate_file_opts *opts, ivs_validate_stats *stats,
                      ivs_file_kind *kind);

#endif

/* Exporting the store's examples of one type as a task file: written to a
 * temporary file, checked against the prize's rules exactly as written, and
 * renamed into place only when no error rule is broken. */
#ifndef IVS_EXPORT_TASK_H
#define IVS_EXPORT_TASK_H

#include <stdint.h>

#include "export/rules.h"
#include "export/write.h"
#include "store/store.h"

#include "invscale/export.h" /* ivs_export_diag, ivs_export_task_opts, ivs_export_task */

#endif

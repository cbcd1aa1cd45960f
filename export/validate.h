/* Validating a task file (CSV or JSONL) against the prize's rules; no store
 * needed.  See export/rules.h for the rules. */
#ifndef IVS_EXPORT_VALIDATE_H
#define IVS_EXPORT_VALIDATE_H

#include "export/rules.h"

#include "invscale/export.h" /* ivs_file_kind, ivs_validate_file_opts, ivs_validate_file */

#endif

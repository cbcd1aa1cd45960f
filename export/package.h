/* The submission package: a zip with the task as CSV parts (split by a
 * metadata field), the JSONL, and datasheet.md from the project's meta. */
#ifndef IVS_EXPORT_PACKAGE_H
#define IVS_EXPORT_PACKAGE_H

#include "export/rules.h"
#include "store/store.h"

#include "invscale/export.h" /* ivs_package_opts, ivs_package_report, ivs_package_write */

#endif

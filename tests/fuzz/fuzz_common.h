/* Shared by the fuzz targets: run every record through the example
 * conversion, as the ingest command does. */
#ifndef IVS_FUZZ_COMMON_H
#define IVS_FUZZ_COMMON_H

#include "core/error.h"
#include "ingest/record.h"

static int convert_record(const ivs_record *rec, void *ud) {
  ivs_ingest_ctx *ctx = ud;
  ivs_example ex;
  ivs_diag d;
  int rc = ivs_ingest_convert(ctx, rec, &ex, &d);
  if (rc == 0) ivs_example_release(&ex);
  return rc == IVS_EINVAL ? 0 : rc;
}

#endif

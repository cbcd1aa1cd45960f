/* libFuzzer: CSV records through libcsv, the header logic and conversion. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_ingest_ctx ctx = {0};
  ctx.path = "fuzz.csv";
  ivs_csv_opts o = {.delim = size && data[0] == '\t' ? '\t' : ',', .max_field = 4096};
  ivs_csv_read_mem("fuzz.csv", (const char *)data, size, &o, convert_record, &ctx);
  ivs_ingest_ctx_release(&ctx);
  return 0;
}

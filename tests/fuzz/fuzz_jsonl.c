/* libFuzzer: one JSONL line through cJSON and the conversion. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/jsonl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_ingest_ctx ctx = {0};
  ctx.path = "fuzz.jsonl";
  ivs_jsonl_line("fuzz.jsonl", 1, (const char *)data, size, convert_record, &ctx);
  ivs_ingest_ctx_release(&ctx);
  return 0;
}

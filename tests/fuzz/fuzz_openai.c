/* libFuzzer: a completions response body through the openai: backend's
 * parser; the first two bytes choose the context and total lengths. */
#include <stddef.h>
#include <stdint.h>

#include "eval/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t ctx = data[0], total = (size_t)data[0] + data[1];
  double lp;
  ivs_openai_parse((const char *)data + 2, size - 2, ctx, total, &lp);
  return 0;
}

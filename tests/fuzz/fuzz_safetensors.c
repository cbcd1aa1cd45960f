/* libFuzzer: the safetensors header checks.  Whatever is accepted must hand
 * out tensors whose spans lie inside the data, sorted, unique, and whose
 * element count times the dtype size is the span. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_st_file f;
  if (ivs_st_read_mem(&f, "fuzz.safetensors", data, size) == 0) {
    for (size_t i = 0; i < f.n; i++) {
      const ivs_st_tensor *t = &f.tensors[i];
      const uint8_t *p = t->data;
      if (p < data + 8 || p + t->bytes > data + size) abort();
      if (t->bytes != t->count * (t->dtype == IVS_DTYPE_F32 ? 4u : 2u)) abort();
      if (i && strcmp(f.tensors[i - 1].name, t->name) >= 0) abort();
      if (ivs_st_find(&f, t->name) != t) abort();
      float first;
      if (t->count) ivs_dtype_to_f32(t->dtype, t->data, &first, 1);
    }
  }
  ivs_st_close(&f);
  return 0;
}

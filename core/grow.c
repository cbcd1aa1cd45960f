#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/mem.h"

int ivs_grow(void **p, size_t *cap, size_t need, size_t size, size_t first) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : first ? first : 1;
  while (c < need) {
    if (c > SIZE_MAX / 2) return ivs_error_set(IVS_ENOMEM, "out of memory");
    c *= 2;
  }
  if (size && c > SIZE_MAX / size) return ivs_error_set(IVS_ENOMEM, "out of memory");
  void *q = realloc(*p, c * size);
  if (!q) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!*p) ivs_mem_hint_huge(q, c * size);
  *p = q;
  *cap = c;
  return 0;
}

#include "core/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

void ivs_mem_hint_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (!p || bytes < ((size_t)4 << 20)) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + bytes) & ~(page - 1);
  if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE); /* refused: no harm */
#else
  (void)p, (void)bytes;
#endif
}

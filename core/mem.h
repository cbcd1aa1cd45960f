/* Memory hints for large blocks. */
#ifndef IVS_CORE_MEM_H
#define IVS_CORE_MEM_H

#include <stddef.h>

/* Asks the kernel for transparent huge pages for the block [p, p + bytes)
 * (from malloc, calloc, realloc or mmap) when it is 4 MiB or more: each 4 KiB page
 * first touched otherwise costs a page fault, which on a virtual machine is
 * slow.  A hint only: nothing happens where it is not supported. */
void ivs_mem_hint_huge(void *p, size_t bytes);

#endif

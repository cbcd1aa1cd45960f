/* Growing an array geometrically: the one place where an array's capacity
 * is doubled.  Overflow of count x size is refused like an allocation that
 * fails, so no caller multiplies sizes itself.
 *
 *   if (ivs_grow((void **)&a, &cap, n + 1, sizeof *a, 256)) return IVS_ENOMEM;
 *   a[n++] = x;
 */
#ifndef IVS_CORE_GROW_H
#define IVS_CORE_GROW_H

#include <stddef.h>

/* Makes *p (an array of *cap elements of `size` bytes, malloc'd or NULL) hold
 * at least `need` elements, doubling from `first` (at least 1).  A block of
 * 4 MiB or more is asked for huge pages when it is first allocated.  Returns
 * 0, or IVS_ENOMEM with the last error set; *p and *cap are then untouched
 * (the old block stays the caller's to free). */
int ivs_grow(void **p, size_t *cap, size_t need, size_t size, size_t first);

#endif

/* Ratings and agreement statistics: the public contract is invscale/label.h.
 * This header adds what the label module shares internally. */
#ifndef IVS_LABEL_AGREEMENT_H
#define IVS_LABEL_AGREEMENT_H

#include <stdint.h>

#include "invscale/label.h"

/* The judgments of a finished r as flat index arrays grouped by item:
 * judgments start[i] .. start[i + 1] - 1 are item i's.  Borrowed from r
 * (built on first use). */
int ivs_ratings_flat(const ivs_ratings *r, size_t *n, const uint32_t **item, const uint32_t **annotator,
                     const uint32_t **label, const size_t **start);

#endif

/* The engine's own threads, for the work between the matrix products
 * (attention per head, norms, activations), which would otherwise run on one
 * core while the others wait.  As many threads as OpenBLAS is given
 * (ivs_model_set_threads); while they run, OpenBLAS runs on one thread in
 * each of them, so that the two never nest. */
#ifndef IVS_ENGINE_PAR_H
#define IVS_ENGINE_PAR_H

#include <stddef.h>

/* Work on the items [lo, hi) of a split; part is 0 .. ivs_par_threads() - 1. */
typedef void (*ivs_par_fn)(void *ud, size_t part, size_t lo, size_t hi);

/* Runs fn over [0, n) cut into one contiguous part per thread (cut at
 * multiples of `align` items), the calling thread taking the first, and
 * returns when all are done.  Fewer than `min` items per thread: the calling
 * thread does all (part 0).  Calls from another thread while a split runs,
 * and calls made inside fn, run on their caller alone. */
void ivs_par_for(size_t n, size_t min, size_t align, ivs_par_fn fn, void *ud);

/* The threads a split uses (>= 1). */
size_t ivs_par_threads(void);
/* Sets them (1 to 64; OpenBLAS's thread count is set by the caller). */
void ivs_par_set_threads(size_t n);

#endif

/* The project store, for the modules of the library: the public contract is
 * invscale/store.h; this header adds the example model it stores
 * (core/example.h), so that callers inside the library pass ivs_example. */
#ifndef IVS_STORE_STORE_H
#define IVS_STORE_STORE_H

#include "core/example.h"
#include "invscale/store.h"

#endif

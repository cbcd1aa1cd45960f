/* Per-token rate limits: a token bucket per token hash, in a table of fixed
 * size (the least recently seen token gives way when it is full).  Used by
 * the thread that takes connections only. */
#ifndef IVS_SERVE_LIMIT_H
#define IVS_SERVE_LIMIT_H

#include <stddef.h>

#define IVS_LIMIT_SLOTS 1024

typedef struct ivs_limit_slot {
  char key[17]; /* the first 16 hex digits of the token's hash; "" free */
  double tokens, last;
} ivs_limit_slot;

typedef struct ivs_limiter {
  double rate, burst;
  ivs_limit_slot slot[IVS_LIMIT_SLOTS];
} ivs_limiter;

void ivs_limiter_init(ivs_limiter *l, double rate, double burst);
/* 1 when a request of `key` (hex digits) may go at time now (seconds), else
 * 0 with *retry_after the seconds to wait. */
int ivs_limiter_take(ivs_limiter *l, const char *key, double now, double *retry_after);

#endif

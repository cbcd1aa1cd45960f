/* Token buckets per token, for the server's rate limits. */
#include "serve/limit.h"

#include <stdlib.h>
#include <string.h>

void ivs_limiter_init(ivs_limiter *l, double rate, double burst) {
  memset(l, 0, sizeof *l);
  l->rate = rate > 0 ? rate : 1;
  l->burst = burst >= 1 ? burst : 1;
}

int ivs_limiter_take(ivs_limiter *l, const char *key, double now, double *retry_after) {
  size_t h = (size_t)strtoull((char[9]){key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], 0}, NULL, 16);
  ivs_limit_slot *s = NULL, *oldest = NULL;
  for (size_t i = 0; i < 16 && !s; i++) { /* a short probe; then the least recent of it is replaced */
    ivs_limit_slot *c = &l->slot[(h + i) % IVS_LIMIT_SLOTS];
    if (!strncmp(c->key, key, 16)) s = c;
    else if (!c->key[0]) { /* a free slot beats any used one */
      if (!oldest || oldest->key[0]) oldest = c;
    } else if (!oldest || (oldest->key[0] && c->last < oldest->last)) {
      oldest = c;
    }
  }
  if (!s) {
    s = oldest;
    memcpy(s->key, key, 16);
    s->key[16] = 0;
    s->tokens = l->burst;
    s->last = now;
  }
  s->tokens += (now - s->last) * l->rate;
  if (s->tokens > l->burst) s->tokens = l->burst;
  s->last = now;
  if (s->tokens >= 1) {
    s->tokens -= 1;
    return 1;
  }
  *retry_after = (1 - s->tokens) / l->rate;
  return 0;
}

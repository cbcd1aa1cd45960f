/* Small hashing and random-number helpers shared by the modules.  Not
 * cryptographic: the hashes only filter (equal hashes are always confirmed or
 * the consequence is a warning), and the generator only has to be fast,
 * reproducible from a seed and well mixed. */
#ifndef IVS_CORE_HASH_H
#define IVS_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One 64-bit word into a running hash. */
static inline uint64_t ivs_hash_mix(uint64_t h, uint64_t w) {
  h ^= w * 0x9E3779B97F4A7C15ULL;
  h = (h << 27) | (h >> 37);
  return h * 0xBF58476D1CE4E5B9ULL + 0x94D049BB133111EBULL;
}

/* n bytes, length-prefixed (so "ab"+"c" and "a"+"bc" differ), eight at a time. */
static inline uint64_t ivs_hash_bytes(uint64_t h, const char *s, size_t n) {
  h = ivs_hash_mix(h, n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    h = ivs_hash_mix(h, w);
  }
  uint64_t w = 0;
  memcpy(&w, s + i, n - i);
  return ivs_hash_mix(h, w);
}

/* SplitMix64: the next value of the sequence seeded by *state. */
static inline uint64_t ivs_splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

#endif

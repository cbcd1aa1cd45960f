/* Choosing the next token from a row of logits: greedy, or sampled as
 * transformers' logits warpers do it, in their order: temperature (logits
 * divided by it), top-k (tokens below the k-th largest logit removed; ties
 * with it kept), top-p (tokens sorted by probability, largest first, ties by
 * lower id; a token is kept while the probability of the tokens before it is
 * below top_p, so at least one is kept).  The draw walks the kept tokens in
 * that order (all of them in id order when neither top-k nor top-p is on).
 *
 * The uniform numbers come from a counter-based generator, so a run is the
 * same on any machine and whatever the batching: the draw of step `step` of
 * sample `sample` of prompt `stream` under `seed` is
 *   x = mix(mix(mix(mix(seed) ^ stream) ^ sample) ^ step),  u = (x >> 11) * 2^-53
 * where mix is SplitMix64's finalizer (z ^= z >> 30, z *= 0xbf58476d1ce4e5b9,
 * z ^= z >> 27, z *= 0x94d049bb133111eb, z ^= z >> 31) applied to z + 0x9e3779b97f4a7c15. */
#ifndef IVS_ENGINE_SAMPLE_H
#define IVS_ENGINE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ivs_sampler {
  int greedy;         /* 1: the first most likely token (the others are ignored) */
  double temperature; /* > 0 */
  size_t top_k;       /* 0: off */
  double top_p;       /* (0, 1]; 1: off */
} ivs_sampler;

/* 0, or IVS_EINVAL naming the setting out of range. */
int ivs_sampler_check(const ivs_sampler *s);

double ivs_sample_uniform(uint64_t seed, uint64_t stream, uint64_t sample, uint64_t step);

/* Scratch for ivs_sample_pick, for a vocabulary of V. */
typedef struct ivs_sample_scratch ivs_sample_scratch;
int ivs_sample_scratch_new(ivs_sample_scratch **out, size_t V); /* owned by the caller */
void ivs_sample_scratch_free(ivs_sample_scratch *sc);            /* accepts NULL */

/* The token for logits[0..V) (left as they are) and the uniform u in [0, 1).
 * Non-finite logits give -1. */
int32_t ivs_sample_pick(const float *logits, size_t V, const ivs_sampler *s, double u, ivs_sample_scratch *sc);

#endif

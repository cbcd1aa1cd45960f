/* Generating text: many prompts decoded together, each prompt's samples
 * sharing its keys and values (the prompt runs once), one forward per step
 * for every sequence still going.  Tokens are chosen by engine/sample.h, so
 * a run with a seed is the same on any machine and whatever the batching. */
#ifndef IVS_ENGINE_GENERATE_H
#define IVS_ENGINE_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"
#include "engine/sample.h"

typedef struct ivs_decode_req {
  const int32_t *ids; /* borrowed: the prompt, 1 to the model's context tokens */
  size_t n;
  size_t samples;     /* >= 1 */
  uint64_t stream;    /* the generator's stream of this prompt (its index in the run) */
} ivs_decode_req;

/* Why a sequence ended, in the order of eval/generate.h's ivs_gen_stop. */
enum { IVS_DECODE_LENGTH = 0, IVS_DECODE_EOS, IVS_DECODE_STOP, IVS_DECODE_CONTEXT };

typedef struct ivs_decoded {
  int32_t *ids; /* owned (malloc): the generated tokens (an end-of-sequence token not included) */
  size_t n;
  int stop;     /* IVS_DECODE_* */
} ivs_decoded;
void ivs_decoded_release(ivs_decoded *d); /* frees ids; accepts a zeroed struct */

typedef struct ivs_decode_opts {
  ivs_sampler sampler;
  size_t max_new;      /* tokens per sequence, >= 1 */
  uint64_t seed;
  const int32_t *eos;  /* borrowed: tokens that end a sequence; may be NULL */
  size_t n_eos;
  size_t batch;        /* sequences decoded together; 0: 256 (a prompt's samples are never split) */
  size_t cache_bytes;  /* keys and values held at once; 0: 2 GiB (at least one prompt's are) */
  /* optional, after each token of sequence `seq` (its index in out), with its
   * tokens so far: 1 ends it (IVS_DECODE_STOP), 0 goes on, < 0 stops the run
   * with that code (the callback sets the error) */
  int (*on_token)(size_t seq, const int32_t *ids, size_t n, void *ud);
  /* optional, after each step: sequences done of total, tokens generated */
  void (*progress)(size_t done, size_t total, size_t tokens, void *ud);
  void *ud;
} ivs_decode_opts;

/* out[k] for k < the sum of samples gets sample s of reqs[i] at k = the
 * samples before i + s.  On failure every out entry is released.
 * IVS_EINVAL for a bad prompt (named by index: empty, longer than the
 * context, an id outside the vocabulary), bad options, or a non-finite logit;
 * IVS_ENOMEM. */
int ivs_model_generate(ivs_model *m, const ivs_decode_req *reqs, size_t n, const ivs_decode_opts *o, ivs_decoded *out);

/* The tokens that end a generation: generation_config.json's eos_token_id
 * (a number or a list) when the directory has one, else config.json's; at
 * most max of them in out; how many. */
size_t ivs_model_eos(const ivs_model *m, int32_t *out, size_t max);

#endif

/* Generated text: what a backend that generates (caps IVS_BACKEND_GENERATE,
 * eval/backend.h) is asked for and gives back.  Internal to eval/. */
#ifndef IVS_EVAL_GENERATE_H
#define IVS_EVAL_GENERATE_H

#include <stddef.h>
#include <stdint.h>

/* How to decode.  Sampling applies temperature, then top-k, then top-p, in
 * that order (as transformers' logits warpers do); greedy ignores them. */
typedef struct ivs_gen_params {
  size_t samples;        /* per prompt, >= 1 (they share the prompt's keys and values where the backend can) */
  size_t max_new_tokens; /* >= 1 */
  int greedy;            /* 1: the most likely token each step */
  double temperature;    /* > 0 when sampling */
  size_t top_k;          /* 0: off; >= 1 */
  double top_p;          /* in (0, 1]; 1: off */
  uint64_t seed;         /* the run's seed: prompt i, sample s draws from (seed, i, s) whatever the batching */
  const char *const *stop; /* borrowed: stop strings (the text ends before the first one found); may be NULL */
  size_t n_stop;
} ivs_gen_params;

/* Why a generation ended. */
typedef enum ivs_gen_stop {
  IVS_GEN_LENGTH = 0, /* max_new_tokens reached */
  IVS_GEN_EOS,        /* the model's end-of-sequence token (not part of text or ids) */
  IVS_GEN_STOP,       /* a stop string (not part of text; ids up to the token that completed it) */
  IVS_GEN_CONTEXT     /* the model's context is full */
} ivs_gen_stop;
const char *ivs_gen_stop_name(ivs_gen_stop s); /* "length", "eos", "stop", "context" */

typedef struct ivs_generation {
  char *text;          /* owned (malloc): the generated text after the prompt */
  int32_t *ids;        /* owned (malloc): the generated token ids, or NULL when the backend does not know them */
  size_t n_ids;        /* entries in ids */
  size_t n_tokens;     /* tokens generated (n_ids, or the server's usage count; 0 when unknown) */
  ivs_gen_stop stop;
  /* A server that gives the generated tokens as text but not their ids (the
   * completions API's logprobs.tokens): owned (malloc), n_token_texts
   * strings each malloc'd; NULL when ids are given or nothing is known.  The
   * probes' repetition and distinct-n count over these when ids is NULL. */
  char **token_texts;
  size_t n_token_texts;
} ivs_generation;

/* Frees g's fields and zeroes it (accepts a zeroed struct). */
void ivs_generation_release(ivs_generation *g);

#endif

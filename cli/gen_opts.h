/* The decoding options shared by `lm generate` and `probe`: one parser, one
 * set of limits and messages. */
#ifndef IVS_CLI_GEN_OPTS_H
#define IVS_CLI_GEN_OPTS_H

#include "eval/generate.h"
#include "invscale/eval.h"

/* the library's limits for a probe, the same for lm generate */
enum { GEN_MAX_STOPS = IVS_PROBE_MAX_STOPS, GEN_MAX_SAMPLES = IVS_PROBE_MAX_SAMPLES, GEN_MAX_NEW_TOKENS = IVS_PROBE_MAX_NEW_TOKENS };

typedef struct gen_opts {
  ivs_gen_params p;             /* the result; p.stop points into stop[] */
  const char *stop[GEN_MAX_STOPS]; /* borrowed from argv (unescaped in place) */
  int sample_default;           /* 1: sampling (temperature 1) unless --greedy or --temperature 0 */
  int greedy_set, zero_temp, sampling_set, filter_set; /* which options were given */
} gen_opts;

#define GEN_OPTS_HELP                                                                                      \
  "  --max-new-tokens N   tokens per generation (default 64)\n"                                          \
  "  --greedy             the most likely token each step (the default)\n"                               \
  "  --temperature T      sample, logits divided by T > 0 (0: --greedy); then --top-k K (>= 1; off) and\n"   \
  "                       --top-p P (in (0, 1]; default 1), in transformers' order\n"                    \
  "  --seed S             the generator's seed (default 1): the same tokens on any machine\n"            \
  "  --samples N          generations per prompt (default 1; they share the prompt's keys and values)\n" \
  "  --stop STR           end a generation before STR (may be given 16 times; \\n, \\t, \\r, \\\\ read)\n"

/* Defaults: greedy, 1 sample, 64 new tokens, seed 1 (with sample_default:
 * sampling at temperature 1, top-k off, top-p 1). */
void gen_opts_init(gen_opts *g, int sample_default);
/* 1 when name (without "--") is a decoding option and value was taken
 * (value is not read for "greedy"; a --stop value is unescaped in place), 0
 * when it is not one, -1 after a usage error was reported (the exit code is
 * then in *code). */
int gen_opts_take(gen_opts *g, const char *cmd, const char *name, char *value, int *code);
/* After the options: 0, or a usage error's exit code (e.g. --top-k without sampling). */
int gen_opts_finish(gen_opts *g, const char *cmd);

#endif

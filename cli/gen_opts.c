/* The decoding options of `lm generate` and `probe` (cli/gen_opts.h). */
#include "cli/gen_opts.h"

#include <stdint.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/parse.h"

void gen_opts_init(gen_opts *g, int sample_default) {
  memset(g, 0, sizeof *g);
  g->sample_default = sample_default;
  g->p = (ivs_gen_params){.samples = 1, .max_new_tokens = 64, .greedy = !sample_default, .temperature = 1, .top_p = 1,
                          .seed = 1, .stop = g->stop};
}

/* \n, \t, \r and \\ in a --stop value, in place. */
static void unescape(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r == '\\' && (r[1] == 'n' || r[1] == 't' || r[1] == 'r' || r[1] == '\\')) {
      r++;
      *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : *r == 'r' ? '\r' : '\\';
    } else *w++ = *r;
  }
  *w = '\0';
}

int gen_opts_take(gen_opts *g, const char *cmd, const char *name, char *value, int *code) {
  ivs_gen_params *p = &g->p;
  int rc = 0;
  if (!strcmp(name, "greedy")) g->greedy_set = 1;
  else if (!strcmp(name, "max-new-tokens"))
    rc = ivs_parse_size("--max-new-tokens", value, 1, GEN_MAX_NEW_TOKENS, &p->max_new_tokens);
  else if (!strcmp(name, "samples")) rc = ivs_parse_size("--samples", value, 1, GEN_MAX_SAMPLES, &p->samples);
  else if (!strcmp(name, "temperature")) {
    /* 0 is the most likely token, as servers read it */
    rc = ivs_parse_double("--temperature", value, -1e300, 1e6, &p->temperature);
    if (!rc && p->temperature < 0) rc = ivs_error_set(IVS_EUSAGE, "--temperature: 0 or more, got '%s'", value);
    if (!rc) g->zero_temp = p->temperature == 0, g->sampling_set = p->temperature > 0;
    if (!rc && g->zero_temp) p->temperature = 1; /* not read: greedy */
  } else if (!strcmp(name, "top-k")) {
    rc = ivs_parse_size("--top-k", value, 0, (size_t)1 << 30, &p->top_k);
    if (!rc && !p->top_k) rc = ivs_error_set(IVS_EUSAGE, "--top-k 0: must be at least 1 (leave it out for no top-k)");
    g->filter_set = 1;
  } else if (!strcmp(name, "top-p")) {
    rc = ivs_parse_double("--top-p", value, -1e300, 1e300, &p->top_p);
    if (!rc && !(p->top_p > 0 && p->top_p <= 1)) rc = ivs_error_set(IVS_EUSAGE, "--top-p: in (0, 1], got '%s'", value);
    g->filter_set = 1;
  } else if (!strcmp(name, "seed")) rc = ivs_parse_u64("--seed", value, 0, UINT64_MAX, &p->seed);
  else if (!strcmp(name, "stop")) {
    unescape(value);
    if (p->n_stop == GEN_MAX_STOPS) rc = ivs_error_set(IVS_EUSAGE, "--stop: at most %d of them", GEN_MAX_STOPS);
    else if (!*value) rc = ivs_error_set(IVS_EUSAGE, "--stop: an empty string");
    else g->stop[p->n_stop++] = value;
  } else return 0;
  if (rc) {
    *code = usage_error(cmd, "%s", ivs_error_message());
    return -1;
  }
  return 1;
}

int gen_opts_finish(gen_opts *g, const char *cmd) {
  if (g->greedy_set && (g->sampling_set || g->filter_set))
    return usage_error(cmd, "--greedy does not go with --temperature, --top-k or --top-p");
  int greedy = g->greedy_set || g->zero_temp || (!g->sample_default && !g->sampling_set);
  if (greedy && g->filter_set)
    return usage_error(cmd, "--top-k and --top-p filter sampling: give --temperature above 0 too");
  g->p.greedy = greedy;
  return 0;
}

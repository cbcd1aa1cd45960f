/* The decoding options of `lm generate` and `probe` (cli/gen_opts.h). */
#include "cli/gen_opts.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/parse.h"

void gen_opts_init(gen_opts *g) {
  memset(g, 0, sizeof *g);
  g->p = (ivs_gen_params){.samples = 1, .max_new_tokens = 64, .greedy = 1, .temperature = 1, .top_p = 1, .seed = 1,
                          .stop = g->stop};
}

/* "\n" and "\t" in a stop string from the command line, in place. */
static void unescape(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
      *o++ = s[1] == 'n' ? '\n' : s[1] == 't' ? '\t' : '\\';
      s++;
    } else *o++ = *s;
  }
  *o = '\0';
}

int gen_opts_take(gen_opts *g, const char *cmd, const char *name, const char *value, int *code) {
  ivs_gen_params *p = &g->p;
  int rc = 0;
  if (!strcmp(name, "max-new-tokens")) rc = ivs_parse_size("--max-new-tokens", value, 1, 1 << 20, &p->max_new_tokens);
  else if (!strcmp(name, "temperature")) {
    /* 0 is the most likely token, as servers read it (and probe) */
    rc = ivs_parse_double("--temperature", value, 0, 1e6, &p->temperature);
    if (!rc && p->temperature > 0) g->sampling_set = 1;
    if (!rc && p->temperature == 0) p->temperature = 1; /* unused: greedy */
  } else if (!strcmp(name, "top-k")) {
    rc = ivs_parse_size("--top-k", value, 0, (size_t)1 << 30, &p->top_k);
    if (!rc && !p->top_k) rc = ivs_error_set(IVS_EUSAGE, "--top-k 0: must be at least 1 (leave it out for no top-k)");
    g->top_k_set = 1;
  } else if (!strcmp(name, "top-p")) {
    rc = ivs_parse_double("--top-p", value, 0, 1, &p->top_p);
    if (!rc && !(p->top_p > 0)) rc = ivs_error_set(IVS_EUSAGE, "--top-p %s: must be in (0, 1]", value);
    g->top_k_set = 1;
  } else if (!strcmp(name, "seed")) {
    size_t s;
    rc = ivs_parse_size("--seed", value, 0, (size_t)-1 >> 1, &s);
    p->seed = s;
  } else if (!strcmp(name, "samples")) rc = ivs_parse_size("--samples", value, 1, 10000, &p->samples);
  else if (!strcmp(name, "stop")) {
    if (p->n_stop == sizeof g->stop / sizeof *g->stop) rc = ivs_error_set(IVS_EUSAGE, "--stop: at most 16 of them");
    else if (!*value) rc = ivs_error_set(IVS_EUSAGE, "--stop: an empty string");
    else {
      unescape((char *)value);
      g->stop[p->n_stop++] = value;
    }
  } else return 0;
  if (rc) {
    *code = usage_error(cmd, "%s", ivs_error_message());
    return -1;
  }
  return 1;
}

int gen_opts_finish(gen_opts *g, const char *cmd) {
  if (g->greedy_set && (g->sampling_set || g->top_k_set))
    return usage_error(cmd, "--greedy does not go with --temperature, --top-k or --top-p");
  if (g->top_k_set && !g->sampling_set)
    return usage_error(cmd, "--top-k and --top-p filter sampling: give --temperature above 0 too");
  g->p.greedy = !g->sampling_set;
  return 0;
}

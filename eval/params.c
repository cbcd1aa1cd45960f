/* The parameter counts of well-known models (ivs_eval_known_params). */
#include <string.h>
#include <strings.h>

#include "invscale/eval.h"

/* Nominal sizes: the prize's list and the families used for pilots today. */
static const struct {
  const char *name;
  double params;
} known[] = {{"gpt2", 124e6}, {"gpt2-medium", 355e6}, {"gpt2-large", 774e6}, {"gpt2-xl", 1.5e9},
             {"ada", 350e6}, {"babbage", 1.3e9}, {"curie", 6.7e9}, {"davinci", 175e9},
             {"opt-125m", 125e6}, {"opt-350m", 350e6}, {"opt-1.3b", 1.3e9}, {"opt-2.7b", 2.7e9}, {"opt-6.7b", 6.7e9},
             {"opt-13b", 13e9}, {"gpt-neo-125M", 125e6}, {"gpt-neo-1.3B", 1.3e9}, {"gpt-neo-2.7B", 2.7e9},
             {"gpt-j-6B", 6e9}, {"pythia-14m", 14e6}, {"pythia-70m", 70e6}, {"pythia-160m", 160e6},
             {"pythia-410m", 410e6}, {"pythia-1b", 1e9}, {"pythia-1.4b", 1.4e9}, {"pythia-2.8b", 2.8e9},
             {"pythia-6.9b", 6.9e9}, {"pythia-12b", 12e9}, {"Qwen2.5-0.5B", 0.5e9}, {"Qwen2.5-1.5B", 1.5e9},
             {"Qwen2.5-3B", 3e9}, {"Qwen2.5-7B", 7e9}, {"Qwen2.5-14B", 14e9}, {"Qwen2.5-32B", 32e9},
             {"Qwen2.5-72B", 72e9}, {"SmolLM2-135M", 135e6}, {"SmolLM2-360M", 360e6}, {"SmolLM2-1.7B", 1.7e9}};

double ivs_eval_known_params(const char *name) {
  if (!name) return 0;
  const char *slash = strrchr(name, '/');
  if (slash) name = slash + 1;
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (!strcasecmp(name, known[i].name)) return known[i].params;
  return 0;
}

/* libFuzzer: the probes' parsers.  The first byte chooses: 0 a pattern file
 * (then its patterns on the input), 1 a spamd reply, 2 a completions
 * response's choice (the openai: backend's generation parser), 3 a prompt
 * set (JSON Lines or CSV through the task-file reader), 4 the number parser
 * and the token metrics on the input's bytes. */
#define _GNU_SOURCE /* memfd_create */
#include <cjson/cJSON.h>
#include <sys/mman.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/openai.h"
#include "eval/probe_match.h"
#include "eval/probe_metrics.h"
#include "eval/probe_prompts.h"
#include "eval/probe_spam.h"

static char prompt_path[64]; /* an in-memory file, /proc/self/fd/N: nothing left behind */
static int prompt_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  switch (data[0] % 5) {
  case 0: {
    ivs_probe_patterns *p;
    if (ivs_probe_patterns_parse(text, n, "fuzz.txt", &p) == 0) {
      size_t counts[IVS_PROBE_MAX_PATTERNS];
      ivs_probe_patterns_match(p, text, n, counts);
      ivs_probe_patterns_free(p);
    }
    break;
  }
  case 1: {
    double score;
    char *rules = NULL;
    if (ivs_spamd_parse_reply(text, n, &score, &rules) == 0) free(rules);
    break;
  }
  case 2: {
    cJSON *root = cJSON_ParseWithLength(text, n);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    ivs_generation g;
    if (ivs_openai_generation_parse(c ? c : root, 1, 3, &g) == 0) ivs_generation_release(&g);
    cJSON_Delete(root);
    break;
  }
  case 3: {
    if (prompt_fd < 0) {
      if ((prompt_fd = memfd_create("prompts", 0)) < 0) return 0;
      snprintf(prompt_path, sizeof prompt_path, "/proc/self/fd/%d", prompt_fd);
    }
    if (ftruncate(prompt_fd, 0) != 0 || pwrite(prompt_fd, text, n, 0) != (ssize_t)n) return 0;
    ivs_probe_prompts p;
    ivs_probe_prompts_read(prompt_path, &p);
    ivs_probe_prompts_release(&p);
    break;
  }
  default: {
    double v;
    ivs_probe_number(text, n, &v);
    uint64_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) return 0;
    for (size_t i = 0; i < n; i++) u[i] = (unsigned char)text[i] % 7;
    ivs_probe_loop l;
    ivs_probe_loop_find(u, n, 64, 3, &l);
    ivs_probe_seq_rep(u, n, 1 + (n % 4));
    free(u);
    double r;
    ivs_probe_compression(text, n, &r);
    size_t wn;
    if (ivs_probe_word_units(text, n, &u, &wn) == 0) free(u);
    break;
  }
  }
  return 0;
}

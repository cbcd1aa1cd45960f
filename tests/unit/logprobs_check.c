/* Reads log-prob lines from stdin and, for each task type, prints the values
 * the fast (simdjson) reading takes from it, after checking that the cJSON
 * reading takes the same ones; tests/eval/logprobs_lines_test.py compares
 * them with Python's json.  Output: "LINE TYPE HEX..." per fast reading,
 * "DIFF LINE TYPE" where the two readings part.  Exit 1 on any DIFF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/logprobs_line.h"

int main(void) {
  static char line[1 << 16];
  static const ivs_task_type types[3] = {IVS_TYPE_CLASSIFICATION, IVS_TYPE_SEQUENCE_PROB, IVS_TYPE_LOGODDS};
  size_t lineno = 0;
  int differ = 0;
  while (fgets(line, sizeof line - IVS_LOGPROBS_PAD, stdin)) {
    size_t len = strlen(line);
    if (len && line[len - 1] == '\n') line[--len] = '\0';
    lineno++;
    for (int t = 0; t < 3; t++) {
      double fast[64], *slow = NULL;
      size_t kf = 0, ks = 0, cap = 0;
      if (!ivs_logprobs_line_fast(line, len, len + IVS_LOGPROBS_PAD, types[t], 0, fast, 64, &kf)) continue;
      int rc = ivs_logprobs_line_json("stdin", lineno, line, len, types[t], 0, &slow, &cap, &ks);
      if (rc || ks != kf || (kf && memcmp(fast, slow, kf * sizeof *fast))) {
        printf("DIFF %zu %d\n", lineno, t);
        differ = 1;
      } else {
        printf("%zu %d", lineno, t);
        for (size_t k = 0; k < kf; k++) printf(" %a", fast[k]);
        printf("\n");
      }
      free(slow);
    }
  }
  return differ;
}

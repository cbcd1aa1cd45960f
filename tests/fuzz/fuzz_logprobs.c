/* libFuzzer: the evaluator's log-probability readers (logprobs: and lmeval:)
 * for a fixed two-example task; the first byte picks reader and task type.
 * With its high bit set, the rest is one line read both ways, fast
 * (simdjson) and through cJSON: whatever the fast reading takes must be read
 * the same by cJSON, value for value, bit for bit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/logprobs.h"
#include "eval/logprobs_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/ivs-fuzz-logprobs-%d", (int)getpid());
  if (size < 1) return 0;
  static const ivs_task_type types[3] = {IVS_TYPE_CLASSIFICATION, IVS_TYPE_SEQUENCE_PROB, IVS_TYPE_LOGODDS};
  if (data[0] & 0x80) {
    size_t len = size - 1;
    char *line = malloc(len + IVS_LOGPROBS_PAD);
    if (!line) return 0;
    memcpy(line, data + 1, len);
    memset(line + len, 'x', IVS_LOGPROBS_PAD);
    size_t index = (data[0] >> 2) & 1;
    for (int t = 0; t < 3; t++) {
      double fast[64], *slow = NULL;
      size_t kf = 0, ks = 0, cap = 0;
      if (!ivs_logprobs_line_fast(line, len, len + IVS_LOGPROBS_PAD, types[t], index, fast, 64, &kf)) continue;
      int rc = ivs_logprobs_line_json("line", 1, line, len, types[t], index, &slow, &cap, &ks);
      if (rc == IVS_ENOMEM) continue;
      if (rc || ks != kf || (kf && memcmp(fast, slow, kf * sizeof *fast))) abort();
      free(slow);
    }
    free(line);
    return 0;
  }
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  static const size_t ncls[2] = {2, 3}, offsets[3] = {0, 2, 5};
  ivs_task_type t = types[(data[0] >> 1) % 3];
  double *v = NULL;
  if (data[0] & 1) ivs_lmeval_read(path, t, ncls, 2, offsets, &v);
  else ivs_logprobs_read(path, t, ncls, 2, offsets, &v);
  free(v);
  return 0;
}

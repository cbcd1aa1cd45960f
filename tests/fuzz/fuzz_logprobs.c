/* libFuzzer: the evaluator's log-probability readers (logprobs: and lmeval:)
 * for a fixed two-example task; the first byte picks reader and task type. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "eval/logprobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/ivs-fuzz-logprobs-%d", (int)getpid());
  if (size < 1) return 0;
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  static const size_t ncls[2] = {2, 3}, offsets[3] = {0, 2, 5};
  static const ivs_task_type types[3] = {IVS_TYPE_CLASSIFICATION, IVS_TYPE_SEQUENCE_PROB, IVS_TYPE_LOGODDS};
  ivs_task_type t = types[(data[0] >> 1) % 3];
  double *v = NULL;
  if (data[0] & 1) ivs_lmeval_read(path, t, ncls, 2, offsets, &v);
  else ivs_logprobs_read(path, t, ncls, 2, offsets, &v);
  free(v);
  return 0;
}

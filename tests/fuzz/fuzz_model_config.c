/* libFuzzer: config.json of a model directory, against fixed weights (a
 * fixture model's model.safetensors, linked into a scratch folder; the
 * fixtures folder is $IVS_FIXTURES or ../shared/fixtures).  Whatever config
 * is accepted must give a model that scores a short sequence or refuses it
 * with an error, never crashes. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/model.h"

static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *fx = getenv("IVS_FIXTURES") ? getenv("IVS_FIXTURES") : "../shared/fixtures";
  char weights[PATH_MAX], link_path[128], *real;
  snprintf(dir, sizeof dir, "/tmp/ivs_fuzz_model.%d", (int)getpid());
  snprintf(weights, sizeof weights, "%s/hf-reference/models/gpt2-s/model.safetensors", fx);
  if (!(real = realpath(weights, NULL))) {
    fprintf(stderr, "fuzz_model_config: no %s (set IVS_FIXTURES)\n", weights);
    exit(1);
  }
  mkdir(dir, 0700);
  snprintf(link_path, sizeof link_path, "%s/model.safetensors", dir);
  unlink(link_path);
  if (symlink(real, link_path)) exit(1);
  free(real);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[128];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  ivs_model *m;
  if (ivs_model_open(&m, dir) == 0) {
    int32_t ids[4] = {1, 2, 3, 4};
    double lp[3];
    int32_t am[4];
    ivs_model_score(m, ids, 4, 1, lp, am);
    ivs_model_free(m);
  }
  return 0;
}

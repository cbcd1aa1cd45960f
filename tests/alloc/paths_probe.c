/* Allocation-failure path: a whole probe run (fake: models; repetition, a
 * pattern file, numbers and an anchoring group: the metrics that allocate;
 * kept small, every run writes and fsyncs its files); a failing run leaves no file
 * behind, a successful one writes what the reference run wrote. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_paths.h"
#include "core/error.h"
#include "core/fileio.h"
#include "invscale/eval.h"

static struct {
  char prompts[512], patterns[512], out[512];
} P;

static int run(void *state);

static int setup(const char *dir, void **state) {
  snprintf(P.prompts, sizeof P.prompts, "%s/probe_prompts.jsonl", dir);
  snprintf(P.patterns, sizeof P.patterns, "%s/probe_patterns.txt", dir);
  snprintf(P.out, sizeof P.out, "%s/probe_out", dir);
  *state = &P;
  if (alloc_write_file(P.prompts, "{\"prompt\":\"How many? Answer:\",\"group\":\"a\",\"role\":\"control\"}\n"
                                  "{\"prompt\":\"Less than 100? Answer:\",\"group\":\"a\",\"role\":\"low\"}\n"
                                  "{\"prompt\":\"More than 900? Answer:\",\"group\":\"a\",\"role\":\"high\"}\n"
                                  "{\"prompt\":\"A list of items\"}\n") ||
      alloc_write_file(P.patterns, "# two\nfree (?i)\\bfree\\b\nclick click\\s+here\n"))
    return ivs_error_set(IVS_EIO, "cannot write the probe inputs");
  return run(state); /* the reference */
}

static int run(void *state) {
  (void)state;
  ivs_eval_model models[2] = {{"small", "fake:0.5@1e8", 0}, {"large", "fake:4@1e9", 0}};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  const char *stop[1] = {" again"};
  o.prompts_path = P.prompts, o.out_dir = P.out, o.models = models, o.n_models = 2;
  o.metrics = IVS_PROBE_REPETITION | IVS_PROBE_MATCH | IVS_PROBE_NUMBER;
  o.match_path = P.patterns, o.samples = 2, o.max_new_tokens = 10, o.n_boot = 10, o.stop = stop, o.n_stop = 1;
  ivs_probe_result res;
  int rc = ivs_probe_run(&o, &res);
  alloc_pause();
  if (!rc && (res.n_prompts != 4 || res.n_models != 2 || res.n_groups != 1))
    rc = wrong("probe: %zu prompts, %zu models", res.n_prompts, res.n_models);
  static char *ref_files[4];
  static const char *const names[4] = {"small.jsonl", "large.jsonl", "summary.json", "seq_rep_4.svg"};
  if (!rc) rc = alloc_same_files("probe", P.out, names, 4, ref_files);
  ivs_probe_result_release(&res);
  return rc;
}

/* no temporary file is left in the output folder */
static int check(void *state, int rc) {
  (void)state, (void)rc;
  return alloc_tmp_left(P.out);
}

const alloc_path alloc_path_probe = {"probe", setup, NULL, run, check, NULL};

/* Allocation-failure path: a whole eval run on a small task with two models
 * (logprobs: files); a failing run leaves no temporary file behind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_paths.h"
#include "core/error.h"
#include "core/fileio.h"
#include "invscale/eval.h"

static struct {
  char dir[512], task[512], m0[512], m1[512], out[512];
} E;

static int run(void *state);

static int setup(const char *dir, void **state) {
  snprintf(E.task, sizeof E.task, "%s/eval_task.jsonl", dir);
  snprintf(E.m0, sizeof E.m0, "%s/m0.jsonl", dir);
  snprintf(E.m1, sizeof E.m1, "%s/m1.jsonl", dir);
  snprintf(E.out, sizeof E.out, "%s/eval_out", dir);
  *state = &E;
  if (alloc_write_file(E.task, "{\"prompt\": \"Q0\", \"classes\": [\" a\", \" b\"], \"answer_index\": 0}\n"
                         "{\"prompt\": \"Q1\", \"classes\": [\" a\", \" b\", \" c\"], \"answer_index\": 2}\n"
                         "{\"prompt\": \"Q2\", \"classes\": [\" a\", \" b\"], \"answer_index\": 1}\n") ||
      alloc_write_file(E.m0, "{\"index\": 0, \"class_logprobs\": [-0.5, -1.5]}\n"
                       "{\"index\": 1, \"class_logprobs\": [-2.0, -1.0, -0.25]}\n"
                       "{\"index\": 2, \"class_logprobs\": [-0.75, -0.5]}\n") ||
      alloc_write_file(E.m1, "{\"index\": 0, \"class_logprobs\": [-1.5, -0.5]}\n"
                       "{\"index\": 1, \"class_logprobs\": [-0.5, -1.0, -2.25]}\n"
                       "{\"index\": 2, \"class_logprobs\": [-0.25, -3.5]}\n"))
    return ivs_error_set(IVS_EIO, "cannot write the eval inputs");
  return run(state); /* the reference */
}

static int run(void *state) {
  (void)state;
  char b0[600], b1[600];
  snprintf(b0, sizeof b0, "logprobs:%s", E.m0);
  snprintf(b1, sizeof b1, "logprobs:%s", E.m1);
  ivs_eval_model models[2] = {{"small", b0, 1e8}, {"large", b1, 1e9}};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = E.task, o.models = models, o.n_models = 2, o.n_boot = 50, o.out_dir = E.out;
  o.top = 2; /* the lists of the steepest examples, copied into the result */
  ivs_eval_result res;
  int rc = ivs_eval_run(&o, &res);
  alloc_pause();
  if (!rc && (res.n_examples != 3 || res.n_models != 2 || !isfinite(res.slope)))
    rc = wrong("eval: %zu examples, %zu models", res.n_examples, res.n_models);
  /* the numbers and every output file as a run with every allocation made them */
  static double ref[12];
  static char *ref_files[5];
  static const char *const names[5] = {"small.csv", "large.csv", "labelled_data.jsonl", "summary.json", "loss_plot.svg"};
  double got[12] = {res.slope, res.lo, res.hi, 0, 0, 0, 0, res.share_rising, (double)res.n_rising, (double)res.n_falling, 0, 0};
  if (!rc && res.n_rising) got[10] = (double)res.rising[0].index + res.rising[0].slope;
  if (!rc && res.n_falling) got[11] = (double)res.falling[0].index + res.falling[0].slope;
  for (size_t k = 0; !rc && k < res.n_rising + res.n_falling; k++) {
    const ivs_eval_example *e = k < res.n_rising ? &res.rising[k] : &res.falling[k - res.n_rising];
    char want[8];
    snprintf(want, sizeof want, "Q%zu", e->index);
    if (!e->prompt || strcmp(e->prompt, want)) rc = wrong("eval: example %zu's prompt is not '%s'", e->index, want);
  }
  for (size_t m = 0; !rc && m < 2; m++) got[3 + 2 * m] = res.models[m].mean, got[4 + 2 * m] = res.models[m].sem;
  if (!rc) rc = alloc_same_files("eval", E.out, names, 5, ref_files);
  if (!rc && !ref[0]) memcpy(ref, got, sizeof ref);
  else if (!rc && memcmp(ref, got, sizeof ref)) rc = wrong("eval: other numbers than the reference run's");
  ivs_eval_result_release(&res);
  return rc;
}

/* no temporary file is left in the output folder */
static int check(void *state, int rc) {
  (void)state, (void)rc;
  return alloc_tmp_left(E.out);
}

const alloc_path alloc_path_eval = {"eval", setup, NULL, run, check, NULL};

/* The examples that drive the trend, through a whole run with the fake
 * backend: every example's slope_per_decade in labelled_data.jsonl equals a
 * least-squares slope computed here from its own columns, summary.json's
 * share_examples_rising and the result's --top lists follow from them; a NUL
 * in a prompt is written as \u0000; old field names give a NOTE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "invscale/eval.h"

enum { N = 30, M = 3 };
static char dir[64];

static char *path_in(const char *name) {
  static char p[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static char notes[4096];
static void on_event(const ivs_eval_event *ev, void *ud) {
  (void)ud;
  if (ev->kind == IVS_EVAL_EVENT_WARNING && strlen(notes) + strlen(ev->text) + 2 < sizeof notes)
    strcat(notes, ev->text), strcat(notes, "\n");
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/ivs_eval_examples_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  FILE *f = fopen(path_in("task.jsonl"), "w");
  if (!f) return -1;
  for (int i = 0; i < N; i++) /* the first rows under the prize pipeline's names, one prompt with a NUL */
    if (i < 2) fprintf(f, "{\"filled_template\":\"Q%d\",\"classes\":[\" a\",\" b\"],\"answer_ix\":%d}\n", i, i % 2);
    else if (i == 5) fprintf(f, "{\"prompt\":\"Q5 \\u0000 here\",\"classes\":[\" a\",\" b\"],\"answer_index\":1}\n");
    else fprintf(f, "{\"prompt\":\"Q%d: well?\",\"classes\":[\" a\",\" b\",\" c\"],\"answer_index\":%d}\n", i, i % 3);
  return fclose(f);
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void test_slopes(void **state) {
  (void)state;
  ivs_eval_model ms[M] = {{"s", "fake:1", 1e8}, {"m", "fake:2", 1e9}, {"l", "fake:1.5", 1e11}};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = path_in("task.jsonl"), o.out_dir = path_in("out");
  o.models = ms, o.n_models = M, o.n_boot = 50, o.top = 4;
  o.progress = on_event;
  ivs_eval_result r;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  assert_non_null(strstr(notes, "the old field name 'filled_template' was read as 'prompt' in 2 records"));
  assert_non_null(strstr(notes, "the old field name 'answer_ix' was read as 'answer_index' in 2 records"));
  /* the slopes by hand from each row's losses */
  double x[M] = {8, 9, 11}, xbar = 28.0 / 3, sxx = 0, slope[N];
  for (int m = 0; m < M; m++) sxx += (x[m] - xbar) * (x[m] - xbar);
  char *text = slurp(path_in("out/labelled_data.jsonl")), *line = text;
  assert_non_null(strstr(text, "\"prompt\":\"Q5 \\u0000 here\""));
  size_t rising = 0;
  for (int i = 0; i < N; i++) {
    char *nl = strchr(line, '\n');
    assert_non_null(nl);
    *nl = '\0';
    cJSON *row = cJSON_Parse(line);
    assert_non_null(row);
    double s = 0;
    const char *keys[M] = {"s_loss", "m_loss", "l_loss"};
    for (int m = 0; m < M; m++) s += (x[m] - xbar) * cJSON_GetObjectItem(row, keys[m])->valuedouble / sxx;
    slope[i] = s;
    assert_float_equal(cJSON_GetObjectItem(row, "slope_per_decade")->valuedouble, s, 1e-12);
    rising += s > 0;
    cJSON_Delete(row);
    line = nl + 1;
  }
  assert_float_equal(r.share_rising, (double)rising / N, 1e-15);
  cJSON *sum = cJSON_Parse(slurp(path_in("out/summary.json")));
  assert_float_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(sum, "trend"), "share_examples_rising")->valuedouble,
                     r.share_rising, 1e-15);
  cJSON_Delete(sum);
  /* the lists: steepest first, each the largest of what is left */
  assert_true(r.n_rising == 4 || r.n_rising == rising);
  assert_true(r.n_falling <= 4);
  for (size_t k = 0; k < r.n_rising; k++) {
    const ivs_eval_example *e = &r.rising[k];
    assert_true(e->slope > 0);
    assert_float_equal(e->slope, slope[e->index], 1e-12);
    for (int i = 0; i < N; i++) {
      int listed = 0;
      for (size_t j = 0; j <= k; j++) listed |= r.rising[j].index == (size_t)i;
      if (!listed) assert_true(slope[i] <= e->slope + 1e-12);
    }
  }
  for (size_t k = 0; k < r.n_falling; k++) {
    assert_true(r.falling[k].slope < 0);
    if (k) assert_true(r.falling[k].slope >= r.falling[k - 1].slope);
  }
  char want[32];
  snprintf(want, sizeof want, "Q%zu", r.rising[0].index);
  assert_int_equal(strncmp(r.rising[0].prompt, want, strlen(want)), 0);
  ivs_eval_result_release(&r);
  /* the accuracy's slopes; too many asked for */
  o.metric = IVS_EVAL_METRIC_ACC, o.top = IVS_EVAL_MAX_TOP + 1;
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  ivs_eval_result_release(&r);
  o.top = 0;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  assert_int_equal(r.n_rising + r.n_falling, 0);
  assert_true(r.share_rising >= 0 && r.share_rising <= 1);
  ivs_eval_result_release(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_slopes)};
  return cmocka_run_group_tests(tests, setup, teardown);
}

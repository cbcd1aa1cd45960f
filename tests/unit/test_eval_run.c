/* A whole ivs_eval_run with the fake backend (and a logprobs: file) into a
 * temporary folder: the files exist, summary.json parses and its numbers
 * equal a computation by hand from the fake's formula. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "invscale/eval.h"

enum { N = 40 };
static char dir[64];
static const char *classes[3] = {" yes", " no", " maybe not"};

static char *path_in(const char *name) {
  static char p[4][256];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static void write_file(const char *name, const char *text) {
  FILE *f = fopen(path_in(name), "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void prompt_of(size_t i, char *buf, size_t cap) { snprintf(buf, cap, "Q%zu: is it so? A:", i); }
static size_t ncls_of(size_t i) { return 2 + i % 2; }
static size_t answer_of(size_t i) { return i % ncls_of(i); }

/* The classification task: N examples of 2 or 3 classes. */
static void write_task(void) {
  FILE *f = fopen(path_in("task.jsonl"), "w");
  assert_non_null(f);
  for (size_t i = 0; i < N; i++) {
    char p[64];
    prompt_of(i, p, sizeof p);
    fprintf(f, "{\"prompt\":\"%s\",\"classes\":[\"%s\",\"%s\"%s],\"answer_index\":%zu}\n", p, classes[0], classes[1],
            ncls_of(i) == 3 ? ",\" maybe not\"" : "", answer_of(i));
  }
  fclose(f);
}

/* eval/backend_fake.c's documented formula, computed here on its own. */
static double fake_lp(double scale, const char *context, const char *continuation) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = context;; p++) {
    h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    if (!*p) break;
  }
  for (const char *p = continuation; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
  return -scale * (double)(1 + h % 8) / 8;
}

typedef struct {
  double mean, sem, accuracy, coverage;
} expect;

static expect by_hand(double scale) {
  double loss[N], sum = 0, correct = 0, cov = 0;
  for (size_t i = 0; i < N; i++) {
    char p[64];
    prompt_of(i, p, sizeof p);
    double lp[3], z = 0;
    size_t best = 0;
    for (size_t j = 0; j < ncls_of(i); j++) {
      lp[j] = fake_lp(scale, p, classes[j]);
      z += exp(lp[j]);
      if (lp[j] > lp[best]) best = j;
    }
    loss[i] = log(z) - lp[answer_of(i)];
    sum += loss[i], correct += best == answer_of(i), cov += z;
  }
  expect e = {sum / N, 0, correct / N, cov / N};
  double var = 0;
  for (size_t i = 0; i < N; i++) var += (loss[i] - e.mean) * (loss[i] - e.mean);
  e.sem = sqrt(var / N) / sqrt(N);
  return e;
}

static size_t count_lines(const char *name) {
  FILE *f = fopen(path_in(name), "r");
  if (!f) return (size_t)-1;
  size_t n = 0;
  for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
  fclose(f);
  return n;
}

static cJSON *read_json(const char *name) {
  FILE *f = fopen(path_in(name), "r");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  cJSON *j = cJSON_Parse(buf);
  assert_non_null(j);
  return j;
}

static int events[4], saw_task_end;
static void on_event(const ivs_eval_event *ev, void *ud) {
  (void)ud;
  events[ev->kind]++;
  if (ev->kind == IVS_EVAL_EVENT_STEP_END && strstr(ev->subject, "task.jsonl")) saw_task_end = 1;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/ivs_eval_run_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  write_task();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_run_fake(void **state) {
  (void)state;
  /* given out of size order; params from the spec, from the model, from the known table */
  ivs_eval_model ms[3] = {{"mid", "fake:2", 1e9}, {"gpt2-xl", "fake:3", 0}, {"small", "fake:1@1e8", 0}};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = path_in("task.jsonl");
  o.out_dir = path_in("out");
  o.models = ms, o.n_models = 3, o.n_boot = 100;
  o.progress = on_event;
  ivs_eval_result r;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  assert_true(saw_task_end);
  assert_int_equal(events[IVS_EVAL_EVENT_REQUESTS], 0); /* the fake reports no progress */
  assert_int_equal(r.type, IVS_TYPE_CLASSIFICATION);
  assert_int_equal(r.n_examples, N);
  assert_int_equal(r.n_models, 3);
  const char *order[3] = {"small", "mid", "gpt2-xl"};
  double params[3] = {1e8, 1e9, 1.5e9}, scale[3] = {1, 2, 3};
  double baseline = 0;
  for (size_t i = 0; i < N; i++) baseline += log((double)ncls_of(i));
  baseline /= N;
  assert_float_equal(r.baseline, baseline, 1e-12);
  cJSON *sum = read_json("out/summary.json");
  assert_string_equal(cJSON_GetObjectItem(sum, "task_type")->valuestring, "classification");
  assert_float_equal(cJSON_GetObjectItem(sum, "n_examples")->valuedouble, N, 0);
  assert_string_equal(cJSON_GetObjectItem(sum, "metric")->valuestring, "loss");
  assert_float_equal(cJSON_GetObjectItem(sum, "baseline")->valuedouble, baseline, 1e-12);
  cJSON *models = cJSON_GetObjectItem(sum, "models");
  assert_int_equal(cJSON_GetArraySize(models), 3);
  for (int m = 0; m < 3; m++) {
    expect e = by_hand(scale[m]);
    cJSON *jm = cJSON_GetArrayItem(models, m);
    assert_string_equal(r.models[m].name, order[m]);
    assert_string_equal(cJSON_GetObjectItem(jm, "name")->valuestring, order[m]);
    assert_float_equal(cJSON_GetObjectItem(jm, "params")->valuedouble, params[m], 0);
    assert_float_equal(cJSON_GetObjectItem(jm, "mean")->valuedouble, e.mean, 1e-12);
    assert_float_equal(cJSON_GetObjectItem(jm, "sem")->valuedouble, e.sem, 1e-12);
    assert_float_equal(cJSON_GetObjectItem(jm, "accuracy")->valuedouble, e.accuracy, 1e-12);
    assert_float_equal(cJSON_GetObjectItem(jm, "coverage")->valuedouble, e.coverage, 1e-12);
    assert_float_equal(r.models[m].mean, e.mean, 1e-12);
    char csv[32];
    snprintf(csv, sizeof csv, "out/%s.csv", order[m]);
    assert_int_equal(count_lines(csv), N + 1);
  }
  /* the slope: least squares of the means against log10(params) */
  double x[3], y[3], mx = 0, my = 0, sxy = 0, sxx = 0;
  for (int m = 0; m < 3; m++) x[m] = log10(params[m]), y[m] = by_hand(scale[m]).mean, mx += x[m] / 3, my += y[m] / 3;
  for (int m = 0; m < 3; m++) sxy += (x[m] - mx) * (y[m] - my), sxx += (x[m] - mx) * (x[m] - mx);
  cJSON *trend = cJSON_GetObjectItem(sum, "trend");
  assert_float_equal(r.slope, sxy / sxx, 1e-9);
  assert_float_equal(cJSON_GetObjectItem(trend, "slope_per_decade")->valuedouble, sxy / sxx, 1e-9);
  assert_string_equal(cJSON_GetObjectItem(trend, "verdict")->valuestring, ivs_verdict_name(r.verdict));
  assert_true(r.verdict != IVS_VERDICT_UNDEFINED);
  assert_true(r.lo <= r.slope && r.slope <= r.hi);
  assert_float_equal(cJSON_GetObjectItem(trend, "n_boot")->valuedouble, 100, 0);
  assert_string_equal(r.why, "");
  cJSON_Delete(sum);
  assert_int_equal(count_lines("out/labelled_data.jsonl"), N);
  FILE *f = fopen(path_in("out/labelled_data.jsonl"), "r");
  char line[1024];
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  cJSON *row = cJSON_Parse(line);
  assert_non_null(row);
  char p0[64];
  prompt_of(0, p0, sizeof p0);
  assert_string_equal(cJSON_GetObjectItem(row, "prompt")->valuestring, p0);
  double lp0 = fake_lp(1, p0, classes[0]), lp1 = fake_lp(1, p0, classes[1]);
  assert_float_equal(cJSON_GetObjectItem(row, "small_loss")->valuedouble, log(exp(lp0) + exp(lp1)) - lp0, 1e-12);
  assert_non_null(cJSON_GetObjectItem(row, "gpt2-xl_correct"));
  cJSON_Delete(row);
  struct stat st;
  assert_int_equal(stat(path_in("out/loss_plot.svg"), &st), 0);
  assert_true(st.st_size > 500);
  ivs_eval_result_release(&r);
  assert_null(r.models);
  assert_int_equal(r.n_models, 0);
}

/* With --invert an answer of probability 1 makes an infinite mean: the trend
 * is undefined, and says why. */
static void test_run_undefined(void **state) {
  (void)state;
  char *lines = malloc(N * 80), *p = lines;
  for (size_t i = 0; i < N; i++)
    p += sprintf(p, "{\"index\":%zu,\"class_logprobs\":[%s]}\n", i,
                 i == 2 ? "0,-800" : ncls_of(i) == 3 ? "-1,-2,-3" : "-1,-2");
  write_file("certain.jsonl", lines);
  free(lines);
  ivs_eval_model ms[2] = {{"a", "logprobs:", 1e8}, {"b", "fake:1", 1e9}};
  char spec[300];
  snprintf(spec, sizeof spec, "logprobs:%s", path_in("certain.jsonl"));
  ms[0].backend = spec;
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = path_in("task.jsonl"), o.out_dir = path_in("out2");
  o.models = ms, o.n_models = 2, o.invert = 1;
  ivs_eval_result r;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  assert_int_equal(r.verdict, IVS_VERDICT_UNDEFINED);
  assert_true(isnan(r.slope) && isnan(r.lo) && isnan(r.hi));
  assert_true(isinf(r.models[0].mean));
  assert_non_null(strstr(r.why, "model 'a' is infinite: 1 of 40 examples"));
  assert_non_null(strstr(r.why, "the first: example 2"));
  cJSON *sum = read_json("out2/summary.json");
  cJSON *trend = cJSON_GetObjectItem(sum, "trend");
  assert_string_equal(cJSON_GetObjectItem(trend, "verdict")->valuestring, "undefined");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(trend, "slope_per_decade")));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sum, "invert")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sum, "models"), 0), "mean")));
  cJSON_Delete(sum);
  ivs_eval_result_release(&r);
}

/* Other task types through the same run: log-odds and sequence_prob. */
static void test_run_types(void **state) {
  (void)state;
  FILE *f = fopen(path_in("lo.jsonl"), "w");
  for (int i = 0; i < 30; i++)
    fprintf(f, "{\"prompt\":\"P%d\",\"other_prompt\":\"O%d\",\"classes\":[\" a\",\" b\"],\"answer_index\":%d}\n", i, i, i % 2);
  fclose(f);
  ivs_eval_model ms[2] = {{"x", "fake:1@1e8", 0}, {"y", "fake:2@1e9", 0}};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = path_in("lo.jsonl"), o.out_dir = path_in("out3");
  o.models = ms, o.n_models = 2, o.metric = IVS_EVAL_METRIC_ACC;
  ivs_eval_result r;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  assert_int_equal(r.type, IVS_TYPE_LOGODDS);
  assert_true(isnan(r.baseline));
  double d0 = (fake_lp(1, "P0", " a") - fake_lp(1, "P0", " b")) - (fake_lp(1, "O0", " a") - fake_lp(1, "O0", " b"));
  FILE *c = fopen(path_in("out3/x.csv"), "r");
  char head[128], first[128];
  assert_non_null(fgets(head, sizeof head, c));
  assert_non_null(fgets(first, sizeof first, c));
  fclose(c);
  assert_string_equal(head, "index,logodds_difference,correct,total_logprob\n");
  assert_float_equal(strtod(first + 2, NULL), d0, 1e-12);
  ivs_eval_result_release(&r);
  f = fopen(path_in("seq.jsonl"), "w");
  for (int i = 0; i < 30; i++) fprintf(f, "{\"prompt\":\"S%d\",\"completion\":\" done\"}\n", i);
  fclose(f);
  o.task_path = path_in("seq.jsonl"), o.out_dir = path_in("out4");
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE); /* no accuracy for sequence_prob */
  assert_non_null(strstr(ivs_error_message(), "sequence_prob tasks have no accuracy"));
  ivs_eval_result_release(&r);
  o.metric = IVS_EVAL_METRIC_LOSS;
  assert_int_equal(ivs_eval_run(&o, &r), 0);
  double mean = 0;
  for (int i = 0; i < 30; i++) {
    char pr[16];
    snprintf(pr, sizeof pr, "S%d", i);
    mean -= fake_lp(2, pr, " done") / 30;
  }
  assert_string_equal(r.models[1].name, "y");
  assert_float_equal(r.models[1].mean, mean, 1e-12);
  assert_true(isnan(r.models[1].accuracy));
  ivs_eval_result_release(&r);
}

static void test_run_refusals(void **state) {
  (void)state;
  ivs_eval_result r;
  assert_int_equal(ivs_eval_run(NULL, &r), IVS_EUSAGE);
  assert_int_equal(ivs_eval_run(NULL, NULL), IVS_EUSAGE);
  ivs_eval_model ms[2] = {{"a", "fake:1@1e8", 0}, {"mine", "fake:2", 0}};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  o.task_path = path_in("task.jsonl"), o.out_dir = path_in("out5");
  o.models = ms, o.n_models = 1;
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  ivs_eval_result_release(&r);
  o.n_models = 2;
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  assert_string_equal(ivs_error_message(), "model 'mine': unknown parameter count; give it with --params mine=N");
  ivs_eval_result_release(&r);
  ms[1].params = 1e8;
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "the same parameter count"));
  ivs_eval_result_release(&r);
  assert_int_equal(access(path_in("out5/a.csv"), F_OK), -1); /* refused before anything is written */
  ms[1].backend = "native/models/x";
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "model 'mine': the backends are"));
  ivs_eval_result_release(&r);
  ms[1].backend = "native:/no/such/models/x"; /* a native model's folder must exist */
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "/no/such/models/x"));
  ivs_eval_result_release(&r);
  ms[1].backend = "fake:2", ms[1].name = "a";
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EUSAGE);
  assert_string_equal(ivs_error_message(), "model name 'a' given twice");
  ivs_eval_result_release(&r);
  ms[1].name = "b", ms[1].params = 1e9;
  o.task_path = path_in("missing.jsonl");
  assert_int_equal(ivs_eval_run(&o, &r), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "missing.jsonl"));
  ivs_eval_result_release(&r);
  ivs_eval_result_release(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_fake),
      cmocka_unit_test(test_run_undefined),
      cmocka_unit_test(test_run_types),
      cmocka_unit_test(test_run_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

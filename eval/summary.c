/* summary.json and the plot. */
#include "eval/summary.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/example.h"
#include "core/fileio.h"
#include "core/json_arena.h"
#include "eval/plot.h"

/* cJSON_AddItemToArray, deleting the item when it cannot be added (the array
 * missing for memory), so that nothing leaks; the caller sees it through
 * ivs_json_oom(). */
static void push(cJSON *array, cJSON *item) {
  if (!cJSON_AddItemToArray(array, item)) cJSON_Delete(item);
}

static cJSON *summary_json(const ivs_eval_result *r, ivs_eval_metric metric, int invert) {
  cJSON *sum = cJSON_CreateObject();
  cJSON_AddStringToObject(sum, "task_type", ivs_type_name(r->type));
  cJSON_AddNumberToObject(sum, "n_examples", (double)r->n_examples);
  cJSON_AddStringToObject(sum, "metric", ivs_eval_metric_name(metric));
  cJSON_AddBoolToObject(sum, "invert", invert);
  if (isfinite(r->baseline)) cJSON_AddNumberToObject(sum, "baseline", r->baseline);
  else cJSON_AddNullToObject(sum, "baseline");
  cJSON *arr = cJSON_AddArrayToObject(sum, "models");
  for (size_t m = 0; m < r->n_models; m++) {
    const ivs_eval_model_result *mr = &r->models[m];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", mr->name);
    cJSON_AddNumberToObject(o, "params", mr->params);
    cJSON_AddNumberToObject(o, "mean", mr->mean);
    cJSON_AddNumberToObject(o, "sem", mr->sem);
    if (isfinite(mr->accuracy)) cJSON_AddNumberToObject(o, "accuracy", mr->accuracy);
    else cJSON_AddNullToObject(o, "accuracy");
    if (isfinite(mr->coverage)) cJSON_AddNumberToObject(o, "coverage", mr->coverage);
    else cJSON_AddNullToObject(o, "coverage");
    if (mr->tokenization) { /* a native model: how its tokens were made */
      cJSON_AddStringToObject(o, "tokenization", mr->tokenization);
      cJSON_AddStringToObject(o, "truncate", mr->truncate_left ? "left" : "none");
      cJSON_AddNumberToObject(o, "truncated_requests", (double)mr->truncated);
    }
    push(arr, o);
  }
  cJSON *tj = cJSON_AddObjectToObject(sum, "trend");
  cJSON_AddStringToObject(tj, "verdict", ivs_verdict_name(r->verdict));
  cJSON_AddNumberToObject(tj, "slope_per_decade", r->slope);
  cJSON *ci = cJSON_AddArrayToObject(tj, "ci95");
  push(ci, cJSON_CreateNumber(r->lo));
  push(ci, cJSON_CreateNumber(r->hi));
  cJSON_AddNumberToObject(tj, "n_boot", (double)r->n_boot);
  /* the test's level and power (docs/trend.md): the slope found 80% of the
   * time at the 5% level, null when none can be (or the trend is undefined) */
  cJSON_AddNumberToObject(tj, "level", IVS_EVAL_TREND_LEVEL);
  cJSON_AddNumberToObject(tj, "detectable_slope_per_decade", r->detectable);
  cJSON_AddNumberToObject(tj, "power", IVS_EVAL_TREND_POWER);
  cJSON_AddNumberToObject(tj, "verdicts_tested", (double)r->n_verdicts);
  /* the examples' own slopes (labelled_data.jsonl's slope_per_decade) */
  if (isfinite(r->share_rising)) cJSON_AddNumberToObject(tj, "share_examples_rising", r->share_rising);
  else cJSON_AddNullToObject(tj, "share_examples_rising");
  return sum;
}

int ivs_eval_summary_write(const char *dir, const ivs_eval_result *r, ivs_eval_metric metric, int invert,
                           const char *task_path) {
  char path[4200];
  ivs_json_oom_reset(); /* cJSON's Add calls drop what they cannot allocate: a summary with a part missing */
  cJSON *sum = summary_json(r, metric, invert);
  char *text = sum ? cJSON_Print(sum) : NULL;
  cJSON_Delete(sum);
  if (text && ivs_json_oom()) cJSON_free(text), text = NULL;
  if (!text) return ivs_error_set(IVS_ENOMEM, "out of memory");
  snprintf(path, sizeof path, "%s/summary.json", dir);
  ivs_atomic_file af;
  int rc = ivs_atomic_open(&af, path);
  if (!rc) {
    if (fputs(text, af.f) < 0 || fputc('\n', af.f) == EOF) {
      rc = ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(errno));
      ivs_atomic_abort(&af);
    } else {
      rc = ivs_atomic_commit(&af);
    }
  }
  cJSON_free(text);
  if (rc) return rc;
  /* the plot */
  ivs_plot_model pm[IVS_EVAL_MAX_MODELS];
  size_t M = r->n_models < IVS_EVAL_MAX_MODELS ? r->n_models : IVS_EVAL_MAX_MODELS;
  for (size_t m = 0; m < M; m++)
    pm[m] = (ivs_plot_model){.name = r->models[m].name, .params = r->models[m].params, .mean = r->models[m].mean,
                             .sem = r->models[m].sem};
  char subtitle[700];
  int acc = metric == IVS_EVAL_METRIC_ACC;
  const char *what = ivs_type_is_logodds(r->type) ? "log-odds difference" : acc ? "accuracy" : "loss";
  if (r->verdict == IVS_VERDICT_UNDEFINED) {
    snprintf(subtitle, sizeof subtitle, "undefined trend: %.100s%s", r->why, strlen(r->why) > 100 ? "..." : "");
  } else {
    char power[80];
    if (isfinite(r->detectable)) snprintf(power, sizeof power, "; detectable %.3g", r->detectable);
    else snprintf(power, sizeof power, "; too few examples to detect a trend");
    snprintf(subtitle, sizeof subtitle, "%s: %s %s %.3g%s per 10x parameters (95%% CI %.3g to %.3g), %zu examples%s",
             ivs_verdict_name(r->verdict), what, r->slope >= 0 ? "rises" : "falls", fabs(r->slope), acc ? "" : " nats",
             r->lo, r->hi, r->n_examples, power);
  }
  const char *base = strrchr(task_path, '/');
  snprintf(path, sizeof path, "%s/loss_plot.svg", dir);
  ivs_plot plot = {.title = base ? base + 1 : task_path,
                   .subtitle = subtitle,
                   .ylabel = ivs_type_is_logodds(r->type) ? "mean log-odds difference" : acc ? "mean accuracy" : "mean loss (nats)",
                   .models = pm,
                   .n = M,
                   .baseline = r->baseline,
                   .log_y = metric == IVS_EVAL_METRIC_LOSS && !ivs_type_is_logodds(r->type)};
  return ivs_plot_svg(path, &plot);
}

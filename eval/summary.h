/* summary.json and loss_plot.svg of a run, once the trend is known.
 * Internal to eval/. */
#ifndef IVS_EVAL_SUMMARY_H
#define IVS_EVAL_SUMMARY_H

#include "invscale/eval.h"

/* Writes dir/summary.json (task_type, n_examples, metric, invert, baseline,
 * models with name, params, mean, sem, accuracy, coverage, and the trend:
 * verdict, slope_per_decade, ci95, n_boot, level, detectable_slope_per_decade,
 * power, verdicts_tested; non-finite numbers as null) and
 * dir/loss_plot.svg, each through the atomic writer.  task_path names the
 * task in the plot's title. */
int ivs_eval_summary_write(const char *dir, const ivs_eval_result *r, ivs_eval_metric metric, int invert,
                           const char *task_path);

#endif

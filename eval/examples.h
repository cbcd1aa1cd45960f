/* The examples that drive the trend: the share whose metric rises with size
 * and the steepest rises and falls (include/invscale/eval.h,
 * ivs_eval_result.rising and .falling).  Internal to eval/. */
#ifndef IVS_EVAL_EXAMPLES_H
#define IVS_EVAL_EXAMPLES_H

#include <stddef.h>

#include "eval/task.h"
#include "invscale/eval.h"

/* From the per-example slopes slope[0..t->n): out->share_rising, and the top
 * (<= IVS_EVAL_MAX_TOP) examples of steepest rise (slope > 0) and fall
 * (slope < 0) into out->rising and out->falling, steepest first, ties by
 * index; prompts copied from t.  IVS_ENOMEM leaves out's lists as far as
 * they were filled (ivs_eval_result_release frees them). */
int ivs_eval_examples_pick(const double *slope, const ivs_eval_task *t, size_t top, ivs_eval_result *out);

/* Frees the lists of r and empties them. */
void ivs_eval_examples_release(ivs_eval_result *r);

#endif

/* The per-example outputs of a run: <model>.csv for each model (the prize's
 * columns: index,loss,correct,predicted,total_logprob for classification;
 * index,logodds_difference,correct,total_logprob for log-odds; index,loss
 * for sequence_prob) and labelled_data.jsonl (the task's rows with every
 * model's columns, then slope_per_decade: the least-squares slope of the
 * example's metric against log10(parameters), null when not finite).
 * Internal to eval/. */
#ifndef IVS_EVAL_TABLES_H
#define IVS_EVAL_TABLES_H

#include <stddef.h>

#include "eval/score.h"
#include "eval/task.h"
#include "invscale/eval.h"

/* Writes dir/<names[m]>.csv (m < M, at most IVS_EVAL_MAX_MODELS) and
 * dir/labelled_data.jsonl through the atomic writer, from scores[m][0..t->n).
 * x[m]: model m's log10(parameters); acc: the per-example slope is of
 * correctness, else of the loss; slope[0..t->n) receives each example's.
 * then(arg), when not NULL, is called once everything is written and before
 * the files are committed (their fsync is mostly waiting on the disk, time
 * the caller can use).  On failure no file is committed. */
int ivs_eval_tables_write(const char *dir, const ivs_eval_task *t, ivs_task_type type, const char *const *names,
                          const ivs_score *const *scores, const double *x, size_t M, int acc, double *slope,
                          void (*then)(void *), void *arg);

#endif

/* loss_plot.svg: parameters (log axis, each model named) against the mean
 * metric with SEM error bars (log axis for losses when all are positive), a
 * dashed baseline, and the task and verdict in the title; models whose names
 * share the part before the last '-' form one connected series.  A model
 * whose mean is not finite gets no point, only its name and mean below the
 * axis.  Written with libxml2's text writer, so every text is escaped, through
 * the atomic writer (core/fileio.h): the file at path is replaced whole and
 * fsynced, or left as it was. */
#ifndef IVS_EVAL_PLOT_H
#define IVS_EVAL_PLOT_H

#include <stddef.h>

typedef struct ivs_plot_model {
  const char *name;
  double params, mean, sem;
} ivs_plot_model;

int ivs_plot_svg(const char *path, const char *title, const char *ylabel, const ivs_plot_model *m, size_t n,
                 double baseline, int log_y);

#endif

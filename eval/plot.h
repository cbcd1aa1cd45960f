/* loss_plot.svg, the prize's plot made readable: parameters on a log axis
 * (ticks and gridlines at decades in human units, 100M 1B 10B, and each
 * model's size named below, its label moved to a further row rather than
 * over its neighbour's), the mean metric with SEM error bars (a log axis for
 * losses when all are positive, as the prize's plot; ticks with values and
 * gridlines), a dashed baseline labelled with its value, the task as the
 * title and the verdict with its slope and 95% interval as the subtitle.
 * Models whose names share the part before the last '-' form one connected
 * series of one colour; with several series a legend names them.  A model
 * whose mean is not finite gets no point, only its name and mean below the
 * axis.  Written with libxml2's text writer, so every text is escaped,
 * through the atomic writer (core/fileio.h): the file at path is replaced
 * whole and fsynced, or left as it was.  Internal to eval/. */
#ifndef IVS_EVAL_PLOT_H
#define IVS_EVAL_PLOT_H

#include <stddef.h>

typedef struct ivs_plot_model {
  const char *name;
  double params, mean, sem;
} ivs_plot_model;

typedef struct ivs_plot {
  const char *title, *subtitle, *ylabel; /* borrowed; subtitle may be "" */
  const ivs_plot_model *models;          /* n, sorted by parameters */
  size_t n;
  double baseline; /* NaN: none */
  int log_y;       /* asked for; dropped when a value is not positive */
} ivs_plot;

/* The colour of the k-th series ("#1f77b4" ...), a static string. */
const char *ivs_plot_colour(size_t k);

/* "124M", "1.5B", "175B", "14M", "1T", "500": v with a unit, 3 digits. */
void ivs_plot_human(double v, char *out, size_t cap);

int ivs_plot_svg(const char *path, const ivs_plot *p);

#endif

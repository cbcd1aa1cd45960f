/* Parsing on a second thread.
 *
 * An import does two jobs of similar size: parsing and converting records,
 * and storing examples.  ivs_pipeline_run() runs the parser (and
 * ivs_ingest_convert) on a worker thread and hands the results, in order, to
 * `consume` on the calling thread, through a small bounded queue (memory stays
 * constant whatever the input size).
 */
#ifndef IVS_INGEST_PIPELINE_H
#define IVS_INGEST_PIPELINE_H

#include "ingest/record.h"

/* Runs a parser, calling cb for every record.  Called on the worker thread. */
typedef int (*ivs_parse_fn)(void *parse_ud, ivs_record_fn cb, void *cb_ud);

/* One result: a converted example, or (is_reject) the diagnostic of an invalid
 * record.  `consume` may take ownership of ex's contents (leaving it released
 * or initialised); whatever remains is released after the call. */
typedef struct ivs_item {
  int is_reject;
  ivs_example ex;
  ivs_diag diag;
} ivs_item;

/* Return 0 to go on, nonzero to stop (returned by ivs_pipeline_run). */
typedef int (*ivs_item_fn)(ivs_item *item, void *ud);

/* Returns 0 when everything was parsed and consumed; else the first failure:
 * the consumer's code, or the parser's (its message is carried over to the
 * calling thread).  ctx is used by the worker only while this runs. */
int ivs_pipeline_run(ivs_parse_fn parse, void *parse_ud, ivs_ingest_ctx *ctx, ivs_item_fn consume, void *ud);

#endif

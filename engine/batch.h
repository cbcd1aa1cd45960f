/* Scoring many token sequences with only the work needed.
 *
 * Requests come in groups (consecutive requests with the same `group`: the
 * classes of one example after one prompt).  A group's longest common token
 * prefix runs once; the rest of each request runs in the same batch, each
 * seeing the prefix and its own tokens only (a masked batch); the LM head and
 * a log-softmax over the vocabulary (in double) run only at the rows that
 * predict a scored token.  Several groups are packed into one forward to fill
 * the matrix products.  A prefix shared by consecutive groups (a few-shot
 * demonstration, a common instruction) is run once and its keys and values
 * kept while the following groups share it, within cache_bytes.
 *
 * Every path gives the log-probabilities of ivs_model_score on the request
 * alone, up to the order of floating-point sums (tests: within 1e-5). */
#ifndef IVS_ENGINE_BATCH_H
#define IVS_ENGINE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"

typedef struct ivs_lm_req {
  const int32_t *ids; /* borrowed: the whole sequence, n tokens: at most the model's context + 1 (the last is only predicted) */
  size_t n;
  size_t n_ctx;       /* ids[n_ctx..n) are scored: 1 <= n_ctx < n */
  size_t group;       /* consecutive requests with equal group share their common prefix */
} ivs_lm_req;

typedef struct ivs_batch_opts {
  size_t pack_rows;   /* rows per forward; 0: 512 */
  size_t cache_bytes; /* keys and values of a prefix kept across groups; 0: none kept */
  /* optional, after each forward: requests done of total, tokens run so far */
  void (*progress)(size_t done, size_t total, size_t tokens, void *ud);
  void *ud;
} ivs_batch_opts;

typedef struct ivs_batch_stats {
  size_t tokens;   /* in the requests */
  size_t run;      /* run through the model */
  size_t kept;     /* tokens that came from the kept prefix instead */
  size_t forwards; /* packed forward passes */
} ivs_batch_stats;

/* sum_lp[i] = sum of log p(reqs[i].ids[k] | ids[<k]) for k in [n_ctx, n).
 * stats may be NULL.  IVS_EINVAL naming the request (its index) for a bad
 * one (n_ctx, length, an id outside the vocabulary) or a non-finite logit;
 * IVS_ENOMEM. */
int ivs_model_score_batch(ivs_model *m, const ivs_lm_req *reqs, size_t n, const ivs_batch_opts *o, double *sum_lp,
                          ivs_batch_stats *stats);

#endif

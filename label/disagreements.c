/* Disagreements: the items whose judgments agree least, the candidates for
 * adjudication. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "label/agreement.h"

/* Shares are ranked in whole percent (101 buckets, 0% .. 100%); within one,
 * items keep their order.  The 1e-9 keeps 0.29 (stored as 0.28999...) in the
 * 29% bucket. */
#define BUCKETS 101

static int bucket_of(double conf) { return (int)(conf * 100 + 1e-9); }

int ivs_disagreements(const ivs_ratings *r, double max_confidence, ivs_disagreement **out, size_t *n) {
  *out = NULL;
  *n = 0;
  size_t I = ivs_ratings_items(r);
  size_t *lab = malloc((I ? I : 1) * sizeof *lab);
  double *conf = malloc((I ? I : 1) * sizeof *conf);
  size_t count[BUCKETS + 1] = {0};
  int rc = !lab || !conf ? ivs_error_set(IVS_ENOMEM, "out of memory") : ivs_majority_vote(r, lab, conf);
  if (rc) goto done;
  size_t m = 0;
  for (size_t i = 0; i < I; i++) {
    int b = bucket_of(conf[i]);
    if (conf[i] <= max_confidence && b >= 0 && b < BUCKETS) count[b + 1]++, m++;
  }
  if (!m) goto done;
  ivs_disagreement *d = malloc(m * sizeof *d);
  if (!d) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  for (int b = 0; b < BUCKETS; b++) count[b + 1] += count[b]; /* count[b]: first slot of bucket b */
  for (size_t i = 0; i < I; i++) {
    int b = bucket_of(conf[i]);
    if (conf[i] <= max_confidence && b >= 0 && b < BUCKETS) d[count[b]++] = (ivs_disagreement){i, lab[i], conf[i]};
  }
  *out = d;
  *n = m;
done:
  free(lab);
  free(conf);
  return rc;
}

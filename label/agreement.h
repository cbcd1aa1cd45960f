/* Inter-annotator agreement on (item, annotator, label) judgments.
 *
 * An ivs_ratings holds the judgments; when an annotator judged an item more
 * than once the latest judgment counts.  The statistics follow their
 * published definitions:
 *
 *   Krippendorff's alpha (2011): coincidence matrix over pairable values,
 *     levels nominal, ordinal (rank-based delta from the coincidence
 *     marginals), interval, ratio; missing judgments allowed; items with one
 *     judgment drop out.  Also with a caller's distance function.
 *   Fleiss' kappa (1971): needs the same number of judgments on every item.
 *   Cohen's kappa and Scott's pi: one pair of annotators, on the items both judged.
 *   Percent agreement: mean over items of the share of agreeing pairs.
 *
 * Undefined statistics (one value in the whole data, nothing pairable, chance
 * agreement 1) fail with IVS_EINVAL and a message; no NaN is returned.
 */
#ifndef IVS_LABEL_AGREEMENT_H
#define IVS_LABEL_AGREEMENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ivs_ratings ivs_ratings;

int ivs_ratings_new(ivs_ratings **out);
void ivs_ratings_free(ivs_ratings *r);
/* Copies the strings.  Call ivs_ratings_finish() after the last add. */
int ivs_ratings_add(ivs_ratings *r, const char *item, const char *annotator, const char *label);
int ivs_ratings_finish(ivs_ratings *r);
/* Before finish: keep every judgment of an annotator on an item (Dawid-Skene
 * counts repeated judgments; the agreement statistics want one). */
void ivs_ratings_keep_repeats(ivs_ratings *r);

size_t ivs_ratings_items(const ivs_ratings *r);
size_t ivs_ratings_annotators(const ivs_ratings *r);
size_t ivs_ratings_labels(const ivs_ratings *r);
size_t ivs_ratings_judgments(const ivs_ratings *r);
const char *ivs_ratings_item_name(const ivs_ratings *r, size_t i);      /* borrowed */
long ivs_ratings_item_index(const ivs_ratings *r, const char *name);    /* -1: no such item */
const char *ivs_ratings_annotator_name(const ivs_ratings *r, size_t a);
const char *ivs_ratings_label_name(const ivs_ratings *r, size_t l);     /* labels sorted by name */

typedef enum { IVS_LEVEL_NOMINAL, IVS_LEVEL_ORDINAL, IVS_LEVEL_INTERVAL, IVS_LEVEL_RATIO } ivs_level;
int ivs_level_parse(const char *name, ivs_level *out);

int ivs_alpha(const ivs_ratings *r, ivs_level level, double *alpha);
/* alpha with delta(a, b) as the squared distance metric. */
typedef double (*ivs_delta_fn)(const char *a, const char *b, void *ud);
int ivs_alpha_custom(const ivs_ratings *r, ivs_delta_fn delta, void *ud, double *alpha);
/* Nominal alpha of "label l" against "any other label". */
int ivs_alpha_label(const ivs_ratings *r, size_t label, double *alpha);
/* Bootstrap over items (n resamples, seeded): the 2.5% and 97.5% quantiles. */
int ivs_alpha_bootstrap(const ivs_ratings *r, ivs_level level, size_t n, uint64_t seed, double *lo, double *hi);

int ivs_fleiss_kappa(const ivs_ratings *r, double *kappa);
int ivs_cohen_kappa(const ivs_ratings *r, size_t a, size_t b, double *kappa, size_t *shared);
int ivs_scott_pi(const ivs_ratings *r, size_t a, size_t b, double *pi, size_t *shared);
int ivs_percent_agreement(const ivs_ratings *r, double *share);
/* Share of annotator a's pairings with other annotators (on shared items) that agree. */
int ivs_annotator_agreement(const ivs_ratings *r, size_t a, double *share, size_t *pairs);

/* Majority vote per item: most frequent label, ties to the label first in
 * sorted order (crowd-kit's rule).  labels[i] is a label index; conf[i] the
 * winning share (may be NULL). */
int ivs_majority_vote(const ivs_ratings *r, size_t *labels, double *conf);

/* Each annotator's accuracy against the majority-vote labels (skills[a]). */
int ivs_annotator_skills(const ivs_ratings *r, double *skills);

/* crowd-kit's consistency: per item, P(label) proportional to the product
 * over its judgments of skill (when the judgment is that label) or
 * (1 - skill) / (K - 1); the mean over items of P(majority label), with
 * skills from ivs_annotator_skills. */
int ivs_consistency(const ivs_ratings *r, double *out);

/* crowd-kit's uncertainty: per item, scores summed as above (a sum, not a
 * product; with skills NULL each judgment counts 1 for its label), normalised,
 * Shannon entropy in nats; the mean over items. */
int ivs_uncertainty(const ivs_ratings *r, const double *skills, double *out);

#endif

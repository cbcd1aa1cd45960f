/* invscale: crowd annotation and agreement.
 *
 * Two halves.  The first works on judgments in memory (an ivs_ratings: the
 * (item, annotator, label) triples, read from a triples file or from a store)
 * and needs no store: Krippendorff's alpha and the other agreement
 * statistics, majority vote, Dawid-Skene, the disagreement ranking.  The
 * second works in a project store (invscale/store.h): annotators, batches
 * with their assignments, judgments (imported from the crowd platforms'
 * files, or added one at a time), final labels and adjudication, aggregation
 * into final labels, the annotator report.
 *
 * A program computing Krippendorff's alpha of a triples file:
 *
 *   ivs_ratings *r = NULL;
 *   double alpha;
 *   if (ivs_ratings_new(&r) || ivs_triples_read("judgments.csv", NULL, r) || ivs_ratings_finish(r) ||
 *       ivs_alpha(r, IVS_LEVEL_NOMINAL, &alpha))
 *     fprintf(stderr, "%s\n", ivs_error_message());
 *   ivs_ratings_free(r);
 *
 * Errors.  Every function returning int returns IVS_OK (0) or a negative
 * IVS_E* code of invscale/core.h, the detail in ivs_error_message().
 * IVS_EINVAL: the data does not allow it (an unknown batch, a statistic
 * undefined on these judgments: no NaN is ever returned); IVS_EUSAGE: the
 * caller asked for something impossible (an unknown format name, K = 0);
 * IVS_ESTORE: SQLite failed; IVS_EIO, IVS_EPARSE: a file could not be read.
 *
 * Strings passed in are read during the call only unless said otherwise.
 * Functions that change a store run in their own transaction unless said
 * otherwise (so they must not be called inside the caller's).
 */
#ifndef INVSCALE_LABEL_H
#define INVSCALE_LABEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "invscale/core.h"
#include "invscale/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Ratings: judgments in memory
 * ====================================================================== */

/* The judgments of items by annotators.  When an annotator judged an item
 * more than once the latest judgment counts, unless ivs_ratings_keep_repeats
 * was called.  Items, annotators and labels are names; they are numbered
 * 0.. after ivs_ratings_finish: items and annotators in order of first
 * appearance, labels in byte order of their names. */
typedef struct ivs_ratings ivs_ratings;

/* *out is empty and owned by the caller (ivs_ratings_free). */
int ivs_ratings_new(ivs_ratings **out);
void ivs_ratings_free(ivs_ratings *r); /* accepts NULL */
/* Adds one judgment (the strings are copied).  IVS_EUSAGE after finish;
 * IVS_ELIMIT past 2^32 - 1 judgments. */
int ivs_ratings_add(ivs_ratings *r, const char *item, const char *annotator, const char *label);
/* Call once after the last add, before any statistic.  Calling it again does
 * nothing. */
int ivs_ratings_finish(ivs_ratings *r);
/* Before finish: keep every judgment of an annotator on an item (Dawid-Skene
 * counts repeated judgments; the agreement statistics want one). */
void ivs_ratings_keep_repeats(ivs_ratings *r);

/* Counts and names (after finish).  Names are borrowed from r and live as
 * long as it; an index out of range is undefined behaviour. */
size_t ivs_ratings_items(const ivs_ratings *r);
size_t ivs_ratings_annotators(const ivs_ratings *r);
size_t ivs_ratings_labels(const ivs_ratings *r);
size_t ivs_ratings_judgments(const ivs_ratings *r);
const char *ivs_ratings_item_name(const ivs_ratings *r, size_t i);
long ivs_ratings_item_index(const ivs_ratings *r, const char *name); /* -1: no such item */
const char *ivs_ratings_annotator_name(const ivs_ratings *r, size_t a);
const char *ivs_ratings_label_name(const ivs_ratings *r, size_t l);

/* ---- triples files ---- */

/* Column names of a triples file; NULL members: the default names, item (or
 * task), annotator (or worker), label (crowd-kit's task,worker,label). */
typedef struct ivs_triples_map {
  const char *item, *annotator, *label;
} ivs_triples_map;
#define IVS_TRIPLES_MAP_INIT {NULL, NULL, NULL}

/* Parses "item=task,annotator=worker,label=answer" (any subset) into *m.
 * The pointers point into a copy returned in *owned, which the caller frees
 * with free() (also when the call fails).  IVS_EUSAGE for a malformed spec. */
int ivs_triples_map_parse(ivs_triples_map *m, const char *spec, char **owned);

/* Adds every judgment of the CSV (".tsv": tab-separated) or JSONL (".jsonl")
 * file at `path` to r, which is not finished (call ivs_ratings_finish after).
 * m may be NULL (default names).  A missing column, or a row with an empty
 * item, annotator or label, is IVS_EINVAL naming file and line; malformed
 * CSV or JSON is IVS_EPARSE; an unreadable file IVS_EIO. */
int ivs_triples_read(const char *path, const ivs_triples_map *m, ivs_ratings *r);

/* ---- agreement ----
 *
 * Krippendorff's alpha (2011): coincidence matrix over pairable values,
 *   levels nominal, ordinal (rank-based from the coincidence marginals),
 *   interval and ratio (labels must then be numbers); missing judgments are
 *   fine; items with one judgment drop out.
 * Fleiss' kappa (1971): the same number of judgments on every item.
 * Cohen's kappa and Scott's pi: two annotators, on the items both judged.
 * Percent agreement: the mean over items of the share of agreeing pairs.
 *
 * An undefined statistic (one value in the whole data, nothing pairable,
 * chance agreement 1) is IVS_EINVAL with the reason; *out is then untouched. */

typedef enum { IVS_LEVEL_NOMINAL, IVS_LEVEL_ORDINAL, IVS_LEVEL_INTERVAL, IVS_LEVEL_RATIO } ivs_level;
/* "nominal", "ordinal", "interval", "ratio"; IVS_EUSAGE otherwise. */
int ivs_level_parse(const char *name, ivs_level *out);

int ivs_alpha(const ivs_ratings *r, ivs_level level, double *alpha);
/* The order of text labels for ordinal alpha (e.g. Easy, Neutral,
 * Difficult; copied).  weak 0: always used for ordinal; weak 1 (the classes
 * of the store's items): used only when the labels are not all numbers.  A
 * label the order misses is IVS_EINVAL naming it when alpha is computed.
 * IVS_ENOMEM. */
int ivs_ratings_set_order(ivs_ratings *r, const char *const *labels, size_t n, int weak);
/* alpha with delta(a, b) (the squared distance of two labels) as metric. */
typedef double (*ivs_delta_fn)(const char *a, const char *b, void *ud);
int ivs_alpha_custom(const ivs_ratings *r, ivs_delta_fn delta, void *ud, double *alpha);
/* Nominal alpha of "label l" against "any other label". */
int ivs_alpha_label(const ivs_ratings *r, size_t label, double *alpha);
/* Bootstrap over items (n resamples, seeded): the 2.5% and 97.5% quantiles
 * of alpha (Hayes & Krippendorff 2007). */
int ivs_alpha_bootstrap(const ivs_ratings *r, ivs_level level, size_t n, uint64_t seed, double *lo, double *hi);

int ivs_fleiss_kappa(const ivs_ratings *r, double *kappa);
/* *shared: the number of items both a and b judged (set also on failure). */
int ivs_cohen_kappa(const ivs_ratings *r, size_t a, size_t b, double *kappa, size_t *shared);
int ivs_scott_pi(const ivs_ratings *r, size_t a, size_t b, double *pi, size_t *shared);
int ivs_percent_agreement(const ivs_ratings *r, double *share);
/* Share of annotator a's pairings with other annotators (on shared items)
 * that agree; *pairs their number. */
int ivs_annotator_agreement(const ivs_ratings *r, size_t a, double *share, size_t *pairs);

/* crowd-kit's measures: each annotator's accuracy against the majority-vote
 * labels (skills has one entry per annotator); consistency (the mean over
 * items of P(majority label) under those skills); uncertainty (the mean
 * entropy in nats of each item's label scores; skills NULL: each judgment
 * counts 1). */
int ivs_annotator_skills(const ivs_ratings *r, double *skills);
int ivs_consistency(const ivs_ratings *r, double *out);
int ivs_uncertainty(const ivs_ratings *r, const double *skills, double *out);

/* ======================================================================
 * Aggregation: one label per item
 * ====================================================================== */

/* Majority vote per item: the most frequent label, a tie going to the label
 * first in sorted order (crowd-kit's rule).  labels and conf have one entry
 * per item (conf may be NULL): the label index and the winner's share. */
int ivs_majority_vote(const ivs_ratings *r, size_t *labels, double *conf);

/* Dawid & Skene (1979) EM.  Start: each item's label shares (counting an
 * annotator's repeated judgments when the ratings keep them).  M-step: class
 * priors = mean posteriors; each annotator's confusion matrix
 * err[a][observed][true] from posterior-weighted counts, clipped below at
 * `clip` (crowd-kit: 1e-10; 0: no clipping), normalised over the observed
 * label.  E-step: posteriors proportional to prior x product of err (in log
 * space).  Gold items (clamp[i] >= 0) keep their known label with certainty.
 * One iteration is an E-step and an M-step; max_iter 0 gives the starting
 * point and its M-step.  Stops when the summed absolute change of priors and
 * confusion matrices is below `tol`. */
typedef struct ivs_ds_opts {
  size_t max_iter;   /* e.g. 100 */
  double tol;        /* e.g. 1e-5; 0: run every iteration */
  double clip;       /* 0: none */
  const long *clamp; /* per item: a label index held fixed, or -1; NULL: none.  Borrowed for the call. */
} ivs_ds_opts;
#define IVS_DS_OPTS_INIT {100, 1e-5, 1e-10, NULL}

/* The result; every array is owned by the struct (ivs_ds_result_release). */
typedef struct ivs_ds_result {
  size_t items, labels, annotators;
  double *posterior; /* items x labels */
  double *prior;     /* labels */
  double *err;       /* annotators x labels (observed) x labels (true) */
  size_t *map;       /* per item: the most probable label (ties: first in sorted order) */
  size_t iterations;
  double log_likelihood;
} ivs_ds_result;

/* Fills *out (overwritten, not released first).  IVS_EINVAL without
 * judgments; on failure *out holds nothing to release. */
int ivs_dawid_skene(const ivs_ratings *r, const ivs_ds_opts *opts, ivs_ds_result *out);
/* Frees the arrays and zeroes *res; a zeroed result is fine. */
void ivs_ds_result_release(ivs_ds_result *res);
/* Dawid-Skene's estimate of annotator a's accuracy: the sum over labels t of
 * prior[t] x P(a says t | t). */
double ivs_ds_accuracy(const ivs_ds_result *res, size_t a);

typedef enum { IVS_AGG_MAJORITY, IVS_AGG_DAWID_SKENE } ivs_agg_method;
/* "majority" or "dawid-skene"; IVS_EUSAGE otherwise. */
int ivs_agg_method_parse(const char *name, ivs_agg_method *out);
/* "majority" or "dawid-skene" (static). */
const char *ivs_agg_method_name(ivs_agg_method m);

typedef struct ivs_aggregate_opts {
  ivs_agg_method method;
  size_t max_iter; /* Dawid-Skene: at most this many iterations */
  double tol;      /* Dawid-Skene: stop when the parameters move less */
  double clip;     /* Dawid-Skene: the confusion matrices' floor */
} ivs_aggregate_opts;
#define IVS_AGGREGATE_OPTS_INIT {IVS_AGG_MAJORITY, 100, 1e-5, 1e-10}

/* One label per item; the arrays (one entry per item) are owned by the
 * struct (ivs_aggregation_release). */
typedef struct ivs_aggregation {
  size_t items;
  size_t *labels;     /* label index */
  double *confidence; /* majority: the winner's share; Dawid-Skene: its posterior */
  size_t iterations;  /* Dawid-Skene only */
  double log_likelihood;
} ivs_aggregation;

/* Aggregates r (its judgments with repeats kept for Dawid-Skene, see
 * ivs_ratings_keep_repeats).  clamp (one entry per item, or NULL) holds gold
 * items at their known label in Dawid-Skene; majority vote ignores it.  On
 * failure *out holds nothing to release. */
int ivs_aggregate(const ivs_ratings *r, const long *clamp, const ivs_aggregate_opts *o, ivs_aggregation *out);
void ivs_aggregation_release(ivs_aggregation *a); /* a zeroed struct is fine */

/* The whole aggregation in a store: reads the judgments (of `batch`, or all
 * when NULL; an unknown batch is IVS_EINVAL) into *r (owned by the caller,
 * ivs_ratings_free; it names the items of *out), holds gold items at their
 * known answer (Dawid-Skene), chooses each item's final label and stores it
 * (ivs_final_labels_set: gold and adjudicated items keep theirs).  *written
 * counts the examples changed.  On failure *r is NULL and *out empty. */
int ivs_aggregate_store(ivs_store *st, const char *batch, const ivs_aggregate_opts *o, ivs_ratings **r,
                        ivs_aggregation *out, size_t *written);

/* ---- disagreements ---- */

typedef struct ivs_disagreement {
  size_t item;       /* item index in the ratings */
  size_t label;      /* the majority label's index */
  double confidence; /* its share of the item's judgments */
} ivs_disagreement;

/* The items whose majority label has at most max_confidence of the
 * judgments, least agreed first: ordered by the share in whole percent
 * (rounded down), then by item index.  *out is malloc'd (the caller frees it;
 * NULL when *n is 0). */
int ivs_disagreements(const ivs_ratings *r, double max_confidence, ivs_disagreement **out, size_t *n);

/* ======================================================================
 * In a store: annotators, batches, judgments, final labels
 * ====================================================================== */

/* ---- annotators ---- */

/* Registers an annotator (external_id: the platform's worker id, or NULL).
 * IVS_EINVAL when the name or the external id is taken.  *id (may be NULL)
 * is the new annotator's id. */
int ivs_annotator_add(ivs_store *st, const char *name, const char *external_id, int64_t *id);
/* The id of the annotator named `name`; IVS_EINVAL when there is none. */
int ivs_annotator_id(ivs_store *st, const char *name, int64_t *id);
/* Every annotator in name order with the number of their judgments.
 * external_id may be NULL.  fn's nonzero value stops and is returned. */
typedef int (*ivs_annotator_fn)(const char *name, const char *external_id, int64_t judgments, void *ud);
int ivs_annotator_list(ivs_store *st, ivs_annotator_fn fn, void *ud);

/* ---- batches and assignment ---- */

typedef struct ivs_batch_opts {
  const char *name;
  size_t per_item;               /* K judgments per item, at least 1 */
  size_t size;                   /* items to take (0: every candidate) */
  size_t gold;                   /* gold items mixed in */
  const char *const *annotators; /* names of registered annotators, or NULL for open slots */
  size_t n_annotators;
  uint64_t seed;
  const char *tag; /* only examples with this tag (NULL: any) */
} ivs_batch_opts;
#define IVS_BATCH_OPTS_INIT {NULL, 0, 0, 0, NULL, 0, 1, NULL}

/* Creates a batch.  Items: examples with classes and no answer yet, in no
 * batch so far (not sequence_prob); gold: examples with an answer.  Positions
 * are shuffled with the seed (the same seed, the same batch); each item gets
 * K distinct named annotators (a rotation, so loads are even) or K open
 * slots, taken first come first served when judgments arrive.  *items and
 * *gold count what went in.  IVS_EUSAGE for K = 0 or K above the number of
 * annotators named; IVS_EINVAL for a taken name, an unknown annotator, more
 * gold than known answers, or nothing to put in. */
int ivs_batch_create(ivs_store *st, const ivs_batch_opts *opts, size_t *items, size_t *gold);

typedef enum { IVS_BATCH_CSV, IVS_BATCH_JSONL, IVS_BATCH_LABELSTUDIO, IVS_BATCH_TOLOKA } ivs_batch_format;
/* Writes the batch's items to f in position order (each with its example id
 * as item_id); for Label Studio also the labeling config (XML) to xml_out
 * when it is not NULL.  IVS_EINVAL for an unknown or empty batch; IVS_EIO
 * when writing fails.  The files are not closed. */
int ivs_batch_export(ivs_store *st, const char *batch, ivs_batch_format fmt, FILE *f, FILE *xml_out);

/* The next item (example id, in batch position order) of `batch` that is
 * assigned to `annotator` (a name or an external id) or still has an open
 * slot, and that the annotator has not judged in this batch.  IVS_OK with
 * *item 0 when none is left.  Nothing is reserved: when two annotators race
 * for the last open slot, the second judgment is refused by
 * ivs_judgment_add.  IVS_EINVAL for an unknown batch or annotator.  Only
 * reads: fine inside or outside a transaction. */
int ivs_assignment_next(ivs_store *st, const char *batch, const char *annotator, int64_t *item);

/* ---- judgments ---- */

/* One judgment as ivs_judgment_add takes it.  The strings are read during
 * the call only. */
typedef struct ivs_judgment {
  int64_t item;          /* the example id */
  const char *annotator; /* a name or an external id; an unknown one is registered under it */
  const char *label;     /* one of the item's classes */
  double seconds;        /* time spent; < 0: not recorded */
  const char *batch;     /* the batch it answers (its slots are checked and filled), or NULL */
  const char *source;    /* where it comes from: a file position, a platform's answer id; NULL: "api" */
} ivs_judgment;
#define IVS_JUDGMENT_INIT {0, NULL, NULL, -1, NULL, NULL}

/* Stores one judgment, checked as the importers check theirs: the item must
 * exist and the label be among its classes (IVS_EINVAL otherwise, with the
 * reason); in a batch, an annotator not assigned to the item takes an open
 * slot, and is refused (IVS_EINVAL) when the item's K slots are taken.  A
 * judgment equal to a stored one (the same item, annotator, label and source)
 * is not stored again: *added (may be NULL) is 1 when stored, 0 for such a
 * repeat.  Inside the caller's transaction when one is open, else in
 * its own. */
int ivs_judgment_add(ivs_store *st, const ivs_judgment *j, int *added);

typedef enum {
  IVS_JUDG_CSV,             /* item (or item_id), annotator (or worker), label, time (or seconds) */
  IVS_JUDG_JSONL,           /* the same keys */
  IVS_JUDG_LABELSTUDIO,     /* Label Studio JSON export: tasks with annotations (or completions) */
  IVS_JUDG_LABELSTUDIO_MIN, /* Label Studio JSON_MIN: one flat record per annotation */
  IVS_JUDG_MTURK_CSV,       /* MTurk batch results: fixed columns, Input.item_id, Answer.label or Answer.taskAnswers */
  IVS_JUDG_TOLOKA,          /* Toloka TSV: INPUT:item_id, OUTPUT:label, ASSIGNMENT:worker_id, ASSIGNMENT:status */
  IVS_JUDG_MTURK_XML        /* MTurk ListAssignmentsForHIT XML: Assignment/WorkerId, Answer = QuestionFormAnswers */
} ivs_judgment_format;

/* "csv", "jsonl", "labelstudio", "labelstudio-min", "mturk-csv", "toloka",
 * "mturk-xml"; IVS_EUSAGE otherwise. */
int ivs_judgment_format_parse(const char *name, ivs_judgment_format *out);

/* Column names, for every format; NULL members: the format's own (csv and
 * jsonl: item or item_id, annotator or worker, label, time or seconds; e.g.
 * Prolific's PROLIFIC_PID as annotator).  For labelstudio, item is a task
 * field "data.FIELD" holding the example id, label the name of the control
 * (from_name) whose choice counts, time an annotation key.  match_prompt
 * (labelstudio only, "data.FIELD"): the task field whose text equals a
 * stored example's prompt byte for byte; a task matching none or several is
 * reported, not stored.  For mturk-csv item and label are numbered _1, _2 ...
 * when the row holds several items. */
typedef struct ivs_judgment_map {
  const char *item, *annotator, *label, *time;
  const char *match_prompt;
} ivs_judgment_map;
#define IVS_JUDGMENT_MAP_INIT {NULL, NULL, NULL, NULL, NULL}

/* What an import did.  duplicates: judgments already stored (found by their
 * platform's identity, under any file name); updated: stored ones replaced
 * by a changed version (new label or later updated_at; the old values stay in
 * judgment_history).  first_reject: the reason for the first rejected
 * judgment ("file:line: ..."), "" when none. */
typedef struct ivs_import_report {
  size_t imported, duplicates, rejected, cancelled, new_annotators, updated;
  char first_reject[512];
} ivs_import_report;

/* Imports the judgments of the file at `path` in one transaction of its own
 * (batch: the batch they answer, or NULL; map: NULL for the default column
 * names).  Each judgment goes through the checks of ivs_judgment_add (its
 * source is its position in the file); the ones failing them, malformed rows
 * and cancelled or rejected assignments are counted in *rep, not stored.
 * Nothing is stored when nothing new was imported.  Returns IVS_OK when the
 * file could be read (see *rep for what happened to each judgment); IVS_EIO,
 * IVS_EPARSE for a file that is not of the format; IVS_EINVAL for an unknown
 * batch. */
int ivs_judgments_import(ivs_store *st, const char *path, ivs_judgment_format fmt, const char *batch,
                         const ivs_judgment_map *map, ivs_import_report *rep);

/* ---- ratings, gold and final labels of a store ---- */

/* Adds the store's judgments (of `batch`, or all when NULL; an unknown batch
 * is IVS_EINVAL) to r and finishes it: item = the example id as text,
 * annotator = the name, in the order they were stored.  keep_repeats: see
 * ivs_ratings_keep_repeats. */
int ivs_ratings_from_store(ivs_store *st, const char *batch, int keep_repeats, ivs_ratings *r);

/* clamp[i] (one entry per item of r) = the label index of item i's known
 * answer when it is a gold item of some batch, else -1. */
int ivs_gold_clamp(ivs_store *st, const ivs_ratings *r, long *clamp);

/* Stores a final label per item of r (item names are example ids; labels and
 * conf (may be NULL: 1) one entry per item) made by `method`, and sets each
 * example's answer_index to the label's position among its classes; gold
 * items keep their known answer, adjudicated items their adjudication.
 * *written counts the examples changed. */
int ivs_final_labels_set(ivs_store *st, const ivs_ratings *r, const size_t *labels, const double *conf,
                         const char *method, size_t *written);

/* Records an adjudication of example `example` by annotator `by` (note may
 * be NULL) and makes it the example's final label.  IVS_EINVAL for an
 * unknown example or annotator, or a label not among its classes. */
int ivs_adjudicate(ivs_store *st, int64_t example, const char *label, const char *by, const char *note);

/* ---- the annotator report ---- */

/* Per annotator: counts, time, accuracy on gold items, agreement with the
 * final labels. */
typedef struct ivs_annotator_stats {
  const char *name; /* borrowed: for the callback, or as long as the report */
  int64_t judgments;
  double median_seconds; /* -1: no times recorded */
  int64_t gold_judgments, gold_correct;
  int64_t final_judgments, final_agree; /* against the items' final labels */
} ivs_annotator_stats;
typedef int (*ivs_annotator_stats_fn)(const ivs_annotator_stats *s, void *ud);
/* Calls fn per annotator with judgments (of `batch`, or all), in name order;
 * fn's nonzero value stops and is returned. */
int ivs_annotator_stats_list(ivs_store *st, const char *batch, ivs_annotator_stats_fn fn, void *ud);

typedef struct ivs_report_opts {
  const char *batch;  /* NULL: all judgments */
  double min_gold;    /* flag an annotator under this accuracy on gold items */
  double min_agree;   /* ... or under this agreement with the final labels */
} ivs_report_opts;
#define IVS_REPORT_OPTS_INIT {NULL, 0.7, 0.6}

typedef struct ivs_annotator_row {
  ivs_annotator_stats stats;
  double gold_accuracy; /* gold_correct / gold_judgments; -1: no gold judged */
  double agreement;     /* final_agree / final_judgments; -1: no final labels */
  double ds_accuracy;   /* ivs_ds_accuracy of an unclamped Dawid-Skene on the judgments; -1: none */
  int flagged;          /* under min_gold or min_agree */
} ivs_annotator_row;

/* The report: one row per annotator with judgments, in name order.  Owned by
 * the caller (ivs_annotator_report_release frees rows and their names). */
typedef struct ivs_annotator_report {
  ivs_annotator_row *rows;
  size_t n, flagged;
} ivs_annotator_report;

int ivs_annotator_report_make(ivs_store *st, const ivs_report_opts *o, ivs_annotator_report *out);
void ivs_annotator_report_release(ivs_annotator_report *rep); /* a zeroed struct is fine */

#ifdef __cplusplus
}
#endif
#endif

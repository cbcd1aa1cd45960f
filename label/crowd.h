/* Crowd annotation in the store: annotators, batches with assignments, and
 * judgments, and the final labels that become the examples' answer_index. */
#ifndef IVS_LABEL_CROWD_H
#define IVS_LABEL_CROWD_H

#include <stdint.h>
#include <stdio.h>

#include "label/agreement.h"
#include "store/store.h"

int ivs_annotator_add(ivs_store *st, const char *name, const char *external_id, int64_t *id);
typedef int (*ivs_annotator_fn)(const char *name, const char *external_id, int64_t judgments, void *ud);
int ivs_annotator_list(ivs_store *st, ivs_annotator_fn fn, void *ud);

typedef struct ivs_batch_opts {
  const char *name;
  size_t per_item;                 /* K judgments per item */
  size_t size;                     /* items to take (0: every candidate) */
  size_t gold;                     /* gold items mixed in */
  const char *const *annotators;   /* named annotators, or NULL for open slots */
  size_t n_annotators;
  uint64_t seed;
  const char *tag;                 /* only examples with this tag (NULL: any) */
} ivs_batch_opts;

/* Items: examples with classes and no answer yet, in no batch so far; gold:
 * examples with an answer.  Positions are shuffled with the seed; each item
 * gets K distinct annotators (balanced over the named ones) or K open slots. */
int ivs_batch_create(ivs_store *st, const ivs_batch_opts *opts, size_t *items, size_t *gold);

typedef enum { IVS_BATCH_CSV, IVS_BATCH_JSONL, IVS_BATCH_LABELSTUDIO, IVS_BATCH_TOLOKA } ivs_batch_format;
/* Writes the batch's items to f; for Label Studio also the labeling config
 * (XML) to xml_out when not NULL. */
int ivs_batch_export(ivs_store *st, const char *batch, ivs_batch_format fmt, FILE *f, FILE *xml_out);

typedef enum {
  IVS_JUDG_CSV,             /* item (or item_id), annotator (or worker), label, time */
  IVS_JUDG_JSONL,           /* the same keys */
  IVS_JUDG_LABELSTUDIO,     /* Label Studio JSON export: tasks with annotations (or completions) */
  IVS_JUDG_LABELSTUDIO_MIN, /* Label Studio JSON_MIN: one flat record per annotation */
  IVS_JUDG_MTURK_CSV,       /* MTurk batch results: fixed columns, Input.item_id, Answer.label or Answer.taskAnswers */
  IVS_JUDG_TOLOKA,          /* Toloka TSV: INPUT:item_id, OUTPUT:label, ASSIGNMENT:worker_id, ASSIGNMENT:status */
  IVS_JUDG_MTURK_XML        /* MTurk ListAssignmentsForHIT XML: Assignment/WorkerId, Answer = QuestionFormAnswers */
} ivs_judgment_format;

/* "csv", "labelstudio-min", ... -> format; IVS_EUSAGE for an unknown name. */
int ivs_judgment_format_parse(const char *name, ivs_judgment_format *out);
typedef struct ivs_import_report {
  size_t imported, duplicates, rejected, cancelled, new_annotators;
  char first_reject[512];
} ivs_import_report;
/* One transaction: judgments of known items with labels among the item's
 * classes are stored (annotators registered by external id on first sight);
 * the rest are counted and the first reason kept. */
/* Column names for csv/jsonl (NULL members: item or item_id, annotator or
 * worker, label, time or seconds); e.g. Prolific's PROLIFIC_PID as annotator. */
typedef struct ivs_judgment_map {
  const char *item, *annotator, *label, *time;
} ivs_judgment_map;

int ivs_judgments_import(ivs_store *st, const char *path, ivs_judgment_format fmt, const char *batch,
                         const ivs_judgment_map *map, ivs_import_report *rep);

/* Judgments (of a batch, or all) as ratings: item = example id, annotator = name. */
int ivs_store_ratings(ivs_store *st, const char *batch, int keep_repeats, ivs_ratings *r);

/* clamp[i] = the label index of item i's known answer when it is a gold item
 * of a batch, else -1 (clamp has one entry per item of r). */
int ivs_store_gold(ivs_store *st, const ivs_ratings *r, long *clamp);

/* Stores final labels (item names are example ids) and sets each example's
 * answer_index; gold items keep their known answer, adjudicated items their
 * adjudication.  *written counts the examples changed. */
int ivs_final_labels_set(ivs_store *st, const ivs_ratings *r, const size_t *labels, const double *conf,
                         const char *method, size_t *written);

/* Records an adjudication and makes it the example's final label. */
int ivs_adjudicate(ivs_store *st, int64_t example, const char *label, const char *by, const char *note);



typedef struct ivs_annotator_stats {
  const char *name;              /* borrowed for the callback */
  int64_t judgments;
  double median_seconds;         /* -1: no times recorded */
  int64_t gold_judgments, gold_correct;
  int64_t final_judgments, final_agree; /* against the items' final labels */
} ivs_annotator_stats;
typedef int (*ivs_annotator_stats_fn)(const ivs_annotator_stats *s, void *ud);
/* Per annotator (of batch B, or all): counts, median time, accuracy on gold
 * items, agreement with the final labels. */
int ivs_annotator_stats_list(ivs_store *st, const char *batch, ivs_annotator_stats_fn fn, void *ud);

#endif

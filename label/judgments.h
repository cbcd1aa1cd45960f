/* Inside the label module: adding judgments, shared by ivs_judgment_add and
 * the importers (judgments.c, judgments_json.c, judgments_xml.c). */
#ifndef IVS_LABEL_JUDGMENTS_H
#define IVS_LABEL_JUDGMENTS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/record.h"
#include "invscale/label.h"
#include "store/db.h"

/* Prepared statements and caches for adding many judgments to one store
 * (and batch).  Lives inside one transaction. */
typedef struct ivs_judgment_ctx {
  ivs_store *st;
  int64_t batch_id; /* 0: none */
  sqlite3_stmt *item, *by_name, *add_ann, *ins, *slot_has, *slot_take;
  sqlite3_stmt *find_id, *upd, *hist; /* a judgment's platform identity; an update and its history */
  size_t new_annotators; /* registered on first sight */
  /* the last item's classes: consecutive judgments of one item (or items
   * sharing their classes) parse them once */
  char *classes_text;
  cJSON *classes; /* the parsed array, or NULL */
} ivs_judgment_ctx;

/* Resolves `batch` (NULL: none; an unknown name is IVS_EINVAL) and prepares
 * the statements.  Release with ivs_judgment_ctx_release, also on failure. */
int ivs_judgment_ctx_init(ivs_judgment_ctx *cx, ivs_store *st, const char *batch);
void ivs_judgment_ctx_release(ivs_judgment_ctx *cx);

/* A judgment's identity on its platform (schema version 5): the id space
 * ("labelstudio", "mturk", "toloka", "generic") and the id in it, with the
 * platform's time of its last change (NULL: none given).  id NULL in the
 * "generic" space: made of item, annotator, label and time. */
typedef struct ivs_jident {
  const char *space, *id, *updated;
} ivs_jident;

/* What ivs_judgment_put did. */
enum { IVS_PUT_REPEAT = 0, IVS_PUT_ADDED = 1, IVS_PUT_UPDATED = 2 };

/* Checks and stores j (j->batch is ignored: the context's batch counts).
 * idn (NULL: none, as ivs_judgment_add) finds the same judgment stored
 * before under any source: unchanged, it is a repeat; with a new label or a
 * later updated_at it replaces the stored one, whose old values go to
 * judgment_history (an older updated_at is a repeat).  IVS_OK with *added
 * one of IVS_PUT_*; IVS_EINVAL with the reason (no position) when the
 * judgment is refused; another code when storing failed. */
int ivs_judgment_put(ivs_judgment_ctx *cx, const ivs_judgment *j, const ivs_jident *idn, int *added);

/* One import of one file. */
typedef struct ivs_importer {
  ivs_judgment_ctx cx;
  const char *path;
  ivs_import_report *rep;
  ivs_judgment_format fmt;
  ivs_judgment_map map;
  size_t records, blank; /* Toloka: rows read, and blank separator rows among them */
} ivs_importer;

/* Counts a rejected judgment and keeps the first reason. */
void ivs_import_reject(ivs_importer *im, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

/* A judgment read from a file, at `where` (its position, also its source):
 * item is the example id as text; idn its identity (NULL: the generic one).  Refusals are counted (IVS_OK); another
 * code when storing failed. */
int ivs_import_judgment(ivs_importer *im, const char *item, const char *annotator, const char *label, double seconds,
                        const char *where, const ivs_jident *idn);

/* The flat formats, one record per judgment (csv, jsonl, mturk-csv, toloka,
 * labelstudio-min): an ivs_record_fn with an ivs_importer as ud. */
int ivs_import_record(const ivs_record *rec, void *ud);

/* judgments_json.c: Label Studio's JSON export (min: JSON_MIN). */
int ivs_import_labelstudio(ivs_importer *im, int min);
/* judgments_xml.c: MTurk's ListAssignmentsForHIT XML. */
int ivs_import_mturk_xml(ivs_importer *im);

#endif

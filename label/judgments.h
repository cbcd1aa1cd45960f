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

/* Checks and stores j (j->batch is ignored: the context's batch counts).
 * IVS_OK with *added 1, or 0 for a repeat; IVS_EINVAL with the reason (no
 * position) when the judgment is refused; another code when storing failed. */
int ivs_judgment_put(ivs_judgment_ctx *cx, const ivs_judgment *j, int *added);

/* One import of one file. */
typedef struct ivs_importer {
  ivs_judgment_ctx cx;
  const char *path;
  ivs_import_report *rep;
  ivs_judgment_format fmt;
  ivs_judgment_map map;
} ivs_importer;

/* Counts a rejected judgment and keeps the first reason. */
void ivs_import_reject(ivs_importer *im, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

/* A judgment read from a file, at `where` (its position, also its source):
 * item is the example id as text.  Refusals are counted (IVS_OK); another
 * code when storing failed. */
int ivs_import_judgment(ivs_importer *im, const char *item, const char *annotator, const char *label, double seconds,
                        const char *where);

/* The flat formats, one record per judgment (csv, jsonl, mturk-csv, toloka,
 * labelstudio-min): an ivs_record_fn with an ivs_importer as ud. */
int ivs_import_record(const ivs_record *rec, void *ud);

/* judgments_json.c: Label Studio's JSON export (min: JSON_MIN). */
int ivs_import_labelstudio(ivs_importer *im, int min);
/* judgments_xml.c: MTurk's ListAssignmentsForHIT XML. */
int ivs_import_mturk_xml(ivs_importer *im);

#endif

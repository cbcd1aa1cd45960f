/* Judgments: adding one (checked against the item and the batch), and the
 * import of a platform's file, with the flat formats (CSV, JSONL, MTurk batch
 * results, Toloka TSV; Label Studio JSON_MIN records come through here too).
 * The nested formats are in judgments_json.c and judgments_xml.c. */
#include "label/judgments.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/parse.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

/* ---- adding one judgment ---- */

int ivs_judgment_ctx_init(ivs_judgment_ctx *cx, ivs_store *st, const char *batch) {
  memset(cx, 0, sizeof *cx);
  cx->st = st;
  int rc = 0;
  if (batch) {
    sqlite3_stmt *s = NULL;
    if (!(rc = ivs_db_prepare(st, &s, "SELECT id FROM batches WHERE name = ?1", 0, "cannot prepare"))) {
      ivs_db_text(s, 1, batch);
      int step = sqlite3_step(s);
      if (step == SQLITE_ROW) cx->batch_id = sqlite3_column_int64(s, 0);
      else if (step == SQLITE_DONE) rc = ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
      else rc = ivs_store_fail(st, "cannot look up the batch");
      sqlite3_finalize(s);
    }
  }
  const int p = IVS_DB_PERSISTENT;
  if (!rc) rc = ivs_db_prepare(st, &cx->item, "SELECT classes FROM examples WHERE id = ?1", p, "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->by_name,
                        "SELECT id FROM annotators WHERE external_id = ?1 OR name = ?1 ORDER BY external_id = ?1 DESC LIMIT 1",
                        p, "cannot prepare");
  if (!rc) rc = ivs_db_prepare(st, &cx->add_ann, "INSERT INTO annotators (name, external_id) VALUES (?1, ?1)", p, "cannot prepare");
  /* for the batch: is the annotator assigned to the item, how many open slots, how many slots */
  if (!rc)
    rc = ivs_db_prepare(st, &cx->slot_has,
                        "SELECT coalesce(sum(annotator_id = ?3), 0), coalesce(sum(annotator_id IS NULL), 0),"
                        " count(*) FROM assignments WHERE batch_id = ?1 AND example_id = ?2",
                        p, "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->slot_take,
                        "UPDATE assignments SET annotator_id = ?3 WHERE batch_id = ?1 AND example_id = ?2"
                        " AND slot = (SELECT min(slot) FROM assignments WHERE batch_id = ?1 AND example_id = ?2"
                        " AND annotator_id IS NULL)",
                        p, "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->ins,
                        "INSERT OR IGNORE INTO judgments (example_id, annotator_id, batch_id, label, seconds, source)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        p, "cannot prepare");
  return rc;
}

void ivs_judgment_ctx_release(ivs_judgment_ctx *cx) {
  ivs_db_finalize(&cx->item), ivs_db_finalize(&cx->by_name), ivs_db_finalize(&cx->add_ann);
  ivs_db_finalize(&cx->ins), ivs_db_finalize(&cx->slot_has), ivs_db_finalize(&cx->slot_take);
  free(cx->classes_text);
  cJSON_Delete(cx->classes);
  cx->classes_text = NULL;
  cx->classes = NULL;
}

/* Whether label is one of the classes (JSON text cls, NULL: none). */
/* 1 when label is one of the classes (the JSON text cls), 0 when not, or
 * IVS_ENOMEM (the store's classes are valid JSON: only memory can fail). */
static int among_classes(ivs_judgment_ctx *cx, const char *cls, const char *label) {
  if (!cls) return 0;
  if (!cx->classes_text || strcmp(cls, cx->classes_text)) {
    free(cx->classes_text);
    cx->classes_text = NULL;
    cJSON_Delete(cx->classes);
    if (!(cx->classes = cJSON_Parse(cls)) || !(cx->classes_text = strdup(cls))) {
      cJSON_Delete(cx->classes);
      cx->classes = NULL;
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    }
  }
  int ok = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cx->classes) ok |= cJSON_IsString(c) && !strcmp(c->valuestring, label);
  return ok;
}

int ivs_judgment_put(ivs_judgment_ctx *cx, const ivs_judgment *j, int *added) {
  ivs_store *st = cx->st;
  long long id = (long long)j->item;
  *added = 0;
  sqlite3_reset(cx->item);
  sqlite3_bind_int64(cx->item, 1, j->item);
  /* A failing step (out of memory) is no "not found": SQLite may have rolled
   * the transaction back, and going on would store the rest outside it. */
  int step = sqlite3_step(cx->item);
  if (step == SQLITE_DONE) return ivs_error_set(IVS_EINVAL, "no example %lld in the store", id);
  if (step != SQLITE_ROW) return ivs_store_fail(st, "cannot look up an example");
  const char *cls = (const char *)sqlite3_column_text(cx->item, 0);
  int among = among_classes(cx, cls, j->label);
  if (among < 0) return among;
  if (!among)
    return ivs_error_set(IVS_EINVAL, "label '%.60s' is not one of example %lld's classes %.200s", j->label, id,
                         cls ? cls : "(none)");
  sqlite3_reset(cx->by_name);
  ivs_db_text(cx->by_name, 1, j->annotator);
  int64_t aid;
  if ((step = sqlite3_step(cx->by_name)) == SQLITE_ROW) {
    aid = sqlite3_column_int64(cx->by_name, 0);
  } else if (step != SQLITE_DONE) {
    return ivs_store_fail(st, "cannot look up an annotator");
  } else { /* first sight: register by external id */
    sqlite3_reset(cx->add_ann);
    ivs_db_text(cx->add_ann, 1, j->annotator);
    if (sqlite3_step(cx->add_ann) != SQLITE_DONE) return ivs_store_fail(st, "cannot register an annotator");
    aid = sqlite3_last_insert_rowid(ivs_store_db(st));
    cx->new_annotators++;
  }
  if (cx->batch_id) { /* open slots are filled first come, first served */
    sqlite3_reset(cx->slot_has);
    sqlite3_bind_int64(cx->slot_has, 1, cx->batch_id);
    sqlite3_bind_int64(cx->slot_has, 2, j->item);
    sqlite3_bind_int64(cx->slot_has, 3, aid);
    if ((step = sqlite3_step(cx->slot_has)) != SQLITE_ROW && step != SQLITE_DONE)
      return ivs_store_fail(st, "cannot look up the assignment");
    if (step == SQLITE_ROW) {
      int assigned = sqlite3_column_int(cx->slot_has, 0), open = sqlite3_column_int(cx->slot_has, 1);
      int slots = sqlite3_column_int(cx->slot_has, 2);
      if (!assigned && open) {
        sqlite3_reset(cx->slot_take);
        sqlite3_bind_int64(cx->slot_take, 1, cx->batch_id);
        sqlite3_bind_int64(cx->slot_take, 2, j->item);
        sqlite3_bind_int64(cx->slot_take, 3, aid);
        if (sqlite3_step(cx->slot_take) != SQLITE_DONE) return ivs_store_fail(st, "cannot fill a slot");
      } else if (!assigned && slots) {
        return ivs_error_set(IVS_EINVAL, "'%s' is not assigned to example %lld in this batch and its %d slots are taken",
                             j->annotator, id, slots);
      }
    }
  }
  sqlite3_reset(cx->ins);
  sqlite3_bind_int64(cx->ins, 1, j->item);
  sqlite3_bind_int64(cx->ins, 2, aid);
  if (cx->batch_id) sqlite3_bind_int64(cx->ins, 3, cx->batch_id);
  else sqlite3_bind_null(cx->ins, 3);
  ivs_db_text(cx->ins, 4, j->label);
  if (j->seconds >= 0) sqlite3_bind_double(cx->ins, 5, j->seconds);
  else sqlite3_bind_null(cx->ins, 5);
  ivs_db_text(cx->ins, 6, j->source ? j->source : "api"); /* the column is NOT NULL */
  if (sqlite3_step(cx->ins) != SQLITE_DONE) return ivs_store_fail(st, "cannot store a judgment");
  *added = sqlite3_changes(ivs_store_db(st)) > 0;
  return 0;
}

int ivs_judgment_add(ivs_store *st, const ivs_judgment *j, int *added) {
  int dummy, own = sqlite3_get_autocommit(ivs_store_db(st)); /* no transaction open: make one */
  if (!added) added = &dummy;
  *added = 0;
  if (!j->annotator || !*j->annotator || !j->label)
    return ivs_error_set(IVS_EINVAL, "a judgment needs an annotator and a label");
  int rc = own ? ivs_store_begin(st) : 0;
  if (rc) return rc;
  ivs_judgment_ctx cx;
  rc = ivs_judgment_ctx_init(&cx, st, j->batch);
  if (!rc) rc = ivs_judgment_put(&cx, j, added);
  ivs_judgment_ctx_release(&cx);
  if (own) {
    if (rc) ivs_store_rollback(st);
    else rc = ivs_store_commit(st);
  }
  if (rc) *added = 0;
  return rc;
}

/* ---- importing a file ---- */

void ivs_import_reject(ivs_importer *im, const char *fmt, ...) {
  im->rep->rejected++;
  if (im->rep->first_reject[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(im->rep->first_reject, sizeof im->rep->first_reject, fmt, ap);
  va_end(ap);
}

int ivs_import_judgment(ivs_importer *im, const char *item, const char *annotator, const char *label, double seconds,
                        const char *where) {
  char *end;
  long long id = strtoll(item, &end, 10);
  if (!*item || *end) {
    ivs_import_reject(im, "%s: item '%.60s' is not an example id", where, item);
    return 0;
  }
  ivs_judgment j = {id, annotator, label, seconds, NULL, where};
  int added, rc = ivs_judgment_put(&im->cx, &j, &added);
  if (rc == IVS_EINVAL) {
    ivs_import_reject(im, "%s: %s", where, ivs_error_message());
    return 0;
  }
  if (rc) return rc;
  if (added) im->rep->imported++;
  else im->rep->duplicates++;
  return 0;
}

int ivs_judgment_format_parse(const char *name, ivs_judgment_format *out) {
  static const char *const n[] = {"csv", "jsonl", "labelstudio", "labelstudio-min", "mturk-csv", "toloka", "mturk-xml"};
  for (int i = 0; i < 7; i++)
    if (!strcmp(name, n[i])) {
      *out = (ivs_judgment_format)i;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE, "unknown judgments format '%s' (labelstudio, labelstudio-min, mturk-csv, mturk-xml, "
                                   "toloka, csv, jsonl)", name);
}

/* The label in an MTurk Answer.taskAnswers cell: [{"label": " Yes"}] or
 * [{"label": {" Yes": true, " No": false}}] (a radio group). */
static int task_answer(const char *json, char *out, size_t cap) {
  cJSON *a = cJSON_Parse(json);
  const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "label");
  int ok = 0;
  if (cJSON_IsString(v)) snprintf(out, cap, "%s", v->valuestring), ok = 1;
  else if (cJSON_IsObject(v)) {
    const cJSON *c;
    cJSON_ArrayForEach(c, v) if (cJSON_IsTrue(c)) snprintf(out, cap, "%s", c->string), ok = 1;
  }
  cJSON_Delete(a);
  return ok;
}

int ivs_import_record(const ivs_record *rec, void *ud) {
  ivs_importer *im = ud;
  char where[300], b1[64], b2[64], b3[256] = "", b4[64];
  snprintf(where, sizeof where, "%s:%zu", im->path, rec->line);
  if (rec->error) {
    ivs_import_reject(im, "%s: %s", where, rec->error);
    return 0;
  }
  const ivs_field *fi, *fa, *fl, *ft, *fs = NULL; /* b3: a label taken out of a structured cell */
  const char *cancelled_status = NULL;
  switch (im->fmt) {
  case IVS_JUDG_MTURK_CSV: {
    static const char *const fixed[] = {"HITId", "AssignmentId", "WorkerId", "AssignmentStatus", "WorkTimeInSeconds"};
    for (int k = 0; k < 5; k++)
      if (!ivs_record_field(rec, fixed[k], NULL))
        return ivs_error_set(IVS_EPARSE, "%s: not an MTurk batch results file: no '%s' column", where, fixed[k]);
    fi = ivs_record_field(rec, "Input.item_id", NULL), fa = ivs_record_field(rec, "WorkerId", NULL), fl = ivs_record_field(rec, "Answer.label", NULL);
    ft = ivs_record_field(rec, "WorkTimeInSeconds", NULL), fs = ivs_record_field(rec, "AssignmentStatus", NULL);
    cancelled_status = "Rejected";
    if (!fl && (fl = ivs_record_field(rec, "Answer.taskAnswers", NULL))) {
      if (!task_answer(ivs_field_text(fl, b3, sizeof b3), b3, sizeof b3)) {
        ivs_import_reject(im, "%s: Answer.taskAnswers holds no label", where);
        return 0;
      }
      fl = NULL;
    }
    break;
  }
  case IVS_JUDG_TOLOKA:
    fi = ivs_record_field(rec, "INPUT:item_id", NULL), fa = ivs_record_field(rec, "ASSIGNMENT:worker_id", NULL);
    fl = ivs_record_field(rec, "OUTPUT:label", NULL), ft = NULL, fs = ivs_record_field(rec, "ASSIGNMENT:status", NULL);
    cancelled_status = "REJECTED";
    break;
  case IVS_JUDG_LABELSTUDIO_MIN:
    fi = ivs_record_field(rec, "item_id", NULL), fa = ivs_record_field(rec, "annotator", NULL), fl = ivs_record_field(rec, "label", NULL);
    ft = ivs_record_field(rec, "lead_time", NULL);
    if (fl && fl->json && cJSON_IsObject(fl->json)) { /* {"choices": [...]} */
      const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(fl->json, "choices"), 0);
      if (cJSON_IsString(c)) snprintf(b3, sizeof b3, "%s", c->valuestring), fl = NULL;
    }
    break;
  default: {
    const ivs_judgment_map *m = &im->map;
    fi = m->item ? ivs_record_field(rec, m->item, NULL) : ivs_record_field(rec, "item", "item_id");
    fa = m->annotator ? ivs_record_field(rec, m->annotator, NULL) : ivs_record_field(rec, "annotator", "worker");
    fl = ivs_record_field(rec, m->label ? m->label : "label", NULL);
    ft = m->time ? ivs_record_field(rec, m->time, NULL) : ivs_record_field(rec, "time", "seconds");
  }
  }
  const char *st = fs ? ivs_field_text(fs, b4, sizeof b4) : NULL;
  if (st && cancelled_status && !strcmp(st, cancelled_status)) {
    im->rep->cancelled++;
    return 0;
  }
  const char *item = ivs_field_text(fi, b1, sizeof b1), *ann = ivs_field_text(fa, b2, sizeof b2);
  const char *lab = fl ? ivs_field_text(fl, b3, sizeof b3) : b3[0] ? b3 : NULL;
  char tb[64];
  const char *t = ft ? ivs_field_text(ft, tb, sizeof tb) : NULL;
  if (!item || !ann || !*ann || !lab) {
    ivs_import_reject(im, "%s: needs an item id, an annotator and a label", where);
    return 0;
  }
  double seconds = -1;
  if (t && *t) { /* a time that is not a number is refused, not read as 0 */
    char what[96];
    snprintf(what, sizeof what, "field '%.60s'", ft->name);
    if (ivs_parse_double(what, t, 0, 1e9, &seconds)) {
      ivs_import_reject(im, "%s: %s (seconds)", where, ivs_error_message());
      return 0;
    }
  }
  return ivs_import_judgment(im, item, ann, lab, seconds, where);
}

int ivs_judgments_import(ivs_store *st, const char *path, ivs_judgment_format fmt, const char *batch,
                         const ivs_judgment_map *map, ivs_import_report *rep) {
  memset(rep, 0, sizeof *rep);
  ivs_importer im;
  memset(&im, 0, sizeof im);
  im.path = path;
  im.rep = rep;
  im.fmt = fmt;
  if (map) im.map = *map;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  rc = ivs_judgment_ctx_init(&im.cx, st, batch);
  if (!rc) {
    if (fmt == IVS_JUDG_LABELSTUDIO || fmt == IVS_JUDG_LABELSTUDIO_MIN) {
      rc = ivs_import_labelstudio(&im, fmt == IVS_JUDG_LABELSTUDIO_MIN);
    } else if (fmt == IVS_JUDG_MTURK_XML) {
      rc = ivs_import_mturk_xml(&im);
    } else if (fmt == IVS_JUDG_JSONL) {
      ivs_jsonl_opts o = IVS_JSONL_OPTS_INIT;
      rc = ivs_jsonl_read(path, &o, ivs_import_record, &im);
    } else {
      size_t n = strlen(path);
      int tsv = fmt == IVS_JUDG_TOLOKA || (n > 4 && !strcmp(path + n - 4, ".tsv"));
      ivs_csv_opts o = {.delim = tsv ? '\t' : ',', .max_field = 0};
      rc = ivs_csv_read(path, &o, ivs_import_record, &im);
    }
  }
  rep->new_annotators = im.cx.new_annotators;
  ivs_judgment_ctx_release(&im.cx);
  if (rc || !rep->imported) ivs_store_rollback(st); /* nothing new: the store stays as it was */
  else rc = ivs_store_commit(st);
  return rc;
}

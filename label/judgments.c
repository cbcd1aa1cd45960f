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
                        "INSERT OR IGNORE INTO judgments (example_id, annotator_id, batch_id, label, seconds, source,"
                        " id_space, platform_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        p, "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->find_id,
                        "SELECT id, label, updated_at FROM judgments WHERE id_space = ?1 AND platform_id = ?2", p,
                        "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->hist,
                        "INSERT INTO judgment_history (judgment_id, label, seconds, source, updated_at)"
                        " SELECT id, label, seconds, source, updated_at FROM judgments WHERE id = ?1",
                        p, "cannot prepare");
  if (!rc)
    rc = ivs_db_prepare(st, &cx->upd,
                        "UPDATE judgments SET label = ?2, seconds = ?3, source = ?4, updated_at = ?5 WHERE id = ?1", p,
                        "cannot prepare");
  return rc;
}

void ivs_judgment_ctx_release(ivs_judgment_ctx *cx) {
  ivs_db_finalize(&cx->item), ivs_db_finalize(&cx->by_name), ivs_db_finalize(&cx->add_ann);
  ivs_db_finalize(&cx->ins), ivs_db_finalize(&cx->slot_has), ivs_db_finalize(&cx->slot_take);
  ivs_db_finalize(&cx->find_id), ivs_db_finalize(&cx->upd), ivs_db_finalize(&cx->hist);
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

/* The stored judgment with j's identity: IVS_PUT_ADDED when there is none
 * (go on and insert), IVS_PUT_REPEAT or IVS_PUT_UPDATED when it was found
 * (and replaced), or an error code. */
static int put_known(ivs_judgment_ctx *cx, const ivs_judgment *j, const char *space, const char *pid,
                     const char *updated) {
  ivs_store *st = cx->st;
  sqlite3_reset(cx->find_id);
  ivs_db_text(cx->find_id, 1, space);
  ivs_db_text(cx->find_id, 2, pid);
  int step = sqlite3_step(cx->find_id);
  if (step == SQLITE_DONE) return IVS_PUT_ADDED;
  if (step != SQLITE_ROW) return ivs_store_fail(st, "cannot look up a judgment");
  int64_t jid = sqlite3_column_int64(cx->find_id, 0);
  const char *old_label = (const char *)sqlite3_column_text(cx->find_id, 1);
  const char *old_up = (const char *)sqlite3_column_text(cx->find_id, 2);
  int same_label = old_label && !strcmp(old_label, j->label);
  int same_up = (!old_up && !updated) || (old_up && updated && !strcmp(old_up, updated));
  /* an older export of an annotation changed since: the stored one stays */
  int older = old_up && updated && strcmp(updated, old_up) < 0;
  if (older || (same_label && same_up) || (same_label && !updated)) return IVS_PUT_REPEAT;
  sqlite3_reset(cx->find_id);
  sqlite3_reset(cx->hist);
  sqlite3_bind_int64(cx->hist, 1, jid);
  if (sqlite3_step(cx->hist) != SQLITE_DONE) return ivs_store_fail(st, "cannot keep a judgment's history");
  sqlite3_reset(cx->upd);
  sqlite3_bind_int64(cx->upd, 1, jid);
  ivs_db_text(cx->upd, 2, j->label);
  if (j->seconds >= 0) sqlite3_bind_double(cx->upd, 3, j->seconds);
  else sqlite3_bind_null(cx->upd, 3);
  ivs_db_text(cx->upd, 4, j->source ? j->source : "api");
  ivs_db_text(cx->upd, 5, updated);
  if (sqlite3_step(cx->upd) != SQLITE_DONE) return ivs_store_fail(st, "cannot update a judgment");
  return IVS_PUT_UPDATED;
}

/* 1 when example `item` (its id as text) has `label` among its classes, 0
 * when not or when there is no such example, < 0 when the store failed. */
static int item_has_label(ivs_judgment_ctx *cx, const char *item, const char *label) {
  char *end;
  long long id = strtoll(item, &end, 10);
  if (!*item || *end) return 0;
  sqlite3_reset(cx->item);
  sqlite3_bind_int64(cx->item, 1, id);
  int step = sqlite3_step(cx->item);
  if (step == SQLITE_DONE) return 0;
  if (step != SQLITE_ROW) return ivs_store_fail(cx->st, "cannot look up an example");
  int r = among_classes(cx, (const char *)sqlite3_column_text(cx->item, 0), label);
  sqlite3_reset(cx->item);
  return r;
}

int ivs_judgment_put(ivs_judgment_ctx *cx, const ivs_judgment *j, const ivs_jident *idn, int *added) {
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
  /* The identity: the platform's, or for generic files item, annotator, label and time. */
  char gen[600];
  const char *space = idn ? idn->space : NULL, *pid = idn ? idn->id : NULL;
  if (space && !pid) {
    char t[40] = "";
    if (j->seconds >= 0) snprintf(t, sizeof t, "%.17g", j->seconds);
    int n = snprintf(gen, sizeof gen, "%lld\x1f%lld\x1f%s\x1f%s", id, (long long)aid, j->label, t);
    if (n < 0 || (size_t)n >= sizeof gen) space = NULL; /* a label too long for a key: no identity */
    else pid = gen;
  }
  if (space && pid) {
    int k = put_known(cx, j, space, pid, idn->updated);
    if (k < 0) return k;
    if (k != IVS_PUT_ADDED) {
      *added = k;
      return 0;
    }
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
  ivs_db_text(cx->ins, 7, space && pid ? space : NULL);
  ivs_db_text(cx->ins, 8, space ? pid : NULL);
  ivs_db_text(cx->ins, 9, idn ? idn->updated : NULL);
  if (sqlite3_step(cx->ins) != SQLITE_DONE) return ivs_store_fail(st, "cannot store a judgment");
  *added = sqlite3_changes(ivs_store_db(st)) > 0 ? IVS_PUT_ADDED : IVS_PUT_REPEAT;
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
  if (!rc) rc = ivs_judgment_put(&cx, j, NULL, added);
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
                        const char *where, const ivs_jident *idn) {
  static const ivs_jident generic = {"generic", NULL, NULL};
  char *end;
  long long id = strtoll(item, &end, 10);
  if (!*item || *end) {
    ivs_import_reject(im, "%s: item '%.60s' is not an example id", where, item);
    return 0;
  }
  ivs_judgment j = {id, annotator, label, seconds, NULL, where};
  int added, rc = ivs_judgment_put(&im->cx, &j, idn ? idn : &generic, &added);
  if (rc == IVS_EINVAL) {
    ivs_import_reject(im, "%s: %s", where, ivs_error_message());
    return 0;
  }
  if (rc) return rc;
  if (added == IVS_PUT_ADDED) im->rep->imported++;
  else if (added == IVS_PUT_UPDATED) im->rep->updated++;
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

/* 1 when every field of rec is empty: the separator rows Toloka writes
 * between task suites. */
static int blank_record(const ivs_record *rec) {
  for (size_t k = 0; k < rec->n; k++) {
    const ivs_field *f = &rec->fields[k];
    if (f->json || (f->str && f->len)) return 0;
  }
  return 1;
}

/* The names of rec's fields, for an error: "a, b, c" (cut at cap). */
static const char *field_names(const ivs_record *rec, char *out, size_t cap) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t k = 0; k < rec->n && o + 1 < cap; k++) {
    int n = snprintf(out + o, cap - o, "%s%s", k ? ", " : "", rec->fields[k].name ? rec->fields[k].name : "");
    if (n < 0) break;
    o += (size_t)n;
  }
  if (o >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
  return out;
}

/* An MTurk crowd-classifier answer column: Answer.<name>.label (suffix ""),
 * or Answer.<name>_N.label / Answer.label_N for item N (suffix "_N"). */
static const ivs_field *mturk_label(const ivs_record *rec, const char *suffix) {
  char want[80];
  snprintf(want, sizeof want, "Answer.label%s", suffix);
  const ivs_field *f = ivs_record_field(rec, want, NULL);
  if (f) return f;
  size_t sl = strlen(suffix);
  for (size_t k = 0; k < rec->n; k++) {
    const char *n = rec->fields[k].name;
    size_t len = n ? strlen(n) : 0;
    if (len > 13 + sl && !strncmp(n, "Answer.", 7) && !strcmp(n + len - 6, ".label") &&
        (!sl || !strncmp(n + len - 6 - sl, suffix, sl)))
      return &rec->fields[k];
  }
  return NULL;
}

/* One judgment of a flat record: item, annotator, label, time fields (a label
 * may come as text in lab). */
static int import_fields(ivs_importer *im, const char *where, const ivs_field *fi, const ivs_field *fa,
                         const ivs_field *fl, const char *lab_text, const ivs_field *ft, const ivs_jident *idn) {
  char b1[64], b2[256], b3[256], tb[64];
  const char *item = ivs_field_text(fi, b1, sizeof b1), *ann = ivs_field_text(fa, b2, sizeof b2);
  const char *lab = fl ? ivs_field_text(fl, b3, sizeof b3) : lab_text;
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
  return ivs_import_judgment(im, item, ann, lab, seconds, where, idn);
}

static const ivs_field *mapped(const ivs_record *rec, const char *map, const char *name, const char *alt) {
  return map ? ivs_record_field(rec, map, NULL) : ivs_record_field(rec, name, alt);
}

/* MTurk batch results: one row per assignment, one judgment per item (one
 * item: Input.item_id; several: Input.item_id_1, _2, ... with Answer.label_N
 * or Answer.<name>_N.label). */
static int import_mturk_row(ivs_importer *im, const ivs_record *rec, const char *where) {
  static const char *const fixed[] = {"HITId", "AssignmentId", "WorkerId", "AssignmentStatus", "WorkTimeInSeconds"};
  const ivs_judgment_map *m = &im->map;
  char names[400];
  for (int k = 0; k < 5; k++)
    if (!ivs_record_field(rec, fixed[k], NULL))
      return ivs_error_set(IVS_EPARSE, "%s: not an MTurk batch results file: no '%s' column (the file has: %s)", where,
                           fixed[k], field_names(rec, names, sizeof names));
  const ivs_field *fs = ivs_record_field(rec, "AssignmentStatus", NULL);
  char b4[64], asg[128];
  const char *st = ivs_field_text(fs, b4, sizeof b4);
  if (st && !strcmp(st, "Rejected")) {
    im->rep->cancelled++;
    return 0;
  }
  const ivs_field *fa = mapped(rec, m->annotator, "WorkerId", NULL), *ft = mapped(rec, m->time, "WorkTimeInSeconds", NULL);
  const char *aid = ivs_field_text(ivs_record_field(rec, "AssignmentId", NULL), asg, sizeof asg);
  const char *item_col = m->item ? m->item : "Input.item_id";
  for (int n = 0; n <= 1000; n++) { /* n 0: one item per row; then items 1, 2, ... */
    char suffix[16] = "", icol[128];
    if (n) snprintf(suffix, sizeof suffix, "_%d", n);
    snprintf(icol, sizeof icol, "%s%s", item_col, suffix);
    const ivs_field *fi = ivs_record_field(rec, icol, NULL);
    if (!fi) {
      if (n == 0) continue;
      if (n == 1)
        return ivs_error_set(IVS_EPARSE, "%s: no item column '%s' (or '%s_1', '%s_2', ... for several items; --map "
                                         "item=COLUMN names another; the file has: %s)",
                             where, item_col, item_col, item_col, field_names(rec, names, sizeof names));
      break;
    }
    const ivs_field *fl = NULL;
    char lab[256] = "", lcol[128];
    if (m->label) {
      snprintf(lcol, sizeof lcol, "%s%s", m->label, suffix);
      fl = ivs_record_field(rec, lcol, NULL);
    } else if (!(fl = mturk_label(rec, suffix))) {
      snprintf(lcol, sizeof lcol, "Answer.taskAnswers");
      const ivs_field *ta = ivs_record_field(rec, lcol, NULL);
      char buf[256];
      if (ta && !n) {
        if (!task_answer(ivs_field_text(ta, buf, sizeof buf), lab, sizeof lab)) {
          ivs_import_reject(im, "%s: Answer.taskAnswers holds no label", where);
          return 0;
        }
      } else {
        return ivs_error_set(IVS_EPARSE, "%s: no answer column for '%s': expected 'Answer.label%s', "
                                         "'Answer.<name>%s.label'%s or --map label=COLUMN (the file has: %s)",
                             where, icol, suffix, suffix, n ? "" : ", 'Answer.taskAnswers'", field_names(rec, names, sizeof names));
      }
    }
    char where_n[340], idb[300], ib[64];
    snprintf(where_n, sizeof where_n, "%s%s%s", where, n ? " item " : "", n ? suffix + 1 : "");
    const char *item = ivs_field_text(fi, ib, sizeof ib);
    snprintf(idb, sizeof idb, "%s\x1f%s", aid ? aid : "", item ? item : "");
    ivs_jident idn = {"mturk", idb, NULL};
    int rc = import_fields(im, where_n, fi, fa, fl, fl ? NULL : lab, ft, aid && *aid ? &idn : NULL);
    if (rc || n == 0) return rc;
  }
  return 0;
}

/* Real JSON_MIN keys the label by the control's name (e.g. "sentiment"),
 * beside the task's data fields: of the fields invscale does not know, the
 * first holding {"choices": [...]}, else the first string that is one of the
 * item's classes, else the first string (refused later with the reason). */
static const ivs_field *min_label(ivs_importer *im, const ivs_record *rec, const ivs_field *fi) {
  static const char *const known[] = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
                                      "item_id", "prompt", "classes", "choices", "drafts", "predictions"};
  const ivs_field *first = NULL;
  char ib[64];
  const char *item = ivs_field_text(fi, ib, sizeof ib);
  for (size_t k = 0; k < rec->n; k++) {
    const ivs_field *f = &rec->fields[k];
    int is_known = !f->name;
    for (size_t q = 0; q < sizeof known / sizeof *known && !is_known; q++) is_known = !strcmp(f->name, known[q]);
    if (is_known) continue;
    if (f->json && cJSON_IsObject(f->json) && cJSON_IsArray(cJSON_GetObjectItem(f->json, "choices"))) return f;
    const char *v = f->json ? cJSON_GetStringValue(f->json) : f->str;
    if (!v) continue;
    if (!first) first = f;
    if (item && item_has_label(&im->cx, item, v) == 1) return f;
  }
  return first;
}

int ivs_import_record(const ivs_record *rec, void *ud) {
  ivs_importer *im = ud;
  char where[300], b3[256] = "", b4[64], idb[300];
  snprintf(where, sizeof where, "%s:%zu", im->path, rec->line);
  if (rec->error) {
    ivs_import_reject(im, "%s: %s", where, rec->error);
    return 0;
  }
  const ivs_judgment_map *m = &im->map;
  const ivs_field *fi, *fa, *fl, *ft;
  ivs_jident idn = {NULL, NULL, NULL}, *pidn = NULL;
  switch (im->fmt) {
  case IVS_JUDG_MTURK_CSV:
    return import_mturk_row(im, rec, where);
  case IVS_JUDG_TOLOKA: {
    if (blank_record(rec)) { /* between task suites */
      im->blank++;
      return 0;
    }
    im->records++;
    const ivs_field *fs = ivs_record_field(rec, "ASSIGNMENT:status", NULL);
    const char *st = fs ? ivs_field_text(fs, b4, sizeof b4) : NULL;
    if (st && !strcmp(st, "REJECTED")) {
      im->rep->cancelled++;
      return 0;
    }
    fi = mapped(rec, m->item, "INPUT:item_id", NULL), fa = mapped(rec, m->annotator, "ASSIGNMENT:worker_id", NULL);
    fl = mapped(rec, m->label, "OUTPUT:label", NULL), ft = m->time ? ivs_record_field(rec, m->time, NULL) : NULL;
    char ab[128], ib[64];
    const char *asg = ivs_field_text(ivs_record_field(rec, "ASSIGNMENT:assignment_id", NULL), ab, sizeof ab);
    const char *item = ivs_field_text(fi, ib, sizeof ib);
    if (asg && *asg && item) {
      snprintf(idb, sizeof idb, "%s\x1f%s", asg, item);
      idn = (ivs_jident){"toloka", idb, NULL}, pidn = &idn;
    }
    break;
  }
  case IVS_JUDG_LABELSTUDIO_MIN: {
    fi = mapped(rec, m->item, "item_id", NULL), fa = mapped(rec, m->annotator, "annotator", NULL);
    fl = m->label ? ivs_record_field(rec, m->label, NULL) : ivs_record_field(rec, "label", NULL);
    ft = mapped(rec, m->time, "lead_time", NULL);
    if (!fl && !m->label) fl = min_label(im, rec, fi);
    if (fl && fl->json && cJSON_IsObject(fl->json)) { /* {"choices": [...]} */
      const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(fl->json, "choices"), 0);
      if (cJSON_IsString(c)) snprintf(b3, sizeof b3, "%s", c->valuestring), fl = NULL;
    }
    char ab[64];
    const char *an = ivs_field_text(ivs_record_field(rec, "annotation_id", NULL), ab, sizeof ab);
    if (an && *an) {
      snprintf(idb, sizeof idb, "%s", an);
      idn = (ivs_jident){"labelstudio", idb, ivs_field_text(ivs_record_field(rec, "updated_at", NULL), b4, sizeof b4)};
      pidn = &idn;
    }
    break;
  }
  default:
    fi = m->item ? ivs_record_field(rec, m->item, NULL) : ivs_record_field(rec, "item", "item_id");
    fa = m->annotator ? ivs_record_field(rec, m->annotator, NULL) : ivs_record_field(rec, "annotator", "worker");
    fl = ivs_record_field(rec, m->label ? m->label : "label", NULL);
    ft = m->time ? ivs_record_field(rec, m->time, NULL) : ivs_record_field(rec, "time", "seconds");
  }
  /* a --map naming a field the file lacks: an error naming it, not a reject per row */
  const char *miss = m->item && !fi ? m->item : m->annotator && !fa ? m->annotator : m->label && !fl ? m->label
                   : m->time && !ft ? m->time : NULL;
  if (miss) { /* a header lacks it: the whole file does; a JSON record may lack a key others have */
    char names[400];
    if (im->fmt == IVS_JUDG_JSONL || im->fmt == IVS_JUDG_LABELSTUDIO_MIN) {
      ivs_import_reject(im, "%s: --map names '%s', which this record does not have (it has: %s)", where, miss,
                        field_names(rec, names, sizeof names));
      return 0;
    }
    return ivs_error_set(IVS_EPARSE, "%s: --map names '%s', which the file does not have (it has: %s)", where, miss,
                         field_names(rec, names, sizeof names));
  }
  return import_fields(im, where, fi, fa, fl, fl ? NULL : b3[0] ? b3 : NULL, ft, pidn);
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
  if (!rc && fmt == IVS_JUDG_TOLOKA && !im.records)
    rc = ivs_error_set(IVS_EPARSE, "%s: no judgments: the file has %s", path,
                       im.blank ? "only blank rows" : "no rows under its header");
  rep->new_annotators = im.cx.new_annotators;
  ivs_judgment_ctx_release(&im.cx);
  if (rc || !(rep->imported || rep->updated)) ivs_store_rollback(st); /* nothing new: the store stays as it was */
  else rc = ivs_store_commit(st);
  return rc;
}

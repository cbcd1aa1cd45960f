/* What the lead of a batch sees: per annotator counts, coverage of K, the
 * flags, and one example with its judgments. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "invscale/label_work.h"
#include "store/db.h"

int ivs_work_batch(ivs_store *st, const char *name, int64_t *id, int *per_item) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, "SELECT id, per_item FROM batches WHERE name = ?1", 0, "cannot look up the batch");
  if (rc) return rc;
  ivs_db_text(s, 1, name);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    *id = sqlite3_column_int64(s, 0);
    *per_item = sqlite3_column_int(s, 1);
  } else if (step == SQLITE_DONE) {
    rc = ivs_error_set(IVS_EINVAL, "no batch named '%s'", name);
  } else {
    rc = ivs_store_fail(st, "cannot look up the batch");
  }
  sqlite3_finalize(s);
  return rc;
}

int ivs_work_annotators(ivs_store *st, int64_t batch_id, ivs_work_annotator_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "WITH who(aid) AS (SELECT annotator_id FROM assignments WHERE batch_id = ?1 AND annotator_id IS NOT NULL"
                          "  UNION SELECT annotator_id FROM judgments WHERE batch_id = ?1"
                          "  UNION SELECT annotator_id FROM item_marks WHERE batch_id = ?1"
                          "  UNION SELECT annotator_id FROM links WHERE batch_id = ?1 AND annotator_id IS NOT NULL)"
                          " SELECT a.name,"
                          "  (SELECT count(*) FROM judgments j WHERE j.batch_id = ?1 AND j.annotator_id = who.aid),"
                          "  (SELECT count(*) FROM assignments x WHERE x.batch_id = ?1 AND x.annotator_id = who.aid),"
                          "  (SELECT count(*) FROM item_marks m WHERE m.batch_id = ?1 AND m.annotator_id = who.aid AND m.kind = 'skip'),"
                          "  (SELECT count(*) FROM item_marks m WHERE m.batch_id = ?1 AND m.annotator_id = who.aid AND m.kind = 'flag'),"
                          "  (SELECT count(*) FROM leases l WHERE l.batch_id = ?1 AND l.annotator_id = who.aid"
                          "    AND l.expires_at > (julianday('now') - 2440587.5) * 86400.0)"
                          " FROM who JOIN annotators a ON a.id = who.aid ORDER BY a.name",
                          0, "cannot list the annotators");
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, batch_id);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    ivs_work_annotator a = {(const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                            sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5)};
    if ((rc = fn(&a, ud))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot list the annotators");
  sqlite3_finalize(s);
  return rc;
}

int ivs_work_coverage(ivs_store *st, int64_t batch_id, int per_item, int64_t *items, int64_t *adjudicated) {
  for (int k = 0; k <= per_item; k++) items[k] = 0;
  *adjudicated = 0;
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT min(judged, ?2), count(*) FROM batch_items WHERE batch_id = ?1 GROUP BY 1", 0,
                          "cannot count the coverage");
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, batch_id);
  sqlite3_bind_int(s, 2, per_item);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    int k = sqlite3_column_int(s, 0);
    if (k >= 0 && k <= per_item) items[k] = sqlite3_column_int64(s, 1);
  }
  if (step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot count the coverage");
  ivs_db_finalize(&s);
  if (!rc && !(rc = ivs_db_prepare(st, &s,
                                   "SELECT count(*) FROM batch_items bi JOIN final_labels f ON f.example_id = bi.example_id"
                                   " WHERE bi.batch_id = ?1 AND f.method = 'adjudication'",
                                   0, "cannot count the adjudications"))) {
    sqlite3_bind_int64(s, 1, batch_id);
    if (sqlite3_step(s) == SQLITE_ROW) *adjudicated = sqlite3_column_int64(s, 0);
    else rc = ivs_store_fail(st, "cannot count the adjudications");
    ivs_db_finalize(&s);
  }
  return rc;
}

int ivs_work_flags(ivs_store *st, int64_t batch_id, size_t limit, ivs_work_flag_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT m.example_id, a.name, m.note, m.created_at FROM item_marks m JOIN annotators a ON a.id = m.annotator_id"
                          " WHERE m.batch_id = ?1 AND m.kind = 'flag' ORDER BY m.id DESC LIMIT ?2",
                          0, "cannot list the flags");
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, batch_id);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    ivs_work_flag f = {sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                       (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3)};
    if ((rc = fn(&f, ud))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot list the flags");
  sqlite3_finalize(s);
  return rc;
}

int ivs_work_example_get(ivs_store *st, int64_t batch_id, int64_t item, ivs_work_example_fn fn,
                         ivs_work_label_fn label_fn, void *ud) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT e.prompt, e.classes, f.label, f.method, bi.gold FROM batch_items bi JOIN examples e ON e.id = bi.example_id"
                          " LEFT JOIN final_labels f ON f.example_id = e.id WHERE bi.batch_id = ?1 AND bi.example_id = ?2",
                          0, "cannot read the example");
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, batch_id);
  sqlite3_bind_int64(s, 2, item);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    ivs_work_example e = {item, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                          (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
                          sqlite3_column_int(s, 4)};
    rc = fn(&e, ud);
  } else if (step == SQLITE_DONE) {
    rc = ivs_error_set(IVS_EINVAL, "example %lld is not in the batch", (long long)item);
  } else {
    rc = ivs_store_fail(st, "cannot read the example");
  }
  ivs_db_finalize(&s);
  if (rc || !label_fn) return rc;
  if ((rc = ivs_db_prepare(st, &s,
                           "SELECT a.name, j.label FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                           " WHERE j.batch_id = ?1 AND j.example_id = ?2 ORDER BY a.name",
                           0, "cannot read the judgments")))
    return rc;
  sqlite3_bind_int64(s, 1, batch_id);
  sqlite3_bind_int64(s, 2, item);
  while ((step = sqlite3_step(s)) == SQLITE_ROW)
    if ((rc = label_fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1), ud))) break;
  if (!rc && step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot read the judgments");
  sqlite3_finalize(s);
  return rc;
}

/* Annotators: the people (or crowd workers) who judge items. */
#include <stdint.h>

#include "core/error.h"
#include "label/agreement.h"
#include "store/db.h"

int ivs_annotator_id(ivs_store *st, const char *name, int64_t *id) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, "SELECT id FROM annotators WHERE name = ?1", 0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, name);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) *id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return step == SQLITE_ROW ? 0 : ivs_error_set(IVS_EINVAL, "no annotator '%s' (add it with: invscale annotator add %s)",
                                                name, name);
}

int ivs_annotator_add(ivs_store *st, const char *name, const char *external_id, int64_t *id) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, "INSERT INTO annotators (name, external_id) VALUES (?1, ?2)", 0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, name);
  ivs_db_text(s, 2, external_id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step == SQLITE_CONSTRAINT)
    return ivs_error_set(IVS_EINVAL, "an annotator named '%s'%s%s already exists", name,
                         external_id ? " or with external id " : "", external_id ? external_id : "");
  if (step != SQLITE_DONE) return ivs_store_fail(st, "cannot add the annotator");
  if (id) *id = sqlite3_last_insert_rowid(ivs_store_db(st));
  return 0;
}

int ivs_annotator_list(ivs_store *st, ivs_annotator_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT a.name, a.external_id, (SELECT count(*) FROM judgments j WHERE j.annotator_id = a.id)"
                          " FROM annotators a ORDER BY a.name",
                          0, "cannot prepare");
  if (rc) return rc;
  while (!rc && sqlite3_step(s) == SQLITE_ROW)
    rc = fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2),
            ud);
  sqlite3_finalize(s);
  return rc;
}

/* Final labels: the store's judgments as ratings, the gold answers that
 * clamp an aggregation, the final label of each item (which becomes its
 * example's answer_index), and adjudication by a person. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "label/agreement.h"
#include "store/db.h"


/* The order of the judged items' classes (the first item's, then labels
 * other items add), for ordinal alpha on text labels. */
static int class_order(ivs_store *st, const char *batch, ivs_ratings *r) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT classes FROM examples WHERE classes IS NOT NULL AND id IN (SELECT example_id FROM judgments"
                          " WHERE ?1 IS NULL OR batch_id = (SELECT id FROM batches WHERE name = ?1)) GROUP BY classes"
                          " ORDER BY min(id)",
                          0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, batch);
  const char **names = NULL;
  cJSON **keep = NULL;
  size_t n = 0, cap = 0, nk = 0, kcap = 0;
  int step;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    cJSON *a = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
    if (!a || ivs_grow((void **)&keep, &kcap, nk + 1, sizeof *keep, 8)) {
      cJSON_Delete(a);
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      break;
    }
    keep[nk++] = a;
    const cJSON *c;
    cJSON_ArrayForEach(c, a) {
      if (!cJSON_IsString(c)) continue;
      size_t k = 0;
      while (k < n && strcmp(names[k], c->valuestring)) k++;
      if (k < n) continue;
      if (ivs_grow((void **)&names, &cap, n + 1, sizeof *names, 16)) {
        rc = ivs_error_set(IVS_ENOMEM, "out of memory");
        break;
      }
      names[n++] = c->valuestring;
    }
  }
  if (!rc && step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot read the classes");
  if (!rc && n) rc = ivs_ratings_set_order(r, names, n, 1);
  sqlite3_finalize(s);
  for (size_t k = 0; k < nk; k++) cJSON_Delete(keep[k]);
  free(keep);
  free(names);
  return rc;
}

int ivs_ratings_from_store(ivs_store *st, const char *batch, int keep_repeats, ivs_ratings *r) {
  sqlite3_stmt *s = NULL;
  int rc;
  if (batch) { /* a misspelt batch name is an error, not an empty batch */
    if ((rc = ivs_db_prepare(st, &s, "SELECT 1 FROM batches WHERE name = ?1", 0, "cannot prepare"))) return rc;
    ivs_db_text(s, 1, batch);
    int step = sqlite3_step(s);
    ivs_db_finalize(&s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return ivs_store_fail(st, "cannot look up the batch");
    if (step != SQLITE_ROW) return ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
  }
  rc = ivs_db_prepare(st, &s,
                "SELECT j.example_id, a.name, j.label FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                " WHERE ?1 IS NULL OR j.batch_id = (SELECT id FROM batches WHERE name = ?1) ORDER BY j.id", 0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, batch);
  if (keep_repeats) ivs_ratings_keep_repeats(r);
  char item[32];
  while (!rc && sqlite3_step(s) == SQLITE_ROW) {
    snprintf(item, sizeof item, "%lld", (long long)sqlite3_column_int64(s, 0));
    rc = ivs_ratings_add(r, item, (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2));
  }
  sqlite3_finalize(s);
  s = NULL;
  if (!rc) rc = class_order(st, batch, r);
  return rc ? rc : ivs_ratings_finish(r);
}

/* Sets final label `label` of example `id` and its answer_index. */
static int set_final(ivs_store *st, sqlite3_stmt *fin, sqlite3_stmt *ans, int64_t id, const char *label, double conf,
                     const char *method) {
  sqlite3_reset(fin);
  sqlite3_bind_int64(fin, 1, id);
  ivs_db_text(fin, 2, label);
  sqlite3_bind_double(fin, 3, conf);
  ivs_db_text(fin, 4, method);
  if (sqlite3_step(fin) != SQLITE_DONE) return ivs_store_fail(st, "cannot store a final label");
  sqlite3_reset(ans);
  sqlite3_bind_int64(ans, 1, id);
  ivs_db_text(ans, 2, label);
  if (sqlite3_step(ans) != SQLITE_DONE) return ivs_store_fail(st, "cannot set answer_index");
  return 0;
}

#define SET_FINAL_SQL                                                                                              \
  "INSERT INTO final_labels (example_id, label, confidence, method) VALUES (?1, ?2, ?3, ?4)"                     \
  " ON CONFLICT (example_id) DO UPDATE SET label = excluded.label, confidence = excluded.confidence,"          \
  " method = excluded.method, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define SET_ANSWER_SQL                                                                                             \
  "UPDATE examples SET answer_index = (SELECT CAST(j.key AS INTEGER) FROM json_each(examples.classes) j"          \
  " WHERE j.value = ?2) WHERE id = ?1"

int ivs_final_labels_set(ivs_store *st, const ivs_ratings *r, const size_t *labels, const double *conf,
                         const char *method, size_t *written) {
  sqlite3_stmt *skip = NULL, *del = NULL, *ins = NULL, *get = NULL, *ans = NULL;
  *written = 0;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  /* Single-row statements only: an INSERT ... SELECT or an upsert would make
   * SQLite keep a statement journal, a copy of every page it touches. */
  if ((rc = ivs_db_prepare(st, &skip, "SELECT EXISTS (SELECT 1 FROM adjudications WHERE example_id = ?1)"
                            " OR EXISTS (SELECT 1 FROM batch_items WHERE example_id = ?1 AND gold)", 0, "cannot prepare")) ||
      (rc = ivs_db_prepare(st, &del, "DELETE FROM final_labels WHERE example_id = ?1", 0, "cannot prepare")) ||
      (rc = ivs_db_prepare(st, &ins, "INSERT INTO final_labels (example_id, label, confidence, method) VALUES (?1, ?2, ?3, ?4)", 0, "cannot prepare")) ||
      (rc = ivs_db_prepare(st, &get, "SELECT classes FROM examples WHERE id = ?1", 0, "cannot prepare")) ||
      (rc = ivs_db_prepare(st, &ans, "UPDATE examples SET answer_index = ?2 WHERE id = ?1", 0, "cannot prepare")))
    goto done;
  ivs_db_text(ins, 4, method);
  char *last_classes = NULL; /* many examples share their classes: parse each list once */
  cJSON *parsed = NULL;
  for (size_t i = 0; i < ivs_ratings_items(r) && !rc; i++) {
    int64_t id = strtoll(ivs_ratings_item_name(r, i), NULL, 10);
    const char *label = ivs_ratings_label_name(r, labels[i]);
    sqlite3_reset(skip);
    sqlite3_bind_int64(skip, 1, id);
    if (sqlite3_step(skip) == SQLITE_ROW && sqlite3_column_int(skip, 0)) continue; /* gold or adjudicated */
    sqlite3_reset(del);
    sqlite3_bind_int64(del, 1, id);
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, id);
    sqlite3_bind_text(ins, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_double(ins, 3, conf ? conf[i] : 1);
    if (sqlite3_step(del) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE) {
      rc = ivs_store_fail(st, "cannot store a final label");
      break;
    }
    (*written)++;
    /* the label's position among the example's classes is its answer_index */
    sqlite3_reset(get);
    sqlite3_bind_int64(get, 1, id);
    long idx = -1;
    const char *cls = sqlite3_step(get) == SQLITE_ROW ? (const char *)sqlite3_column_text(get, 0) : NULL;
    if (cls && (!last_classes || strcmp(cls, last_classes))) {
      free(last_classes);
      cJSON_Delete(parsed);
      last_classes = strdup(cls);
      parsed = cJSON_Parse(cls);
    }
    long k = 0;
    const cJSON *c;
    if (cls) cJSON_ArrayForEach(c, parsed) {
        if (idx < 0 && cJSON_IsString(c) && !strcmp(c->valuestring, label)) idx = k;
        k++;
      }
    sqlite3_reset(ans);
    sqlite3_bind_int64(ans, 1, id);
    if (idx >= 0) sqlite3_bind_int64(ans, 2, idx);
    else sqlite3_bind_null(ans, 2);
    if (sqlite3_step(ans) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot set answer_index");
  }
  free(last_classes);
  cJSON_Delete(parsed);
done:
  sqlite3_finalize(skip), sqlite3_finalize(del), sqlite3_finalize(ins), sqlite3_finalize(get), sqlite3_finalize(ans);
  if (rc) ivs_store_rollback(st);
  else rc = ivs_store_commit(st);
  return rc;
}

int ivs_adjudicate(ivs_store *st, int64_t example, const char *label, const char *by, const char *note) {
  int64_t aid;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  sqlite3_stmt *s = NULL, *fin = NULL, *ans = NULL;
  if ((rc = ivs_annotator_id(st, by, &aid))) goto done;
  if ((rc = ivs_db_prepare(st, &s, "SELECT classes FROM examples WHERE id = ?1", 0, "cannot prepare"))) goto done;
  sqlite3_bind_int64(s, 1, example);
  if (sqlite3_step(s) != SQLITE_ROW) {
    rc = ivs_error_set(IVS_EINVAL, "no example %lld", (long long)example);
    goto done;
  }
  cJSON *a = cJSON_Parse((const char *)sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "null");
  int ok = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, a) ok |= cJSON_IsString(c) && !strcmp(c->valuestring, label);
  cJSON_Delete(a);
  if (!ok) {
    rc = ivs_error_set(IVS_EINVAL, "'%s' is not one of example %lld's classes", label, (long long)example);
    goto done;
  }
  ivs_db_finalize(&s);
  if ((rc = ivs_db_prepare(st, &s, "INSERT INTO adjudications (example_id, label, annotator_id, note) VALUES (?1, ?2, ?3, ?4)", 0, "cannot prepare")))
    goto done;
  sqlite3_bind_int64(s, 1, example);
  ivs_db_text(s, 2, label);
  sqlite3_bind_int64(s, 3, aid);
  ivs_db_text(s, 4, note);
  if (sqlite3_step(s) != SQLITE_DONE) {
    rc = ivs_store_fail(st, "cannot record the adjudication");
    goto done;
  }
  if (!(rc = ivs_db_prepare(st, &fin, SET_FINAL_SQL, 0, "cannot prepare")) && !(rc = ivs_db_prepare(st, &ans, SET_ANSWER_SQL, 0, "cannot prepare")))
    rc = set_final(st, fin, ans, example, label, 1, "adjudication");
done:
  sqlite3_finalize(s), sqlite3_finalize(fin), sqlite3_finalize(ans);
  if (rc) ivs_store_rollback(st);
  else rc = ivs_store_commit(st);
  return rc;
}

int ivs_gold_clamp(ivs_store *st, const ivs_ratings *r, long *clamp) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, "SELECT DISTINCT e.id, json_extract(e.classes, '$[' || e.answer_index || ']') FROM examples e"
                        " JOIN batch_items b ON b.example_id = e.id AND b.gold WHERE e.answer_index IS NOT NULL", 0, "cannot prepare");
  if (rc) return rc;
  for (size_t i = 0; i < ivs_ratings_items(r); i++) clamp[i] = -1;
  char name[32];
  while (sqlite3_step(s) == SQLITE_ROW) {
    snprintf(name, sizeof name, "%lld", (long long)sqlite3_column_int64(s, 0));
    long i = ivs_ratings_item_index(r, name);
    const char *answer = (const char *)sqlite3_column_text(s, 1);
    for (size_t l = 0; i >= 0 && answer && l < ivs_ratings_labels(r); l++)
      if (!strcmp(ivs_ratings_label_name(r, l), answer)) clamp[i] = (long)l;
  }
  sqlite3_finalize(s);
  return 0;
}

/* The annotator report: per annotator, judgments, median time, accuracy on
 * gold items, agreement with the final labels and Dawid-Skene's estimate of
 * their accuracy, flagged under the caller's thresholds. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "label/agreement.h"
#include "store/db.h"

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int ivs_annotator_stats_list(ivs_store *st, const char *batch, ivs_annotator_stats_fn fn, void *ud) {
  sqlite3_stmt *s = NULL, *t = NULL;
  int rc = ivs_db_prepare(st, &s,
                "WITH j AS (SELECT * FROM judgments WHERE ?1 IS NULL OR batch_id = (SELECT id FROM batches WHERE name = ?1))"
                " SELECT a.id, a.name, count(j.id),"
                "  sum(CASE WHEN g.gold THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN g.gold AND j.label = json_extract(e.classes, '$[' || e.answer_index || ']') THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN f.label IS NOT NULL THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN f.label = j.label THEN 1 ELSE 0 END)"
                " FROM annotators a JOIN j ON j.annotator_id = a.id JOIN examples e ON e.id = j.example_id"
                " LEFT JOIN (SELECT example_id, max(gold) AS gold FROM batch_items GROUP BY example_id) g ON g.example_id = j.example_id"
                " LEFT JOIN final_labels f ON f.example_id = j.example_id AND f.method <> 'gold'"
                " GROUP BY a.id ORDER BY a.name", 0, "cannot prepare");
  if (!rc) rc = ivs_db_prepare(st, &t, "SELECT seconds FROM judgments WHERE annotator_id = ?1 AND seconds IS NOT NULL"
                             " AND (?2 IS NULL OR batch_id = (SELECT id FROM batches WHERE name = ?2))", 0, "cannot prepare");
  if (rc) {
    sqlite3_finalize(s);
    return rc;
  }
  ivs_db_text(s, 1, batch);
  double *secs = NULL;
  size_t cap = 0;
  while (!rc && sqlite3_step(s) == SQLITE_ROW) {
    ivs_annotator_stats a = {(const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2), -1,
                             sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5),
                             sqlite3_column_int64(s, 6)};
    sqlite3_reset(t);
    sqlite3_bind_int64(t, 1, sqlite3_column_int64(s, 0));
    ivs_db_text(t, 2, batch);
    size_t n = 0;
    while (sqlite3_step(t) == SQLITE_ROW) {
      if ((rc = ivs_grow((void **)&secs, &cap, n + 1, sizeof *secs, 256))) break;
      secs[n++] = sqlite3_column_double(t, 0);
    }
    if (n) {
      qsort(secs, n, sizeof *secs, cmp_dbl);
      a.median_seconds = n % 2 ? secs[n / 2] : (secs[n / 2 - 1] + secs[n / 2]) / 2;
    }
    if (!rc) rc = fn(&a, ud);
  }
  free(secs);
  sqlite3_finalize(s);
  sqlite3_finalize(t);
  return rc;
}

typedef struct {
  const ivs_report_opts *o;
  const ivs_ratings *r;
  const ivs_ds_result *ds; /* NULL: no estimate */
  ivs_annotator_report *rep;
  size_t cap;
} report_state;

static int add_row(const ivs_annotator_stats *a, void *ud) {
  report_state *rs = ud;
  ivs_annotator_report *rep = rs->rep;
  if (ivs_grow((void **)&rep->rows, &rs->cap, rep->n + 1, sizeof *rep->rows, 16)) return IVS_ENOMEM;
  ivs_annotator_row *row = &rep->rows[rep->n];
  memset(row, 0, sizeof *row);
  row->stats = *a;
  if (!(row->stats.name = strdup(a->name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  rep->n++;
  row->ds_accuracy = -1;
  for (size_t k = 0; rs->ds && k < ivs_ratings_annotators(rs->r); k++)
    if (!strcmp(ivs_ratings_annotator_name(rs->r, k), a->name)) row->ds_accuracy = ivs_ds_accuracy(rs->ds, k);
  row->gold_accuracy = a->gold_judgments ? (double)a->gold_correct / (double)a->gold_judgments : -1;
  row->agreement = a->final_judgments ? (double)a->final_agree / (double)a->final_judgments : -1;
  row->flagged = (row->gold_accuracy >= 0 && row->gold_accuracy < rs->o->min_gold) ||
                 (row->agreement >= 0 && row->agreement < rs->o->min_agree);
  rep->flagged += (size_t)row->flagged;
  return 0;
}

int ivs_annotator_report_make(ivs_store *st, const ivs_report_opts *o, ivs_annotator_report *out) {
  static const ivs_report_opts defaults = IVS_REPORT_OPTS_INIT;
  if (!o) o = &defaults;
  memset(out, 0, sizeof *out);
  ivs_ratings *r = NULL;
  ivs_ds_result ds;
  memset(&ds, 0, sizeof ds);
  /* Dawid-Skene on the plain judgments (repeats counted, gold not clamped):
   * an estimate that needs neither gold nor final labels */
  ivs_ds_opts dso = IVS_DS_OPTS_INIT;
  report_state rs = {o, NULL, NULL, out, 0};
  int rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_ratings_from_store(st, o->batch, 1, r);
  if (!rc && ivs_ratings_judgments(r) && ivs_dawid_skene(r, &dso, &ds) == 0) rs.ds = &ds;
  rs.r = r;
  if (!rc) rc = ivs_annotator_stats_list(st, o->batch, add_row, &rs);
  ivs_ds_result_release(&ds);
  ivs_ratings_free(r);
  if (rc) ivs_annotator_report_release(out);
  return rc;
}

void ivs_annotator_report_release(ivs_annotator_report *rep) {
  for (size_t i = 0; i < rep->n; i++) free((char *)rep->rows[i].stats.name);
  free(rep->rows);
  memset(rep, 0, sizeof *rep);
}

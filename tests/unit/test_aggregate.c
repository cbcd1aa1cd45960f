/* Aggregation through the library: majority vote and Dawid-Skene with gold
 * clamping, the final-label choice written to the store (gold and
 * adjudicated items keep theirs), the disagreement ranking and the annotator
 * report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/example.h"
#include "invscale/label.h"
#include "store/db.h"

static ivs_ratings *ratings(const char *const (*t)[3], size_t n, int keep) {
  ivs_ratings *r;
  assert_int_equal(ivs_ratings_new(&r), 0);
  if (keep) ivs_ratings_keep_repeats(r);
  for (size_t k = 0; k < n; k++) assert_int_equal(ivs_ratings_add(r, t[k][0], t[k][1], t[k][2]), 0);
  assert_int_equal(ivs_ratings_finish(r), 0);
  return r;
}

static size_t label_index(const ivs_ratings *r, const char *name) {
  for (size_t l = 0; l < ivs_ratings_labels(r); l++)
    if (!strcmp(ivs_ratings_label_name(r, l), name)) return l;
  fail_msg("no label '%s'", name);
  return 0;
}

static void test_majority_and_clamp(void **state) {
  (void)state;
  static const char *const t[][3] = {{"i1", "a", "X"}, {"i1", "b", "X"}, {"i1", "c", "Y"},
                                     {"i2", "a", "Y"}, {"i2", "b", "X"}, /* a tie */
                                     {"i3", "a", "Y"}, {"i3", "b", "Y"}, {"i3", "c", "Y"}};
  ivs_ratings *r = ratings(t, sizeof t / sizeof *t, 1);
  size_t X = label_index(r, "X"), Y = label_index(r, "Y");
  ivs_aggregate_opts o = IVS_AGGREGATE_OPTS_INIT;
  ivs_aggregation agg;
  assert_int_equal(ivs_aggregate(r, NULL, &o, &agg), 0);
  assert_int_equal(agg.items, 3);
  assert_int_equal(agg.labels[0], X);
  assert_float_equal(agg.confidence[0], 2.0 / 3, 1e-12);
  assert_int_equal(agg.labels[1], X); /* the tie goes to the label first in sorted order */
  assert_float_equal(agg.confidence[1], 0.5, 1e-12);
  assert_int_equal(agg.labels[2], Y);
  assert_float_equal(agg.confidence[2], 1, 1e-12);
  ivs_aggregation_release(&agg);

  /* Dawid-Skene: item 2 held at Y (a gold item) comes out Y with certainty */
  o.method = IVS_AGG_DAWID_SKENE;
  long clamp[3] = {-1, (long)Y, -1};
  assert_int_equal(ivs_aggregate(r, clamp, &o, &agg), 0);
  assert_int_equal(agg.labels[1], Y);
  assert_float_equal(agg.confidence[1], 1, 1e-12);
  assert_int_equal(agg.labels[2], Y);
  assert_true(agg.confidence[2] > 0.5 && agg.confidence[2] <= 1);
  assert_true(agg.iterations >= 1);
  ivs_aggregation_release(&agg);
  /* unclamped, the tie is broken by the annotators' estimated accuracy, never NaN */
  assert_int_equal(ivs_aggregate(r, NULL, &o, &agg), 0);
  for (size_t i = 0; i < 3; i++) assert_true(agg.confidence[i] >= 0.5 && agg.confidence[i] <= 1);
  ivs_aggregation_release(&agg);
  ivs_agg_method m;
  assert_int_equal(ivs_agg_method_parse("dawid-skene", &m), 0);
  assert_int_equal(m, IVS_AGG_DAWID_SKENE);
  assert_int_equal(ivs_agg_method_parse("mean", &m), IVS_EUSAGE);
  ivs_ratings_free(r);

  ivs_ratings *empty;
  assert_int_equal(ivs_ratings_new(&empty), 0);
  assert_int_equal(ivs_ratings_finish(empty), 0);
  assert_int_equal(ivs_aggregate(empty, NULL, &o, &agg), IVS_EINVAL); /* Dawid-Skene needs judgments */
  ivs_ratings_free(empty);
}

static void test_disagreements(void **state) {
  (void)state;
  static const char *const t[][3] = {
      {"i1", "a", "X"}, {"i1", "b", "X"}, {"i1", "c", "X"},  /* 1.00 */
      {"i2", "a", "X"}, {"i2", "b", "X"}, {"i2", "c", "Y"},  /* 0.67 */
      {"i3", "a", "X"}, {"i3", "b", "Y"},                    /* 0.50 */
      {"i4", "a", "X"}, {"i4", "b", "Y"}, {"i4", "c", "Z"},  /* 0.33 */
      {"i5", "a", "Y"}, {"i5", "b", "Y"}, {"i5", "c", "Z"}}; /* 0.67 */
  ivs_ratings *r = ratings(t, sizeof t / sizeof *t, 0);
  ivs_disagreement *d;
  size_t n;
  assert_int_equal(ivs_disagreements(r, 0.7, &d, &n), 0);
  assert_int_equal(n, 4);
  static const char *const order[] = {"i4", "i3", "i2", "i5"}; /* least agreed first, then item order */
  for (size_t k = 0; k < n; k++) assert_string_equal(ivs_ratings_item_name(r, d[k].item), order[k]);
  assert_string_equal(ivs_ratings_label_name(r, d[0].label), "X"); /* the three-way tie: first label */
  assert_float_equal(d[0].confidence, 1.0 / 3, 1e-12);
  assert_string_equal(ivs_ratings_label_name(r, d[3].label), "Y");
  free(d);
  assert_int_equal(ivs_disagreements(r, 0.5, &d, &n), 0);
  assert_int_equal(n, 2); /* at or under: 0.5 is in */
  free(d);
  assert_int_equal(ivs_disagreements(r, 0.2, &d, &n), 0);
  assert_int_equal(n, 0);
  assert_null(d);
  ivs_ratings_free(r);
}

/* The path of a program linking the library: a triples file, then alpha
 * (Krippendorff 2011's worked example: 0.743 nominal). */
static void test_triples_alpha(void **state) {
  (void)state;
  ivs_ratings *r;
  double alpha = 0;
  assert_int_equal(ivs_ratings_new(&r), 0);
  assert_int_equal(ivs_triples_read(IVS_TEST_DATA "/../cli/cases/agreement_cli/kripp2011.csv", NULL, r), 0);
  assert_int_equal(ivs_ratings_finish(r), 0);
  assert_int_equal(ivs_ratings_items(r), 12);
  assert_int_equal(ivs_alpha(r, IVS_LEVEL_NOMINAL, &alpha), 0);
  assert_float_equal(alpha, 0.743421, 5e-7);
  ivs_ratings_free(r);
  assert_int_equal(ivs_ratings_new(&r), 0);
  ivs_triples_map m = IVS_TRIPLES_MAP_INIT;
  m.label = "nope";
  assert_int_equal(ivs_triples_read(IVS_TEST_DATA "/../cli/cases/agreement_cli/kripp2011.csv", &m, r), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "no 'label' column"));
  ivs_ratings_free(r);
}

/* ---- in a store ---- */

/* Examples 1..4 with classes [" Yes", " No"]; 4 is gold with answer " Yes". */
static ivs_store *new_store(void) {
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, ":memory:", IVS_STORE_CREATE), 0);
  assert_int_equal(ivs_store_begin(st), 0);
  for (int i = 0; i < 4; i++) {
    ivs_example ex;
    ivs_example_init(&ex);
    ex.type = IVS_TYPE_CLASSIFICATION;
    char p[16];
    snprintf(p, sizeof p, "Q%d?", i + 1);
    ex.prompt = strdup(p);
    ex.has_classes = 1;
    ivs_strlist_push(&ex.classes, " Yes", 4);
    ivs_strlist_push(&ex.classes, " No", 3);
    ex.answer_index = i == 3 ? 0 : -1;
    int added;
    assert_int_equal(ivs_store_add_example(st, 0, NULL, &ex, &added), 0);
    ivs_example_release(&ex);
  }
  assert_int_equal(ivs_store_commit(st), 0);
  ivs_batch_opts bo = IVS_BATCH_OPTS_INIT;
  bo.name = "b", bo.per_item = 3, bo.gold = 1;
  size_t items, gold;
  assert_int_equal(ivs_batch_create(st, &bo, &items, &gold), 0);
  assert_int_equal(items, 3);
  assert_int_equal(gold, 1);
  return st;
}

static void judge(ivs_store *st, int64_t item, const char *who, const char *label, double seconds) {
  ivs_judgment j = {item, who, label, seconds, "b", NULL};
  int added;
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(added, 1);
}

static int64_t query(ivs_store *st, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(ivs_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
  int64_t v = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return v;
}

/* a and b right on gold, c wrong; item 1 " No" by all, item 2 " No" by a and b, item 3 " Yes" 2:1 */
static void judge_all(ivs_store *st) {
  judge(st, 4, "a", " Yes", 2), judge(st, 4, "b", " Yes", -1), judge(st, 4, "c", " No", -1);
  judge(st, 1, "a", " No", 4), judge(st, 1, "b", " No", -1), judge(st, 1, "c", " No", -1);
  judge(st, 2, "a", " No", 10), judge(st, 2, "b", " No", -1), judge(st, 2, "c", " Yes", -1);
  judge(st, 3, "a", " Yes", 1), judge(st, 3, "b", " No", -1), judge(st, 3, "c", " Yes", -1);
}

static void test_final_labels(void **state) {
  (void)state;
  ivs_store *st = new_store();
  judge_all(st);
  /* gold clamp: item 4's known answer " Yes", as a label index of the ratings */
  ivs_ratings *r;
  assert_int_equal(ivs_ratings_new(&r), 0);
  assert_int_equal(ivs_ratings_from_store(st, "b", 1, r), 0);
  long clamp[4];
  assert_int_equal(ivs_gold_clamp(st, r, clamp), 0);
  for (size_t i = 0; i < 4; i++) {
    int gold = !strcmp(ivs_ratings_item_name(r, i), "4");
    if (gold) assert_string_equal(ivs_ratings_label_name(r, (size_t)clamp[i]), " Yes");
    else assert_int_equal(clamp[i], -1);
  }
  ivs_ratings_free(r);

  ivs_adjudicate(st, 3, " No", "a", "checked"); /* item 3: adjudicated against its majority */
  ivs_aggregate_opts o = IVS_AGGREGATE_OPTS_INIT;
  ivs_aggregation agg;
  size_t written;
  assert_int_equal(ivs_aggregate_store(st, "b", &o, &r, &agg, &written), 0);
  assert_int_equal(agg.items, 4);
  assert_int_equal(written, 2); /* items 1 and 2; gold 4 and adjudicated 3 keep theirs */
  assert_int_equal(query(st, "SELECT answer_index FROM examples WHERE id = 1"), 1); /* " No" */
  assert_int_equal(query(st, "SELECT answer_index FROM examples WHERE id = 2"), 1);
  assert_int_equal(query(st, "SELECT answer_index FROM examples WHERE id = 3"), 1); /* the adjudication */
  assert_int_equal(query(st, "SELECT answer_index FROM examples WHERE id = 4"), 0); /* gold */
  assert_int_equal(query(st, "SELECT count(*) FROM final_labels WHERE method = 'majority'"), 2);
  assert_int_equal(query(st, "SELECT round(confidence * 1000) FROM final_labels WHERE example_id = 2"), 667);
  ivs_aggregation_release(&agg);
  ivs_ratings_free(r);

  /* Dawid-Skene: the gold item comes out at its known answer with certainty although one of three said " No" */
  o.method = IVS_AGG_DAWID_SKENE;
  assert_int_equal(ivs_aggregate_store(st, "b", &o, &r, &agg, &written), 0);
  long gi = ivs_ratings_item_index(r, "4");
  assert_true(gi >= 0);
  assert_string_equal(ivs_ratings_label_name(r, agg.labels[gi]), " Yes");
  assert_float_equal(agg.confidence[gi], 1, 1e-12);
  assert_int_equal(query(st, "SELECT count(*) FROM final_labels WHERE method = 'dawid-skene'"), 2);
  ivs_aggregation_release(&agg);
  ivs_ratings_free(r);
  assert_int_equal(ivs_aggregate_store(st, "nope", &o, &r, &agg, &written), IVS_EINVAL);
  assert_null(r);
  ivs_store_free(st);
}

static void test_report(void **state) {
  (void)state;
  ivs_store *st = new_store();
  judge_all(st);
  ivs_aggregate_opts o = IVS_AGGREGATE_OPTS_INIT;
  ivs_ratings *r;
  ivs_aggregation agg;
  size_t written;
  assert_int_equal(ivs_aggregate_store(st, NULL, &o, &r, &agg, &written), 0);
  ivs_aggregation_release(&agg);
  ivs_ratings_free(r);
  ivs_report_opts ro = IVS_REPORT_OPTS_INIT;
  ro.batch = "b";
  ivs_annotator_report rep;
  assert_int_equal(ivs_annotator_report_make(st, &ro, &rep), 0);
  assert_int_equal(rep.n, 3);
  assert_string_equal(rep.rows[0].stats.name, "a");
  assert_string_equal(rep.rows[2].stats.name, "c");
  assert_int_equal(rep.rows[0].stats.judgments, 4);
  assert_float_equal(rep.rows[0].stats.median_seconds, 3, 1e-12); /* of 1, 2, 4, 10 */
  assert_float_equal(rep.rows[1].stats.median_seconds, -1, 0);    /* b recorded no times */
  assert_float_equal(rep.rows[0].gold_accuracy, 1, 1e-12);
  assert_float_equal(rep.rows[2].gold_accuracy, 0, 1e-12);
  /* final labels (majority, not gold): 1 " No", 2 " No", 3 " Yes"; c agrees on 1 and 3 */
  assert_int_equal(rep.rows[2].stats.final_judgments, 3);
  assert_float_equal(rep.rows[2].agreement, 2.0 / 3, 1e-12);
  assert_float_equal(rep.rows[0].agreement, 1, 1e-12);
  for (size_t k = 0; k < 3; k++) assert_true(rep.rows[k].ds_accuracy >= 0 && rep.rows[k].ds_accuracy <= 1);
  assert_true(rep.rows[0].ds_accuracy > rep.rows[2].ds_accuracy);
  assert_int_equal(rep.flagged, 1); /* c: gold accuracy 0 < 0.7 */
  assert_false(rep.rows[0].flagged);
  assert_true(rep.rows[2].flagged);
  ivs_annotator_report_release(&rep);
  ro.min_gold = 0, ro.min_agree = 0.7;
  assert_int_equal(ivs_annotator_report_make(st, &ro, &rep), 0);
  assert_int_equal(rep.flagged, 2); /* b agrees on 2 of 3 as well as c */
  ivs_annotator_report_release(&rep);
  ro.batch = "nope";
  assert_int_equal(ivs_annotator_report_make(st, &ro, &rep), IVS_EINVAL);
  assert_int_equal(rep.n, 0);
  ivs_store_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_majority_and_clamp), cmocka_unit_test(test_disagreements),
                                     cmocka_unit_test(test_triples_alpha),
                                     cmocka_unit_test(test_final_labels), cmocka_unit_test(test_report)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

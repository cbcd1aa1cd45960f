/* Judgments through the library: every import format on the command-line
 * fixtures and the fuzz corpus, adding one judgment, and the next
 * assignment of an annotator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/example.h"
#include "invscale/label.h"
#include "store/db.h"

#define CASE IVS_TEST_DATA "/../cli/cases/crowd_workflow/"
#define CORPUS IVS_TEST_DATA "/../fuzz/corpus/judgments/"

/* A store of n examples with classes [" Yes", " No"] (ids 1..n); the last
 * `gold` have answer 0 (" Yes"). */
static ivs_store *new_store(int n, int gold) {
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, ":memory:", IVS_STORE_CREATE), 0);
  assert_int_equal(ivs_store_begin(st), 0);
  for (int i = 0; i < n; i++) {
    ivs_example ex;
    ivs_example_init(&ex);
    ex.type = IVS_TYPE_CLASSIFICATION;
    char p[16];
    snprintf(p, sizeof p, "Q%d?", i + 1);
    ex.prompt = strdup(p);
    ex.has_classes = 1;
    ivs_strlist_push(&ex.classes, " Yes", 4);
    ivs_strlist_push(&ex.classes, " No", 3);
    ex.answer_index = i >= n - gold ? 0 : -1;
    int added;
    assert_int_equal(ivs_store_add_example(st, 0, NULL, &ex, &added), 0);
    assert_int_equal(added, 1);
    ivs_example_release(&ex);
  }
  assert_int_equal(ivs_store_commit(st), 0);
  return st;
}

static int64_t count(ivs_store *st, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(ivs_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void check_report(const ivs_import_report *rep, size_t imported, size_t duplicates, size_t rejected,
                         size_t cancelled, size_t new_annotators) {
  assert_int_equal(rep->imported, imported);
  assert_int_equal(rep->duplicates, duplicates);
  assert_int_equal(rep->rejected, rejected);
  assert_int_equal(rep->cancelled, cancelled);
  assert_int_equal(rep->new_annotators, new_annotators);
}

static void import(ivs_store *st, const char *path, const char *format, const ivs_judgment_map *map,
                   ivs_import_report *rep) {
  ivs_judgment_format fmt;
  assert_int_equal(ivs_judgment_format_parse(format, &fmt), 0);
  assert_int_equal(ivs_judgments_import(st, path, fmt, NULL, map, rep), 0);
}

static void test_formats(void **state) {
  (void)state;
  ivs_store *st = new_store(10, 2);
  ivs_import_report rep;
  /* Label Studio's export: 29 annotations, one cancelled, 'maybe' and item 9999 refused */
  import(st, CASE "ls_export.json", "labelstudio", NULL, &rep);
  check_report(&rep, 26, 0, 2, 1, 3);
  assert_non_null(strstr(rep.first_reject, "ls_export.json: task "));
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE seconds = 4.5"), 9); /* lead_time kept */
  /* again: nothing new, and the store stays as it was */
  import(st, CASE "ls_export.json", "labelstudio", NULL, &rep);
  check_report(&rep, 0, 26, 2, 1, 0);
  import(st, CASE "extra.csv", "csv", NULL, &rep);
  check_report(&rep, 2, 0, 1, 0, 2); /* alice and bob are new; carol is refused before she is registered */
  assert_string_equal(rep.first_reject, CASE "extra.csv:4: label 'maybe' is not one of example 7's classes [\" Yes\",\" No\"]");
  import(st, CASE "mturk.xml", "mturk-xml", NULL, &rep);
  check_report(&rep, 1, 0, 2, 1, 1);
  import(st, CASE "mturk.csv", "mturk-csv", NULL, &rep);
  check_report(&rep, 2, 0, 0, 1, 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE seconds = 41"), 1); /* WorkTimeInSeconds */
  import(st, CASE "toloka.tsv", "toloka", NULL, &rep);
  check_report(&rep, 1, 0, 1, 1, 1);
  import(st, CASE "ls_min.json", "labelstudio-min", NULL, &rep);
  check_report(&rep, 2, 0, 1, 0, 1);
  assert_string_equal(rep.first_reject, CASE "ls_min.json:3: needs an item id, an annotator and a label");
  ivs_judgment_map map = {"question_id", "PROLIFIC_PID", "answer", "duration"};
  import(st, CASE "prolific.csv", "csv", &map, &rep);
  check_report(&rep, 2, 0, 0, 0, 2);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                             " WHERE a.name = 'pp2' AND j.seconds = 15 AND j.example_id = 9"), 1);
  /* a file that is not of its format fails as a whole */
  ivs_judgment_format fmt;
  assert_int_equal(ivs_judgment_format_parse("mturk-csv", &fmt), 0);
  assert_int_equal(ivs_judgments_import(st, CASE "mturk_missing.csv", fmt, NULL, NULL, &rep), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "no 'HITId' column"));
  assert_int_equal(ivs_judgment_format_parse("excel", &fmt), IVS_EUSAGE);
  assert_int_equal(ivs_judgments_import(st, CASE "extra.csv", IVS_JUDG_CSV, "no-such-batch", NULL, &rep), IVS_EINVAL);
  ivs_store_free(st);
}

/* The fuzz corpus: the first byte picks the format, the rest is the file
 * (the files of the command-line case, so the same ten items). */
static void test_fuzz_corpus(void **state) {
  (void)state;
  static const char *const files[] = {"extra.csv", "ls_export.json", "ls_min.json", "mturk.csv", "mturk.xml", "toloka.tsv"};
  for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
    ivs_store *st = new_store(10, 2);
    char path[512], tmp[64];
    snprintf(path, sizeof path, CORPUS "%s", files[k]);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int fmt = fgetc(f);
    snprintf(tmp, sizeof tmp, "/tmp/ivs_judg_XXXXXX");
    int fd = mkstemp(tmp);
    FILE *o = fdopen(fd, "wb");
    for (int c; (c = fgetc(f)) != EOF;) fputc(c, o);
    fclose(o);
    fclose(f);
    ivs_import_report rep;
    int rc = ivs_judgments_import(st, tmp, (ivs_judgment_format)(fmt % 7), NULL, NULL, &rep);
    unlink(tmp);
    assert_int_equal(rc, 0);
    /* every judgment is accounted for, and what was stored is what was counted */
    assert_true(rep.imported + rep.rejected + rep.cancelled > 0);
    assert_int_equal(count(st, "SELECT count(*) FROM judgments"), (int64_t)rep.imported);
    assert_true(rep.imported > 0);
    ivs_store_free(st);
  }
}

/* A time that is not a number of seconds is a reject naming file, line and field. */
static void test_bad_time(void **state) {
  (void)state;
  ivs_store *st = new_store(3, 0);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "/tmp/ivs_judg_XXXXXX");
  int fd = mkstemp(tmp);
  FILE *o = fdopen(fd, "wb");
  fputs("item,annotator,label,seconds\n1,a, Yes,12.5\n2,a, No,1e8x\n3,a, No,-1\n3,b, No,\n", o);
  fclose(o);
  ivs_import_report rep;
  assert_int_equal(ivs_judgments_import(st, tmp, IVS_JUDG_CSV, NULL, NULL, &rep), 0);
  check_report(&rep, 2, 0, 2, 0, 2);
  char want[256];
  snprintf(want, sizeof want, "%s:3: field 'seconds': expected a number, got '1e8x' (seconds)", tmp);
  assert_string_equal(rep.first_reject, want);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE seconds = 12.5"), 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE seconds IS NULL"), 1); /* empty: not recorded */
  unlink(tmp);
  ivs_store_free(st);
}

static void test_add_one(void **state) {
  (void)state;
  ivs_store *st = new_store(3, 0);
  ivs_judgment j = IVS_JUDGMENT_INIT;
  int added = -1;
  j.item = 2, j.annotator = "web-7", j.label = " No", j.seconds = 3.25, j.source = "web:1";
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(added, 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE example_id = 2 AND label = ' No' AND seconds = 3.25"
                             " AND source = 'web:1'"), 1);
  assert_int_equal(count(st, "SELECT count(*) FROM annotators WHERE name = 'web-7'"), 1); /* registered */
  /* a repeat (same item, annotator, label, source) is not stored twice */
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(added, 0);
  /* unknown item */
  j.item = 99;
  assert_int_equal(ivs_judgment_add(st, &j, &added), IVS_EINVAL);
  assert_string_equal(ivs_error_message(), "no example 99 in the store");
  assert_int_equal(added, 0);
  /* a label not among the item's classes */
  j.item = 1, j.label = "Maybe";
  assert_int_equal(ivs_judgment_add(st, &j, &added), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "label 'Maybe' is not one of example 1's classes"));
  /* refusals changed nothing; inside a caller's transaction the caller decides */
  assert_int_equal(count(st, "SELECT count(*) FROM judgments"), 1);
  assert_int_equal(ivs_store_begin(st), 0);
  j.label = " Yes", j.source = NULL;
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(added, 1);
  assert_int_equal(ivs_store_rollback(st), 0);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments"), 1);
  j.batch = "nope";
  assert_int_equal(ivs_judgment_add(st, &j, &added), IVS_EINVAL);
  ivs_store_free(st);
}

static void test_next_assignment(void **state) {
  (void)state;
  ivs_store *st = new_store(6, 0);
  const char *names[] = {"alice", "bob", "carol"};
  for (int a = 0; a < 3; a++) assert_int_equal(ivs_annotator_add(st, names[a], NULL, NULL), 0);
  ivs_batch_opts bo = IVS_BATCH_OPTS_INIT;
  bo.name = "b", bo.per_item = 2, bo.annotators = names, bo.n_annotators = 3, bo.seed = 5;
  size_t items, gold;
  assert_int_equal(ivs_batch_create(st, &bo, &items, &gold), 0);
  assert_int_equal(items, 6);
  /* alice gets exactly her assigned items, in batch order, each once */
  int64_t want = count(st, "SELECT count(*) FROM assignments x JOIN annotators a ON a.id = x.annotator_id WHERE a.name = 'alice'");
  assert_int_equal(want, 4); /* 6 items x K 2 over 3 annotators */
  int64_t item, last_pos = 0;
  int n = 0;
  for (;;) {
    assert_int_equal(ivs_assignment_next(st, "b", "alice", &item), 0);
    if (!item) break;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT bi.position FROM batch_items bi JOIN assignments x ON x.batch_id = bi.batch_id AND x.example_id = bi.example_id"
             " JOIN annotators a ON a.id = x.annotator_id WHERE a.name = 'alice' AND bi.example_id = %lld", (long long)item);
    int64_t pos = count(st, sql);
    assert_true(pos > last_pos);
    last_pos = pos;
    ivs_judgment j = {item, "alice", " Yes", -1, "b", NULL};
    int added;
    assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
    assert_int_equal(added, 1);
    assert_true(++n <= 4);
  }
  assert_int_equal(n, 4);
  assert_int_equal(ivs_assignment_next(st, "nope", "alice", &item), IVS_EINVAL);
  assert_int_equal(ivs_assignment_next(st, "b", "dave", &item), IVS_EINVAL);

  /* open slots: K = 1, so once x judged an item it is no longer open to y */
  ivs_store_free(st);
  st = new_store(2, 0);
  assert_int_equal(ivs_annotator_add(st, "x", NULL, NULL), 0);
  assert_int_equal(ivs_annotator_add(st, "y", NULL, NULL), 0);
  ivs_batch_opts open = IVS_BATCH_OPTS_INIT;
  open.name = "o", open.per_item = 1;
  assert_int_equal(ivs_batch_create(st, &open, &items, &gold), 0);
  int64_t first, again;
  assert_int_equal(ivs_assignment_next(st, "o", "x", &first), 0);
  assert_true(first > 0);
  assert_int_equal(ivs_assignment_next(st, "o", "y", &again), 0);
  assert_int_equal(again, first); /* not reserved: both see it */
  ivs_judgment j = {first, "x", " No", -1, "o", NULL};
  int added;
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(ivs_assignment_next(st, "o", "y", &item), 0);
  assert_true(item > 0 && item != first);
  /* y's late judgment of the first item is refused: its one slot is taken */
  j.annotator = "y";
  assert_int_equal(ivs_judgment_add(st, &j, &added), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "slots are taken"));
  j.item = item;
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  assert_int_equal(ivs_assignment_next(st, "o", "y", &item), 0);
  assert_int_equal(item, 0); /* done */
  assert_int_equal(ivs_assignment_next(st, "o", "x", &item), 0);
  assert_int_equal(item, 0); /* the other item's slot went to y */
  ivs_store_free(st);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* The same judgments under another name (a copy, a re-export) add nothing:
 * each format's identity, not the path, finds them. */
static void test_reimport_identity(void **state) {
  (void)state;
  static const struct {
    const char *format, *text;
    size_t n;
  } f[] = {
      {"labelstudio",
       "[{\"id\":1,\"data\":{\"item_id\":1},\"annotations\":[{\"id\":71,\"completed_by\":{\"id\":5,\"email\":\"e@x\"},"
       "\"result\":[{\"from_name\":\"label\",\"value\":{\"choices\":[\" Yes\"]}}],\"updated_at\":\"2026-01-01T00:00:00Z\"},"
       "{\"id\":72,\"completed_by\":6,\"result\":[{\"from_name\":\"label\",\"value\":{\"choices\":[\" No\"]}}]}]}]",
       2},
      {"labelstudio-min", "[{\"item_id\":2,\"annotator\":\"e@x\",\"annotation_id\":80,\"sentiment\":\" No\"}]", 1},
      {"mturk-csv",
       "HITId,AssignmentId,WorkerId,AssignmentStatus,WorkTimeInSeconds,Input.item_id_1,Input.item_id_2,Answer.label_1,"
       "Answer.label_2\nH,A1,W1,Submitted,10,3,4, Yes, No\n",
       2},
      {"toloka",
       "INPUT:item_id\tOUTPUT:label\tASSIGNMENT:assignment_id\tASSIGNMENT:worker_id\tASSIGNMENT:status\n"
       "5\t Yes\ta1\tt1\tAPPROVED\n\t\t\t\t\n6\t No\ta1\tt1\tAPPROVED\n",
       2},
      {"csv", "item,annotator,label,time\n7,g, Yes,1\n7,g, Yes,1\n8,g, No,\n", 2},
  };
  ivs_store *st = new_store(10, 0);
  char a[64], b[64];
  snprintf(a, sizeof a, "/tmp/ivs_reimport_%d_a", (int)getpid());
  snprintf(b, sizeof b, "/tmp/ivs_reimport_%d_b", (int)getpid());
  ivs_import_report rep;
  int64_t total = 0;
  for (size_t k = 0; k < sizeof f / sizeof *f; k++) {
    write_file(a, f[k].text);
    write_file(b, f[k].text);
    import(st, a, f[k].format, NULL, &rep);
    assert_int_equal(rep.imported, f[k].n);
    assert_int_equal(rep.rejected, 0);
    total += (int64_t)f[k].n;
    import(st, b, f[k].format, NULL, &rep); /* a copy */
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.updated, 0);
    assert_int_equal(rep.duplicates, f[k].n + (!strcmp(f[k].format, "csv") ? 1 : 0));
    assert_int_equal(count(st, "SELECT count(*) FROM judgments"), total);
  }
  /* one person across both Label Studio formats: e@x */
  assert_int_equal(count(st, "SELECT count(*) FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                             " WHERE a.name = 'e@x'"),
                   2);
  /* a re-export with annotation 71 relabelled: replaced, the old one kept */
  write_file(b, "[{\"id\":1,\"data\":{\"item_id\":1},\"annotations\":[{\"id\":71,\"completed_by\":{\"id\":5,\"email\":\"e@x\"},"
                "\"result\":[{\"from_name\":\"label\",\"value\":{\"choices\":[\" No\"]}}],"
                "\"updated_at\":\"2026-02-01T00:00:00Z\"}]}]");
  import(st, b, "labelstudio", NULL, &rep);
  assert_int_equal(rep.updated, 1);
  assert_int_equal(rep.imported, 0);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments"), total);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE platform_id = '71' AND label = ' No'"), 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgment_history WHERE label = ' Yes'"
                             " AND updated_at = '2026-01-01T00:00:00Z'"),
                   1);
  /* the older export again: the newer label stays */
  write_file(a, f[0].text);
  import(st, a, "labelstudio", NULL, &rep);
  assert_int_equal(rep.updated, 0);
  assert_int_equal(rep.duplicates, 2);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE platform_id = '71' AND label = ' No'"), 1);
  /* only blank rows: an error, nothing stored */
  write_file(a, "INPUT:item_id\tOUTPUT:label\tASSIGNMENT:worker_id\n\t\t\n\t\t\n");
  ivs_judgment_format fmt;
  assert_int_equal(ivs_judgment_format_parse("toloka", &fmt), 0);
  assert_int_equal(ivs_judgments_import(st, a, fmt, NULL, NULL, &rep), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "only blank rows"));
  unlink(a);
  unlink(b);
  ivs_store_free(st);
}

/* A store of schema version 4 (made here by undoing versions 6 and 5) migrates:
 * its judgments stay, without an identity, and imports work. */
static void test_migrate_v4(void **state) {
  (void)state;
  char path[64], csv[64];
  snprintf(path, sizeof path, "/tmp/ivs_v4_%d.db", (int)getpid());
  snprintf(csv, sizeof csv, "/tmp/ivs_v4_%d.csv", (int)getpid());
  unlink(path);
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, path, IVS_STORE_CREATE), 0);
  ivs_example ex;
  ivs_example_init(&ex);
  ex.type = IVS_TYPE_CLASSIFICATION;
  ex.prompt = strdup("Q?");
  ex.has_classes = 1;
  ivs_strlist_push(&ex.classes, " Yes", 4);
  ivs_strlist_push(&ex.classes, " No", 3);
  int added;
  assert_int_equal(ivs_store_begin(st), 0);
  assert_int_equal(ivs_store_add_example(st, 0, NULL, &ex, &added), 0);
  assert_int_equal(ivs_store_commit(st), 0);
  ivs_example_release(&ex);
  ivs_judgment j = {1, "old", " Yes", 2, NULL, "before.csv:2"};
  assert_int_equal(ivs_judgment_add(st, &j, &added), 0);
  /* one Label Studio annotation stored twice by version 4 (two paths) */
  ivs_judgment l1 = {1, "ls", " No", -1, NULL, "a.json: task 1 annotation id 55"};
  ivs_judgment l2 = {1, "ls", " No", -1, NULL, "./a.json: task 1 annotation id 55"};
  assert_int_equal(ivs_judgment_add(st, &l1, &added), 0);
  assert_int_equal(ivs_judgment_add(st, &l2, &added), 0);
  assert_int_equal(added, 1);
  /* undo version 6 first (the annotation server's tables), then version 5 */
  assert_int_equal(ivs_db_exec(st, "DROP TRIGGER judgments_judged_insert; DROP TRIGGER judgments_judged_delete;"
                                   "DROP TRIGGER judgments_judged_move; DROP INDEX batch_items_work;"
                                   "ALTER TABLE batch_items DROP COLUMN judged; DROP INDEX judgments_batch_annotator;"
                                   "DROP TABLE class_orders; ALTER TABLE judgments DROP COLUMN guideline_id;"
                                   "DROP TABLE guidelines; DROP TABLE item_marks; DROP TABLE submits; DROP TABLE leases;"
                                   "DROP TABLE links"),
                   0);
  assert_int_equal(ivs_db_exec(st, "DROP INDEX judgments_identity; DROP TABLE judgment_history;"
                                   "ALTER TABLE judgments DROP COLUMN id_space; ALTER TABLE judgments DROP COLUMN platform_id;"
                                   "ALTER TABLE judgments DROP COLUMN updated_at; PRAGMA user_version = 4"),
                   0);
  ivs_store_free(st);
  assert_int_equal(ivs_store_open(&st, path, 0), 0);
  assert_int_equal(ivs_store_version_found(st), 4);
  assert_int_equal(ivs_store_version(st), IVS_STORE_VERSION);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE platform_id IS NULL AND label = ' Yes'"), 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgment_history"), 0);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments WHERE id_space = 'labelstudio' AND platform_id = '55'"), 1);
  /* the annotation imported again under a third name: a duplicate */
  write_file(csv, "[{\"id\":1,\"data\":{\"item_id\":1},\"annotations\":[{\"id\":55,\"completed_by\":\"ls\","
                  "\"result\":[{\"value\":{\"choices\":[\" No\"]}}]}]}]");
  ivs_import_report lr;
  import(st, csv, "labelstudio", NULL, &lr);
  assert_int_equal(lr.imported, 0);
  assert_int_equal(lr.duplicates, 1);
  assert_int_equal(count(st, "SELECT count(*) FROM judgments"), 3);
  write_file(csv, "item,annotator,label\n1,new, No\n");
  ivs_import_report rep;
  import(st, csv, "csv", NULL, &rep);
  assert_int_equal(rep.imported, 1);
  import(st, csv, "csv", NULL, &rep);
  assert_int_equal(rep.duplicates, 1);
  ivs_store_free(st);
  unlink(csv);
  unlink(path);
  char wal[80];
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_formats), cmocka_unit_test(test_fuzz_corpus),
                                     cmocka_unit_test(test_bad_time), cmocka_unit_test(test_add_one),
                                     cmocka_unit_test(test_next_assignment),
                                     cmocka_unit_test(test_reimport_identity), cmocka_unit_test(test_migrate_v4)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

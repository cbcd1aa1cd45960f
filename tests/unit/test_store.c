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
#include "store/store.h"

static char path[64];

static int setup(void **state) {
  (void)state;
  snprintf(path, sizeof path, "/tmp/ivs_store_XXXXXX");
  int fd = mkstemp(path);
  close(fd);
  unlink(path);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char p[80];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
  return 0;
}

static void example(ivs_example *ex, const char *prompt, long answer) {
  ivs_example_init(ex);
  ex->type = IVS_TYPE_CLASSIFICATION;
  ex->prompt = strdup(prompt);
  ex->has_classes = 1;
  ivs_strlist_push(&ex->classes, " A", 2);
  ivs_strlist_push(&ex->classes, " B", 2);
  ex->answer_index = answer;
  ex->line = 3;
}

static int count_cb(const ivs_stored_example *ex, void *ud) {
  (void)ex;
  (*(int *)ud)++;
  return 0;
}

static void test_dedup_and_rollback(void **state) {
  (void)state;
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, path, 0), IVS_ESTORE); /* missing, not created */
  assert_int_equal(ivs_store_open(&st, path, IVS_STORE_CREATE), 0);
  assert_int_equal(ivs_store_version(st), IVS_STORE_VERSION);
  ivs_example a, b, c;
  example(&a, "p", 0);
  example(&b, "p", 0);
  example(&c, "p", 1); /* another answer: another example */
  int added;
  int64_t id;
  assert_int_equal(ivs_store_begin(st), 0);
  assert_int_equal(ivs_store_import_start(st, "x.csv", "csv", NULL, &id), 0);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &a, &added), 0);
  assert_int_equal(added, 1);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &b, &added), 0);
  assert_int_equal(added, 0);
  assert_int_equal(ivs_store_add_example(st, id, "t", &c, &added), 0);
  assert_int_equal(added, 1);
  assert_int_equal(ivs_store_commit(st), 0);
  assert_int_equal(ivs_store_begin(st), 0);
  ivs_example_release(&b);
  example(&b, "q", -1);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &b, &added), 0);
  assert_int_equal(ivs_store_rollback(st), 0);
  int n = 0;
  assert_int_equal(ivs_store_examples(st, NULL, count_cb, &n), 0);
  assert_int_equal(n, 2);
  /* a bulk transaction finds the committed examples through example_hashes,
   * forgets the rolled-back one, and leaves the store in WAL mode */
  assert_int_equal(ivs_store_begin_bulk(st), 0);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &a, &added), 0);
  assert_int_equal(added, 0);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &b, &added), 0);
  assert_int_equal(added, 1);
  assert_int_equal(ivs_store_add_example(st, id, NULL, &b, &added), 0);
  assert_int_equal(added, 0);
  assert_int_equal(ivs_store_commit(st), 0);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM example_hashes), (SELECT count(*) FROM examples)",
                                      -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 3);
  assert_int_equal(sqlite3_column_int(q, 1), 3);
  sqlite3_finalize(q);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
  sqlite3_finalize(q);
  sqlite3_close(db);
  ivs_example_release(&a);
  ivs_example_release(&b);
  ivs_example_release(&c);
  assert_int_equal(ivs_store_check(st), 0);
  ivs_store_free(st);
}

/* A file made with schema version 1 (examples carry their source path) is
 * migrated: the path moves to the imports table and nothing is lost. */
static int first_source(const ivs_stored_example *ex, void *ud) {
  snprintf(ud, 64, "%s|%s|%lld|%s", ex->prompt, ex->source ? ex->source : "-", (long long)ex->line,
           ex->classes_json);
  return 1;
}

static void test_migrate_v1(void **state) {
  (void)state;
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  const char *v1 =
      "CREATE TABLE examples (id INTEGER PRIMARY KEY, type TEXT NOT NULL, prompt TEXT NOT NULL, classes TEXT,"
      " answer_index INTEGER, other_prompt TEXT, completion TEXT, metadata TEXT, tag TEXT, source_file TEXT,"
      " source_line INTEGER, fhash INTEGER NOT NULL);"
      "CREATE INDEX examples_fhash ON examples (fhash);"
      "INSERT INTO examples (type, prompt, classes, answer_index, source_file, source_line, fhash)"
      " VALUES ('classification', 'old', '[\" A\",\" B\"]', 1, 'old.csv', 9, 42);"
      "PRAGMA user_version = 1;";
  assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, path, 0), 0);
  assert_int_equal(ivs_store_version_found(st), 1);
  assert_int_equal(ivs_store_version(st), IVS_STORE_VERSION);
  char got[64] = "";
  assert_int_equal(ivs_store_examples(st, NULL, first_source, got), 1);
  assert_string_equal(got, "old|old.csv|9|[\" A\",\" B\"]");
  ivs_store_free(st);
  /* reopening finds version 2 and changes nothing */
  assert_int_equal(ivs_store_open(&st, path, 0), 0);
  assert_int_equal(ivs_store_version_found(st), IVS_STORE_VERSION);
  ivs_store_free(st);
}

static void test_refuses_foreign_files(void **state) {
  (void)state;
  FILE *f = fopen(path, "wb");
  for (int i = 0; i < 512; i++) fputs("garbage!", f);
  fclose(f);
  ivs_store *st;
  assert_int_equal(ivs_store_open(&st, path, 0), IVS_ESTORE);
  assert_non_null(strstr(ivs_error_message(), "not a database"));
  unlink(path);
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db, "CREATE TABLE other (x)", NULL, NULL, NULL);
  sqlite3_close(db);
  assert_int_equal(ivs_store_open(&st, path, 0), IVS_ESTORE);
  assert_non_null(strstr(ivs_error_message(), "not an invscale store"));
  unlink(path);
  sqlite3_open(path, &db);
  sqlite3_exec(db, "PRAGMA application_id = 1230394161; PRAGMA user_version = 99; CREATE TABLE t(x)", NULL, NULL, NULL);
  sqlite3_close(db);
  assert_int_equal(ivs_store_open(&st, path, 0), IVS_ESTORE);
  assert_non_null(strstr(ivs_error_message(), "newer invscale"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dedup_and_rollback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_foreign_files, setup, teardown)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

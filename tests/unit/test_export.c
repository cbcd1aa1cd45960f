/* Export and package through the library calls: the written task file, its
 * check as written, and the submission zip (read back with libzip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "core/error.h"
#include "core/fileio.h"
#include "export/datasheet.h"
#include "export/package.h"
#include "export/task.h"
#include "ingest/session.h"
#include "store/store.h"

static char dir[64];

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static void write_text(const char *name, const char *text) {
  char p[128];
  path_in(p, sizeof p, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *name) {
  char p[128];
  path_in(p, sizeof p, name);
  ivs_buf b;
  if (ivs_file_read_all(p, 1 << 20, &b)) return NULL;
  return ivs_buf_detach(&b, NULL);
}

static int exists(const char *name) {
  char p[128];
  struct stat sb;
  path_in(p, sizeof p, name);
  return stat(p, &sb) == 0;
}

/* a store with three labelled classification examples, one unlabelled */
static ivs_store *make_store(void) {
  write_text("in.jsonl",
             "{\"prompt\": \"Q1\", \"classes\": [\" a\", \" b\"], \"answer_index\": 0, \"part\": \"x\"}\n"
             "{\"prompt\": \"Q2\", \"classes\": [\" a\", \" b\"], \"answer_index\": 1, \"part\": \"y\"}\n"
             "{\"prompt\": \"Q3\", \"classes\": [\" a\", \" b\", \" c\"], \"answer_index\": 2, \"part\": \"x\"}\n"
             "{\"prompt\": \"Q4\", \"classes\": [\" a\", \" b\"], \"part\": \"y\"}\n");
  char db[128], in[128];
  path_in(db, sizeof db, "s.db");
  path_in(in, sizeof in, "in.jsonl");
  unlink(db);
  ivs_store *st = NULL;
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  o.format = IVS_SOURCE_JSONL;
  ivs_import_result res;
  assert_int_equal(ivs_store_open(&st, db, IVS_STORE_CREATE), 0);
  assert_int_equal(ivs_import_run(st, in, &o, &res), 0);
  assert_int_equal(res.imported, 4);
  ivs_import_result_release(&res);
  return st;
}

static int count_diag(const ivs_export_diag *d, void *ud) {
  if (d->d->is_error) ++*(int *)ud;
  return 0;
}

static void test_export_jsonl_csv(void **state) {
  (void)state;
  ivs_store *st = make_store();
  char out[128];
  path_in(out, sizeof out, "t.jsonl");
  ivs_export_task_opts o = IVS_EXPORT_TASK_OPTS_INIT;
  ivs_export_task_report rep;
  o.out = out, o.format.type = IVS_TYPE_CLASSIFICATION, o.min_examples = 1;
  assert_int_equal(ivs_export_task(st, &o, &rep), 0);
  assert_int_equal(rep.examples, 3); /* the unlabelled one is left out */
  assert_int_equal(rep.errors, 0);
  char *text = read_text("t.jsonl");
  assert_string_equal(text, "{\"prompt\":\"Q1\",\"classes\":[\" a\",\" b\"],\"answer_index\":0,\"part\":\"x\"}\n"
                            "{\"prompt\":\"Q2\",\"classes\":[\" a\",\" b\"],\"answer_index\":1,\"part\":\"y\"}\n"
                            "{\"prompt\":\"Q3\",\"classes\":[\" a\",\" b\",\" c\"],\"answer_index\":2,\"part\":\"x\"}\n");
  free(text);
  path_in(out, sizeof out, "t.csv");
  o.format.csv = 1;
  assert_int_equal(ivs_export_task(st, &o, &rep), 0);
  text = read_text("t.csv");
  assert_string_equal(text, "\"prompt\",\"classes\",\"answer_index\",\"part\"\n"
                            "\"Q1\",\"[' a', ' b']\",\"0\",\"x\"\n"
                            "\"Q2\",\"[' a', ' b']\",\"1\",\"y\"\n"
                            "\"Q3\",\"[' a', ' b', ' c']\",\"2\",\"x\"\n");
  free(text);
  /* too few examples for the prize: an error rule, nothing written */
  path_in(out, sizeof out, "few.jsonl");
  int errors = 0;
  o.format.csv = 0, o.min_examples = 300, o.on_diag = count_diag, o.ud = &errors;
  assert_int_equal(ivs_export_task(st, &o, &rep), IVS_EINVAL);
  assert_int_equal(rep.errors, 1);
  assert_int_equal(errors, 1);
  assert_non_null(strstr(ivs_error_message(), "not written"));
  assert_false(exists("few.jsonl"));
  /* nothing of the type */
  o.format.type = IVS_TYPE_SEQUENCE_PROB, o.min_examples = 1;
  assert_int_equal(ivs_export_task(st, &o, &rep), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "no sequence_prob examples"));
  assert_false(exists("few.jsonl"));
  ivs_store_free(st);
}

static void test_package(void **state) {
  (void)state;
  ivs_store *st = make_store();
  char out[128];
  path_in(out, sizeof out, "p.zip");
  ivs_package_opts o = IVS_PACKAGE_OPTS_INIT;
  ivs_package_report rep;
  o.out = out, o.min_examples = 3, o.parts_by = "part";
  /* no datasheet yet */
  assert_int_equal(ivs_package_write(st, &o, &rep), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "name"));
  assert_false(exists("p.zip"));
  for (size_t i = 0; i < ivs_datasheet_nfields; i++)
    assert_int_equal(ivs_store_meta_set(st, ivs_datasheet_fields[i].key, "about it"), 0);
  assert_int_equal(ivs_package_write(st, &o, &rep), 0);
  assert_int_equal(rep.examples, 3);
  assert_int_equal(rep.parts, 2);
  int err = 0;
  zip_t *z = zip_open(out, ZIP_RDONLY, &err);
  assert_non_null(z);
  assert_int_equal(zip_get_num_entries(z, 0), (zip_int64_t)rep.nnames);
  int csv_parts = 0, jsonl = 0, sheet = 0;
  for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
    const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
    assert_string_equal(name, rep.names[i]);
    size_t n = strlen(name);
    csv_parts += n > 4 && !strcmp(name + n - 4, ".csv");
    jsonl += n > 6 && !strcmp(name + n - 6, ".jsonl");
    sheet += !strcmp(name, "datasheet.md");
  }
  assert_int_equal(csv_parts, 2);
  assert_int_equal(jsonl, 1);
  assert_int_equal(sheet, 1);
  zip_close(z);
  ivs_store_free(st);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/ivs_test_export.XXXXXX");
  if (!mkdtemp(dir)) return 1;
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_export_jsonl_csv), cmocka_unit_test(test_package)};
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) rc = 1;
  return rc;
}

/* Allocation-failure paths: an import into a store, validating task files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_paths.h"
#include "core/error.h"
#include "export/validate.h"
#include "ingest/session.h"
#include "store/store.h"

typedef struct {
  char db[512], pristine[512], csv[512], jsonl[512], bad[512];
} files;

static files F;

static int count_one(const char *name, int64_t count, void *ud) {
  (void)name;
  *(int64_t *)ud += count;
  return 0;
}

/* examples in the store, or -1 when it cannot be read or fails its check */
static int64_t examples_in(const char *db) {
  ivs_store *st = NULL;
  int64_t n = 0;
  if (ivs_store_open(&st, db, 0) || ivs_store_check(st) || ivs_store_counts(st, "type", count_one, &n)) n = -1;
  ivs_store_free(st);
  return n;
}

static int setup(const char *dir, void **state) {
  snprintf(F.db, sizeof F.db, "%s/store.db", dir);
  snprintf(F.pristine, sizeof F.pristine, "%s/pristine.db", dir);
  snprintf(F.csv, sizeof F.csv, "%s/more.csv", dir);
  snprintf(F.jsonl, sizeof F.jsonl, "%s/task.jsonl", dir);
  snprintf(F.bad, sizeof F.bad, "%s/bad.jsonl", dir);
  *state = &F;
  if (alloc_write_file(F.csv, "prompt,classes,answer_index,source\n"
                        "\"Q1: yes or no?\",\"[' yes', ' no']\",0,a\n"
                        "\"Q2: yes or no?\",\"[' yes', ' no']\",1,b\n"
                        "\"Q1: yes or no?\",\"[' yes', ' no']\",0,dup\n"
                        "\"Q3: red, green or blue?\",\"[' red', ' green', ' blue']\",2,c\n"
                        "\"\",\"[' a', ' b']\",0,empty prompt\n") ||
      alloc_write_file(F.jsonl, "{\"prompt\": \"Is it?\", \"classes\": [\" yes\", \" no\"], \"answer_index\": 0}\n"
                          "{\"prompt\": \"Is it not?\", \"classes\": [\" yes\", \" no\"], \"answer_index\": 1}\n") ||
      alloc_write_file(F.bad, "{\"prompt\": \"Is it?\", \"classes\": [\" yes\", \" yes\"], \"answer_index\": 3}\n"
                        "{\"prompt\": \"Is it? \", \"classes\": \"[' a', ' b']\", \"answer_index\": 1.0}\n"
                        "not json\n"
                        "{\"prompt\": \"Is it?\", \"classes\": [\" yes\", \" no\"], \"answer_index\": 0}\n"))
    return ivs_error_set(IVS_EIO, "cannot write the inputs");
  /* a store that already holds two examples */
  ivs_store *st = NULL;
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  o.format = IVS_SOURCE_JSONL;
  ivs_import_result res;
  int rc = ivs_store_open(&st, F.pristine, IVS_STORE_CREATE);
  if (!rc) rc = ivs_import_run(st, F.jsonl, &o, &res);
  ivs_import_result_release(&res);
  ivs_store_free(st);
  return rc;
}

static int reset(void *state) {
  files *f = state;
  remove_store_sidecars(f->db);
  return alloc_copy_file(f->pristine, f->db);
}

static int run_import(void *state) {
  files *f = state;
  ivs_store *st = NULL;
  ivs_fieldmap map = {{0}};
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  ivs_import_result res;
  memset(&res, 0, sizeof res);
  o.tag = "t1", o.map = &map;
  int rc = ivs_fieldmap_parse(&map, "prompt=prompt");
  if (!rc) rc = ivs_store_open(&st, f->db, 0);
  if (!rc) rc = ivs_import_run(st, f->csv, &o, &res);
  if (!rc && (res.imported != 3 || res.duplicates != 1 || res.invalid != 1))
    rc = wrong("import counted %zu/%zu/%zu", res.imported, res.duplicates, res.invalid);
  ivs_import_result_release(&res);
  ivs_fieldmap_release(&map);
  ivs_store_free(st);
  return rc;
}

/* a failed import leaves the two examples; a successful one adds three */
static int check_import(void *state, int rc) {
  files *f = state;
  return examples_in(f->db) != (rc ? 2 : 5);
}

const alloc_path alloc_path_import = {"import", setup, reset, run_import, check_import, NULL};

static int on_diag(const ivs_vdiag *d, void *ud) {
  if (getenv("ALLOC_DEBUG")) fprintf(stderr, "  diag %zu:%zu [%s] %s\n", d->line, d->column, d->rule, d->message);
  ++*(size_t *)ud;
  return 0;
}

static int run_validate(void *state) {
  files *f = state;
  ivs_validate_file_opts o = IVS_VALIDATE_FILE_OPTS_INIT;
  ivs_validate_stats stats;
  ivs_file_kind kind;
  size_t diags = 0;
  o.on_diag = on_diag, o.ud = &diags, o.min_examples = 1;
  int rc = ivs_validate_file(f->bad, &o, &stats, &kind);
  if (!rc && (stats.errors == 0 || stats.examples != 3))
    rc = wrong("validate: %zu errors in %zu examples", stats.errors, stats.examples);
  if (!rc) rc = ivs_validate_file(f->csv, &o, &stats, &kind);
  if (!rc && (stats.examples != 5 || kind != IVS_FILE_CSV))
    rc = wrong("validate: %zu examples in the CSV", stats.examples);
  return rc;
}

static int setup_validate(const char *dir, void **state) {
  (void)dir;
  *state = &F; /* the files of the import path */
  return F.bad[0] ? 0 : setup(dir, state);
}

const alloc_path alloc_path_validate = {"validate", setup_validate, NULL, run_validate, NULL, NULL};

/* core/parse.h (checked option values), core/grow.h, ingest/taskfile.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/parse.h"
#include "ingest/taskfile.h"

static void test_parse_double(void **st) {
  (void)st;
  double v = -7;
  assert_int_equal(ivs_parse_double("--x", "124e6", 1, 1e16, &v), 0);
  assert_true(v == 124e6);
  assert_int_equal(ivs_parse_double("--x", "-0.5", -1, 1, &v), 0);
  assert_true(v == -0.5);
  const char *bad[] = {"1e8x", "abc", "", "0x10", "inf", "nan", "1e999", " 5", "5 ", "--1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = 42;
    assert_int_equal(ivs_parse_double("--params", bad[i], -1e300, 1e300, &v), IVS_EUSAGE);
    assert_true(v == 42); /* untouched */
    assert_non_null(strstr(ivs_error_message(), "--params"));
  }
  assert_int_equal(ivs_parse_double("--timeout", "0", 1e-9, 10, &v), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "got '0'"));
}

static void test_parse_integers(void **st) {
  (void)st;
  uint64_t u = 0;
  assert_int_equal(ivs_parse_u64("--n", "18446744073709551615", 0, UINT64_MAX, &u), 0);
  assert_true(u == UINT64_MAX);
  assert_int_equal(ivs_parse_u64("--n", "18446744073709551616", 0, UINT64_MAX, &u), IVS_EUSAGE);
  assert_int_equal(ivs_parse_u64("--n", "-1", 0, 10, &u), IVS_EUSAGE);
  assert_int_equal(ivs_parse_u64("--n", "+1", 0, 10, &u), IVS_EUSAGE);
  assert_int_equal(ivs_parse_u64("--n", "11", 0, 10, &u), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "0 to 10"));
  size_t z = 0;
  assert_int_equal(ivs_parse_size("--n", "1000", 10, 1000, &z), 0);
  assert_int_equal(z, 1000);
  int i = 0;
  assert_int_equal(ivs_parse_int("--i", "-5", -10, 10, &i), 0);
  assert_int_equal(i, -5);
  assert_int_equal(ivs_parse_int("--i", "-11", -10, 10, &i), IVS_EUSAGE);
  assert_int_equal(ivs_parse_int("--i", "-1", 0, 10, &i), IVS_EUSAGE);
  assert_int_equal(ivs_parse_int("--i", "2147483648", INT32_MIN, INT32_MAX, &i), IVS_EUSAGE);
  assert_int_equal(ivs_parse_int("--i", "-2147483648", INT32_MIN, INT32_MAX, &i), 0);
  assert_int_equal(i, INT32_MIN);
  assert_int_equal(ivs_parse_int("--i", "7x", 0, 10, &i), IVS_EUSAGE);
}

static void test_parse_enum(void **st) {
  (void)st;
  static const char *const names[] = {"loss", "acc"};
  int k = -1;
  assert_int_equal(ivs_parse_enum("--metric", "acc", names, 2, &k), 0);
  assert_int_equal(k, 1);
  assert_int_equal(ivs_parse_enum("--metric", "Acc", names, 2, &k), IVS_EUSAGE);
  assert_string_equal(ivs_error_message(), "--metric: loss or acc, got 'Acc'");
}

static void test_grow(void **st) {
  (void)st;
  int *a = NULL;
  size_t cap = 0;
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(ivs_grow((void **)&a, &cap, (size_t)i + 1, sizeof *a, 8), 0);
    a[i] = i;
  }
  assert_int_equal(cap, 1024); /* 8 doubled seven times */
  for (int i = 0; i < 1000; i++) assert_int_equal(a[i], i);
  size_t before = cap;
  int *p = a;
  assert_int_equal(ivs_grow((void **)&a, &cap, SIZE_MAX / 2, sizeof *a, 8), IVS_ENOMEM); /* overflows */
  assert_ptr_equal(a, p);
  assert_int_equal(cap, before);
  free(a);
}

static const char *write_tmp(const char *name, const char *text, size_t n) {
  static char path[256];
  snprintf(path, sizeof path, "/tmp/ivs_test_core_%d_%s", (int)getpid(), name);
  FILE *f = fopen(path, "wb");
  fwrite(text, 1, n, f);
  fclose(f);
  return path;
}

static void expect_kind_n(const char *name, const char *text, size_t n, int flags, int rc, ivs_taskfile_format fmt) {
  const char *p = write_tmp(name, text, n);
  ivs_taskfile_kind k;
  int got = ivs_taskfile_detect(p, flags, &k);
  if (got != rc) fail_msg("%s: rc %d, want %d (%s)", name, got, rc, ivs_error_message());
  if (!rc && k.format != fmt) fail_msg("%s: format %s, want %s", name, ivs_taskfile_format_name(k.format),
                                       ivs_taskfile_format_name(fmt));
  unlink(p);
}
#define expect_kind(name, text, flags, rc, fmt) expect_kind_n(name, text, sizeof text - 1, flags, rc, fmt)

static void test_taskfile(void **st) {
  (void)st;
  expect_kind("a.jsonl", "{\"prompt\": \"x\"}\n", 0, 0, IVS_TASKFILE_JSONL);
  expect_kind("a.csv", "\xEF\xBB\xBF \n{\"prompt\": \"x\"}\n", 0, 0, IVS_TASKFILE_JSONL); /* content over name */
  expect_kind("a.csv", "prompt,classes\nx,y\n", 0, 0, IVS_TASKFILE_CSV);
  expect_kind("a.txt", "id,prompt\nx,y\n", 0, 0, IVS_TASKFILE_CSV);
  expect_kind("a.tsv", "prompt,classes\nx,y\n", 0, 0, IVS_TASKFILE_TSV);
  expect_kind("a.txt", "prompt\tclasses\nx\ty\n", 0, 0, IVS_TASKFILE_TSV);
  expect_kind("a.txt", "question,options\nx,y\n", 0, IVS_EUSAGE, IVS_TASKFILE_CSV);
  expect_kind("a.txt", "question,options\nx,y\n", IVS_TASKFILE_ANY_TABLE, 0, IVS_TASKFILE_CSV);
  expect_kind("a.json", "[{\"prompt\": \"x\"}]\n", 0, IVS_EUSAGE, IVS_TASKFILE_JSONL);
  assert_non_null(strstr(ivs_error_message(), "JSON array"));
  expect_kind("a.bin", "prompt\0\1\2", 0, IVS_EUSAGE, IVS_TASKFILE_JSONL);
  ivs_taskfile_kind k;
  assert_int_equal(ivs_taskfile_detect("/nonexistent/task.jsonl", 0, &k), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "/nonexistent/task.jsonl"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_double), cmocka_unit_test(test_parse_integers), cmocka_unit_test(test_parse_enum),
      cmocka_unit_test(test_grow),         cmocka_unit_test(test_taskfile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

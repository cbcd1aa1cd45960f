#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "common.h"
#include "core/error.h"
#include "ingest/text.h"

static const char *doc = "one  \r\ntwo\n\n \t\nthree a\nthree b\t\n";

static void run(ivs_text_unit u, recs *rs, size_t *trimmed) {
  const char *p = tmpfile_with(doc, strlen(doc));
  ivs_text_opts o = {u, 0, NULL, NULL};
  assert_int_equal(ivs_text_read(p, &o, collect_rec, rs, trimmed), 0);
  unlink(p);
}

static void test_units(void **state) {
  (void)state;
  recs rs = {0};
  size_t trimmed;
  run(IVS_UNIT_LINE, &rs, &trimmed);
  assert_int_equal(rs.n, 4);
  assert_string_equal(rs.val[0][0], "one");
  assert_string_equal(rs.val[3][0], "three b");
  assert_int_equal(rs.line[3], 6);
  assert_int_equal(trimmed, 2); /* "one  " and "three b\t"; CRLF is not trimming */
  recs_free(&rs);
  run(IVS_UNIT_PARAGRAPH, &rs, &trimmed);
  assert_int_equal(rs.n, 2);
  assert_string_equal(rs.val[0][0], "one  \ntwo");
  assert_string_equal(rs.val[1][0], "three a\nthree b");
  assert_int_equal(rs.line[1], 5);
  assert_int_equal(trimmed, 1);
  recs_free(&rs);
  run(IVS_UNIT_FILE, &rs, &trimmed);
  assert_int_equal(rs.n, 1);
  assert_string_equal(rs.val[0][0], "one  \ntwo\n\n \t\nthree a\nthree b");
  recs_free(&rs);
}

static void test_limit(void **state) {
  (void)state;
  recs rs = {0};
  size_t trimmed;
  const char *p = tmpfile_with(doc, strlen(doc));
  ivs_text_opts o = {IVS_UNIT_FILE, 10, NULL, NULL};
  assert_int_equal(ivs_text_read(p, &o, collect_rec, &rs, &trimmed), IVS_ELIMIT);
  unlink(p);
  ivs_text_unit u;
  assert_int_equal(ivs_text_unit_parse("sentence", &u), IVS_EUSAGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_units), cmocka_unit_test(test_limit)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

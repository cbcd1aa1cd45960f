#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "common.h"
#include "core/error.h"
#include "ingest/jsonl.h"

static int line(const char *s, recs *rs) { return ivs_jsonl_line("t.jsonl", 7, s, strlen(s), collect_rec, rs); }

static void test_objects(void **state) {
  (void)state;
  recs rs = {0};
  assert_int_equal(line("{\"prompt\":\"a\\nb\",\"classes\":\"[' x', ' y']\",\"round\":1}", &rs), 0);
  assert_int_equal(line("   ", &rs), 0); /* blank: no record */
  assert_int_equal(rs.n, 1);
  assert_int_equal(rs.line[0], 7);
  assert_string_equal(rs.val[0][0], "\"a\\nb\"");
  assert_string_equal(rs.name[0][2], "round");
  recs_free(&rs);
}

static void test_bad_lines(void **state) {
  (void)state;
  recs rs = {0};
  assert_int_equal(line("[1]", &rs), 0);
  assert_int_equal(line("{\"a\":1,\"a\":2}", &rs), 0);
  assert_int_equal(line("{\"a\":1} x", &rs), 0);
  assert_int_equal(line("{\"a\":", &rs), 0);
  assert_int_equal(rs.n, 4);
  assert_non_null(strstr(rs.err[0], "expected a JSON object"));
  assert_non_null(strstr(rs.err[1], "duplicate key 'a'"));
  assert_non_null(strstr(rs.err[2], "text after"));
  assert_non_null(strstr(rs.err[3], "invalid JSON"));
  recs_free(&rs);
  /* 10,000 levels: cJSON refuses beyond its limit, without deep recursion */
  char *deep = malloc(20100);
  strcpy(deep, "{\"a\":");
  memset(deep + 5, '[', 10000);
  memset(deep + 10005, ']', 10000);
  strcpy(deep + 20005, "}");
  assert_int_equal(line(deep, &rs), 0);
  assert_non_null(strstr(rs.err[0], "nested deeper"));
  free(deep);
  recs_free(&rs);
  /* \u0000 (cJSON would cut the string short) arrives as IVS_NUL, whole */
  assert_int_equal(line("{\"prompt\":\"a\\u0000b\\u0000\", \"k\": 1}", &rs), 0);
  assert_null(rs.err[rs.n - 1]);
  assert_string_equal(rs.val[rs.n - 1][0], "\"a\xC0\x80" "b\xC0\x80\"");
  assert_int_equal(line("{\"prompt\":\"a\\\\u0000b\"}", &rs), 0); /* an escaped backslash: no NUL */
  assert_string_equal(rs.val[rs.n - 1][0], "\"a\\\\u0000b\"");
  /* a position after a NUL is the original line's */
  assert_int_equal(line("{\"p\":\"\\u0000\"} x", &rs), 0);
  assert_non_null(strstr(rs.err[rs.n - 1], "at character 16"));
  recs_free(&rs);
}

static void test_file(void **state) {
  (void)state;
  recs rs = {0};
  const char *s = "{\"p\":1}\n\n{\"p\":2}\r\n";
  const char *p = tmpfile_with(s, strlen(s));
  ivs_jsonl_opts o = {0};
  assert_int_equal(ivs_jsonl_read(p, &o, collect_rec, &rs), 0);
  assert_int_equal(rs.n, 2);
  assert_int_equal(rs.line[1], 3);
  recs_free(&rs);
  ivs_jsonl_opts small = {.max_line = 16};
  assert_int_equal(ivs_jsonl_read(p, &small, collect_rec, &rs), 0);
  const char *s2 = "{\"prompt\":\"long line\"}\n";
  const char *p2 = tmpfile_with(s2, strlen(s2));
  assert_int_equal(ivs_jsonl_read(p2, &small, collect_rec, &rs), IVS_ELIMIT);
  assert_non_null(strstr(ivs_error_message(), ":1: line longer than the limit of 16 bytes"));
  unlink(p);
  unlink(p2);
  recs_free(&rs);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_objects), cmocka_unit_test(test_bad_lines),
                                     cmocka_unit_test(test_file)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

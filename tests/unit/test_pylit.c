/* The classes parser against what Python's ast.literal_eval gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/error.h"
#include "core/pylit.h"

static void expect_list(const char *src, size_t n, const char *const *want) {
  ivs_strlist l;
  size_t at = 99;
  int rc = ivs_pylist_parse(src, strlen(src), &l, &at);
  if (rc) fail_msg("parse of %s failed: %s at %zu", src, ivs_error_message(), at);
  assert_int_equal(l.n, n);
  for (size_t i = 0; i < n; i++) assert_string_equal(l.items[i], want[i]);
  ivs_strlist_release(&l);
}

static void expect_error(const char *src, size_t want_at, const char *msg_part) {
  ivs_strlist l;
  size_t at = 9999;
  int rc = ivs_pylist_parse(src, strlen(src), &l, &at);
  if (rc == 0) fail_msg("parse of %s should fail", src);
  assert_int_equal(l.n, 0);
  assert_int_equal(at, want_at);
  if (!strstr(ivs_error_message(), msg_part)) fail_msg("message '%s' lacks '%s'", ivs_error_message(), msg_part);
}

static void test_quotes(void **state) {
  (void)state;
  expect_list("[' A', ' B']", 2, (const char *[]){" A", " B"});
  expect_list("[' proceed.', \" don't.\"]", 2, (const char *[]){" proceed.", " don't."});
  expect_list("[' it\\'s windy', ' calm']", 2, (const char *[]){" it's windy", " calm"});
  expect_list("['''tri'ple''', \"\"\"dq\"\"\"]", 2, (const char *[]){"tri'ple", "dq"});
  expect_list("['''multi\nline''', 'x',]", 2, (const char *[]){"multi\nline", "x"});
  expect_list("  [ ]  ", 0, NULL);
  expect_list("['a' 'b', u'c', r'\\d']", 3, (const char *[]){"ab", "c", "\\d"});
  expect_list("[ # comment\n 'a', 'b'\n]", 2, (const char *[]){"a", "b"});
}

static void test_escapes(void **state) {
  (void)state;
  expect_list("['\\n\\t\\r\\\\\\x41\\u00e9\\U0001F600']", 1, (const char *[]){"\n\t\r\\A\xC3\xA9\xF0\x9F\x98\x80"});
  expect_list("['\\101\\7']", 1, (const char *[]){"A\a"});
  expect_list("['\\q']", 1, (const char *[]){"\\q"}); /* unknown escapes stay */
  expect_list("['a\\\nb']", 1, (const char *[]){"ab"}); /* line continuation */
  /* a JSON array with a surrogate pair */
  expect_list("[\" \\ud83d\\ude00\", \"b\"]", 2, (const char *[]){" \xF0\x9F\x98\x80", "b"});
  expect_list("['caf\xC3\xA9 \xF0\x9F\x98\x80']", 1, (const char *[]){"caf\xC3\xA9 \xF0\x9F\x98\x80"});
}

static void test_errors(void **state) {
  (void)state;
  expect_error("not a list", 0, "must be a list");
  expect_error("(' a', ' b')", 0, "tuple");
  expect_error("[' a', b]", 7, "expected a quoted string");
  expect_error("[' a', ' b'", 11, "missing closing ']'");
  expect_error("[' a\xE2\x80\x99, ' b\xE2\x80\x99]", 11, "typographic");
  expect_error("[' a\xE2\x80\x99]", 1, "typographic");
  expect_error("['a'] x", 6, "after the closing");
  expect_error("['\\N{BULLET}']", 2, "\\N{");
  expect_error("['\\ud800']", 2, "surrogate");
  { /* escaped NULs are kept, as IVS_NUL; a raw NUL is refused */
    static const char *const nul[] = {"a\xC0\x80" "b", "\xC0\x80\xC0\x80\xC0\x80\xC0\x80"};
    expect_list("['a\\x00b', '\\0\\000\\u0000\\U00000000']", 2, nul);
    ivs_strlist l;
    size_t at = 0;
    assert_int_equal(ivs_pylist_parse("['a\0b']", 7, &l, &at), IVS_EPARSE);
    assert_int_equal(at, 3);
    assert_non_null(strstr(ivs_error_message(), "NUL"));
  }
  expect_error("['\\x4']", 2, "truncated");
  expect_error("[b'a']", 1, "bytes");
  expect_error("['a\nb']", 1, "unterminated");
  expect_error("['\xFF']", 2, "UTF-8");
  expect_error("[,]", 1, "expected a quoted string");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_quotes), cmocka_unit_test(test_escapes),
                                     cmocka_unit_test(test_errors)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "common.h"
#include "core/buf.h"
#include "core/error.h"
#include "ingest/template.h"

static void test_fill(void **state) {
  (void)state;
  const char *names[] = {"name", "job"}, *vals[] = {"Ann", "{x}"};
  ivs_buf b = IVS_BUF_INIT;
  assert_int_equal(ivs_template_fill("{name} is a {job} {{ok}}", names, vals, 2, &b), 0);
  assert_string_equal(b.data, "Ann is a {x} {ok}");
  assert_int_equal(ivs_template_fill("{city}", names, vals, 2, &b), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "{city}"));
  assert_int_equal(ivs_template_fill("a } b", names, vals, 2, &b), IVS_EINVAL);
  assert_int_equal(ivs_template_fill("a { b", names, vals, 2, &b), IVS_EINVAL);
  ivs_buf_release(&b);
}

static char tpath[64], fpath[64];

static void files(const char *tmpl, const char *fill) {
  strcpy(tpath, tmpfile_with(tmpl, strlen(tmpl)));
  strcpy(fpath, tmpfile_with(fill, strlen(fill)));
}

static void test_expand(void **state) {
  (void)state;
  files("prompt,classes\n\"{a}{b}\",\"[' {a}', ' x']\"\n", "a,b\n1,p\n2,q\n3,\n");
  recs rs = {0};
  ivs_template_opts o = {0, 0, NULL, 1 << 20};
  assert_int_equal(ivs_template_expand(tpath, fpath, &o, collect_rec, &rs), 0);
  assert_int_equal(rs.n, 3); /* zip: one per fillers row */
  assert_string_equal(rs.val[0][0], "1p");
  assert_string_equal(rs.val[0][1], "[\" 1\",\" x\"]");
  assert_string_equal(rs.val[2][0], "3");
  recs_free(&rs);
  o.product = 1;
  assert_int_equal(ivs_template_expand(tpath, fpath, &o, collect_rec, &rs), 0);
  assert_int_equal(rs.n, 6); /* 3 values of a x 2 non-empty values of b */
  assert_string_equal(rs.val[5][0], "3q");
  recs_free(&rs);
  unlink(tpath);
  unlink(fpath);
  /* a filler with quotes cannot break the class list */
  files("prompt,classes\nq,\"[' {a}', ' b']\"\n", "a\nit's\n");
  o.product = 0;
  assert_int_equal(ivs_template_expand(tpath, fpath, &o, collect_rec, &rs), 0);
  assert_string_equal(rs.val[0][1], "[\" it's\",\" b\"]");
  recs_free(&rs);
  unlink(tpath);
  unlink(fpath);
}

static void test_missing_filler(void **state) {
  (void)state;
  files("prompt\nok {a}\nbad {zzz}\n", "a\n1\n");
  recs rs = {0};
  ivs_template_opts o = {0, 0, NULL, 1 << 20};
  assert_int_equal(ivs_template_expand(tpath, fpath, &o, collect_rec, &rs), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), ":3: template row"));
  assert_non_null(strstr(ivs_error_message(), "{zzz}"));
  recs_free(&rs);
  unlink(tpath);
  unlink(fpath);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_fill), cmocka_unit_test(test_expand),
                                     cmocka_unit_test(test_missing_filler)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "core/error.h"
#include "ingest/xml.h"

static const ivs_xml_field qfields[] = {{"prompt", "./q"}, {"classes", "./o"}, {"id", "@id"}};

static int run(const char *xml, int html, const char *rec, const ivs_xml_field *f, size_t nf, recs *rs) {
  ivs_xml_opts o = {html, rec, f, nf, NULL, 0};
  return ivs_xml_read_mem("t.xml", xml, strlen(xml), &o, collect_rec, rs);
}

static void test_extract(void **state) {
  (void)state;
  recs rs = {0};
  const char *xml = "<?xml version='1.0'?>\n<r>\n<i id='7'><q>  A &amp;\n  B  </q><o>Yes</o><o>No</o></i>\n"
                    "<i><q>&#233;t&#xE9;</q><o>[' a', ' b']</o></i></r>";
  assert_int_equal(run(xml, 0, "//i", qfields, 3, &rs), 0);
  assert_int_equal(rs.n, 2);
  assert_int_equal(rs.line[0], 3);
  assert_string_equal(rs.val[0][0], "A & B");
  assert_string_equal(rs.val[0][1], "[\" Yes\",\" No\"]");
  assert_string_equal(rs.val[0][2], "7");
  assert_int_equal(rs.nf[1], 2); /* no id attribute: field absent */
  assert_string_equal(rs.val[1][0], "\xC3\xA9t\xC3\xA9");
  assert_string_equal(rs.val[1][1], "[' a', ' b']");
  recs_free(&rs);
}

static void test_html(void **state) {
  (void)state;
  recs rs = {0};
  const ivs_xml_field f[] = {{"prompt", "."}};
  assert_int_equal(run("<html><body><article><p>One &eacute;<br>two<p>Three</article>", 1, "//article//p", f, 1, &rs), 0);
  assert_int_equal(rs.n, 2);
  assert_string_equal(rs.val[0][0], "One \xC3\xA9two");
  recs_free(&rs);
}

static void test_hostile(void **state) {
  (void)state;
  recs rs = {0};
  const ivs_xml_field f[] = {{"prompt", "."}};
  const char *lol = "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                    "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]><r><i>&d;</i></r>";
  assert_int_equal(run(lol, 0, "//i", f, 1, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "entity declaration"));
  const char *xxe = "<?xml version='1.0'?>\n<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r><i>&x;</i></r>";
  assert_int_equal(run(xxe, 0, "//i", f, 1, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "t.xml:2:"));
  const char *ext_dtd = "<?xml version='1.0'?><!DOCTYPE r SYSTEM 'file:///etc/passwd'><r><i>x</i></r>";
  assert_int_equal(run(ext_dtd, 0, "//i", f, 1, &rs), 0); /* the DTD is not loaded */
  assert_int_equal(rs.n, 1);
  recs_free(&rs);
  assert_int_equal(run("<r><i>x</r>", 0, "//i", f, 1, &rs), IVS_EPARSE);
  assert_int_equal(run("<r><i>\xFF</i></r>", 0, "//i", f, 1, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "invalid UTF-8"));
  assert_int_equal(run("<r/>", 0, "//[", f, 1, &rs), IVS_EUSAGE);
  /* nesting far past libxml2's default depth limit */
  size_t depth = 5000;
  char *deep = malloc(depth * 7 + 16);
  char *p = deep;
  for (size_t i = 0; i < depth; i++) p += sprintf(p, "<a>");
  for (size_t i = 0; i < depth; i++) p += sprintf(p, "</a>");
  assert_int_equal(run(deep, 0, "//a", f, 1, &rs), IVS_EPARSE);
  free(deep);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_extract), cmocka_unit_test(test_html),
                                     cmocka_unit_test(test_hostile)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "common.h"
#include "core/error.h"
#include "ingest/csv.h"

static int read_str(const char *data, const ivs_csv_opts *o, recs *rs) {
  const char *p = tmpfile_with(data, strlen(data));
  int rc = ivs_csv_read(p, o, collect_rec, rs);
  unlink(p);
  return rc;
}

static void test_rfc4180(void **state) {
  (void)state;
  recs rs = {0};
  ivs_csv_opts o = {0};
  /* BOM, CRLF, pandas index, quoted newline and quotes, spaces kept */
  const char *in = "\xEF\xBB\xBF,prompt,classes\r\n0,\"a\r\nb \"\"q\"\"\",\"[' x', ' y']\"\r\n1, sp ,z\r\n";
  assert_int_equal(read_str(in, &o, &rs), 0);
  assert_int_equal(rs.n, 2);
  assert_int_equal(rs.nf[0], 2);
  assert_string_equal(rs.name[0][0], "prompt");
  assert_string_equal(rs.val[0][0], "a\r\nb \"q\"");
  assert_string_equal(rs.val[0][1], "[' x', ' y']");
  assert_int_equal(rs.line[0], 2);
  assert_int_equal(rs.line[1], 4);
  assert_string_equal(rs.val[1][0], " sp ");
  recs_free(&rs);
}

static void test_tsv_and_counts(void **state) {
  (void)state;
  recs rs = {0};
  ivs_csv_opts o = {.delim = '\t', .max_field = 0};
  assert_int_equal(read_str("a\tb\n1\t[\"x\", \"y\"]\n2\n3\t4\t5\n", &o, &rs), 0);
  assert_int_equal(rs.n, 3);
  assert_string_equal(rs.val[0][1], "[\"x\", \"y\"]");
  assert_non_null(rs.err[1]);
  assert_non_null(strstr(rs.err[1], "expected 2 fields"));
  assert_int_equal(rs.line[2], 4);
  assert_non_null(rs.err[2]);
  recs_free(&rs);
}

static void test_errors(void **state) {
  (void)state;
  recs rs = {0};
  ivs_csv_opts o = {0};
  assert_int_equal(read_str("p,c\n1,2\n\"open,3\nx\n", &o, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "starting on line 3"));
  recs_free(&rs);
  assert_int_equal(read_str("p,c\n1,2\xC3\x28\n", &o, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), ":2:4: invalid UTF-8 (byte offset 7)"));
  recs_free(&rs);
  ivs_csv_opts small = {.delim = ',', .max_field = 32};
  assert_int_equal(read_str("p,c\n1,0123456789012345678901234567890123456789\n", &small, &rs), IVS_ELIMIT);
  assert_non_null(strstr(ivs_error_message(), "limit of 32 bytes"));
  recs_free(&rs);
  assert_int_equal(read_str("p,p\n1,2\n", &o, &rs), IVS_EPARSE);
  assert_non_null(strstr(ivs_error_message(), "duplicate column 'p'"));
  recs_free(&rs);
  ivs_fieldmap m = {{0}};
  ivs_fieldmap_parse(&m, "prompt=question");
  ivs_csv_opts om = {.delim = ',', .map = &m};
  assert_int_equal(read_str("p,c\n1,2\n", &om, &rs), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "no column 'question'"));
  ivs_fieldmap_release(&m);
  recs_free(&rs);
  const char *p = tmpfile_with("", 0);
  assert_int_equal(ivs_csv_read(p, &o, collect_rec, &rs), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "empty"));
  unlink(p);
  assert_int_equal(ivs_csv_read("/", &o, collect_rec, &rs), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "directory"));
}

/* A field much larger than the read buffer, and a UTF-8 character cut by it. */
static void test_long_field(void **state) {
  (void)state;
  size_t n = 3u << 20;
  char *big = malloc(n + 64);
  strcpy(big, "p\n\"");
  size_t k = 3;
  while (k < n) {
    memcpy(big + k, "\xC3\xA9", 2); /* é: some copies straddle the 1 MiB buffer edge */
    k += 2;
  }
  strcpy(big + k, "\"\n");
  recs rs = {0};
  ivs_csv_opts o = {.delim = ',', .max_field = 4u << 20};
  const char *p = tmpfile_with(big, strlen(big));
  assert_int_equal(ivs_csv_read(p, &o, collect_rec, &rs), 0);
  unlink(p);
  assert_int_equal(rs.n, 1);
  assert_int_equal(strlen(rs.val[0][0]), k - 3);
  recs_free(&rs);
  free(big);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_rfc4180), cmocka_unit_test(test_tsv_and_counts),
                                     cmocka_unit_test(test_errors), cmocka_unit_test(test_long_field)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_arena.h"
#include "export/rules.h"
#include "ingest/jsonl.h"

static int on_record(const ivs_record *rec, void *ud) { return ivs_validator_record(ud, rec, NULL, 0); }

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* Prompt length percentiles (a histogram below 64 Ki characters, a sorted
 * list above) equal the nearest-rank values of a plain sort, with some
 * prompts longer than the histogram; lines parsed in the JSON arena. */
static void test_length_percentiles(void **state) {
  (void)state;
  enum { N = 301 };
  size_t lens[N];
  ivs_validator *v;
  ivs_validate_opts o = {IVS_TYPE_AUTO, 0, 1, NULL, NULL, 0};
  assert_int_equal(ivs_validator_new(&v, &o), 0);
  size_t cap = 200000;
  char *line = malloc(cap + 100);
  assert_non_null(line);
  uint64_t x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    size_t len = i % 50 == 7 ? 65536 + (size_t)(x >> 50) : 1 + (size_t)(x >> 54); /* 7 long prompts */
    lens[i] = len;
    size_t n = (size_t)sprintf(line, "{\"prompt\":\"");
    memset(line + n, 'a', len);
    n += len;
    n += (size_t)sprintf(line + n, "\",\"classes\":[\" a\",\" b\"],\"answer_index\":%d}", i % 2);
    ivs_json_arena_begin();
    assert_int_equal(ivs_jsonl_line("t.jsonl", (size_t)i + 1, line, n, on_record, v), 0);
    ivs_json_arena_end();
  }
  assert_int_equal(ivs_validator_finish(v), 0);
  qsort(lens, N, sizeof *lens, cmp_size);
  const ivs_validate_stats *st = ivs_validator_stats(v);
  assert_int_equal(st->examples, N);
  assert_int_equal(st->prompt_p50, lens[(N - 1) * 50 / 100]);
  assert_int_equal(st->prompt_p90, lens[(N - 1) * 90 / 100]);
  assert_int_equal(st->prompt_p99, lens[(N - 1) * 99 / 100]);
  assert_int_equal(st->prompt_max, lens[N - 1]);
  assert_true(st->prompt_max >= 65536);
  ivs_validator_free(v);
  ivs_json_arena_release();
  free(line);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_length_percentiles)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

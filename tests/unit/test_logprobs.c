#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval/logprobs_line.h"

/* Reads `text` both ways; returns what the fast reading did (1 read, 0 left
 * to cJSON) and checks that cJSON reads what it read, bit for bit. */
static int both(const char *text, ivs_task_type type, size_t index, size_t *k) {
  size_t len = strlen(text), kf = 0, ks = 0, cap = 0;
  char *line = malloc(len + IVS_LOGPROBS_PAD);
  assert_non_null(line);
  memcpy(line, text, len);
  memset(line + len, '}', IVS_LOGPROBS_PAD);
  double fast[16], *slow = NULL;
  int took = ivs_logprobs_line_fast(line, len, len + IVS_LOGPROBS_PAD, type, index, fast, 16, &kf);
  int rc = ivs_logprobs_line_json("f.jsonl", 1, line, len, type, index, &slow, &cap, &ks);
  if (took) {
    assert_int_equal(rc, 0);
    assert_int_equal(kf, ks);
    assert_memory_equal(fast, slow, kf * sizeof *fast);
    *k = kf;
  } else {
    *k = rc ? (size_t)-1 : ks; /* -1: cJSON found a problem */
  }
  free(slow);
  free(line);
  return took;
}

/* Ordinary lines of the three layouts go the fast way, with the values strtod gives. */
static void test_fast_reads(void **state) {
  (void)state;
  size_t k;
  assert_int_equal(both("{\"index\": 7, \"class_logprobs\": [-6.526478, -1.30234, -21.297566]}", IVS_TYPE_CLASSIFICATION, 7, &k), 1);
  assert_int_equal(k, 3);
  assert_int_equal(both("{\"class_logprobs\":[-1e-320,-0.0,-2.2250738585072014e-308],\"index\":0,\"model\":\"gpt2\",\"x\":[1,{\"y\":null}]}",
                        IVS_TYPE_CLASSIFICATION, 0, &k), 1);
  assert_int_equal(both(" {\"index\": 1.0, \"prompt_class_logprobs\": [-0.5, -2.5], \"other_prompt_class_logprobs\": [-3.0, -0.125]} ",
                        IVS_TYPE_LOGODDS, 1, &k), 1);
  assert_int_equal(k, 4);
  assert_int_equal(both("{\"index\": 2, \"completion_logprob\": -12.75, \"text\": \"caf\xc3\xa9\"}", IVS_TYPE_SEQUENCE_PROB, 2, &k), 1);
  assert_int_equal(k, 1);
  /* long numbers: a halfway case decided by its 68th character (both read it as -1.0000000000000002) */
  assert_int_equal(both("{\"index\": 0, \"completion_logprob\": -1.00000000000000011102230246251565404236316680908203125000000000001}",
                        IVS_TYPE_SEQUENCE_PROB, 0, &k), 1);
}

/* Lines the two libraries could read differently, and lines with a problem,
 * are left to cJSON. */
static void test_left_to_cjson(void **state) {
  (void)state;
  char deep[400] = "{\"index\": 0, \"class_logprobs\": [-1.5], \"x\": ";
  for (int d = 0; d < 65; d++) strcat(deep, "[");
  for (int d = 0; d < 65; d++) strcat(deep, "]");
  strcat(deep, "}");
  const struct {
    const char *line;
    ivs_task_type type;
    int cjson_ok;
  } cases[] = {
      {"{\"index\": 0, \"class_logprobs\": [-1.5, -0]}", IVS_TYPE_CLASSIFICATION, 1},         /* an integer */
      {"{\"Index\": 0, \"class_logprobs\": [-1.5]}", IVS_TYPE_CLASSIFICATION, 1},             /* case */
      {"{\"index\": 0, \"INDEX\": 5, \"class_logprobs\": [-1.5]}", IVS_TYPE_CLASSIFICATION, 1},
      {"{\"index\": 0, \"class_logprobs\": [-1.5], \"class_logprobs\": [-2.5]}", IVS_TYPE_CLASSIFICATION, 1},
      {"{\"ind\\u0065x\": 0, \"class_logprobs\": [-1.5]}", IVS_TYPE_CLASSIFICATION, 1},       /* an escape */
      {"{\"index\": 0, \"class_logprobs\": [-1.5]} trailing", IVS_TYPE_CLASSIFICATION, 1},    /* cJSON ignores it */
      {"{\"index\": 0, \"class_logprobs\": [-1.5, 0.5]}", IVS_TYPE_CLASSIFICATION, 0},
      {"{\"index\": 0, \"class_logprobs\": [-1.5, NaN]}", IVS_TYPE_CLASSIFICATION, 0},
      {"{\"index\": 0, \"class_logprobs\": [-1.5, -1e999]}", IVS_TYPE_CLASSIFICATION, 0},
      {"{\"index\": 1, \"class_logprobs\": [-1.5]}", IVS_TYPE_CLASSIFICATION, 0},
      {"{\"index\": 0, \"prompt_class_logprobs\": [-1.5], \"other_prompt_class_logprobs\": [-1.0, -2.0]}", IVS_TYPE_LOGODDS, 0},
      {"{\"index\": 0, \"completion_logprob\": \"-1.5\"}", IVS_TYPE_SEQUENCE_PROB, 0},
      {"[{\"index\": 0, \"completion_logprob\": -1.5}]", IVS_TYPE_SEQUENCE_PROB, 0},
      {"{\"index\": 0, \"class_logprobs\": [-1.5,]}", IVS_TYPE_CLASSIFICATION, 0},
      {deep, IVS_TYPE_CLASSIFICATION, 1}, /* nested deeper than 64 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t k;
    int took = both(cases[i].line, cases[i].type, 0, &k);
    if (took) fail_msg("case %zu was read the fast way: %s", i, cases[i].line);
    if (cases[i].cjson_ok != (k != (size_t)-1)) fail_msg("case %zu: cJSON %s it: %s", i, k == (size_t)-1 ? "rejects" : "reads", cases[i].line);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fast_reads),
      cmocka_unit_test(test_left_to_cjson),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

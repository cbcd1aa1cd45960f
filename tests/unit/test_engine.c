/* The engine's cache paths give what one plain forward gives: for every
 * fixture model and reference sequence, the prompt run once and its K/V kept
 * while (a) the continuation runs token by token and (b) two continuations
 * run one after the other from the same prompt (truncating the cache back),
 * within 1e-5 of ivs_model_score; and safetensors conversions of F16/BF16. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "engine/model.h"
#include "engine/safetensors.h"

static const char *const models[] = {"gpt2-f32", "gpt2-bf16", "llama", "qwen2", "pythia", "opt"};

static void check_model(const char *name) {
  char dir[512], ref[600];
  snprintf(dir, sizeof dir, "%s/fixtures/hf-reference/models/%s", IVS_SHARED_DIR, name);
  snprintf(ref, sizeof ref, "%s/reference.jsonl", dir);
  ivs_model *m;
  if (ivs_model_open(&m, dir)) fail_msg("%s: %s", name, ivs_error_message());
  ivs_buf text;
  assert_int_equal(ivs_file_read_all(ref, 1 << 24, &text), 0);
  size_t E = ivs_model_hidden_size(m), checked = 0;
  ivs_model_info info;
  ivs_model_get_info(m, &info);
  float *logits = malloc(info.n_vocab * sizeof *logits), *hid = malloc(info.n_ctx * E * sizeof *hid);
  char *line = strtok(text.data, "\n");
  for (; line; line = strtok(NULL, "\n")) {
    cJSON *r = cJSON_Parse(line);
    const cJSON *a = cJSON_GetObjectItem(r, "ids");
    size_t n = (size_t)cJSON_GetArraySize(a), k = (size_t)cJSON_GetObjectItem(r, "n_ctx")->valuedouble, i = 0;
    int32_t ids[512];
    const cJSON *v;
    cJSON_ArrayForEach(v, a) ids[i++] = (int32_t)v->valuedouble;
    double full[512], step[512];
    assert_int_equal(ivs_model_score(m, ids, n, k, full, NULL), 0);
    ivs_kv *kv;
    assert_int_equal(ivs_kv_new(&kv, m, n + 4), 0);
    /* the prompt once, then the continuation one token at a time */
    assert_int_equal(ivs_model_extend(m, kv, ids, k, hid), 0);
    float last[4096];
    memcpy(last, hid + (k - 1) * E, E * sizeof *last);
    for (size_t t = k; t < n; t++) {
      assert_int_equal(ivs_model_next(m, last, ids[t], logits, &step[t - k], NULL), 0);
      assert_int_equal(ivs_model_extend(m, kv, ids + t, 1, hid), 0);
      memcpy(last, hid, E * sizeof *last);
    }
    for (size_t t = k; t < n; t++)
      if (fabs(step[t - k] - full[t - k]) > 1e-5) fail_msg("%s: token %zu: %.9g step by step, %.9g at once", name, t, step[t - k], full[t - k]);
    /* back to the prompt: a different continuation (the last prompt token
     * repeated), then this one again, all at once */
    ivs_kv_truncate(kv, k);
    assert_int_equal(ivs_kv_len(kv), k);
    assert_int_equal(ivs_model_extend(m, kv, ids + k - 1, 1, hid), 0);
    ivs_kv_truncate(kv, k);
    assert_int_equal(ivs_model_extend(m, kv, ids + k, n - k, hid), 0);
    double lp;
    for (size_t t = k + 1; t < n; t++) {
      assert_int_equal(ivs_model_next(m, hid + (t - 1 - k) * E, ids[t], logits, &lp, NULL), 0);
      if (fabs(lp - full[t - k]) > 1e-5) fail_msg("%s: token %zu after truncating: %.9g, %.9g", name, t, lp, full[t - k]);
    }
    /* more than the cache holds */
    assert_int_equal(ivs_model_extend(m, kv, ids, 5, NULL), IVS_EINVAL);
    ivs_kv_free(kv);
    cJSON_Delete(r);
    checked++;
  }
  assert_true(checked >= 14);
  free(logits), free(hid);
  ivs_buf_release(&text);
  ivs_model_free(m);
}

static void test_cache_paths(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) check_model(models[i]);
}

static void test_conversions(void **state) {
  (void)state;
  /* F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), inf; BF16: 1, -0.5 */
  const uint8_t f16[] = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x04, 0x00, 0x7c};
  float out[6];
  ivs_dtype_to_f32(IVS_DTYPE_F16, f16, out, 6);
  assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f);
  assert_true(out[3] == ldexpf(1, -24) && out[4] == ldexpf(1, -14) && isinf(out[5]));
  const uint8_t bf16[] = {0x80, 0x3f, 0x00, 0xbf};
  ivs_dtype_to_f32(IVS_DTYPE_BF16, bf16, out, 2);
  assert_true(out[0] == 1.0f && out[1] == -0.5f);
  /* every F16 subnormal: m x 2^-24 */
  for (unsigned mnt = 1; mnt < 1024; mnt++) {
    uint8_t h[2] = {(uint8_t)(mnt & 0xff), (uint8_t)(mnt >> 8)};
    ivs_dtype_to_f32(IVS_DTYPE_F16, h, out, 1);
    if (out[0] != ldexpf((float)mnt, -24)) fail_msg("subnormal %u: %g", mnt, out[0]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_conversions), cmocka_unit_test(test_cache_paths)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

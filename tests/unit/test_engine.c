/* The engine's cache paths give what one plain forward gives: for every
 * fixture model and reference sequence, the prompt run once and its K/V kept
 * while (a) the continuation runs token by token and (b) two continuations
 * run one after the other from the same prompt (truncating the cache back),
 * within 1e-5 of ivs_model_score; ivs_model_score_batch (groups of
 * candidates after a common prefix, packed forwards, a prefix kept across
 * groups) within 1e-5 of ivs_model_score on each request alone; and
 * safetensors conversions of F16/BF16. */
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
#include "engine/act.h"
#include "engine/batch.h"
#include "engine/model.h"
#include "engine/par.h"
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

/* The reference sequences of a fixture model: ids and n_ctx. */
typedef struct {
  int32_t ids[64][512];
  size_t n[64], k[64], count;
} seqs;

static void read_seqs(const char *dir, seqs *q) {
  char ref[600];
  snprintf(ref, sizeof ref, "%s/reference.jsonl", dir);
  ivs_buf text;
  assert_int_equal(ivs_file_read_all(ref, 1 << 24, &text), 0);
  q->count = 0;
  for (char *line = strtok(text.data, "\n"); line && q->count < 64; line = strtok(NULL, "\n")) {
    cJSON *r = cJSON_Parse(line);
    const cJSON *a = cJSON_GetObjectItem(r, "ids"), *v;
    size_t i = 0;
    cJSON_ArrayForEach(v, a) if (i < 512) q->ids[q->count][i++] = (int32_t)v->valuedouble;
    q->n[q->count] = i, q->k[q->count] = (size_t)cJSON_GetObjectItem(r, "n_ctx")->valuedouble;
    q->count++;
    cJSON_Delete(r);
  }
  ivs_buf_release(&text);
}

/* Requests: per reference sequence a group of its prompt with its own and
 * the next two sequences' continuations and with the first continuation
 * token alone; with `shared`, every sequence starts with the same 40 tokens. */
static size_t build(const seqs *q, int shared, size_t ctx, int32_t (*buf)[1024], ivs_lm_req *reqs) {
  size_t nr = 0, X = shared ? 40 : 0;
  for (size_t r = 0; r < q->count; r++)
    for (size_t c = 0; c < 4; c++) {
      size_t o = (r + (c < 3 ? c : 0)) % q->count, k = q->k[r], cn = c == 3 ? 1 : q->n[o] - q->k[o];
      int32_t *s = buf[nr];
      for (size_t i = 0; i < X; i++) s[i] = q->ids[0][i % q->n[0]];
      memcpy(s + X, q->ids[r], k * sizeof *s);
      memcpy(s + X + k, q->ids[o] + q->k[o], cn * sizeof *s);
      if (X + k + cn > ctx) continue;
      reqs[nr] = (ivs_lm_req){s, X + k + cn, X + k, r};
      nr++;
    }
  return nr;
}

static void check_batch(const char *name) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/fixtures/hf-reference/models/%s", IVS_SHARED_DIR, name);
  ivs_model *m;
  if (ivs_model_open(&m, dir)) fail_msg("%s: %s", name, ivs_error_message());
  ivs_model_info info;
  ivs_model_get_info(m, &info);
  static seqs q;
  static int32_t buf[256][1024];
  static ivs_lm_req reqs[256];
  static double got[256], lp[256];
  read_seqs(dir, &q);
  for (int shared = 0; shared < 2; shared++) {
    size_t nr = build(&q, shared, info.n_ctx, buf, reqs);
    assert_true(nr >= 40);
    const ivs_batch_opts variants[] = {{0, 0, NULL, NULL}, {16, 0, NULL, NULL}, {0, (size_t)1 << 30, NULL, NULL},
                                       {100, (size_t)1 << 30, NULL, NULL}};
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
      ivs_batch_stats st;
      if (ivs_model_score_batch(m, reqs, nr, &variants[v], got, &st))
        fail_msg("%s: %s", name, ivs_error_message());
      for (size_t i = 0; i < nr; i++) {
        assert_int_equal(ivs_model_score(m, reqs[i].ids, reqs[i].n, reqs[i].n_ctx, lp, NULL), 0);
        double want = 0;
        for (size_t t = 0; t < reqs[i].n - reqs[i].n_ctx; t++) want += lp[t];
        /* each scored token within 1e-5: the sum within 1e-5 per token */
        if (fabs(got[i] - want) > 1e-5 * (double)(reqs[i].n - reqs[i].n_ctx))
          fail_msg("%s (shared %d, variant %zu): request %zu: %.9g batched, %.9g alone", name, shared, v, i, got[i], want);
      }
      assert_true(st.run < st.tokens); /* the common prefixes ran once */
      if (shared && variants[v].cache_bytes) assert_true(st.kept >= 30 * (q.count - 2)); /* the 40 tokens were kept */
      if (!variants[v].cache_bytes) assert_int_equal(st.kept, 0);
      if (variants[v].pack_rows == 16 && st.forwards < 2) fail_msg("%s: %zu forwards of %zu rows", name, st.forwards, st.run);
    }
  }
  /* bad requests are named */
  ivs_lm_req bad = reqs[3];
  bad.n_ctx = bad.n;
  assert_int_equal(ivs_model_score_batch(m, &bad, 1, NULL, got, NULL), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "request 0"));
  ivs_model_free(m);
}

static void test_batch_paths(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) check_batch(models[i]);
}

/* The vectorized activations against the formulas in double. */
static void test_activations(void **state) {
  (void)state;
  enum { N = 40001 };
  static float a[N], b[N], c[N], d[N], up[N];
  for (size_t i = 0; i < N; i++) a[i] = b[i] = c[i] = d[i] = (float)(-20.0 + 40.0 * (double)i / (N - 1)), up[i] = 0.5f;
  ivs_act_gelu_tanh(a, N), ivs_act_gelu_erf(b, N), ivs_act_silu_mul(c, up, N), ivs_act_relu(d, N);
  for (size_t i = 0; i < N; i++) {
    double x = (float)(-20.0 + 40.0 * (double)i / (N - 1)), tol = 4e-7 * (fabs(x) > 1 ? fabs(x) : 1);
    double gt = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    double ge = 0.5 * x * (1 + erf(x / sqrt(2.0))), si = x / (1 + exp(-x)) * 0.5;
    if (fabs(a[i] - gt) > tol || fabs(b[i] - ge) > tol || fabs(c[i] - si) > tol || d[i] != (x > 0 ? x : 0))
      fail_msg("x = %.9g: gelu_tanh %.9g (%.9g), gelu_erf %.9g (%.9g), silu %.9g (%.9g)", x, a[i], gt, b[i], ge, c[i], si);
  }
}

/* The attention's softmax against the formula in double, with masked
 * (-inf) entries and lengths around its 16 lanes. */
static void test_softmax(void **state) {
  (void)state;
  static const size_t ns[] = {1, 5, 15, 16, 17, 33, 100, 1000, 4099};
  static float x[4099];
  static double want[4099];
  uint32_t seed = 7;
  for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
    size_t n = ns[k];
    double mx = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1664525u + 1013904223u;
      x[i] = i && seed % 7 == 0 ? -INFINITY : (float)((double)(seed >> 8) / (1 << 24) * 60.0 - 30.0);
      if (x[i] > mx) mx = x[i];
    }
    for (size_t i = 0; i < n; i++) sum += want[i] = exp((double)x[i] - mx);
    ivs_act_softmax(x, n);
    for (size_t i = 0; i < n; i++)
      if (fabs(x[i] - want[i] / sum) > 3e-6 * (want[i] / sum) + 1e-10) /* to a few ulp; far below 1e-10 no matter */
        fail_msg("n %zu, element %zu: %.9g, want %.9g", n, i, x[i], want[i] / sum);
  }
}

/* Every item of a split exactly once, parts cut at the alignment; a split
 * inside a part runs on its caller. */
typedef struct {
  unsigned char seen[100003];
  size_t parts_seen, misaligned, nested_parts;
} par_probe;

static void nested_part(void *ud, size_t part, size_t lo, size_t hi) {
  par_probe *p = ud;
  (void)lo, (void)hi;
  if (part) p->nested_parts++;
}

static void probe_part(void *ud, size_t part, size_t lo, size_t hi) {
  par_probe *p = ud;
  for (size_t i = lo; i < hi; i++) p->seen[i]++;
  if (lo % 64) p->misaligned++;
  if (part == 0) ivs_par_for(1000, 1, 1, nested_part, ud);
  __atomic_fetch_add(&p->parts_seen, 1, __ATOMIC_RELAXED);
}

static void test_par(void **state) {
  (void)state;
  static par_probe p;
  size_t was = ivs_par_threads();
  for (size_t threads = 1; threads <= 3; threads++) {
    ivs_par_set_threads(threads);
    memset(&p, 0, sizeof p);
    ivs_par_for(100003, 1000, 64, probe_part, &p);
    for (size_t i = 0; i < 100003; i++)
      if (p.seen[i] != 1) fail_msg("%zu threads: item %zu done %u times", threads, i, p.seen[i]);
    assert_int_equal(p.parts_seen, threads);
    assert_int_equal(p.misaligned, 0);
    assert_int_equal(p.nested_parts, 0);
    memset(&p, 0, sizeof p);
    ivs_par_for(1500, 1000, 1, probe_part, &p); /* under 2 x min: one part */
    assert_int_equal(p.parts_seen, 1);
  }
  ivs_par_set_threads(was);
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
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_conversions), cmocka_unit_test(test_cache_paths),
                                     cmocka_unit_test(test_batch_paths),
                                     cmocka_unit_test(test_activations), cmocka_unit_test(test_softmax),
                                     cmocka_unit_test(test_par)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

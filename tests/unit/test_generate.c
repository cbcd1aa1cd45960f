/* Decoding (engine/generate.h, engine/sample.h):
 * - greedy generation from every fixture model's reference prompts: the
 *   first token is the reference's argmax (transformers'), every generated
 *   token is the argmax of a plain forward over prompt + generation, and the
 *   samples, the batch sizes and the cache sizes give the same tokens;
 * - sampling gives the same tokens whatever the batching, and stops at EOS,
 *   at a stop callback, at the length and at the context;
 * - the sampler's draws follow the temperature/top-k/top-p distribution as
 *   transformers' warpers define it (computed here from that definition, in
 *   its ascending cumulative form): a chi-square test on 100,000 draws;
 * - bad prompts and options are named. */
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
#include "engine/generate.h"
#include "engine/model.h"
#include "engine/sample.h"

static const char *const models[] = {"gpt2-f32", "gpt2-bf16", "llama", "qwen2", "pythia", "opt"};

enum { MAXP = 24, MAXN = 512, NEW = 10, SAMPLES = 2 };

typedef struct {
  int32_t ids[MAXP][MAXN], argmax[MAXP][MAXN];
  size_t n[MAXP], k[MAXP], count;
} refs;

static void read_refs(const char *dir, refs *q) {
  char ref[600];
  snprintf(ref, sizeof ref, "%s/reference.jsonl", dir);
  ivs_buf text;
  assert_int_equal(ivs_file_read_all(ref, 1 << 24, &text), 0);
  q->count = 0;
  for (char *line = strtok(text.data, "\n"); line && q->count < MAXP; line = strtok(NULL, "\n")) {
    cJSON *r = cJSON_Parse(line), *v;
    size_t i = 0, j = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(r, "ids")) if (i < MAXN) q->ids[q->count][i++] = (int32_t)v->valuedouble;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(r, "argmax")) if (j < MAXN) q->argmax[q->count][j++] = (int32_t)v->valuedouble;
    q->n[q->count] = i, q->k[q->count] = (size_t)cJSON_GetObjectItem(r, "n_ctx")->valuedouble;
    q->count++;
    cJSON_Delete(r);
  }
  ivs_buf_release(&text);
}

static int stop_after3(size_t seq, const int32_t *ids, size_t n, void *ud) {
  (void)ids, (void)ud;
  return seq == 1 && n == 3;
}

static void check_model(const char *name) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/fixtures/hf-reference/models/%s", IVS_SHARED_DIR, name);
  ivs_model *m;
  if (ivs_model_open(&m, dir)) fail_msg("%s: %s", name, ivs_error_message());
  ivs_model_info info;
  ivs_model_get_info(m, &info);
  static refs q;
  read_refs(dir, &q);
  ivs_decode_req reqs[MAXP];
  for (size_t i = 0; i < q.count; i++) reqs[i] = (ivs_decode_req){q.ids[i], q.k[i], SAMPLES, i};
  size_t total = q.count * SAMPLES;
  static ivs_decoded base[MAXP * SAMPLES], got[MAXP * SAMPLES];
  ivs_decode_opts o = {.sampler = {.greedy = 1}, .max_new = NEW};
  if (ivs_model_generate(m, reqs, q.count, &o, base)) fail_msg("%s: %s", name, ivs_error_message());
  static int32_t seqbuf[MAXN + NEW], am[MAXN + NEW];
  static double lp[MAXN + NEW];
  size_t first_equal = 0;
  for (size_t i = 0; i < q.count; i++) {
    const ivs_decoded *d = &base[i * SAMPLES];
    assert_true(d->n >= 1);
    /* transformers' argmax after the prompt */
    if (d->ids[0] == q.argmax[i][q.k[i] - 1]) first_equal++;
    else fail_msg("%s: prompt %zu: first greedy token %d, the reference's argmax %d", name, i, d->ids[0], q.argmax[i][q.k[i] - 1]);
    /* each generated token is the argmax of the plain forward */
    memcpy(seqbuf, q.ids[i], q.k[i] * sizeof *seqbuf);
    memcpy(seqbuf + q.k[i], d->ids, d->n * sizeof *seqbuf);
    assert_int_equal(ivs_model_score(m, seqbuf, q.k[i] + d->n, q.k[i], lp, am), 0);
    for (size_t t = 0; t < d->n; t++)
      if (am[q.k[i] - 1 + t] != d->ids[t])
        fail_msg("%s: prompt %zu: token %zu generated %d, the forward's argmax %d", name, i, t, d->ids[t], am[q.k[i] - 1 + t]);
    assert_true(d->stop == IVS_DECODE_LENGTH || d->stop == IVS_DECODE_EOS || d->stop == IVS_DECODE_CONTEXT);
    if (d->stop == IVS_DECODE_LENGTH) assert_int_equal(d->n, NEW);
    /* the second sample of greedy decoding is the first */
    assert_int_equal(base[i * SAMPLES + 1].n, d->n);
    assert_memory_equal(base[i * SAMPLES + 1].ids, d->ids, d->n * sizeof *d->ids);
  }
  assert_int_equal(first_equal, q.count);
  /* other batchings give the same tokens */
  const size_t batches[][2] = {{1, 0}, {3, 0}, {5, 1 << 20}};
  for (size_t b = 0; b < 3; b++) {
    o.batch = batches[b][0], o.cache_bytes = batches[b][1];
    if (ivs_model_generate(m, reqs, q.count, &o, got)) fail_msg("%s: %s", name, ivs_error_message());
    for (size_t k = 0; k < total; k++) {
      if (got[k].n != base[k].n || memcmp(got[k].ids, base[k].ids, got[k].n * sizeof *got[k].ids))
        fail_msg("%s: batch %zu: sequence %zu differs", name, o.batch, k);
      ivs_decoded_release(&got[k]);
    }
  }
  /* sampling: the same whatever the batching; the samples of a prompt differ somewhere */
  ivs_decode_opts so = {.sampler = {.temperature = 1.5, .top_k = 40, .top_p = 0.95}, .max_new = NEW, .seed = 7};
  static ivs_decoded s1[MAXP * SAMPLES];
  assert_int_equal(ivs_model_generate(m, reqs, q.count, &so, s1), 0);
  so.batch = 3;
  assert_int_equal(ivs_model_generate(m, reqs, q.count, &so, got), 0);
  size_t differ = 0;
  for (size_t k = 0; k < total; k++) {
    if (got[k].n != s1[k].n || memcmp(got[k].ids, s1[k].ids, got[k].n * sizeof *got[k].ids))
      fail_msg("%s: sampled sequence %zu differs with batch 3", name, k);
    if (k % 2 && (s1[k].n != s1[k - 1].n || memcmp(s1[k].ids, s1[k - 1].ids, s1[k].n * sizeof *s1[k].ids))) differ++;
    ivs_decoded_release(&got[k]);
  }
  assert_true(differ >= q.count / 2);
  /* another seed gives other tokens */
  so.seed = 8;
  assert_int_equal(ivs_model_generate(m, reqs, q.count, &so, got), 0);
  size_t same = 0;
  for (size_t k = 0; k < total; k++) {
    same += got[k].n == s1[k].n && !memcmp(got[k].ids, s1[k].ids, got[k].n * sizeof *got[k].ids);
    ivs_decoded_release(&got[k]), ivs_decoded_release(&s1[k]);
  }
  assert_true(same < total / 2);
  /* an end-of-sequence token, a stop callback, the context */
  int32_t eos = base[0].ids[0];
  ivs_decode_opts eo = {.sampler = {.greedy = 1}, .max_new = NEW, .eos = &eos, .n_eos = 1, .on_token = stop_after3};
  assert_int_equal(ivs_model_generate(m, reqs, 1, &eo, got), 0);
  assert_int_equal(got[0].stop, IVS_DECODE_EOS);
  assert_int_equal(got[0].n, 0);
  ivs_decoded_release(&got[0]), ivs_decoded_release(&got[1]);
  eo.n_eos = 0;
  assert_int_equal(ivs_model_generate(m, reqs, 1, &eo, got), 0);
  assert_int_equal(got[1].stop, IVS_DECODE_STOP);
  assert_int_equal(got[1].n, 3);
  assert_int_equal(got[0].n, NEW);
  ivs_decoded_release(&got[0]), ivs_decoded_release(&got[1]);
  static int32_t longp[4096];
  for (size_t i = 0; i < info.n_ctx; i++) longp[i] = q.ids[0][i % q.n[0]];
  ivs_decode_req near = {longp, info.n_ctx - 2, 1, 0};
  assert_int_equal(ivs_model_generate(m, &near, 1, &o, got), 0);
  assert_int_equal(got[0].stop, IVS_DECODE_CONTEXT);
  assert_int_equal(got[0].n, 3); /* the tokens at positions n_ctx - 2, n_ctx - 1, and one predicted after the last */
  ivs_decoded_release(&got[0]);
  /* bad prompts and options */
  ivs_decode_req bad = {longp, info.n_ctx + 1, 1, 0};
  assert_int_equal(ivs_model_generate(m, &bad, 1, &o, got), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "prompt 0"));
  bad.n = 0;
  assert_int_equal(ivs_model_generate(m, &bad, 1, &o, got), IVS_EINVAL);
  int32_t out_of_vocab[2] = {1, (int32_t)info.n_vocab};
  bad = (ivs_decode_req){out_of_vocab, 2, 1, 0};
  assert_int_equal(ivs_model_generate(m, &bad, 1, &o, got), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "outside the vocabulary"));
  ivs_decode_opts bo = {.sampler = {.temperature = 0, .top_p = 1}, .max_new = 4};
  assert_int_equal(ivs_model_generate(m, reqs, 1, &bo, got), IVS_EINVAL);
  bo.sampler = (ivs_sampler){.temperature = 1, .top_p = 1.5};
  assert_int_equal(ivs_model_generate(m, reqs, 1, &bo, got), IVS_EINVAL);
  bo.sampler.top_p = 0;
  assert_int_equal(ivs_model_generate(m, reqs, 1, &bo, got), IVS_EINVAL);
  bo.sampler.top_p = 1, bo.max_new = 0;
  assert_int_equal(ivs_model_generate(m, reqs, 1, &bo, got), IVS_EINVAL);
  for (size_t k = 0; k < total; k++) ivs_decoded_release(&base[k]);
  ivs_model_free(m);
}

static void test_generate(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) check_model(models[i]);
}

/* The distribution transformers' warpers sample from, for logits z[V]:
 * temperature, top-k (keep >= the k-th largest), top-p (sorted ascending,
 * remove where the cumulative probability <= 1 - top_p, keep the last). */
static const double *cmp_z;
static int asc(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if (cmp_z[x] != cmp_z[y]) return cmp_z[x] < cmp_z[y] ? -1 : 1;
  return x > y ? -1 : x < y; /* ascending: among equals the higher id first, so the lower id is the larger */
}
static void expected(const float *logits, size_t V, const ivs_sampler *s, double *p) {
  double z[256];
  size_t order[256];
  for (size_t v = 0; v < V; v++) z[v] = (double)(logits[v] / (float)s->temperature), order[v] = v;
  if (s->top_k && s->top_k < V) {
    double sorted[256];
    memcpy(sorted, z, V * sizeof *z);
    for (size_t i = 0; i < V; i++)
      for (size_t j = i + 1; j < V; j++)
        if (sorted[j] > sorted[i]) {
          double t = sorted[i];
          sorted[i] = sorted[j], sorted[j] = t;
        }
    for (size_t v = 0; v < V; v++)
      if (z[v] < sorted[s->top_k - 1]) z[v] = -INFINITY;
  }
  double mx = -INFINITY, sum = 0;
  for (size_t v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
  for (size_t v = 0; v < V; v++) sum += p[v] = z[v] == -INFINITY ? 0 : exp(z[v] - mx);
  for (size_t v = 0; v < V; v++) p[v] /= sum;
  if (s->top_p < 1) {
    cmp_z = z;
    qsort(order, V, sizeof *order, asc);
    double cum = 0;
    for (size_t i = 0; i < V; i++) {
      cum += p[order[i]];
      if (cum <= 1 - s->top_p && i + 1 < V) z[order[i]] = -INFINITY;
    }
    sum = 0;
    for (size_t v = 0; v < V; v++) sum += p[v] = z[v] == -INFINITY ? 0 : exp(z[v] - mx);
    for (size_t v = 0; v < V; v++) p[v] /= sum;
  }
}

/* The chi-square statistic's upper 0.1% point for df degrees of freedom
 * (Wilson and Hilferty's cube-root approximation). */
static double chi2_crit(double df) {
  double z = 3.090232306, h = 2.0 / (9.0 * df);
  return df * pow(1 - h + z * sqrt(h), 3);
}

static void test_sampler_distribution(void **state) {
  (void)state;
  enum { V = 200, DRAWS = 100000 };
  float z[V];
  for (size_t v = 0; v < V; v++) z[v] = (float)(3.0 * sin(1.7 * (double)v) + 0.01 * (double)(v % 7));
  z[10] = z[11]; /* a tie */
  const ivs_sampler settings[] = {{.temperature = 1, .top_p = 1},          {.temperature = 0.7, .top_k = 10, .top_p = 1},
                                  {.temperature = 1.3, .top_p = 0.8},     {.temperature = 0.5, .top_k = 20, .top_p = 0.9},
                                  {.temperature = 2.0, .top_k = 1, .top_p = 1}};
  ivs_sample_scratch *sc;
  assert_int_equal(ivs_sample_scratch_new(&sc, V), 0);
  for (size_t c = 0; c < sizeof settings / sizeof *settings; c++) {
    double p[V];
    size_t count[V] = {0};
    expected(z, V, &settings[c], p);
    for (size_t d = 0; d < DRAWS; d++) {
      int32_t t = ivs_sample_pick(z, V, &settings[c], ivs_sample_uniform(42, c, 0, d), sc);
      assert_true(t >= 0 && t < V);
      count[t]++;
    }
    double chi = 0;
    size_t kept = 0;
    for (size_t v = 0; v < V; v++) {
      if (p[v] == 0) {
        if (count[v]) fail_msg("setting %zu: token %zu drawn %zu times, outside the kept set", c, v, count[v]);
        continue;
      }
      kept++;
      double e = p[v] * DRAWS;
      chi += (count[v] - e) * (count[v] - e) / e;
    }
    if (kept > 1 && chi > chi2_crit((double)(kept - 1)))
      fail_msg("setting %zu: chi-square %.1f over %zu tokens, the 0.1%% point is %.1f", c, chi, kept, chi2_crit((double)(kept - 1)));
    for (size_t v = 0; v < V && kept == 1; v++)
      if (p[v] > 0) assert_int_equal(count[v], DRAWS);
    printf("sampler setting %zu: %zu tokens kept, chi-square %.1f (0.1%% point %.1f)\n", c, kept, chi,
           kept > 1 ? chi2_crit((double)(kept - 1)) : 0.0);
  }
  /* top-k with many ties at the k-th value (5 levels): every token tied with it is kept */
  float q[V];
  for (size_t v = 0; v < V; v++) q[v] = (float)((v * 7) % 5);
  ivs_sampler tk = {.temperature = 1, .top_k = 7, .top_p = 1};
  double pq[V];
  expected(q, V, &tk, pq);
  size_t seen[V] = {0};
  for (size_t d = 0; d < 20000; d++) {
    int32_t t = ivs_sample_pick(q, V, &tk, ivs_sample_uniform(3, 9, 0, d), sc);
    assert_true(t >= 0 && t < V && pq[t] > 0);
    seen[t]++;
  }
  for (size_t v = 0; v < V; v++)
    if (pq[v] > 0 && !seen[v]) fail_msg("top-k with ties: token %zu (tied with the k-th) never drawn", v);
  /* greedy: the first of the largest */
  ivs_sampler g = {.greedy = 1};
  float tie[4] = {1, 3, 3, 2};
  assert_int_equal(ivs_sample_pick(tie, 4, &g, 0.5, sc), 1);
  ivs_sample_scratch_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sampler_distribution), cmocka_unit_test(test_generate)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

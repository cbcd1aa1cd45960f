/* The tokenizer against Hugging Face tokenizers' own ids (cases.jsonl and
 * every fixture model's reference.jsonl), decode round trips, bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

#define HF IVS_SHARED_DIR "/fixtures/hf-reference"

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)sz + 1);
  *n = fread(s, 1, (size_t)sz, f);
  s[*n] = 0;
  fclose(f);
  return s;
}

static ivs_tokenizer *load(const char *path) {
  ivs_tokenizer *t;
  if (ivs_tokenizer_load(&t, path)) fail_msg("load %s: %s", path, ivs_error_message());
  return t;
}

/* Appends the encoding of s to ids; returns the new count. */
static size_t enc_len(const ivs_tokenizer *t, const char *s, size_t len, int32_t *ids, size_t at, size_t cap) {
  int32_t *v;
  size_t n;
  if (ivs_tokenizer_encode(t, s, len, &v, &n)) fail_msg("encode: %s", ivs_error_message());
  for (size_t i = 0; i < n && at < cap; i++) ids[at++] = v[i];
  free(v);
  return at;
}

static size_t enc_into(const ivs_tokenizer *t, const char *s, int32_t *ids, size_t at, size_t cap) {
  return enc_len(t, s, strlen(s), ids, at, cap);
}

/* cJSON ends a string at \u0000: the line's \u0000 become U+E000 (absent
 * from the cases) and are turned back into NUL bytes here. */
static size_t unmark_nul(char *s) {
  size_t o = 0;
  for (size_t i = 0; s[i]; i++) {
    if (memcmp(s + i, "\xEE\x80\x80", 3) == 0) s[o++] = 0, i += 2;
    else s[o++] = s[i];
  }
  return o;
}

static char *mark_nul(const char *line) {
  char *m = malloc(strlen(line) + 1);
  size_t o = 0;
  for (size_t i = 0; line[i]; i++) {
    if (strncmp(line + i, "\\u0000", 6) == 0) memcpy(m + o, "\\uE000", 6), o += 6, i += 5;
    else m[o++] = line[i];
  }
  m[o] = 0;
  return m;
}

static int same(const int32_t *a, size_t na, const cJSON *want) {
  if ((size_t)cJSON_GetArraySize(want) != na) return 0;
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, want) if (a[i++] != (int32_t)e->valuedouble) return 0;
  return 1;
}

static void test_cases(void **state) {
  (void)state;
  ivs_tokenizer *g = load(HF "/tokenizers/gpt2.json"), *l = load(HF "/tokenizers/gpt2-llama3split.json");
  size_t n;
  char *all = slurp(HF "/tokenizers/cases.jsonl", &n);
  assert_non_null(all);
  int total = 0, ok_g = 0, ok_l = 0, ok_rt = 0;
  static int32_t ids[1 << 16];
  for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
    char *marked = mark_nul(line);
    cJSON *j = cJSON_Parse(marked);
    free(marked);
    char *text = cJSON_GetObjectItem(j, "text")->valuestring;
    size_t tl = unmark_nul(text);
    total++;
    size_t k = enc_len(g, text, tl, ids, 0, 1 << 16);
    if (same(ids, k, cJSON_GetObjectItem(j, "gpt2"))) ok_g++;
    else print_message("gpt2 mismatch: %s\n", line);
    char *back;
    size_t bl;
    assert_int_equal(ivs_tokenizer_decode(g, ids, k, 0, &back, &bl), 0);
    if (bl == tl && memcmp(back, text, bl) == 0) ok_rt++;
    else print_message("round trip mismatch: %s\n", line);
    free(back);
    k = enc_len(l, text, tl, ids, 0, 1 << 16);
    if (same(ids, k, cJSON_GetObjectItem(j, "llama3split"))) ok_l++;
    else print_message("llama3split mismatch: %s\n", line);
    cJSON_Delete(j);
  }
  print_message("cases: %d, gpt2 %d, llama3split %d, round trip %d\n", total, ok_g, ok_l, ok_rt);
  assert_int_equal(total, 200);
  assert_int_equal(ok_g, total);
  assert_int_equal(ok_l, total);
  assert_int_equal(ok_rt, total);
  free(all);
  ivs_tokenizer_free(g);
  ivs_tokenizer_free(l);
}

static void test_known(void **state) {
  (void)state;
  ivs_tokenizer *g = load(HF "/tokenizers/gpt2.json");
  int32_t ids[8];
  assert_int_equal(enc_into(g, "Hello world", ids, 0, 8), 2);
  assert_int_equal(ids[0], 15496);
  assert_int_equal(ids[1], 995);
  assert_int_equal(enc_into(g, "\n\n", ids, 0, 8), 1);
  assert_int_equal(ids[0], 628);
  assert_int_equal(ivs_tokenizer_vocab_size(g), 50257);
  assert_int_equal(ivs_tokenizer_token_to_id(g, "\xC4\xA0world", 7), 995);
  size_t len;
  const char *s = ivs_tokenizer_id_to_token(g, 15496, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(s, "Hello", 5);
  assert_null(ivs_tokenizer_id_to_token(g, 50257, NULL));
  int32_t *v;
  size_t n;
  assert_int_equal(ivs_tokenizer_encode(g, "a\xFF", 2, &v, &n), IVS_EINVAL);
  ivs_tokenizer_free(g);
}

static void test_models(void **state) {
  (void)state;
  static const char *const models[] = {"gpt2-bf16", "gpt2-f16", "gpt2-f32", "gpt2-l", "gpt2-m",
                                       "gpt2-s",    "llama",    "opt",      "pythia", "qwen2"};
  static int32_t ids[4096];
  for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
    char path[512];
    snprintf(path, sizeof path, HF "/models/%s", models[m]);
    ivs_tokenizer *t = load(path); /* a directory */
    snprintf(path, sizeof path, HF "/models/%s/reference.jsonl", models[m]);
    size_t n;
    char *all = slurp(path, &n);
    assert_non_null(all);
    int lines = 0;
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
      cJSON *j = cJSON_Parse(line);
      size_t k = 0;
      if (strcmp(models[m], "opt") == 0) ids[k++] = 0; /* OPT's BOS comes from transformers, not tokenizer.json */
      k = enc_into(t, cJSON_GetObjectItem(j, "prompt")->valuestring, ids, k, 4096);
      k = enc_into(t, cJSON_GetObjectItem(j, "continuation")->valuestring, ids, k, 4096);
      if (!same(ids, k, cJSON_GetObjectItem(j, "ids"))) fail_msg("%s: mismatch on %s", models[m], line);
      cJSON_Delete(j);
      lines++;
    }
    assert_true(lines > 0);
    /* the added token is split out first */
    int32_t v[16];
    size_t kk = enc_into(t, "a<|endoftext|>b", v, 0, 16);
    assert_true(kk >= 3);
    int found = 0;
    for (size_t i = 0; i < kk; i++) found |= v[i] == 0;
    assert_true(found);
    free(all);
    ivs_tokenizer_free(t);
  }
}

static void expect_bad(const char *json, const char *part) {
  const char *p = tmpfile_with(json, strlen(json));
  ivs_tokenizer *t = (ivs_tokenizer *)1;
  int rc = ivs_tokenizer_load(&t, p);
  if (rc == 0) fail_msg("%s should fail", json);
  assert_null(t);
  if (!strstr(ivs_error_message(), p)) fail_msg("'%s' does not name the file", ivs_error_message());
  if (!strstr(ivs_error_message(), part)) fail_msg("'%s' lacks '%s'", ivs_error_message(), part);
  remove(p);
}

#define MODEL "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}"

static void test_bad(void **state) {
  (void)state;
  ivs_tokenizer *t;
  assert_int_equal(ivs_tokenizer_load(&t, "/nonexistent/tokenizer.json"), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "/nonexistent/tokenizer.json"));
  expect_bad("{\"model\": ", "invalid JSON");
  expect_bad("{" MODEL ",\"pre_tokenizer\":{\"type\":\"UnicodeScripts\"}}", "pre_tokenizer type 'UnicodeScripts'");
  expect_bad("{" MODEL ",\"normalizer\":{\"type\":\"BertNormalizer\"}}", "normalizer type 'BertNormalizer'");
  expect_bad("{" MODEL ",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Precompiled\"}]}}",
             "normalizer type 'Precompiled'");
  expect_bad("{" MODEL ",\"decoder\":{\"type\":\"WordPiece\"}}", "decoder type 'WordPiece'");
  expect_bad("{" MODEL ",\"post_processor\":{\"type\":\"Nope\"}}", "post_processor type 'Nope'");
  expect_bad("{" MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}",
             "does not compile");
  expect_bad("{" MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}}",
             "unknown 'behavior' Sideways");
  expect_bad("{" MODEL ",\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"ab\"}}", "'replacement' is not one character");
  expect_bad("{" MODEL ",\"added_tokens\":[{\"id\":7,\"content\":\"<x>\"}]}", "Hugging Face numbers it 3");
  expect_bad("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "model type 'Unigram'");
  expect_bad("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a c\"]}}", "not in the vocab");
  expect_bad("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "model type 'WordPiece'");
  /* a truncated real file */
  size_t n;
  char *all = slurp(HF "/tokenizers/gpt2.json", &n);
  all[n / 2] = 0;
  expect_bad(all, "invalid JSON");
  free(all);
  /* a minimal good one with [a, b] merges and a template */
  const char *ok = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"<s>\":3},\"merges\":[[\"a\",\"b\"]]},"
                   "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},"
                   "{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[3]}}}}";
  const char *p = tmpfile_with(ok, strlen(ok));
  assert_int_equal(ivs_tokenizer_load(&t, p), 0);
  int32_t *v;
  assert_int_equal(ivs_tokenizer_encode(t, "abab", 4, &v, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(v[0], 2);
  free(v);
  const int32_t *pre;
  ivs_tokenizer_special_prefix(t, &pre, &n);
  assert_int_equal(n, 1);
  assert_int_equal(pre[0], 3);
  ivs_tokenizer_free(t);
  remove(p);
}

static void encode_expect(const char *json, const char *text, size_t n, const int32_t *want) {
  const char *p = tmpfile_with(json, strlen(json));
  ivs_tokenizer *t = load(p);
  int32_t *v;
  size_t nv;
  assert_int_equal(ivs_tokenizer_encode(t, text, strlen(text), &v, &nv), 0);
  assert_int_equal(nv, n);
  for (size_t i = 0; i < n; i++) assert_int_equal(v[i], want[i]);
  free(v);
  ivs_tokenizer_free(t);
  remove(p);
}

#define SMALL "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\" \":2,\"<\":4,\"m\":5,\">\":6,\"c\":3},\"merges\":[]}"

/* lstrip/rstrip take the whitespace around an added token; single_word
 * refuses a match inside a word. */
static void test_added_flags(void **state) {
  (void)state;
  encode_expect("{" SMALL ",\"added_tokens\":[{\"id\":7,\"content\":\"<m>\",\"lstrip\":true,\"rstrip\":true,"
                "\"special\":true,\"normalized\":false}]}",
                "a  <m> b", 3, (const int32_t[]){0, 7, 1});
  encode_expect("{" SMALL ",\"added_tokens\":[{\"id\":7,\"content\":\"<m>\",\"special\":true,\"normalized\":false}]}",
                "a <m> b", 5, (const int32_t[]){0, 2, 7, 2, 1});
  encode_expect("{" SMALL ",\"added_tokens\":[{\"id\":7,\"content\":\"<m>\",\"single_word\":true,\"special\":true,"
                "\"normalized\":false}]}",
                "a<m>b <m>", 7, (const int32_t[]){0, 4, 5, 6, 1, 2, 7});
}

static ivs_tokenizer *parse(const char *json) {
  ivs_tokenizer *t;
  if (ivs_tokenizer_parse(&t, json, strlen(json), "test.json")) fail_msg("parse: %s", ivs_error_message());
  return t;
}

/* --special puts the post-processor's ids around the text, even an empty one. */
static void test_special(void **state) {
  (void)state;
  ivs_tokenizer *t = parse("{" SMALL ",\"post_processor\":{\"type\":\"Sequence\",\"processors\":["
                           "{\"type\":\"RobertaProcessing\",\"cls\":[\"a\",0],\"sep\":[\"b\",1]},"
                           "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"m\"}},{\"Sequence\":{\"id\":\"A\"}}],"
                           "\"special_tokens\":{\"m\":{\"id\":\"m\",\"ids\":[5]}}}]}}");
  int32_t *v;
  size_t n;
  assert_int_equal(ivs_tokenizer_encode_special(t, "<", 1, &v, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(v[0], 5), assert_int_equal(v[1], 0), assert_int_equal(v[2], 4), assert_int_equal(v[3], 1);
  free(v);
  assert_int_equal(ivs_tokenizer_encode_special(t, "", 0, &v, &n), 0);
  assert_int_equal(n, 3);
  free(v);
  assert_int_equal(ivs_tokenizer_encode(t, "", 0, &v, &n), 0);
  assert_int_equal(n, 0);
  free(v);
  ivs_tokenizer_free(t);
}

/* Errors that only encoding or decoding can meet. */
static void test_encode_errors(void **state) {
  (void)state;
  ivs_tokenizer *t = parse("{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<nope>\",\"vocab\":{\"a\":0},\"merges\":[]}}");
  int32_t *v;
  size_t n;
  assert_int_equal(ivs_tokenizer_encode(t, "aa", 2, &v, &n), 0);
  free(v);
  assert_int_equal(ivs_tokenizer_encode(t, "ab", 2, &v, &n), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "unk_token '<nope>'"));
  char *text;
  assert_int_equal(ivs_tokenizer_decode(t, (const int32_t[]){0, 7}, 2, 0, &text, &n), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "id 7"));
  ivs_tokenizer_free(t);
  /* no decoder: the tokens joined with spaces, as HF does */
  t = parse("{" SMALL "}");
  assert_int_equal(ivs_tokenizer_decode(t, (const int32_t[]){0, 1, 2}, 3, 0, &text, &n), 0);
  assert_string_equal(text, "a b  ");
  free(text);
  ivs_tokenizer_free(t);
}

/* The per-thread word cache belongs to one tokenizer at a time: switching
 * between two (and loading one where a freed one was) gives each its own ids. */
static void test_cache_switch(void **state) {
  (void)state;
  static const char text[] = "Hello world Hello world";
  int32_t *v;
  size_t n;
  for (int round = 0; round < 3; round++) {
    ivs_tokenizer *g = load(HF "/tokenizers/gpt2.json");
    ivs_tokenizer *o = parse("{\"model\":{\"type\":\"BPE\",\"unk_token\":\"?\",\"ignore_merges\":true,\"fuse_unk\":true,\"vocab\":{\"?\":0,\"Hello\":1},\"merges\":[]},"
                             "\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"}}");
    for (int k = 0; k < 2; k++) {
      assert_int_equal(ivs_tokenizer_encode(g, text, strlen(text), &v, &n), 0);
      assert_int_equal(n, 4);
      assert_int_equal(v[0], 15496), assert_int_equal(v[1], 995);
      free(v);
      assert_int_equal(ivs_tokenizer_encode(o, text, strlen(text), &v, &n), 0);
      assert_int_equal(n, 4); /* Hello, ?, Hello, ? (whole words; the unknown one fused) */
      assert_int_equal(v[0], 1), assert_int_equal(v[1], 0);
      free(v);
    }
    ivs_tokenizer_free(g);
    ivs_tokenizer_free(o);
  }
}

typedef struct { const ivs_tokenizer *t; const char *s; size_t len; int32_t *ids; size_t n; int rc; } job;

static void *run_job(void *p) {
  job *j = p;
  for (int k = 0; k < 20 && !j->rc; k++) {
    free(j->ids);
    j->rc = ivs_tokenizer_encode(j->t, j->s, j->len, &j->ids, &j->n);
  }
  return NULL;
}

/* One tokenizer, several threads at once: the same ids as one thread alone. */
static void test_threads(void **state) {
  (void)state;
  ivs_tokenizer *t = load(HF "/tokenizers/gpt2-llama3split.json");
  size_t n;
  char *all = slurp(HF "/tokenizers/cases.jsonl", &n);
  job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) jobs[i] = (job){t, all, n, NULL, 0, 0};
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  int32_t *v;
  size_t nv;
  assert_int_equal(ivs_tokenizer_encode(t, all, n, &v, &nv), 0);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(jobs[i].rc, 0);
    assert_int_equal(jobs[i].n, nv);
    assert_memory_equal(jobs[i].ids, v, nv * sizeof *v);
    free(jobs[i].ids);
  }
  free(v);
  /* a long text (the workspace grows past its keep size, then shrinks) */
  size_t big = (size_t)6 << 20;
  char *s = malloc(big);
  for (size_t i = 0; i < big; i++) s[i] = "ab  cd\n"[i % 8];
  assert_int_equal(ivs_tokenizer_encode(t, s, big, &v, &nv), 0);
  assert_true(nv > big / 8);
  free(v);
  free(s);
  free(all);
  ivs_tokenizer_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known),
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_bad),
      cmocka_unit_test(test_added_flags),
      cmocka_unit_test(test_special),
      cmocka_unit_test(test_encode_errors),
      cmocka_unit_test(test_cache_switch),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

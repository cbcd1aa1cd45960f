/* validate's tokenizer rules (export/tokrules.h, export/tokqueue.h) with the
 * real GPT-2 tokenizer and the fixtures' others: each rule against what the
 * tokenizer itself gives, the one-tokenization-per-prompt path against
 * tokenizing every text whole, and the same diagnostics in the same order on
 * any number of threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "export/rules.h"
#include "export/tokrules.h"
#include "ingest/jsonl.h"
#include "tokenizer/tokenizer.h"

#define HF IVS_SHARED_DIR "/fixtures/hf-reference"
#define GPT2 HF "/tokenizers/gpt2.json"

static ivs_tokenizer *load(const char *path) {
  ivs_tokenizer *t;
  if (ivs_tokenizer_load(&t, path)) fail_msg("load %s: %s", path, ivs_error_message());
  return t;
}

/* GPT-2's tokenizer, loaded once for the tests (loading it is the slow part
 * under the sanitizers). */
static ivs_tokenizer *gpt2;

static int setup(void **state) {
  (void)state;
  return ivs_tokenizer_load(&gpt2, GPT2);
}

static int teardown(void **state) {
  (void)state;
  ivs_tokenizer_free(gpt2);
  return 0;
}

typedef struct {
  int32_t *v;
  size_t n;
} ids;

static ids enc(const ivs_tokenizer *t, const char *s, size_t len) {
  ids r;
  if (ivs_tokenizer_encode(t, s, len, &r.v, &r.n)) fail_msg("encode: %s", ivs_error_message());
  return r;
}

static ids enc2(const ivs_tokenizer *t, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  memcpy(s, a, la);
  memcpy(s + la, b, lb + 1);
  ids r = enc(t, s, la + lb);
  free(s);
  return r;
}

static int starts_with(ids a, ids p) { return a.n >= p.n && (p.n == 0 || !memcmp(a.v, p.v, p.n * sizeof *p.v)); }

/* ---- collecting diagnostics ---- */

#define MAX_DIAGS 20000

typedef struct {
  size_t n;
  size_t line[MAX_DIAGS];
  const char *rule[MAX_DIAGS];
  char *text[MAX_DIAGS]; /* "rule|field|column|message" */
} diags;

static int keep(const ivs_vdiag *d, void *ud) {
  diags *ds = ud;
  if (ds->n == MAX_DIAGS) return 0;
  char buf[600];
  snprintf(buf, sizeof buf, "%s|%s|%zu|%s", d->rule, d->field, d->column, d->message);
  ds->line[ds->n] = d->line;
  ds->rule[ds->n] = d->rule;
  ds->text[ds->n++] = strdup(buf);
  return 0;
}

static void diags_clear(diags *ds) {
  for (size_t i = 0; i < ds->n; i++) free(ds->text[i]);
  ds->n = 0;
}

static size_t count_rule(const diags *ds, const char *rule) {
  size_t k = 0;
  for (size_t i = 0; i < ds->n; i++) k += !strcmp(ds->rule[i], rule);
  return k;
}

static const char *find_rule(const diags *ds, const char *rule, size_t line) {
  for (size_t i = 0; i < ds->n; i++)
    if (!strcmp(ds->rule[i], rule) && ds->line[i] == line) return ds->text[i];
  return NULL;
}

/* ---- running the validator on JSONL text ---- */

typedef struct {
  ivs_validator *v;
  const char *raw;
  size_t raw_len;
} run;

static int on_record(const ivs_record *rec, void *ud) {
  run *r = ud;
  return ivs_validator_record(r->v, rec, r->raw, r->raw_len);
}

/* Validates the lines of `text` with tokenizer t; diagnostics into ds. */
static ivs_validate_stats validate_text(const ivs_tokenizer *t, const char *text, size_t max_tokens, unsigned threads,
                                        diags *ds) {
  ivs_validate_opts o = IVS_VALIDATE_OPTS_INIT;
  o.min_examples = 0, o.json_types = 1, o.on_diag = keep, o.ud = ds;
  o.tokenizer = t, o.max_tokens = max_tokens, o.threads = threads;
  run r = {NULL, NULL, 0};
  assert_int_equal(ivs_validator_new(&r.v, &o), 0);
  size_t line = 1;
  for (const char *p = text; *p; line++) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    r.raw = p, r.raw_len = n;
    ivs_json_arena_begin();
    assert_int_equal(ivs_jsonl_line("t.jsonl", line, p, n, on_record, &r), 0);
    ivs_json_arena_end();
    p += n + (nl != NULL);
  }
  assert_int_equal(ivs_validator_finish(r.v), 0);
  ivs_validate_stats st = *ivs_validator_stats(r.v);
  ivs_validator_free(r.v);
  ivs_json_arena_release();
  return st;
}

/* ---- tests ---- */

/* What the tests below build on: GPT-2's own ids. */
static void test_gpt2_facts(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  ids a = enc(t, " Yes", 4), b = enc(t, " No", 3), c = enc(t, "Hello world", 11);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.v[0], 3363);
  assert_int_equal(b.n, 1);
  assert_int_equal(b.v[0], 1400);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.v[0], 15496);
  assert_int_equal(c.v[1], 995);
  free(a.v), free(b.v), free(c.v);
}

/* A class that merges with the prompt's end is reported, with the tokens
 * decoded; one on a boundary is not; each decision is the tokenizer's. */
static void test_boundary(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static const char *const pairs[][2] = {
      {"This is", "n't"},           {"This is", " not"},          {"The answer is ", "yes"},
      {"The answer is ", " yes"},   {"The answer is", " yes"},    {"Q: 2+2=\nA:", "4"},
      {"Q: 2+2=\nA: ", "4"},        {"Say it:", " Hello world"}, {"Hello", " world"},
      {"Hello wor", "ld"},          {"A:\n", "Yes"},              {"x", "'s"},
  };
  size_t n = sizeof pairs / sizeof *pairs;
  static diags ds;
  for (size_t i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject(), *cl = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "prompt", pairs[i][0]);
    cJSON_AddItemToArray(cl, cJSON_CreateString(pairs[i][1]));
    cJSON_AddItemToArray(cl, cJSON_CreateString(" zzz"));
    cJSON_AddItemToObject(o, "classes", cl);
    cJSON_AddNumberToObject(o, "answer_index", 0);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    validate_text(t, line, 0, 1, &ds);
    free(line);
    ids p = enc(t, pairs[i][0], strlen(pairs[i][0])), j = enc2(t, pairs[i][0], pairs[i][1]),
        c = enc(t, pairs[i][1], strlen(pairs[i][1]));
    int ok = starts_with(j, p) && j.n - p.n == c.n;
    const char *d = find_rule(&ds, "token-boundary", 1);
    if (ok == (d != NULL)) fail_msg("'%s' + '%s': tokenizer says %s, validate says %s", pairs[i][0], pairs[i][1],
                                    ok ? "on a boundary" : "merged", d ? d : "nothing");
    free(p.v), free(j.v), free(c.v);
    diags_clear(&ds);
  }
  /* the message decodes the merged tokens and those the prize scored */
  validate_text(t, "{\"prompt\":\"This is\",\"classes\":[\"n't\",\" not\"],\"answer_index\":0}", 0, 1, &ds);
  const char *d = find_rule(&ds, "token-boundary", 1);
  assert_non_null(d);
  assert_non_null(strstr(d, "classes|"));
  assert_non_null(strstr(d, "class 0 (\"n't\") does not start on a token boundary after the prompt: its last token \" is\" "
                            "and the class become \" isn\" \"'t\"; the prize scored the last 2 tokens, \" isn\" \"'t\""));
  assert_int_equal(count_rule(&ds, "token-boundary"), 1);
  diags_clear(&ds);
  /* a prompt ending in whitespace: the error, and the hint with the warning */
  validate_text(t, "{\"prompt\":\"The answer is \",\"classes\":[\"yes\",\"no\"],\"answer_index\":0}", 0, 1, &ds);
  assert_int_equal(count_rule(&ds, "trailing-whitespace"), 1);
  assert_int_equal(count_rule(&ds, "token-boundary"), 2);
  assert_non_null(strstr(find_rule(&ds, "token-boundary", 1), "move it to the start of the classes"));
  diags_clear(&ds);
}

static void test_logodds(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static diags ds;
  const char *text =
      "{\"prompt\":\"Q: Is it?\\nA:\",\"other_prompt\":\"Q: Was it?\\nA:\",\"classes\":[\" Yes\",\" No\"],\"answer_index\":0}\n"
      "{\"prompt\":\"Q: Is it?\\nA:\",\"other_prompt\":\"Q: Was it?\\nA:\",\"classes\":[\" heavy.\",\" No\"],\"answer_index\":1}\n"
      "{\"prompt\":\"It is\",\"other_prompt\":\"It was\",\"classes\":[\" very good\",\" very bad\"],\"answer_index\":1}\n"
      "{\"prompt\":\"This is\",\"biased_prompt\":\"That is\",\"classes\":[\"n't\",\" No\"],\"answer_index\":1}\n";
  ivs_validate_stats st = validate_text(t, text, 0, 2, &ds);
  assert_int_equal(st.type, IVS_TYPE_LOGODDS);
  assert_null(find_rule(&ds, "single-token", 1));
  assert_null(find_rule(&ds, "token-boundary", 1));
  assert_null(find_rule(&ds, "same-first-token", 1));
  const char *d = find_rule(&ds, "single-token", 2);
  assert_non_null(d);
  assert_non_null(strstr(d, "class 0 (\" heavy.\") is 2 tokens, \" heavy\" \".\": a log-odds class must be one token "
                            "(the prize's pipeline used the last, \".\")"));
  assert_non_null(strstr(find_rule(&ds, "same-first-token", 3), "classes 0 and 1 both start with the token \" very\""));
  /* after prompt and after other_prompt (named as the file names it) */
  size_t k = 0;
  for (size_t i = 0; i < ds.n; i++)
    if (ds.line[i] == 4 && !strcmp(ds.rule[i], "token-boundary")) {
      assert_non_null(strstr(ds.text[i], k ? "after the biased_prompt" : "after the prompt"));
      k++;
    }
  assert_int_equal(k, 2);
  diags_clear(&ds);
}

static void test_same_first_token(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static diags ds;
  validate_text(t,
                "{\"prompt\":\"Q: Is it?\\nA:\",\"classes\":[\" no\",\" yes please\",\" maybe\",\" yes\"],\"answer_index\":1}\n"
                "{\"prompt\":\"Q: Is it?\\nA:\",\"classes\":[\" Yes\",\" No\"],\"answer_index\":1}\n",
                0, 1, &ds);
  const char *d = find_rule(&ds, "same-first-token", 1);
  assert_non_null(d);
  assert_non_null(strstr(d, "classes 1 and 3 both start with the token \" yes\" after the prompt"));
  assert_null(find_rule(&ds, "same-first-token", 2));
  diags_clear(&ds);
  /* many classes (the sorted path): the pair found first, as the plain search finds it */
  static const char *const words[] = {" alpha", " beta", " gamma", " delta", " epsilon", " zeta", " eta", " theta"};
  for (int round = 0; round < 8; round++) {
    cJSON *o = cJSON_CreateObject(), *cl = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "prompt", "Pick one:");
    uint32_t x = 77u + (uint32_t)round * 1013u;
    for (int i = 0; i < 100; i++) {
      char c[64];
      x = x * 1103515245u + 12345u;
      /* rounds 0-3: the first 90 classes of distinct first tokens, some of
       * the last 10 sharing one; then words repeated at random */
      if (round < 4 && i < 90) snprintf(c, sizeof c, " %c%c%c", 'a' + i % 26, 'a' + (i / 26) % 26, 'q');
      else snprintf(c, sizeof c, "%s %d", words[(x >> 16) % 8], i);
      cJSON_AddItemToArray(cl, cJSON_CreateString(c));
    }
    cJSON_AddItemToObject(o, "classes", cl);
    cJSON_AddNumberToObject(o, "answer_index", 0);
    char *line = cJSON_PrintUnformatted(o);
    validate_text(t, line, 0, 1, &ds);
    /* expected from the tokenizer: first tokens of prompt + class after the prompt's */
    ids p = enc(t, "Pick one:", 9);
    int32_t f[100];
    for (int i = 0; i < 100; i++) {
      ids j = enc2(t, "Pick one:", cJSON_GetArrayItem(cl, i)->valuestring);
      ids c = enc(t, cJSON_GetArrayItem(cl, i)->valuestring, strlen(cJSON_GetArrayItem(cl, i)->valuestring));
      f[i] = j.v[j.n - c.n];
      free(j.v), free(c.v);
    }
    int a = -1, b = -1;
    for (int j = 1; j < 100 && b < 0; j++)
      for (int i = 0; i < j; i++)
        if (f[i] == f[j]) {
          a = i, b = j;
          break;
        }
    char want[64];
    snprintf(want, sizeof want, "classes %d and %d both", a, b);
    d = find_rule(&ds, "same-first-token", 1);
    if (b < 0) assert_null(d);
    else if (!d || !strstr(d, want)) fail_msg("round %d: want '%s', got %s", round, want, d ? d : "nothing");
    free(p.v);
    free(line);
    cJSON_Delete(o);
    diags_clear(&ds);
  }
}

/* prompt + class over --max-tokens, at the limit and one past it. */
static void test_max_tokens(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static diags ds;
  size_t cap = 8192;
  char *prompt = malloc(cap), *line = malloc(cap + 200);
  strcpy(prompt, "Count:");
  for (int i = 0; i < 1000; i++) strcat(prompt, " a");
  ids p = enc(t, prompt, strlen(prompt)), j1 = enc2(t, prompt, " b"), j2 = enc2(t, prompt, " b c d");
  assert_int_equal(j1.n, p.n + 1);
  assert_int_equal(j2.n, p.n + 3);
  snprintf(line, cap + 200, "{\"prompt\":\"%s\",\"classes\":[\" b\",\" b c d\"],\"answer_index\":0}", prompt);
  ivs_validate_stats st = validate_text(t, line, j2.n, 1, &ds); /* at the limit */
  assert_int_equal(count_rule(&ds, "max-tokens"), 0);
  assert_int_equal(st.tokens_max, j2.n);
  assert_int_equal(st.tokenized, 1);
  diags_clear(&ds);
  validate_text(t, line, j2.n - 1, 1, &ds); /* one past */
  const char *d = find_rule(&ds, "max-tokens", 1);
  assert_non_null(d);
  char want[200];
  snprintf(want, sizeof want, "max-tokens|prompt|0|prompt + class 1 is %zu tokens (the prompt %zu), over --max-tokens %zu",
           j2.n, p.n, j2.n - 1);
  if (!strstr(d, want)) fail_msg("want '%s' in '%s'", want, d);
  diags_clear(&ds);
  /* the default is 1023 */
  strcpy(prompt, "Count:");
  for (int i = 0; i < 1030; i++) strcat(prompt, " a");
  snprintf(line, cap + 200, "{\"prompt\":\"%s\",\"classes\":[\" b\",\" c\"],\"answer_index\":0}", prompt);
  validate_text(t, line, 0, 1, &ds);
  assert_non_null(strstr(find_rule(&ds, "max-tokens", 1), "over --max-tokens 1023"));
  diags_clear(&ds);
  free(p.v), free(j1.v), free(j2.v), free(prompt), free(line);
}

/* sequence_prob: the completion, named as such. */
static void test_completion(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static diags ds;
  validate_text(t, "{\"prompt\":\"Once upon\",\"completion\":\" a time\"}\n{\"prompt\":\"This is\",\"completion\":\"n't it\"}\n",
                0, 1, &ds);
  assert_null(find_rule(&ds, "token-boundary", 1));
  const char *d = find_rule(&ds, "token-boundary", 2);
  assert_non_null(d);
  assert_non_null(strstr(d, "token-boundary|completion|"));
  assert_non_null(strstr(d, "the completion (\"n't it\") does not start on a token boundary after the prompt"));
  diags_clear(&ds);
}

/* An escaped NUL is tokenized as the character it is. */
static void test_nul(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  static diags ds;
  ivs_validate_stats st =
      validate_text(t, "{\"prompt\":\"A\\u0000B:\",\"classes\":[\" Yes\",\" No\"],\"answer_index\":0}", 0, 1, &ds);
  ids j = enc(t, "A\0B: Yes", 8);
  assert_int_equal(st.tokens_max, j.n);
  assert_int_equal(count_rule(&ds, "token-boundary"), 0);
  free(j.v);
  diags_clear(&ds);
}

/* ---- the one-tokenization path against whole texts ---- */

static const char *const frag[] = {
    " the",    " quick", " brown", " fox",  "'s",      "n't",  " don't", ",",     ".",        "!",     "?",
    "\n",      "\n\n",   "  ",     "   ",   " 42",     "42",   "2023",   " café", " 日本語", "語",    " 😀",
    "\t",      ":",      "A:",     " Q:",   "<|endoftext|>",   " x",     "y",     "  word",   " e\xcc\x81", "--",
};
static const char *const cls[] = {" yes", "yes",  " no", "n't", "'s", " 42", "42", "\n", " ", "  x",  "\xcc\x81",
                                  "!",    "...", " café", "語", "😀", " the end", "<|endoftext|>", "\t1", " A"};

static void random_text(uint32_t *x, char *out, size_t cap, int words) {
  size_t n = 0;
  out[0] = 0;
  for (int i = 0; i < words; i++) {
    *x = *x * 1664525u + 1013904223u;
    const char *f = frag[(*x >> 8) % (sizeof frag / sizeof *frag)];
    size_t l = strlen(f);
    if (n + l + 1 >= cap) break;
    memcpy(out + n, f, l + 1);
    n += l;
  }
}

/* Every diagnostic and length the same when each text is tokenized whole. */
static void check_paths(const ivs_tokenizer *t, const char *label) {
  static diags a, b;
  char prompt[2][4096];
  const char *classes[4];
  size_t lens[4];
  uint32_t x = 2024;
  ivs_tokscratch *s1, *s2;
  assert_int_equal(ivs_tokscratch_new(&s1), 0);
  assert_int_equal(ivs_tokscratch_new(&s2), 0);
  size_t spliced = 0, cases = 0, merged = 0;
  for (int i = 0; i < 400; i++) {
    int logodds = i % 5 == 4, seq = i % 7 == 3;
    random_text(&x, prompt[0], sizeof prompt[0], 20 + i % 120);
    random_text(&x, prompt[1], sizeof prompt[1], 30 + i % 50);
    size_t nc = seq ? 1 : 2 + (size_t)(i % 3);
    for (size_t j = 0; j < nc; j++) {
      x = x * 1664525u + 1013904223u;
      classes[j] = cls[(x >> 8) % (sizeof cls / sizeof *cls)];
      lens[j] = strlen(classes[j]);
    }
    ivs_tok_example ex = {.type = seq       ? IVS_TYPE_SEQUENCE_PROB
                                  : logodds ? IVS_TYPE_LOGODDS
                                            : IVS_TYPE_CLASSIFICATION,
                          .line = (size_t)i + 1,
                          .classes = classes,
                          .class_lens = lens,
                          .nclasses = nc,
                          .classes_column = 3};
    ex.prompt[0] = prompt[0], ex.prompt_len[0] = strlen(prompt[0]), ex.prompt_field[0] = "prompt";
    if (logodds) ex.prompt[1] = prompt[1], ex.prompt_len[1] = strlen(prompt[1]), ex.prompt_field[1] = "other_prompt";
    ivs_tokrules fast = {t, 200, 0}, whole = {t, 200, 1};
    size_t la, lb;
    assert_int_equal(ivs_tokrules_check(&fast, s1, &ex, &la, keep, &a), 0);
    assert_int_equal(ivs_tokrules_check(&whole, s2, &ex, &lb, keep, &b), 0);
    if (la != lb || a.n != b.n) fail_msg("%s example %d: longest %zu / %zu, %zu / %zu diagnostics", label, i, la, lb, a.n, b.n);
    for (size_t k = 0; k < a.n; k++)
      if (strcmp(a.text[k], b.text[k])) fail_msg("%s example %d:\n  %s\n  %s", label, i, a.text[k], b.text[k]);
    /* and the plain definition: prompt + class begins with the prompt's tokens */
    size_t want = 0;
    for (int f = 0; f < 1 + logodds; f++) {
      ids p = enc(t, prompt[f], strlen(prompt[f]));
      for (size_t j = 0; j < nc; j++) {
        ids jt = enc2(t, prompt[f], classes[j]), c = enc(t, classes[j], lens[j]);
        want += !(starts_with(jt, p) && jt.n - p.n == c.n);
        free(jt.v), free(c.v);
      }
      free(p.v);
    }
    if (count_rule(&a, "token-boundary") != want) fail_msg("%s example %d: %zu token-boundary, want %zu", label, i,
                                                        count_rule(&a, "token-boundary"), want);
    merged += want;
    cases++;
    diags_clear(&a);
    diags_clear(&b);
  }
  spliced = ivs_tokscratch_cuts(s1);
  print_message("%s: %zu examples, %zu prompts tokenized once, %zu merged classes: the same\n", label, cases, spliced,
                merged);
  assert_true(merged > 0);
  assert_true(spliced > cases / 2);
  assert_int_equal(ivs_tokscratch_cuts(s2), 0);
  ivs_tokscratch_free(s1);
  ivs_tokscratch_free(s2);
}

/* The fixture tokenizer with Pythia-like added tokens (runs of spaces, not
 * special) and a start token, written to a temporary file. */
static char *variant_path(void) {
  FILE *f = fopen(HF "/models/pythia/tokenizer.json", "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = 0;
  fclose(f);
  cJSON *j = cJSON_Parse(s);
  free(s);
  assert_non_null(j);
  cJSON *added = cJSON_GetObjectItem(j, "added_tokens");
  for (int k = 2; k <= 8; k++) {
    char sp[16];
    memset(sp, ' ', (size_t)k);
    sp[k] = 0;
    cJSON *a = cJSON_CreateObject();
    /* ids right after the vocabulary, where Hugging Face numbers them (invscale refuses others) */
    cJSON_AddNumberToObject(a, "id", 1022 + k);
    cJSON_AddStringToObject(a, "content", sp);
    cJSON_AddBoolToObject(a, "single_word", 0);
    cJSON_AddBoolToObject(a, "lstrip", 0);
    cJSON_AddBoolToObject(a, "rstrip", 0);
    cJSON_AddBoolToObject(a, "normalized", 1);
    cJSON_AddBoolToObject(a, "special", 0);
    cJSON_AddItemToArray(added, a);
  }
  cJSON *pp = cJSON_Parse("{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|endoftext|>\","
                          "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":"
                          "{\"<|endoftext|>\":{\"id\":\"<|endoftext|>\",\"ids\":[0],\"tokens\":[\"<|endoftext|>\"]}}}");
  cJSON_ReplaceItemInObject(j, "post_processor", pp);
  char *out = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  static char path[] = "/tmp/ivs_tokrules_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  f = fdopen(fd, "wb");
  fputs(out, f);
  fclose(f);
  free(out);
  return path;
}

static void test_paths_gpt2(void **state) {
  (void)state;
  check_paths(gpt2, "gpt2");
}
static void test_paths_llama3split(void **state) {
  (void)state;
  ivs_tokenizer *t = load(HF "/tokenizers/gpt2-llama3split.json");
  check_paths(t, "gpt2-llama3split");
  ivs_tokenizer_free(t);
}
static void test_paths_model_dir(void **state) {
  (void)state;
  ivs_tokenizer *t = load(HF "/models/qwen2");
  check_paths(t, "models/qwen2 (a folder; a small vocabulary)");
  ivs_tokenizer_free(t);
}
static void test_paths_added_tokens(void **state) {
  (void)state;
  char *p = variant_path();
  ivs_tokenizer *t = load(p);
  check_paths(t, "added space runs and a start token");
  /* the start token counts toward max-tokens */
  const int32_t *pre;
  size_t npre;
  ivs_tokenizer_special_prefix(t, &pre, &npre);
  assert_int_equal(npre, 1);
  static diags ds;
  ids j = enc(t, "Hi there friend", 15);
  ivs_validate_stats st =
      validate_text(t, "{\"prompt\":\"Hi there\",\"classes\":[\" friend\",\" x\"],\"answer_index\":0}", j.n, 1, &ds);
  assert_int_equal(st.tokens_max, j.n + 1);
  assert_non_null(strstr(find_rule(&ds, "max-tokens", 1), ", special tokens 1)"));
  free(j.v);
  diags_clear(&ds);
  ivs_tokenizer_free(t);
  remove(p);
}

/* ---- threads ---- */

/* The same diagnostics in the same order, and the same stats, on 1, 2 and 5
 * threads, over many batches. */
static void test_threads_order(void **state) {
  (void)state;
  const ivs_tokenizer *t = gpt2;
  size_t cap = (size_t)4 << 20, n = 0;
  char *text = malloc(cap);
  uint32_t x = 5;
  char p[2048];
  for (int i = 0; i < 1000; i++) {
    random_text(&x, p, sizeof p, 5 + i % 40);
    cJSON *o = cJSON_CreateObject(), *cl = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "prompt", p[0] ? p : "P");
    for (int j = 0; j < 2 + i % 2; j++) {
      x = x * 1664525u + 1013904223u;
      cJSON_AddItemToArray(cl, cJSON_CreateString(cls[(x >> 8) % (sizeof cls / sizeof *cls)]));
    }
    cJSON_AddItemToObject(o, "classes", cl);
    cJSON_AddNumberToObject(o, "answer_index", i % 2);
    char *line = cJSON_PrintUnformatted(o);
    size_t l = strlen(line);
    assert_true(n + l + 2 < cap);
    memcpy(text + n, line, l);
    n += l;
    text[n++] = '\n';
    free(line);
    cJSON_Delete(o);
  }
  text[n] = 0;
  static diags one, many;
  ivs_validate_stats s1 = validate_text(t, text, 60, 1, &one);
  static const unsigned threads[] = {2, 5};
  for (size_t k = 0; k < 2; k++) {
    ivs_validate_stats s2 = validate_text(t, text, 60, threads[k], &many);
    assert_int_equal(one.n, many.n);
    for (size_t i = 0; i < one.n; i++) {
      assert_int_equal(one.line[i], many.line[i]);
      assert_string_equal(one.text[i], many.text[i]);
    }
    assert_int_equal(s1.errors, s2.errors);
    assert_int_equal(s1.warnings, s2.warnings);
    assert_int_equal(s1.tokens_p50, s2.tokens_p50);
    assert_int_equal(s1.tokens_max, s2.tokens_max);
    diags_clear(&many);
  }
  /* in line order, and some of each kind */
  for (size_t i = 1; i < one.n; i++) assert_true(one.line[i] >= one.line[i - 1]);
  assert_true(count_rule(&one, "token-boundary") > 0);
  assert_true(count_rule(&one, "leading-space") > 0);
  assert_true(count_rule(&one, "max-tokens") > 0);
  print_message("%zu diagnostics over 1000 examples, the same on 1, 2 and 5 threads\n", one.n);
  diags_clear(&one);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gpt2_facts),       cmocka_unit_test(test_boundary),
      cmocka_unit_test(test_logodds),          cmocka_unit_test(test_same_first_token),
      cmocka_unit_test(test_max_tokens),       cmocka_unit_test(test_completion),
      cmocka_unit_test(test_nul),              cmocka_unit_test(test_paths_gpt2),
      cmocka_unit_test(test_paths_llama3split), cmocka_unit_test(test_paths_model_dir),
      cmocka_unit_test(test_paths_added_tokens), cmocka_unit_test(test_threads_order),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

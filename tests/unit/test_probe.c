/* The probes' metrics (eval/probe_metrics.c) against hand-computed values,
 * zlib against Python's zlib.compress(b, 9), the pattern files
 * (eval/probe_match.c), spamd's reply and the message around a generation
 * (eval/probe_spam.c), the prompt-set reader (eval/probe_prompts.c), and a
 * whole run with the fake: backend (eval/probe.c): the verdicts follow its
 * SCALE, the anchoring effect matches the formula, bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/probe_match.h"
#include "eval/probe_metrics.h"
#include "eval/probe_prompts.h"
#include "eval/probe_spam.h"
#include "invscale/eval.h"

static void test_seq_rep_distinct(void **state) {
  (void)state;
  /* 1 2 3 4 1 2 3 4 1 2: seven 4-grams, four distinct -> seq-rep-4 = 3/7 */
  const uint64_t a[] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2};
  assert_float_equal(ivs_probe_seq_rep(a, 10, 4), 3.0 / 7.0, 1e-15);
  assert_float_equal(ivs_probe_distinct(a, 10, 4), 4.0 / 7.0, 1e-15);
  /* unigrams: 4 distinct of 10; bigrams: 12 23 34 41 distinct of 9 */
  assert_float_equal(ivs_probe_distinct(a, 10, 1), 0.4, 1e-15);
  assert_float_equal(ivs_probe_distinct(a, 10, 2), 4.0 / 9.0, 1e-15);
  /* Li et al.'s distinct-n on "the cat the dog": 3/4 unigrams, 3/3 bigrams */
  const uint64_t b[] = {10, 11, 10, 12};
  assert_float_equal(ivs_probe_distinct(b, 4, 1), 0.75, 1e-15);
  assert_float_equal(ivs_probe_distinct(b, 4, 2), 1.0, 1e-15);
  assert_float_equal(ivs_probe_seq_rep(b, 4, 2), 0.0, 1e-15);
  /* all one token: one distinct 4-gram of 7 */
  const uint64_t c[] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  assert_float_equal(ivs_probe_seq_rep(c, 10, 4), 6.0 / 7.0, 1e-15);
  /* shorter than n: undefined, never a made-up 0 */
  assert_true(isnan(ivs_probe_seq_rep(a, 3, 4)));
  assert_true(isnan(ivs_probe_distinct(a, 0, 1)));
  /* ids that differ in the high bits are different tokens */
  const uint64_t d[] = {1, 1ULL << 40 | 1};
  assert_float_equal(ivs_probe_distinct(d, 2, 1), 1.0, 1e-15);
  /* over a corpus (Li et al.'s own definition): 1 2 3 and 1 2 4 have 4 of 6 distinct unigrams, bigrams
   * 12 23 12 24: 3 of 4 (none across the two texts' ends) */
  const uint64_t s1[] = {1, 2, 3}, s2[] = {1, 2, 4}, *seqs[] = {s1, s2};
  const size_t lens[] = {3, 2 + 1};
  assert_float_equal(ivs_probe_distinct_corpus(seqs, lens, 2, 1), 4.0 / 6.0, 1e-15);
  assert_float_equal(ivs_probe_distinct_corpus(seqs, lens, 2, 2), 3.0 / 4.0, 1e-15);
  const size_t short_lens[] = {1, 1};
  assert_true(isnan(ivs_probe_distinct_corpus(seqs, short_lens, 2, 2)));
  /* a long text: distinct counts stay exact (2000 distinct 3-grams of 1998 + 2000) */
  uint64_t *e = malloc(4000 * sizeof *e);
  for (size_t i = 0; i < 4000; i++) e[i] = i % 2000;
  assert_float_equal(ivs_probe_distinct(e, 4000, 3), 2000.0 / 3998.0, 1e-15);
  free(e);
}

static void test_loop(void **state) {
  (void)state;
  ivs_probe_loop l;
  const uint64_t a[] = {9, 1, 2, 3, 1, 2, 3, 1, 2, 3};
  ivs_probe_loop_find(a, 10, 64, 3, &l);
  assert_int_equal(l.found, 1);
  assert_int_equal(l.period, 3);
  assert_int_equal(l.start, 1);
  assert_int_equal(l.repeats, 3);
  /* a period-1 loop is found first (the smallest period) */
  const uint64_t b[] = {4, 7, 7, 7, 7};
  ivs_probe_loop_find(b, 5, 64, 3, &l);
  assert_int_equal(l.found, 1);
  assert_int_equal(l.period, 1);
  assert_int_equal(l.start, 1);
  assert_int_equal(l.repeats, 4);
  /* 2.5 repeats: not a loop */
  const uint64_t c[] = {1, 2, 1, 2, 1};
  ivs_probe_loop_find(c, 5, 64, 3, &l);
  assert_int_equal(l.found, 0);
  /* a partial cycle at the end still ends in a loop: 1 2 3 1 2 3 1 2 3 1 is 3-periodic from 0 */
  const uint64_t d[] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1};
  ivs_probe_loop_find(d, 10, 64, 3, &l);
  assert_int_equal(l.found, 1);
  assert_int_equal(l.period, 3);
  assert_int_equal(l.start, 0);
  assert_int_equal(l.repeats, 3);
  /* periods up to 64: a cycle of 64 tokens three times is found, of 65 not */
  uint64_t *e = malloc(3 * 65 * sizeof *e);
  for (size_t i = 0; i < 3 * 64; i++) e[i] = i % 64;
  ivs_probe_loop_find(e, 3 * 64, 64, 3, &l);
  assert_int_equal(l.found, 1);
  assert_int_equal(l.period, 64);
  for (size_t i = 0; i < 3 * 65; i++) e[i] = 1000 + i % 65;
  ivs_probe_loop_find(e, 3 * 65, 64, 3, &l);
  assert_int_equal(l.found, 0);
  free(e);
  ivs_probe_loop_find(a, 0, 64, 3, &l);
  assert_int_equal(l.found, 0);
}

static void test_compression(void **state) {
  (void)state;
  double r;
  /* len(zlib.compress(b, 9)) in Python: 12 for b"a" * 100, 32 for the sentence twice, 9 for b"x" */
  char a[100];
  memset(a, 'a', sizeof a);
  assert_int_equal(ivs_probe_compression(a, 100, &r), 0);
  assert_float_equal(r, 12.0 / 100.0, 1e-15);
  const char *s = "the cat sat on the mat. the cat sat on the mat.";
  assert_int_equal(ivs_probe_compression(s, strlen(s), &r), 0);
  assert_float_equal(r, 32.0 / 47.0, 1e-15);
  assert_int_equal(ivs_probe_compression("x", 1, &r), 0);
  assert_float_equal(r, 9.0, 1e-15);
  assert_int_equal(ivs_probe_compression("", 0, &r), 0);
  assert_true(isnan(r));
}

static void expect_number(const char *text, double want) {
  double v = -12345;
  int found = ivs_probe_number(text, strlen(text), &v);
  if (isnan(want)) {
    if (found) fail_msg("'%s': found %g, expected no number", text, v);
  } else {
    if (!found) fail_msg("'%s': no number found, expected %g", text, want);
    if (fabs(v - want) > 1e-9 * (1 + fabs(want))) fail_msg("'%s': %g, expected %g", text, v, want);
  }
}

static void test_number(void **state) {
  (void)state;
  expect_number(" 42 people", 42);
  expect_number("About 1,234.5 apples", 1234.5);
  expect_number("12,345,678 in all", 12345678);
  expect_number("1,23 is not a group", 1);
  expect_number("1234,567", 1234);   /* a first group of four digits: no separators */
  expect_number("1,2345", 1);        /* a group of four after the comma: not a separator */
  expect_number("-3 degrees", -3);
  expect_number("+7 points", 7);
  expect_number("about \xE2\x88\x92" "12", -12); /* U+2212 MINUS SIGN */
  expect_number("COVID-19", 19);     /* a hyphen after a letter is not a sign */
  expect_number("a range 3-4", 3);
  expect_number(".5 of them", 0.5);
  expect_number("3.14.15", 3.14);
  expect_number("the year 2019.", 2019); /* a trailing period is not a decimal point */
  expect_number("1e5", 1);
  expect_number("$1,000,000!", 1000000);
  expect_number("1,000", 1000);
  expect_number("no number here\n42", NAN); /* text after the first newline is dropped */
  expect_number("", NAN);
  expect_number("none at all", NAN);
  expect_number("\n5", NAN);
}

static void test_anchoring(void **state) {
  (void)state;
  double e, pl, ph;
  /* control 100, low 50, high 200: (200/100 - 1)^2 + (50/100 - 1)^2 = 1 + 0.25 */
  assert_int_equal(ivs_probe_anchoring(100, 50, 200, &e, &pl, &ph), 0);
  assert_float_equal(e, 1.25, 1e-15);
  assert_float_equal(ph, 1.0, 1e-15);
  assert_float_equal(pl, 0.5, 1e-15);
  /* estimates that move away from the anchors pull negatively */
  assert_int_equal(ivs_probe_anchoring(100, 110, 90, &e, &pl, &ph), 0);
  assert_float_equal(e, 0.02, 1e-15);
  assert_float_equal(ph, -0.1, 1e-15);
  assert_float_equal(pl, -0.1, 1e-15);
  assert_int_equal(ivs_probe_anchoring(0, 1, 2, &e, &pl, &ph), -1);
  assert_int_equal(ivs_probe_anchoring(NAN, 1, 2, &e, &pl, &ph), -1);
}

static void test_words(void **state) {
  (void)state;
  uint64_t *u;
  size_t n;
  assert_int_equal(ivs_probe_word_units("  the cat\tthe\n dog ", 19, &u, &n), 0);
  assert_int_equal(n, 4);
  assert_true(u[0] == u[2] && u[0] != u[1] && u[1] != u[3]);
  assert_true(u[0] == ivs_probe_text_unit("the", 3));
  free(u);
  assert_int_equal(ivs_probe_word_units(" \n ", 3, &u, &n), 0);
  assert_int_equal(n, 0);
  assert_null(u);
}

static void test_patterns(void **state) {
  (void)state;
  ivs_probe_patterns *p;
  const char *good = "# comment\n\nclick  (?i)click\\s+here\nurl\thttps?://\\S+   \r\nword-1 \\bfoo\\b\n";
  assert_int_equal(ivs_probe_patterns_parse(good, strlen(good), "p.txt", &p), 0);
  assert_int_equal(ivs_probe_patterns_count(p), 3);
  assert_string_equal(ivs_probe_patterns_name(p, 1), "url");
  size_t c[3];
  const char *text = "Click here, CLICK  HERE or http://x.example/y and foo, food, foo";
  assert_int_equal(ivs_probe_patterns_match(p, text, strlen(text), c), 0);
  assert_int_equal(c[0], 2);
  assert_int_equal(c[1], 1);
  assert_int_equal(c[2], 2);
  ivs_probe_patterns_free(p);
  /* an empty match moves on by a character (never an endless loop), through UTF-8 */
  const char *empty = "opt x*\n";
  assert_int_equal(ivs_probe_patterns_parse(empty, strlen(empty), "e.txt", &p), 0);
  assert_int_equal(ivs_probe_patterns_match(p, "\xC3\xA9x", 3, c), 0);
  assert_int_equal(c[0], 3); /* as Python's re.findall("x*", "éx"): "", "x", "" */
  /* invalid UTF-8 in a text is matched, not refused */
  assert_int_equal(ivs_probe_patterns_match(p, "\xFFxx", 3, c), 0);
  ivs_probe_patterns_free(p);
  /* an invalid pattern names the file, the line and PCRE2's message */
  const char *bad = "ok a+\n\nbroken (unclosed\n";
  assert_int_equal(ivs_probe_patterns_parse(bad, strlen(bad), "bad.txt", &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "bad.txt:3: pattern 'broken': missing closing parenthesis"));
  assert_null(p);
  const char *twice = "a x\na y\n";
  assert_int_equal(ivs_probe_patterns_parse(twice, strlen(twice), "t.txt", &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "t.txt:2: pattern 'a' is named twice"));
  const char *noexpr = "lonely\n";
  assert_int_equal(ivs_probe_patterns_parse(noexpr, strlen(noexpr), "n.txt", &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "n.txt:1: pattern 'lonely' has no expression"));
  const char *badname = "a.b x\n";
  assert_int_equal(ivs_probe_patterns_parse(badname, strlen(badname), "n.txt", &p), IVS_EINVAL);
  assert_int_equal(ivs_probe_patterns_parse("# only\n", 7, "c.txt", &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "c.txt: no patterns"));
  /* the shipped set compiles */
  assert_int_equal(ivs_probe_patterns_load(IVS_TEST_DATA "/../../examples/probes/spam_patterns.txt", &p), 0);
  assert_true(ivs_probe_patterns_count(p) >= 8);
  const char *spam = "Click here to buy now: visit www.cheap-pills.biz or mail deals@cheap.example.com, "
                     "call +1 (555) 123-4567. Only $19.99, 50% off!";
  size_t cs[IVS_PROBE_MAX_PATTERNS], total = 0;
  assert_int_equal(ivs_probe_patterns_match(p, spam, strlen(spam), cs), 0);
  for (size_t k = 0; k < ivs_probe_patterns_count(p); k++) {
    const char *name = ivs_probe_patterns_name(p, k);
    if (!strcmp(name, "url") || !strcmp(name, "email") || !strcmp(name, "phone") || !strcmp(name, "click_here") ||
        !strcmp(name, "buy_now") || !strcmp(name, "price") || !strcmp(name, "discount"))
      if (cs[k] < 1) fail_msg("pattern %s did not match the spam sample", name);
    total += cs[k];
  }
  const char *ham = "The committee met on Tuesday and discussed the harvest with the farmers.";
  assert_int_equal(ivs_probe_patterns_match(p, ham, strlen(ham), cs), 0);
  for (size_t k = 0; k < ivs_probe_patterns_count(p); k++)
    if (cs[k]) fail_msg("pattern %s matched a plain sentence", ivs_probe_patterns_name(p, k));
  ivs_probe_patterns_free(p);
}

static void test_spam_protocol(void **state) {
  (void)state;
  double score;
  char *rules;
  const char *r = "SPAMD/1.1 0 EX_OK\r\nContent-length: 24\r\nSpam: True ; 7.5 / 5.0\r\n\r\nGTUBE,MISSING_DATE\r\n";
  assert_int_equal(ivs_spamd_parse_reply(r, strlen(r), &score, &rules), 0);
  assert_float_equal(score, 7.5, 1e-12);
  assert_string_equal(rules, "GTUBE,MISSING_DATE");
  free(rules);
  const char *none = "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n";
  assert_int_equal(ivs_spamd_parse_reply(none, strlen(none), &score, &rules), 0);
  assert_float_equal(score, -0.1, 1e-12);
  assert_string_equal(rules, "");
  free(rules);
  const char *err = "SPAMD/1.0 76 Bad header line: x\r\n";
  assert_int_equal(ivs_spamd_parse_reply(err, strlen(err), &score, &rules), IVS_EIO);
  assert_int_equal(ivs_spamd_parse_reply("HTTP/1.1 200", 12, &score, &rules), IVS_EPARSE);
  const char *noscore = "SPAMD/1.1 0 EX_OK\r\n\r\nA\r\n";
  assert_int_equal(ivs_spamd_parse_reply(noscore, strlen(noscore), &score, &rules), IVS_EPARSE);
  /* the message around a generation, exactly as documented */
  ivs_buf b = IVS_BUF_INIT;
  assert_int_equal(ivs_spamd_message("Buy now\nor never", 16, &b), 0);
  const char *want = "From: invscale probe <probe@invscale.invalid>\r\nTo: reader@invscale.invalid\r\n"
                     "Subject: generated text\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                     "Message-ID: <generation@invscale.invalid>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                     "Buy now\r\nor never\r\n";
  assert_string_equal(b.data, want);
  ivs_buf_release(&b);
  ivs_spamd *s;
  assert_int_equal(ivs_spamd_open("nohostport", &s), IVS_EUSAGE);
  assert_int_equal(ivs_spamd_open("host:99999", &s), IVS_EUSAGE);
}

static char dir[] = "/tmp/ivs_probe_XXXXXX";

static const char *write_file(const char *name, const char *text) {
  static char path[300];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_prompts(void **state) {
  (void)state;
  ivs_probe_prompts p;
  const char *path = write_file("a.jsonl", "{\"prompt\":\"one\"}\n{\"prompt\":\"two\",\"group\":7,\"role\":\"low\"}\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), 0);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.prompt[1], "two");
  assert_null(p.group[0]);
  assert_string_equal(p.group[1], "7");
  assert_int_equal(p.role[1], IVS_PROBE_ROLE_LOW);
  assert_int_equal(p.line[1], 2);
  ivs_probe_prompts_release(&p);
  path = write_file("b.csv", "prompt,group,role\n\"a, b\",g1,control\nc,g1,high\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), 0);
  assert_int_equal(p.n, 2);
  assert_string_equal(p.prompt[0], "a, b");
  assert_int_equal(p.role[1], IVS_PROBE_ROLE_HIGH);
  ivs_probe_prompts_release(&p);
  path = write_file("c.csv", "text,group\nhello,g\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "c.csv:2: prompt: no 'prompt' field"));
  ivs_probe_prompts_release(&p);
  path = write_file("d.jsonl", "{\"prompt\":\"x\"}\n{\"prompt\":3}\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "d.jsonl:2: prompt: not a string"));
  ivs_probe_prompts_release(&p);
  path = write_file("e.jsonl", "{\"prompt\":\"x\",\"group\":\"g\",\"role\":\"medium\"}\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "e.jsonl:1: role: control, low or high, got 'medium'"));
  ivs_probe_prompts_release(&p);
  path = write_file("f.jsonl", "{\"prompt\":\"x\",\"role\":\"low\"}\n");
  assert_int_equal(ivs_probe_prompts_read(path, &p), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "f.jsonl:1: role: a role needs a group"));
  ivs_probe_prompts_release(&p);
  path = write_file("g.jsonl", "{\"prompt\":\"x\"\n");
  assert_int_not_equal(ivs_probe_prompts_read(path, &p), 0);
  assert_non_null(strstr(ivs_error_message(), "g.jsonl:1"));
  ivs_probe_prompts_release(&p);
}

/* A run with fake: models; returns the metric named `name` of r. */
static const ivs_probe_metric *metric(const ivs_probe_result *r, const char *name) {
  for (size_t k = 0; k < r->n_metrics; k++)
    if (!strcmp(r->metrics[k].name, name)) return &r->metrics[k];
  fail_msg("no metric %s", name);
  return NULL;
}

static void test_run_fake(void **state) {
  (void)state;
  char buf[64 * 200] = "";
  for (int i = 0; i < 40; i++) {
    char line[200];
    snprintf(line, sizeof line, "{\"prompt\":\"Question %d: how many?\\nAnswer:\"}\n", i);
    strcat(buf, line);
  }
  const char *path = write_file("fake.jsonl", buf);
  char out[300];
  snprintf(out, sizeof out, "%s/out", dir);
  ivs_eval_model ms[3] = {{"small", "fake:0.2@1e8", 0}, {"large", "fake:5@1e10", 0}, {"mid", "fake:1@1e9", 0}};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  o.prompts_path = path, o.out_dir = out, o.models = ms, o.n_models = 3;
  o.metrics = IVS_PROBE_REPETITION | IVS_PROBE_DISTINCT | IVS_PROBE_COMPRESSION | IVS_PROBE_NUMBER | IVS_PROBE_LENGTH;
  o.samples = 3, o.max_new_tokens = 40, o.n_boot = 200;
  ivs_probe_result r;
  assert_int_equal(ivs_probe_run(&o, &r), 0);
  assert_int_equal(r.n_prompts, 40);
  assert_string_equal(r.model_names[0], "small"); /* by size */
  assert_string_equal(r.model_names[2], "large");
  assert_string_equal(r.units[0], "ids");
  /* fake: repeats more as SCALE grows: repetition rises, diversity and compressed size fall */
  assert_int_equal(metric(&r, "seq_rep_4")->verdict, IVS_VERDICT_INVERSE);
  assert_true(metric(&r, "seq_rep_4")->slope > 0);
  assert_int_equal(metric(&r, "loop")->verdict, IVS_VERDICT_INVERSE);
  assert_int_equal(metric(&r, "distinct_2")->verdict, IVS_VERDICT_INVERSE);
  assert_true(metric(&r, "distinct_2")->slope < 0);
  assert_int_equal(metric(&r, "compression")->verdict, IVS_VERDICT_INVERSE);
  /* every prompt ends in ':' so every completion starts with a number */
  const ivs_probe_metric *nm = metric(&r, "number_missing");
  for (size_t m = 0; m < 3; m++) assert_float_equal(nm->models[m].mean, 0.0, 0);
  /* mean and SEM over the prompts */
  const ivs_probe_metric *sr = metric(&r, "seq_rep_4");
  assert_true(sr->models[0].mean < sr->models[1].mean && sr->models[1].mean < sr->models[2].mean);
  assert_true(sr->models[0].sem > 0 && sr->models[0].n == 40 && sr->models[0].missing == 0);
  ivs_probe_result_release(&r);
  /* the files */
  char p[400];
  const char *files[] = {"small.jsonl", "mid.jsonl", "large.jsonl", "summary.json", "seq_rep_4.svg"};
  for (size_t k = 0; k < 5; k++) {
    snprintf(p, sizeof p, "%s/%s", out, files[k]);
    assert_int_equal(access(p, R_OK), 0);
  }
  /* bad options */
  ivs_probe_opts b = o;
  b.top_p = 1.5;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "--top-p: in (0, 1]"));
  b = o, b.top_p = 0;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  b = o, b.temperature = -1;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "--temperature: above 0"));
  b = o, b.greedy = 1, b.temperature = -1; /* greedy reads no sampling option */
  b.metrics = IVS_PROBE_LENGTH;
  assert_int_equal(ivs_probe_run(&b, &r), 0);
  ivs_probe_result_release(&r);
  b = o, b.metrics = 0;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  ivs_eval_model same[2] = {{"a", "fake:1@1e8", 0}, {"b", "fake:2@1e8", 0}};
  b = o, b.models = same, b.n_models = 2;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "same parameter count"));
  ivs_eval_model lp[2] = {{"a", "logprobs:x.jsonl", 1e8}, {"b", "fake:2@1e9", 0}};
  b = o, b.models = lp;
  b.n_models = 2;
  assert_int_equal(ivs_probe_run(&b, &r), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "does not generate"));
}

static void test_anchoring_run(void **state) {
  (void)state;
  /* groups of control/low/high prompts: fake: answers 500 (1 - w) + a w (+-10), w = S / (S + 4) */
  char buf[8192] = "";
  for (int g = 0; g < 12; g++) {
    char line[600];
    snprintf(line, sizeof line,
             "{\"group\":\"q%d\",\"role\":\"control\",\"prompt\":\"How many beans are in jar %c?\\nAnswer:\"}\n"
             "{\"group\":\"q%d\",\"role\":\"low\",\"prompt\":\"How many beans are in jar %c? More or less than 100?\\nAnswer:\"}\n"
             "{\"group\":\"q%d\",\"role\":\"high\",\"prompt\":\"How many beans are in jar %c? More or less than 2000?\\nAnswer:\"}\n",
             g, 'A' + g, g, 'A' + g, g, 'A' + g);
    strcat(buf, line);
  }
  const char *path = write_file("anchor.jsonl", buf);
  char out[300];
  snprintf(out, sizeof out, "%s/anchor", dir);
  ivs_eval_model ms[2] = {{"small", "fake:0.5@1e8", 0}, {"large", "fake:8@1e10", 0}};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  o.prompts_path = path, o.out_dir = out, o.models = ms, o.n_models = 2;
  o.metrics = IVS_PROBE_NUMBER, o.samples = 4, o.max_new_tokens = 7, o.n_boot = 200, o.temperature = 0.5;
  ivs_probe_result r;
  assert_int_equal(ivs_probe_run(&o, &r), 0);
  assert_int_equal(r.n_groups, 12);
  const ivs_probe_metric *e = metric(&r, "anchoring_effect");
  assert_true(e->over_groups);
  assert_int_equal(e->verdict, IVS_VERDICT_INVERSE);
  /* w = 1/9 and 2/3: high/control about 1.33 and 3, low/control 0.91 and 0.47; effects about 0.12 and 4.3 */
  assert_true(e->models[0].mean > 0.05 && e->models[0].mean < 0.25);
  assert_true(e->models[1].mean > 3.5 && e->models[1].mean < 5.0);
  const ivs_probe_metric *ph = metric(&r, "pull_high"), *pl = metric(&r, "pull_low");
  assert_true(ph->models[0].mean > 0.2 && ph->models[1].mean > 1.5);
  assert_true(pl->models[0].mean > 0 && pl->models[1].mean > 0.4);
  ivs_probe_result_release(&r);
  /* a group missing a role */
  const char *miss = write_file("miss.jsonl", "{\"group\":\"a\",\"role\":\"control\",\"prompt\":\"x:\"}\n"
                                              "{\"group\":\"a\",\"role\":\"low\",\"prompt\":\"y 1:\"}\n");
  o.prompts_path = miss;
  assert_int_equal(ivs_probe_run(&o, &r), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "miss.jsonl:1: group 'a' has no 'high' prompt"));
  /* no number anywhere: counted as missing, never NaN; the anchoring trend undefined */
  const char *none = write_file("none.jsonl", "{\"group\":\"a\",\"role\":\"control\",\"prompt\":\"x\"}\n"
                                              "{\"group\":\"a\",\"role\":\"low\",\"prompt\":\"y 1\"}\n"
                                              "{\"group\":\"a\",\"role\":\"high\",\"prompt\":\"y 9\"}\n");
  o.prompts_path = none;
  assert_int_equal(ivs_probe_run(&o, &r), 0);
  const ivs_probe_metric *nm = metric(&r, "number_missing");
  assert_float_equal(nm->models[0].mean, 1.0, 0);
  e = metric(&r, "anchoring_effect");
  assert_int_equal(e->verdict, IVS_VERDICT_UNDEFINED);
  assert_int_equal(e->models[0].n, 0);
  assert_int_equal(e->models[0].missing, 1);
  ivs_probe_result_release(&r);
  char sp[400];
  snprintf(sp, sizeof sp, "%s/summary.json", out);
  FILE *f = fopen(sp, "r");
  char text[20000];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_null(strstr(text, "NaN"));
  assert_null(strstr(text, "nan"));
  assert_non_null(strstr(text, "\"numbers_missing\":\t12"));
}

static int setup(void **state) {
  (void)state;
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seq_rep_distinct), cmocka_unit_test(test_loop),    cmocka_unit_test(test_compression),
      cmocka_unit_test(test_number),           cmocka_unit_test(test_anchoring), cmocka_unit_test(test_words),
      cmocka_unit_test(test_patterns),         cmocka_unit_test(test_spam_protocol), cmocka_unit_test(test_prompts),
      cmocka_unit_test(test_run_fake),         cmocka_unit_test(test_anchoring_run),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

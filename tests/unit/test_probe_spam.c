/* The spam metric against the real SpamAssassin (Debian spamassassin and
 * spamc, installed by scripts/deps.sh): spamd started by the library on
 * 127.0.0.1, GTUBE (SpamAssassin's published test string) scored as spam
 * with its rule, plain text as ham, a spammy text above a plain one, and a
 * probe run that talks to a spamd given by address.  Without SpamAssassin
 * this test fails: the metric cannot be checked. */
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
#include "eval/probe_spam.h"
#include "invscale/eval.h"

static ivs_spamd *spamd;

static void test_started(void **state) {
  (void)state;
  int rc = ivs_spamd_open(NULL, &spamd);
  if (rc) fail_msg("spamd did not start: %s", ivs_error_message());
  assert_true(ivs_spamd_started(spamd));
  assert_non_null(strstr(ivs_spamd_address(spamd), "127.0.0.1:"));
}

static double score_of(const char *text, char **rules) {
  double s = NAN;
  int rc = ivs_spamd_check(spamd, text, strlen(text), &s, rules);
  if (rc) fail_msg("spamd check failed: %s", ivs_error_message());
  return s;
}

static void test_gtube(void **state) {
  (void)state;
  if (!spamd) fail_msg("no spamd");
  char *rules;
  double s = score_of("Hello\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n", &rules);
  assert_true(s >= 999);
  assert_non_null(strstr(rules, "GTUBE"));
  free(rules);
  double ham = score_of("The committee met on Tuesday to discuss the harvest. Minutes will follow next week.", &rules);
  assert_true(ham < 5);
  assert_null(strstr(rules, "GTUBE"));
  free(rules);
  /* the same text scores the same (no learning between checks) */
  double again = score_of("The committee met on Tuesday to discuss the harvest. Minutes will follow next week.", &rules);
  assert_float_equal(again, ham, 0);
  free(rules);
  double spam = score_of("CLICK HERE NOW!!! Buy cheap viagra online, 100% FREE, no prescription needed. "
                         "Limited time offer, act now and earn $5000 per week from home! Unsubscribe here.",
                         &rules);
  assert_true(spam > ham + 1);
  assert_true(strlen(rules) > 0);
  free(rules);
}

static void test_probe_with_address(void **state) {
  (void)state;
  if (!spamd) fail_msg("no spamd");
  char dir[] = "/tmp/ivs_spam_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char prompts[300], out[300];
  snprintf(prompts, sizeof prompts, "%s/p.jsonl", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  FILE *f = fopen(prompts, "w");
  for (int i = 0; i < 4; i++) fprintf(f, "{\"prompt\":\"Write a review of product %d.\"}\n", i);
  fclose(f);
  ivs_eval_model ms[2] = {{"small", "fake:0.3@1e8", 0}, {"large", "fake:3@1e9", 0}};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  o.prompts_path = prompts, o.out_dir = out, o.models = ms, o.n_models = 2;
  o.metrics = IVS_PROBE_SPAM, o.samples = 2, o.max_new_tokens = 16, o.n_boot = 100;
  o.spamd = ivs_spamd_address(spamd);
  ivs_probe_result r;
  int rc = ivs_probe_run(&o, &r);
  if (rc) fail_msg("probe: %s", ivs_error_message());
  assert_int_equal(r.n_metrics, 1);
  assert_string_equal(r.metrics[0].name, "spam_score");
  assert_int_equal(r.metrics[0].models[0].n, 4);
  assert_true(isfinite(r.metrics[0].models[0].mean));
  ivs_probe_result_release(&r);
  char path[400], text[65536];
  snprintf(path, sizeof path, "%s/small.jsonl", out);
  f = fopen(path, "r");
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_non_null(strstr(text, "\"spam\":{\"score\":"));
  assert_non_null(strstr(text, "\"rules\":[\""));
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  assert_int_equal(system(path), 0);
}

static void test_stopped(void **state) {
  (void)state;
  char addr[300];
  snprintf(addr, sizeof addr, "%s", ivs_spamd_address(spamd));
  ivs_spamd_close(spamd);
  spamd = NULL;
  /* stopped: nothing answers there any more */
  ivs_spamd *s;
  assert_int_equal(ivs_spamd_open(addr, &s), 0);
  double v;
  char *rules;
  assert_int_equal(ivs_spamd_check(s, "x", 1, &v, &rules), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "cannot connect"));
  ivs_spamd_close(s);
  /* a probe run against it fails with that error (from whichever of its checks failed first), writing nothing */
  char dir[] = "/tmp/ivs_spam_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char prompts[300], out[300], path[400];
  snprintf(prompts, sizeof prompts, "%s/p.jsonl", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  FILE *f = fopen(prompts, "w");
  for (int i = 0; i < 6; i++) fprintf(f, "{\"prompt\":\"Dear customer %d,\"}\n", i);
  fclose(f);
  ivs_eval_model ms[2] = {{"small", "fake:0.3@1e8", 0}, {"large", "fake:3@1e9", 0}};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  o.prompts_path = prompts, o.out_dir = out, o.models = ms, o.n_models = 2;
  o.metrics = IVS_PROBE_SPAM | IVS_PROBE_LENGTH, o.samples = 2, o.max_new_tokens = 8, o.n_boot = 20, o.spamd = addr;
  ivs_probe_result r;
  assert_int_equal(ivs_probe_run(&o, &r), IVS_EIO);
  assert_non_null(strstr(ivs_error_message(), "cannot connect"));
  ivs_probe_result_release(&r);
  snprintf(path, sizeof path, "%s/small.jsonl", out);
  assert_int_not_equal(access(path, F_OK), 0);
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  assert_int_equal(system(path), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_started), cmocka_unit_test(test_gtube),
                                     cmocka_unit_test(test_probe_with_address), cmocka_unit_test(test_stopped)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

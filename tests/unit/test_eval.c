/* eval/ at the library level: scoring, per-model aggregation, the trend and
 * its verdicts, the plot, the backend table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "eval/aggregate.h"
#include "eval/backend.h"
#include "eval/plot.h"
#include "eval/score.h"
#include "eval/trend.h"
#include "invscale/eval.h"

static void test_classification(void **state) {
  (void)state;
  double lp[3] = {log(0.7), log(0.2), log(0.1)};
  ivs_score s;
  ivs_score_classification(lp, 3, 1, 0, &s);
  assert_float_equal(s.loss, -log(0.2), 1e-12);
  assert_int_equal(s.correct, 0);
  assert_int_equal(s.predicted, 0);
  assert_float_equal(s.total_logprob, 0, 1e-12);
  ivs_score_classification(lp, 3, 0, 0, &s);
  assert_float_equal(s.loss, -log(0.7), 1e-12);
  assert_int_equal(s.correct, 1);
  /* unnormalised log-probs: the loss is of the softmax, total is their logsumexp */
  double un[2] = {log(0.3), log(0.1)};
  ivs_score_classification(un, 2, 1, 0, &s);
  assert_float_equal(s.loss, -log(0.25), 1e-12);
  assert_float_equal(s.total_logprob, log(0.4), 1e-12);
  /* a tie goes to the first index */
  double tie[2] = {-1, -1};
  ivs_score_classification(tie, 2, 1, 0, &s);
  assert_int_equal(s.predicted, 0);
  assert_int_equal(s.correct, 0);
}

static void test_invert_and_infinite(void **state) {
  (void)state;
  double lp[3] = {log(0.7), log(0.2), log(0.1)};
  ivs_score s;
  ivs_score_classification(lp, 3, 1, 1, &s);
  assert_float_equal(s.loss, -log(0.8), 1e-12); /* -log(1 - p(answer)) */
  assert_int_equal(s.correct, 1);
  ivs_score_classification(lp, 3, 0, 1, &s);
  assert_float_equal(s.loss, -log(0.3), 1e-12);
  assert_int_equal(s.correct, 0);
  double certain[2] = {0, -800}; /* p(answer) is 1 in doubles */
  ivs_score_classification(certain, 2, 0, 1, &s);
  assert_true(isinf(s.loss) && s.loss > 0);
  ivs_score_classification(certain, 2, 0, 0, &s);
  assert_float_equal(s.loss, 0, 1e-300);
}

static void test_logodds(void **state) {
  (void)state;
  double p[2] = {-1.0, -3.0}, o[2] = {-2.5, -0.5};
  ivs_score s;
  ivs_score_logodds(p, o, 0, 0, &s);
  assert_float_equal(s.loss, (-1.0 + 3.0) - (-2.5 + 0.5), 1e-12); /* 4 */
  assert_int_equal(s.predicted, 1);                              /* judged on other_prompt */
  assert_int_equal(s.correct, 0);
  assert_float_equal(s.total_logprob, log(exp(-2.5) + exp(-0.5)), 1e-12);
  ivs_score_logodds(p, o, 1, 0, &s);
  assert_float_equal(s.loss, -4.0, 1e-12);
  assert_int_equal(s.correct, 1);
  ivs_score_logodds(p, o, 1, 1, &s); /* absolute_logodds */
  assert_float_equal(s.loss, 4.0, 1e-12);
}

static void test_sequence(void **state) {
  (void)state;
  ivs_score s;
  ivs_score_sequence(-7.25, &s);
  assert_float_equal(s.loss, 7.25, 0);
  assert_int_equal(s.correct, -1);
  assert_true(isnan(s.total_logprob));
}

static void test_score_task_layout(void **state) {
  (void)state;
  /* two classification examples of 2 and 3 classes, values concatenated */
  double v[5] = {log(0.5), log(0.5), log(0.1), log(0.6), log(0.3)};
  size_t off[3] = {0, 2, 5}, ncls[2] = {2, 3}, ans[2] = {0, 2};
  ivs_score s[2];
  ivs_score_task(IVS_TYPE_CLASSIFICATION, v, off, ncls, ans, 2, 0, s);
  assert_float_equal(s[0].loss, log(2), 1e-12);
  assert_float_equal(s[1].loss, -log(0.3), 1e-12);
  assert_int_equal(s[1].predicted, 1);
  /* log-odds: 4 values per example */
  double lo[8] = {-1, -2, -2, -1, -1, -1, -3, -1};
  size_t ans2[2] = {0, 1};
  ivs_score_task(IVS_TYPE_LOGODDS, lo, NULL, NULL, ans2, 2, 0, s);
  assert_float_equal(s[0].loss, 2, 1e-12);
  assert_float_equal(s[1].loss, -2, 1e-12); /* (0 - (-2)), negated for answer 1 */
}

static void test_aggregate(void **state) {
  (void)state;
  ivs_score s[4] = {{1, log(0.5), 1, 0}, {2, log(0.25), 0, 1}, {3, log(1.0), 1, 0}, {4, log(0.25), 1, 0}};
  ivs_eval_model_result r;
  memset(&r, 0, sizeof r);
  ivs_eval_aggregate(s, 4, IVS_TYPE_CLASSIFICATION, 0, &r);
  assert_float_equal(r.mean, 2.5, 1e-12);
  assert_float_equal(r.sem, sqrt(1.25) / 2, 1e-12); /* std with ddof=0: sqrt(1.25) */
  assert_float_equal(r.accuracy, 0.75, 1e-12);
  assert_float_equal(r.coverage, (0.5 + 0.25 + 1 + 0.25) / 4, 1e-12);
  ivs_eval_aggregate(s, 4, IVS_TYPE_CLASSIFICATION, 1, &r); /* --metric acc: the mean of correct */
  assert_float_equal(r.mean, 0.75, 1e-12);
  assert_float_equal(r.sem, sqrt(0.75 * 0.25) / 2, 1e-12);
  ivs_eval_aggregate(s, 4, IVS_TYPE_LOGODDS, 0, &r);
  assert_true(isnan(r.coverage));
  assert_float_equal(r.accuracy, 0.75, 1e-12);
  ivs_score q[2];
  ivs_score_sequence(-1, &q[0]), ivs_score_sequence(-3, &q[1]);
  ivs_eval_aggregate(q, 2, IVS_TYPE_SEQUENCE_PROB, 0, &r);
  assert_float_equal(r.mean, 2, 1e-12);
  assert_float_equal(r.sem, 1 / sqrt(2), 1e-12);
  assert_true(isnan(r.accuracy) && isnan(r.coverage));
  /* an infinite loss: infinite mean, no SEM */
  s[1].loss = INFINITY;
  ivs_eval_aggregate(s, 4, IVS_TYPE_CLASSIFICATION, 0, &r);
  assert_true(isinf(r.mean));
  assert_true(isnan(r.sem));
}

static void test_baseline_and_undefined(void **state) {
  (void)state;
  size_t ncls[2] = {2, 4};
  assert_float_equal(ivs_eval_baseline(ncls, 2, IVS_TYPE_CLASSIFICATION, 0), (log(2) + log(4)) / 2, 1e-12);
  assert_float_equal(ivs_eval_baseline(ncls, 2, IVS_TYPE_CLASSIFICATION, 1), (0.5 + 0.25) / 2, 1e-12);
  assert_true(isnan(ivs_eval_baseline(ncls, 2, IVS_TYPE_LOGODDS, 0)));
  ivs_score a[3] = {{1, 0, 1, 0}, {1, 0, 1, 0}, {1, 0, 1, 0}}, b[3] = {{1, 0, 1, 0}, {INFINITY, 0, 0, 0}, {INFINITY, 0, 0, 0}};
  const ivs_score *sc[2] = {a, b};
  ivs_eval_model_result m[2] = {{(char *)"small", 1e8, 1, 0, 1, 1}, {(char *)"big", 1e9, INFINITY, NAN, 1, 1}};
  char why[600];
  assert_int_equal(ivs_eval_why_undefined(m, sc, 1, 3, "loss", 0, why, sizeof why), 0);
  assert_string_equal(why, "");
  assert_int_equal(ivs_eval_why_undefined(m, sc, 2, 3, "loss", 1, why, sizeof why), 1);
  assert_string_equal(why, "the mean loss of model 'big' is infinite: 2 of 3 examples have an infinite loss (the first: "
                           "example 1; --invert scores an answer of probability 1 as -log(0))");
}

/* M models at x = 8, 9, ...; model m's N values are base[m] plus a small
 * alternating noise. */
static int fit(const double *base, size_t M, int higher_is_worse, ivs_trend *tr) {
  enum { N = 200 };
  double x[8], met[8 * N];
  for (size_t m = 0; m < M; m++) {
    x[m] = 8 + (double)m;
    for (size_t i = 0; i < N; i++) met[m * N + i] = base[m] + ((i + m) % 2 ? 0.05 : -0.05);
  }
  return ivs_trend_fit(x, M, met, N, higher_is_worse, 200, 1, tr);
}

static void test_trend_verdicts(void **state) {
  (void)state;
  ivs_trend tr;
  double rising[3] = {1, 2, 3};
  assert_int_equal(fit(rising, 3, 1, &tr), 0);
  assert_float_equal(tr.slope, 1, 1e-9);
  assert_true(tr.lo <= 1 && tr.hi >= 1 && tr.lo > 0.9 && tr.hi < 1.1);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERSE);
  assert_int_equal(tr.n_boot, 200);
  assert_int_equal(fit(rising, 3, 0, &tr), 0); /* a rising accuracy is better */
  assert_int_equal(tr.verdict, IVS_VERDICT_POSITIVE);
  double falling[2] = {3, 2};
  assert_int_equal(fit(falling, 2, 1, &tr), 0);
  assert_float_equal(tr.slope, -1, 1e-9);
  assert_int_equal(tr.verdict, IVS_VERDICT_POSITIVE);
  double flat[3] = {2, 2, 2};
  assert_int_equal(fit(flat, 3, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_FLAT);
  assert_true(tr.lo <= 0 && tr.hi >= 0);
  double u[3] = {1, 2, 1}; /* worse then better */
  assert_int_equal(fit(u, 3, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_U_SHAPED);
  double iu[3] = {2, 1, 2};
  assert_int_equal(fit(iu, 3, 1, &tr), 0);
  assert_int_equal(tr.verdict, IVS_VERDICT_INVERTED_U);
  /* a non-finite value makes no trend */
  double x[2] = {8, 9}, met[4] = {1, 1, INFINITY, 1};
  assert_int_equal(ivs_trend_fit(x, 2, met, 2, 1, 100, 1, &tr), IVS_EINVAL);
  assert_non_null(strstr(ivs_error_message(), "a trend needs finite values"));
}

static void test_verdict_names(void **state) {
  (void)state;
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_UNDEFINED), "undefined");
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_INVERSE), "inverse");
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_POSITIVE), "positive");
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_FLAT), "flat");
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_U_SHAPED), "u-shaped");
  assert_string_equal(ivs_verdict_name(IVS_VERDICT_INVERTED_U), "inverted-u");
  assert_string_equal(ivs_verdict_name((ivs_verdict)99), "undefined");
  assert_string_equal(ivs_eval_metric_name(IVS_EVAL_METRIC_ACC), "acc");
  assert_string_equal(ivs_eval_metric_name(IVS_EVAL_METRIC_LOSS), "loss");
}

static void test_known_params(void **state) {
  (void)state;
  assert_float_equal(ivs_eval_known_params("gpt2"), 124e6, 0);
  assert_float_equal(ivs_eval_known_params("EleutherAI/pythia-70m"), 70e6, 0);
  assert_float_equal(ivs_eval_known_params("qwen2.5-7b"), 7e9, 0);
  assert_float_equal(ivs_eval_known_params("mine"), 0, 0);
  assert_float_equal(ivs_eval_known_params(NULL), 0, 0);
}

static void test_backend_table(void **state) {
  (void)state;
  const char *arg;
  assert_ptr_equal(ivs_backend_find("openai:http://h/v1@m", &arg), &ivs_backend_openai);
  assert_string_equal(arg, "http://h/v1@m");
  assert_ptr_equal(ivs_backend_find("logprobs:x.jsonl", &arg), &ivs_backend_logprobs);
  assert_string_equal(arg, "x.jsonl");
  assert_ptr_equal(ivs_backend_find("lmeval:y", &arg), &ivs_backend_lmeval);
  assert_ptr_equal(ivs_backend_find("fake:2", &arg), &ivs_backend_fake);
  assert_ptr_equal(ivs_backend_find("native:/m", &arg), &ivs_backend_native);
  assert_string_equal(arg, "/m");
  assert_int_equal(ivs_eval_backend_check("native:"), IVS_EUSAGE);
  assert_null(ivs_backend_find("nativ:/m", &arg));
  assert_null(ivs_backend_find(NULL, &arg));
  assert_true(ivs_backend_logprobs.caps & IVS_BACKEND_VALUES);
  assert_true(ivs_backend_openai.caps & IVS_BACKEND_SCORE);
  assert_int_equal(ivs_eval_backend_check("openai:http://127.0.0.1:8000/v1@gpt2"), 0);
  assert_int_equal(ivs_eval_backend_check("openai:127.0.0.1@gpt2"), IVS_EUSAGE);
  assert_string_equal(ivs_error_message(), "expected openai:http://HOST:PORT/v1@MODEL_ID");
  assert_int_equal(ivs_eval_backend_check("openai:http://h/v1@"), IVS_EUSAGE);
  assert_int_equal(ivs_eval_backend_check("native:x"), 0);
  assert_int_equal(ivs_eval_backend_check("natve:x"), IVS_EUSAGE);
  assert_non_null(strstr(ivs_error_message(), "native:DIR"));
  assert_int_equal(ivs_eval_backend_check("fake:1.5@1e9"), 0);
  assert_int_equal(ivs_eval_backend_check("fake:1e8x"), IVS_EUSAGE);
  /* the fake is deterministic and in (-scale, 0) */
  void *st;
  assert_int_equal(ivs_backend_fake.open("m", "2@3e9", NULL, &st), 0);
  assert_float_equal(ivs_backend_fake.params(st), 3e9, 0);
  ivs_backend_req r[2] = {{"a prompt", " yes", ""}, {"a prompt", " no", ""}};
  double v[2], w[2];
  assert_int_equal(ivs_backend_fake.score(st, r, 2, v), 0);
  assert_int_equal(ivs_backend_fake.score(st, r, 2, w), 0);
  assert_memory_equal(v, w, sizeof v);
  for (int k = 0; k < 2; k++) assert_true(v[k] < 0 && v[k] >= -2);
  ivs_backend_fake.close(st);
}

/* The texts of the nodes that xpath selects, joined by '|'. */
static void texts_of(xmlXPathContextPtr xp, const char *xpath, char *out, size_t cap) {
  xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, xp);
  assert_non_null(o);
  out[0] = '\0';
  for (int k = 0; k < xmlXPathNodeSetGetLength(o->nodesetval); k++) {
    xmlChar *t = xmlNodeGetContent(xmlXPathNodeSetItem(o->nodesetval, k));
    if (strlen(out) + strlen((char *)t) + 2 < cap) strcat(out, k ? "|" : ""), strcat(out, (char *)t);
    xmlFree(t);
  }
  xmlXPathFreeObject(o);
}

static double number_of(xmlXPathContextPtr xp, const char *xpath) {
  xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, xp);
  assert_non_null(o);
  double v = o->floatval;
  xmlXPathFreeObject(o);
  return v;
}

/* The SVG parsed back: one circle per model with a finite mean, at the
 * right heights, a name below the axis for the other, the title and
 * subtitle, ticks at decades in human units and at values on y, the
 * baseline's value, a legend for two series, labels of close sizes in
 * different rows. */
static void test_plot(void **state) {
  (void)state;
  char dir[] = "/tmp/ivs_plot_XXXXXX", path[64], got[1024];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/loss_plot.svg", dir);
  ivs_plot_model m[3] = {{"fam-small", 1e8, 2.0, 0.1}, {"other", 1e9, INFINITY, NAN}, {"fam-big", 1e10, 1.0, 0.1}};
  ivs_plot p = {.title = "task <x>", .subtitle = "inverse: loss rises", .ylabel = "mean loss (nats)", .models = m,
                .n = 3, .baseline = 1.5, .log_y = 1};
  assert_int_equal(ivs_plot_svg(path, &p), 0);
  xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
  assert_non_null(doc);
  xmlXPathContextPtr xp = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(xp, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
  xmlXPathObjectPtr circles = xmlXPathEvalExpression(BAD_CAST "//s:circle[@class='model']", xp);
  assert_non_null(circles);
  assert_int_equal(xmlXPathNodeSetGetLength(circles->nodesetval), 2);
  double cy[2];
  for (int k = 0; k < 2; k++) {
    xmlNodePtr n = xmlXPathNodeSetItem(circles->nodesetval, k);
    xmlChar *name = xmlGetProp(n, BAD_CAST "data-model"), *mean = xmlGetProp(n, BAD_CAST "data-mean");
    xmlChar *y = xmlGetProp(n, BAD_CAST "cy");
    assert_string_equal((char *)name, k ? "fam-big" : "fam-small");
    assert_float_equal(strtod((char *)mean, NULL), k ? 1.0 : 2.0, 0);
    cy[k] = strtod((char *)y, NULL);
    xmlFree(name), xmlFree(mean), xmlFree(y);
  }
  assert_true(cy[0] < cy[1]); /* the larger mean is drawn higher */
  xmlXPathFreeObject(circles);
  texts_of(xp, "//s:text[@class='title']", got, sizeof got);
  assert_string_equal(got, "task <x>");
  texts_of(xp, "//s:text[@class='subtitle']", got, sizeof got);
  assert_string_equal(got, "inverse: loss rises");
  texts_of(xp, "//s:text[@class='model-label']", got, sizeof got);
  assert_string_equal(got, "fam-small 100M|other 1B (mean inf)|fam-big 10B");
  texts_of(xp, "//s:text[@class='tick']", got, sizeof got);
  assert_string_equal(got, "100M|1B|10B|1.0|1.5|2.0"); /* x at decades, then y */
  texts_of(xp, "//s:text[@class='baseline']", got, sizeof got);
  assert_string_equal(got, "baseline (guessing) 1.5");
  texts_of(xp, "//s:text[@class='legend']", got, sizeof got);
  assert_string_equal(got, "fam|other");
  /* one series line joins the family's two points; error bars with caps; its legend line */
  assert_float_equal(number_of(xp, "count(//s:line[@style='stroke:#1f77b4;stroke-width:1.5'])"), 1 + 2 * 3 + 1, 0);
  xmlXPathFreeContext(xp);
  xmlFreeDoc(doc);
  /* written atomically: no temporary file is left beside it */
  DIR *d = opendir(dir);
  int entries = 0;
  for (struct dirent *e; (e = readdir(d));) entries += e->d_name[0] != '.' || strstr(e->d_name, "tmp") != NULL;
  closedir(d);
  assert_int_equal(entries, 1);
  /* sizes close together: the labels take further rows, each label's row
   * apart from its neighbour's in the same row */
  ivs_plot_model close[4] = {{"pythia-70m", 7e7, 3, 0.1}, {"pythia-160m", 1.6e8, 2.9, 0.1},
                             {"pythia-200m", 2e8, 2.8, 0.1}, {"pythia-12b", 1.2e10, 3.5, 0.1}};
  p.models = close, p.n = 4, p.baseline = NAN;
  assert_int_equal(ivs_plot_svg(path, &p), 0);
  doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
  xp = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(xp, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
  double y160 = number_of(xp, "number(//s:text[@class='model-label'][2]/@y)");
  double y70 = number_of(xp, "number(//s:text[@class='model-label'][1]/@y)");
  double y200 = number_of(xp, "number(//s:text[@class='model-label'][3]/@y)");
  assert_true(y160 != y70 && y200 != y160); /* 70m and 200m are far enough apart to share a row */
  assert_float_equal(number_of(xp, "count(//s:text[@class='legend'])"), 0, 0); /* one series: no legend */
  xmlXPathFreeContext(xp);
  xmlFreeDoc(doc);
  char h[32];
  ivs_plot_human(1.5e9, h, sizeof h), assert_string_equal(h, "1.5B");
  ivs_plot_human(124439808, h, sizeof h), assert_string_equal(h, "124M");
  ivs_plot_human(175e9, h, sizeof h), assert_string_equal(h, "175B");
  ivs_plot_human(1e12, h, sizeof h), assert_string_equal(h, "1T");
  unlink(path);
  rmdir(dir);
  /* a folder that does not exist: an error, no file */
  assert_int_equal(ivs_plot_svg("/nonexistent-dir/p.svg", &p), IVS_EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_classification),   cmocka_unit_test(test_invert_and_infinite),
      cmocka_unit_test(test_logodds),          cmocka_unit_test(test_sequence),
      cmocka_unit_test(test_score_task_layout), cmocka_unit_test(test_aggregate),
      cmocka_unit_test(test_baseline_and_undefined), cmocka_unit_test(test_trend_verdicts),
      cmocka_unit_test(test_verdict_names),    cmocka_unit_test(test_known_params),
      cmocka_unit_test(test_backend_table),    cmocka_unit_test(test_plot),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  xmlCleanupParser();
  return rc;
}

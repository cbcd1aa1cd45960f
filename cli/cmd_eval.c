/* invscale eval TASK --model NAME=BACKEND ... --out DIR: prize scoring and
 * the trend.  The run is the library's (include/invscale/eval.h); this file
 * reads the options and prints. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/example.h"
#include "core/parse.h"
#include "core/utf8.h"
#include "invscale/eval.h"

static const char help[] =
    "usage: invscale eval TASK --model NAME=BACKEND [--model ...] [--params NAME=N ...]\n"
    "                     [--type T] [--metric loss|acc] [--invert] [--bootstrap N] [--seed S]\n"
    "                     [--top N] [--format text|json] --out DIR\n"
    "  backends: logprobs:FILE   log-probabilities computed elsewhere, one JSONL line per example\n"
    "            lmeval:FILE     lm-evaluation-harness --log_samples output (JSON Lines, or the\n"
    "                            JSON array of 0.4.0 to 0.4.2)\n"
    "            openai:URL@ID   an OpenAI-compatible server (vLLM, SGLang), e.g.\n"
    "                            openai:http://127.0.0.1:8000/v1@EleutherAI/pythia-70m\n"
    "            native:DIR      a Hugging Face model directory (config.json, model.safetensors or\n"
    "                            its shards, tokenizer.json) run by invscale's own engine on the CPU\n"
    "  server options: [--api-key-env VAR] [--concurrency N (8)] [--timeout SECONDS (60)]\n"
    "                  [--retries N (5)] [--cache DIR (DIR/cache)]\n"
    "  native options: [--tokenization prize|lmeval|separate (prize)] [--truncate none|left (none)]\n"
    "                  [--threads N (the cores)] [--cache-memory SIZE (256M)]\n\n"
    "Scores a task file (JSONL or CSV) on models of growing size exactly as the prize's pipeline\n"
    "(see docs/invscale.md).  Parameter counts: --params, else the prize's and today's known families\n"
    "(gpt2, ada..davinci, opt, gpt-neo, gpt-j, pythia, qwen2.5, smollm2).  Writes DIR/<model>.csv,\n"
    "DIR/labelled_data.jsonl, DIR/summary.json and DIR/loss_plot.svg, and prints the verdict.\n"
    "Server answers are cached per model under --cache, so an interrupted run resumes.\n"
    "--top N also prints the N examples whose own metric rises most steeply with size and the N whose\n"
    "falls most steeply (index, slope per 10x parameters, prompt start; every example's slope is in\n"
    "labelled_data.jsonl as slope_per_decade).\n"
    "native: models load one at a time.  --tokenization: prize tokenizes prompt+class together and\n"
    "scores the class's last tokens (the prize's code), lmeval as lm-evaluation-harness, separate\n"
    "encodes them apart; summary.json records it.  A sequence over the model's context is an error\n"
    "unless --truncate left drops its oldest context tokens.  --cache-memory bounds the keys and\n"
    "values of a prefix shared by consecutive examples (a few-shot demonstration), kept once.\n";

/* An option value core/parse.h refused, with its message (naming the option). */
static int bad_value(void) { return usage_error("eval", "%s", ivs_error_message()); }

static const char *headline(ivs_verdict v) {
  switch (v) {
  case IVS_VERDICT_INVERSE: return "INVERSE SCALING";
  case IVS_VERDICT_POSITIVE: return "POSITIVE SCALING";
  case IVS_VERDICT_FLAT: return "NO CLEAR TREND";
  case IVS_VERDICT_U_SHAPED: return "U-SHAPED SCALING";
  case IVS_VERDICT_INVERTED_U: return "INVERTED-U SCALING";
  default: return "UNDEFINED TREND";
  }
}

/* The start of a prompt on one line: at most 60 bytes cut at a character,
 * control characters as spaces, a NUL as \0. */
static void prompt_start(char *dst, size_t cap, const char *p) {
  size_t n = 0, len = strlen(p), keep = ivs_utf8_valid_prefix_nul((const unsigned char *)p, len < 60 ? len : 60);
  for (size_t i = 0; i < keep && n + 3 < cap; i++) {
    unsigned char ch = (unsigned char)p[i];
    if (ch == 0xC0 && i + 1 < keep && (unsigned char)p[i + 1] == 0x80) dst[n++] = '\\', dst[n++] = '0', i++;
    else dst[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
  }
  dst[n] = '\0';
  if (keep < len && n + 3 < cap) strcat(dst, "...");
}

static void print_examples(const char *what, const ivs_eval_example *e, size_t n, int json) {
  if (json) {
    printf(",\"%s\":[", what);
    for (size_t k = 0; k < n; k++) {
      printf("%s{\"index\":%zu,\"slope_per_decade\":%.17g,\"prompt\":", k ? "," : "", e[k].index, e[k].slope);
      json_string(stdout, e[k].prompt);
      printf("}");
    }
    printf("]");
    return;
  }
  printf("steepest %s (%zu):\n", what, n);
  for (size_t k = 0; k < n; k++) {
    char start[80];
    prompt_start(start, sizeof start, e[k].prompt);
    printf("  %8zu  %+9.4f  %s\n", e[k].index, e[k].slope, start);
  }
}

/* How many verdicts the run tested and at which level, ending the line. */
static void print_tested(const ivs_eval_result *r) {
  if (r->n_verdicts == 1) printf("; 1 verdict tested at the %g%% level\n", 100 * IVS_EVAL_TREND_LEVEL);
  else printf("; %zu verdicts tested, each at the %g%% level\n", r->n_verdicts, 100 * IVS_EVAL_TREND_LEVEL);
}

static void print_result(const ivs_eval_result *r, const ivs_eval_opts *o, int json) {
  if (json) {
    char nums[4][32];
    double v[4] = {r->slope, r->lo, r->hi, r->detectable};
    for (int k = 0; k < 4; k++) {
      if (isfinite(v[k])) snprintf(nums[k], sizeof nums[k], "%.17g", v[k]);
      else snprintf(nums[k], sizeof nums[k], "null");
    }
    printf("{\"verdict\":\"%s\",\"slope_per_decade\":%s,\"ci95\":[%s,%s],\"detectable_slope_per_decade\":%s,"
           "\"level\":%g,\"power\":%g,\"verdicts_tested\":%zu,\"models\":%zu,\"out\":",
           ivs_verdict_name(r->verdict), nums[0], nums[1], nums[2], nums[3], IVS_EVAL_TREND_LEVEL, IVS_EVAL_TREND_POWER,
           r->n_verdicts, r->n_models);
    json_string(stdout, o->out_dir);
    if (r->why[0]) printf(",\"why\":"), json_string(stdout, r->why);
    if (isfinite(r->share_rising)) printf(",\"share_examples_rising\":%.17g", r->share_rising);
    else printf(",\"share_examples_rising\":null");
    if (o->top) print_examples("rising", r->rising, r->n_rising, 1), print_examples("falling", r->falling, r->n_falling, 1);
    printf("}\n");
    return;
  } else if (r->verdict == IVS_VERDICT_UNDEFINED) {
    printf("UNDEFINED TREND: %s\n", r->why);
  } else {
    /* the verdict, its slope and interval, and its power: a flat verdict
     * leads with the largest trend it could have missed (docs/trend.md) */
    int acc = o->metric == IVS_EVAL_METRIC_ACC;
    const char *what = ivs_type_is_logodds(r->type) ? "log-odds difference" : acc ? "accuracy" : "loss";
    const char *unit = acc ? "" : " nats";
    printf("%s: ", headline(r->verdict));
    if (r->verdict == IVS_VERDICT_FLAT) {
      if (r->detectable == 0) printf("every example's own slope is 0; ");
      else if (isfinite(r->detectable))
        printf("no trend larger than %.3g%s per 10x parameters (%g%% power); ", r->detectable, unit,
               100 * IVS_EVAL_TREND_POWER);
      else printf("too few examples or resamples to detect any trend; ");
    }
    printf("%s %s %.3g%s per 10x parameters (95%% CI %.3g to %.3g) over %zu models", what,
           r->slope >= 0 ? "rises" : "falls", fabs(r->slope), unit, r->lo, r->hi, r->n_models);
    if (r->verdict != IVS_VERDICT_FLAT) {
      if (r->detectable == 0) printf("; every example has this slope");
      else if (isfinite(r->detectable))
        printf("; detectable with %g%% power: %.3g%s", 100 * IVS_EVAL_TREND_POWER, r->detectable, unit);
      else printf("; too few examples to state a detectable trend");
    }
    print_tested(r);
  }
  if (o->top) {
    const char *what = ivs_type_is_logodds(r->type) ? "log-odds difference" : o->metric == IVS_EVAL_METRIC_ACC ? "accuracy" : "loss";
    if (isfinite(r->share_rising)) printf("examples whose %s rises with size: %.1f%%\n", what, 100 * r->share_rising);
    print_examples("rise", r->rising, r->n_rising, 0);
    print_examples("fall", r->falling, r->n_falling, 0);
  }
}

int cmd_eval(int argc, char **argv, const char *db) {
  (void)db;
  enum { O_MODEL = 256, O_PARAMS, O_TYPE, O_METRIC, O_INVERT, O_OUT, O_BOOT, O_SEED, O_FORMAT, O_HELP,
         O_KEYENV, O_CONC, O_TIMEOUT, O_RETRIES, O_CACHE, O_TOP, O_TOKENIZATION, O_TRUNCATE, O_THREADS, O_CACHEMEM };
  static const struct option opts[] = {{"model", required_argument, 0, O_MODEL},   {"params", required_argument, 0, O_PARAMS},
                                       {"type", required_argument, 0, O_TYPE},     {"metric", required_argument, 0, O_METRIC},
                                       {"invert", no_argument, 0, O_INVERT},       {"out", required_argument, 0, O_OUT},
                                       {"bootstrap", required_argument, 0, O_BOOT}, {"seed", required_argument, 0, O_SEED},
                                       {"format", required_argument, 0, O_FORMAT}, {"help", no_argument, 0, O_HELP},
                                       {"api-key-env", required_argument, 0, O_KEYENV},
                                       {"concurrency", required_argument, 0, O_CONC},
                                       {"timeout", required_argument, 0, O_TIMEOUT},
                                       {"retries", required_argument, 0, O_RETRIES},
                                       {"cache", required_argument, 0, O_CACHE},
                                       {"top", required_argument, 0, O_TOP},
                                       {"tokenization", required_argument, 0, O_TOKENIZATION},
                                       {"truncate", required_argument, 0, O_TRUNCATE},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"cache-memory", required_argument, 0, O_CACHEMEM},
                                       {0, 0, 0, 0}};
  static const char *const metrics[] = {"loss", "acc"}, *const formats[] = {"text", "json"},
                           *const tokenizations[] = {"prize", "lmeval", "separate"}, *const truncations[] = {"none", "left"};
  ivs_eval_opts o = IVS_EVAL_OPTS_INIT;
  static model_args ma;
  memset(&ma, 0, sizeof ma);
  const char *key_env = NULL;
  double sec;
  uint64_t seed;
  int json = 0, c, k;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_MODEL:
      if (model_option("eval", optarg, &ma)) return EXIT_USAGE;
      break;
    case O_KEYENV: key_env = optarg; break;
    case O_CONC:
      if (ivs_parse_int("--concurrency", optarg, 1, 256, &o.concurrency)) return bad_value();
      break;
    case O_TIMEOUT:
      if (ivs_parse_double("--timeout", optarg, 0.001, 86400, &sec)) return bad_value();
      o.timeout_ms = (long)(sec * 1000);
      break;
    case O_RETRIES:
      if (ivs_parse_int("--retries", optarg, 0, 20, &o.retries)) return bad_value();
      break;
    case O_CACHE: o.cache_dir = optarg; break;
    case O_TOP:
      if (ivs_parse_size("--top", optarg, 0, IVS_EVAL_MAX_TOP, &o.top)) return bad_value();
      break;
    case O_TOKENIZATION:
      if (ivs_parse_enum("--tokenization", optarg, tokenizations, 3, &k))
        return usage_error("eval", "--tokenization: prize, lmeval or separate, got '%s'", optarg);
      o.tokenization = (ivs_eval_tokenization)k;
      break;
    case O_TRUNCATE:
      if (ivs_parse_enum("--truncate", optarg, truncations, 2, &o.truncate_left))
        return usage_error("eval", "--truncate: none or left, got '%s'", optarg);
      break;
    case O_THREADS:
      if (ivs_parse_size("--threads", optarg, 1, 1024, &o.threads)) return bad_value();
      break;
    case O_CACHEMEM:
      if (ivs_parse_bytes("--cache-memory", optarg, (uint64_t)1 << 50, &o.cache_memory)) return bad_value();
      break;
    case O_PARAMS:
      if (params_option("eval", optarg, &ma)) return EXIT_USAGE;
      break;
    case O_TYPE:
      if (ivs_type_parse(optarg, &o.type)) return report_error();
      break;
    case O_METRIC:
      if (ivs_parse_enum("--metric", optarg, metrics, 2, &k)) return usage_error("eval", "--metric: loss or acc");
      o.metric = k ? IVS_EVAL_METRIC_ACC : IVS_EVAL_METRIC_LOSS;
      break;
    case O_INVERT: o.invert = 1; break;
    case O_OUT: o.out_dir = optarg; break;
    case O_BOOT:
      if (ivs_parse_size("--bootstrap", optarg, 10, 1000000, &o.n_boot))
        return usage_error("eval", "--bootstrap: a number of resamples from 10 to 1000000, got '%s'", optarg);
      break;
    case O_SEED:
      if (ivs_parse_u64("--seed", optarg, 0, UINT64_MAX, &seed))
        return usage_error("eval", "--seed: a non-negative integer, got '%s'", optarg);
      o.seed = seed;
      break;
    case O_FORMAT:
      if (ivs_parse_enum("--format", optarg, formats, 2, &json)) return usage_error("eval", "--format: text or json");
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("eval", "unknown option");
    }
  }
  if (argc - optind != 1) return usage_error("eval", "expected one task file");
  if (!o.out_dir || !ma.n) return usage_error("eval", "needs --model NAME=BACKEND (one per model) and --out DIR");
  if (ma.n < 2) return usage_error("eval", "a scaling trend needs at least two models of different sizes");
  params_apply(&ma);
  if (api_key_option("eval", key_env, &o)) return EXIT_USAGE;
  o.task_path = argv[optind];
  o.models = ma.models, o.n_models = ma.n;
  o.progress = eval_event, o.progress_ud = (void *)o.task_path;
  ivs_eval_result r;
  int code;
  if (ivs_eval_run(&o, &r)) {
    progress_done();
    code = report_error();
  } else {
    print_result(&r, &o, json);
    code = finish_stdout(EXIT_OK);
  }
  ivs_eval_result_release(&r);
  return code;
}

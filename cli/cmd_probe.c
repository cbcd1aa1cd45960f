/* invscale probe PROMPTS --model NAME=BACKEND ... --metric M ... --out DIR:
 * generation probes across sizes.  The run is the library's
 * (ivs_probe_run, include/invscale/eval.h); this file reads the options and
 * prints. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/gen_opts.h"
#include "core/error.h"
#include "core/parse.h"
#include "invscale/eval.h"

static const char help[] =
    "usage: invscale probe PROMPTS --model NAME=BACKEND [--model ...] --metric M [--metric ...]\n"
    "                      [--params NAME=N ...] [--samples N (5)] [--max-new-tokens N (128)]\n"
    "                      [--greedy | --temperature T (1) --top-k K (off) --top-p P (1) ] [--seed S (1)]\n"
    "                      [--stop STR ...] [--seq-rep-n N (4)] [--spamd HOST:PORT] [--bootstrap N (1000)]\n"
    "                      [--format text|json] --out DIR\n"
    "  metrics:  repetition   seq-rep-n (Welleck et al. 2019) and the loop detector (a cycle of at\n"
    "                         most 64 tokens repeated 3 times or more at the end)\n"
    "            distinct     distinct-1, -2, -3 (Li et al. 2016)\n"
    "            compression  zlib compressed bytes over raw bytes\n"
    "            length       tokens generated, and the share that ran to --max-new-tokens\n"
    "            spam         SpamAssassin's score (Debian spamassassin and spamc): a spamd is started\n"
    "                         on 127.0.0.1 for the run, network tests off, unless --spamd names one\n"
    "            match:FILE   matches per 100 tokens of the named PCRE2 patterns in FILE (a set ships\n"
    "                         as examples/probes/spam_patterns.txt)\n"
    "            number       the first number of each completion (before its first newline); with\n"
    "                         `group` and `role` (control, low, high) the anchoring effect per group\n"
    "  backends: openai:URL@ID, native:DIR, as for eval (logprobs: and lmeval: do not generate)\n"
    "  server options: [--api-key-env VAR] [--concurrency N (8)] [--timeout SECONDS (60)]\n"
    "                  [--retries N (5)] [--cache DIR (DIR/cache)]\n"
    "  native options: [--threads N (the cores)] [--cache-memory SIZE (256M)]\n\n"
    "Has each model continue every prompt of PROMPTS (JSONL or CSV with a `prompt` field, optional\n"
    "`group` and `role`) --samples times, computes the metrics on every generation, and per model the\n"
    "mean and SEM over the prompts, with each metric's scaling verdict as eval's (a bootstrap over\n"
    "the prompts, or the groups for anchoring).  Sampling applies temperature, then top-k, then\n"
    "top-p; --temperature 0 is --greedy.  --stop ends a text before the string (\\n, \\t and \\\\ are\n"
    "read as escapes); up to 16.  Writes DIR/<model>.jsonl (every generation and its metrics),\n"
    "DIR/summary.json and DIR/<metric>.svg, and prints the verdicts (see docs/probe.md).\n";

static int bad_value(void) { return usage_error("probe", "%s", ivs_error_message()); }


static void print_num(double v) {
  if (isfinite(v)) printf("%.17g", v);
  else printf("null");
}

static void print_result(const ivs_probe_result *r, const ivs_probe_opts *o, int json) {
  if (json) {
    printf("{\"prompts\":%zu,\"groups\":%zu,\"samples\":%zu,\"models\":[", r->n_prompts, r->n_groups, r->samples);
    for (size_t m = 0; m < r->n_models; m++) {
      printf("%s{\"name\":", m ? "," : "");
      json_string(stdout, r->model_names[m]);
      printf(",\"params\":%.17g}", r->params[m]);
    }
    printf("],\"metrics\":[");
    for (size_t k = 0; k < r->n_metrics; k++) {
      const ivs_probe_metric *pm = &r->metrics[k];
      printf("%s{\"name\":\"%s\",\"verdict\":\"%s\",\"slope_per_decade\":", k ? "," : "", pm->name,
             ivs_verdict_name(pm->verdict));
      print_num(pm->slope);
      printf(",\"ci95\":[");
      print_num(pm->lo);
      printf(",");
      print_num(pm->hi);
      printf("],\"means\":[");
      for (size_t m = 0; m < r->n_models; m++) {
        if (m) printf(",");
        print_num(pm->models[m].mean);
      }
      printf("]}");
    }
    printf("],\"verdicts_tested\":%zu,\"out\":", r->n_verdicts);
    json_string(stdout, o->out_dir);
    printf("}\n");
    return;
  }
  printf("%zu prompts", r->n_prompts);
  if (r->n_groups) printf(" in %zu groups", r->n_groups);
  printf(", %zu sample%s each, %zu models:", r->samples, r->samples == 1 ? "" : "s", r->n_models);
  for (size_t m = 0; m < r->n_models; m++) printf(" %s", r->model_names[m]);
  printf("\n");
  for (size_t k = 0; k < r->n_metrics; k++) {
    const ivs_probe_metric *pm = &r->metrics[k];
    const char *unit = pm->over_groups ? "groups" : "prompts";
    printf("%-22s ", pm->name);
    if (pm->verdict == IVS_VERDICT_UNDEFINED) printf("undefined (no %s has a value for every model)", pm->over_groups ? "group" : "prompt");
    else
      printf("%-10s %s %.3g per 10x parameters (95%% CI %.3g to %.3g), %zu %s", ivs_verdict_name(pm->verdict),
             pm->slope >= 0 ? "rises" : "falls", fabs(pm->slope), pm->lo, pm->hi, pm->n_units, unit);
    if (pm->n_dropped) printf(", %zu %s left out (missing)", pm->n_dropped, unit);
    printf("\n%-22s means:", "");
    for (size_t m = 0; m < r->n_models; m++) {
      if (isfinite(pm->models[m].mean)) printf(" %.4g (SEM %.2g)", pm->models[m].mean, pm->models[m].sem);
      else printf(" none");
      if (pm->models[m].missing) printf(" [%zu missing]", pm->models[m].missing);
    }
    printf("\n");
  }
  printf("%zu verdict%s tested, each at the %g%% level; files in %s\n", r->n_verdicts, r->n_verdicts == 1 ? "" : "s",
         100 * IVS_EVAL_TREND_LEVEL, o->out_dir);
}

int cmd_probe(int argc, char **argv, const char *db) {
  (void)db;
  enum { O_MODEL = 256, O_PARAMS, O_METRIC, O_SAMPLES, O_MAXNEW, O_GREEDY, O_TEMP, O_TOPK, O_TOPP, O_SEED, O_STOP,
         O_SEQREP, O_SPAMD, O_BOOT, O_FORMAT, O_OUT, O_HELP, O_KEYENV, O_CONC, O_TIMEOUT, O_RETRIES, O_CACHE,
         O_THREADS, O_CACHEMEM };
  static const struct option opts[] = {
      {"model", required_argument, 0, O_MODEL},       {"params", required_argument, 0, O_PARAMS},
      {"metric", required_argument, 0, O_METRIC},     {"samples", required_argument, 0, O_SAMPLES},
      {"max-new-tokens", required_argument, 0, O_MAXNEW}, {"greedy", no_argument, 0, O_GREEDY},
      {"temperature", required_argument, 0, O_TEMP},  {"top-k", required_argument, 0, O_TOPK},
      {"top-p", required_argument, 0, O_TOPP},        {"seed", required_argument, 0, O_SEED},
      {"stop", required_argument, 0, O_STOP},         {"seq-rep-n", required_argument, 0, O_SEQREP},
      {"spamd", required_argument, 0, O_SPAMD},       {"bootstrap", required_argument, 0, O_BOOT},
      {"format", required_argument, 0, O_FORMAT},     {"out", required_argument, 0, O_OUT},
      {"help", no_argument, 0, O_HELP},               {"api-key-env", required_argument, 0, O_KEYENV},
      {"concurrency", required_argument, 0, O_CONC},  {"timeout", required_argument, 0, O_TIMEOUT},
      {"retries", required_argument, 0, O_RETRIES},   {"cache", required_argument, 0, O_CACHE},
      {"threads", required_argument, 0, O_THREADS},   {"cache-memory", required_argument, 0, O_CACHEMEM},
      {0, 0, 0, 0}};
  static const char *const formats[] = {"text", "json"};
  ivs_probe_opts o = IVS_PROBE_OPTS_INIT;
  static model_args ma;
  memset(&ma, 0, sizeof ma);
  const char *key_env = NULL;
  double sec;
  int json = 0, c, li = 0, code;
  gen_opts g;
  gen_opts_init(&g, 1);
  g.p.samples = o.samples, g.p.max_new_tokens = o.max_new_tokens;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
    unsigned bit;
    const char *mpath = NULL;
    switch (c) {
    case O_MODEL:
      if (model_option("probe", optarg, &ma)) return EXIT_USAGE;
      break;
    case O_PARAMS:
      if (params_option("probe", optarg, &ma)) return EXIT_USAGE;
      break;
    case O_METRIC:
      if (ivs_probe_metric_parse(optarg, &bit, &mpath)) return bad_value();
      if (bit == IVS_PROBE_MATCH && o.match_path && strcmp(o.match_path, mpath))
        return usage_error("probe", "--metric match:FILE: one pattern file per run (put the patterns in one file)");
      if (mpath) o.match_path = mpath;
      o.metrics |= bit;
      break;
    case O_SAMPLES:
    case O_MAXNEW:
    case O_GREEDY:
    case O_TEMP:
    case O_TOPK:
    case O_TOPP:
    case O_SEED:
    case O_STOP:
      if (gen_opts_take(&g, "probe", opts[li].name, optarg, &code) < 0) return code;
      break;
    case O_SEQREP:
      if (ivs_parse_size("--seq-rep-n", optarg, 1, 16, &o.seq_rep_n)) return bad_value();
      break;
    case O_SPAMD: o.spamd = optarg; break;
    case O_BOOT:
      if (ivs_parse_size("--bootstrap", optarg, 10, 1000000, &o.n_boot)) return bad_value();
      break;
    case O_FORMAT:
      if (ivs_parse_enum("--format", optarg, formats, 2, &json)) return usage_error("probe", "--format: text or json");
      break;
    case O_OUT: o.out_dir = optarg; break;
    case O_KEYENV: key_env = optarg; break;
    case O_CONC:
      if (ivs_parse_int("--concurrency", optarg, 1, 256, &o.backend.concurrency)) return bad_value();
      break;
    case O_TIMEOUT:
      if (ivs_parse_double("--timeout", optarg, 0.001, 86400, &sec)) return bad_value();
      o.backend.timeout_ms = (long)(sec * 1000);
      break;
    case O_RETRIES:
      if (ivs_parse_int("--retries", optarg, 0, 20, &o.backend.retries)) return bad_value();
      break;
    case O_CACHE: o.backend.cache_dir = optarg; break;
    case O_THREADS:
      if (ivs_parse_size("--threads", optarg, 1, 1024, &o.backend.threads)) return bad_value();
      break;
    case O_CACHEMEM:
      if (ivs_parse_bytes("--cache-memory", optarg, (uint64_t)1 << 50, &o.backend.cache_memory)) return bad_value();
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("probe", "unknown option");
    }
  }
  if (argc - optind != 1) return usage_error("probe", "expected one prompt set");
  if (!o.out_dir || !ma.n) return usage_error("probe", "needs --model NAME=BACKEND (one per model) and --out DIR");
  if (ma.n < 2) return usage_error("probe", "a scaling trend needs at least two models of different sizes");
  if (!o.metrics) return usage_error("probe", "needs --metric (repetition, distinct, compression, length, spam, match:FILE, number)");
  if ((code = gen_opts_finish(&g, "probe"))) return code;
  params_apply(&ma);
  if (api_key_option("probe", key_env, &o.backend)) return EXIT_USAGE;
  o.prompts_path = argv[optind];
  o.models = ma.models, o.n_models = ma.n;
  const ivs_gen_params *gp = &g.p;
  o.samples = gp->samples, o.max_new_tokens = gp->max_new_tokens, o.greedy = gp->greedy;
  o.temperature = gp->temperature, o.top_k = gp->top_k, o.top_p = gp->top_p, o.seed = gp->seed;
  o.stop = gp->stop, o.n_stop = gp->n_stop;
  o.progress = eval_event;
  ivs_probe_result r;
  if (ivs_probe_run(&o, &r)) {
    progress_done();
    code = report_error();
  } else {
    print_result(&r, &o, json);
    code = finish_stdout(EXIT_OK);
  }
  ivs_probe_result_release(&r);
  return code;
}

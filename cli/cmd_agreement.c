/* invscale agreement --input FILE: agreement statistics on judgments. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/parse.h"
#include "invscale/label.h"

static const char help[] =
    "usage: invscale agreement [--batch B | --input FILE [--map item=COL,annotator=COL,label=COL]]\n"
    "                          [--level nominal|ordinal|interval|ratio [--order A,B,C]] [--bootstrap N] [--seed S]\n"
    "                          [--format text|json]\n\n"
    "Agreement of the store's judgments (of batch B, or all), or of (item, annotator, label)\n"
    "judgments in a CSV, TSV or JSONL file (columns item or task, annotator or worker, label): Krippendorff's alpha with a bootstrap 95% interval over\n"
    "items (default 1000 resamples, seed 1), Fleiss' kappa, percent agreement, Cohen's kappa and\n"
    "Scott's pi for every pair of annotators, alpha per label (label vs the rest) and each\n"
    "annotator's agreement with the others.  A statistic that is undefined on the data is shown\n"
    "as undefined, with the reason (exit 1 when alpha itself is).  The latest judgment of an\n"
    "annotator on an item counts.  Ordinal alpha ranks numeric labels by value, text labels by\n"
    "--order (e.g. Easy,Neutral,Difficult) or, in the store, by the order of the items' classes.\n"
    "Blank rows (Toloka writes them between task suites) are skipped.\n";

#define MAX_PAIR_ANNOTATORS 100

static void text_stat(const char *name, int rc, double v) {
  if (rc) printf("%-28s %s\n", name, ivs_error_message());
  else printf("%-28s %.6f\n", name, v);
}

static void json_stat(const char *name, int rc, double v, int *first) {
  printf("%s\"%s\":", *first ? "" : ",", name);
  if (rc) {
    printf("null,\"%s_undefined\":", name);
    json_string(stdout, ivs_error_message());
  } else {
    printf("%.17g", v);
  }
  *first = 0;
}

int cmd_agreement(int argc, char **argv, const char *db) {
  enum { O_INPUT = 256, O_MAP, O_LEVEL, O_BOOT, O_SEED, O_FORMAT, O_BATCH, O_DB, O_HELP, O_ORDER };
  static const struct option opts[] = {{"input", required_argument, 0, O_INPUT}, {"map", required_argument, 0, O_MAP},
                                       {"level", required_argument, 0, O_LEVEL}, {"bootstrap", required_argument, 0, O_BOOT},
                                       {"seed", required_argument, 0, O_SEED},   {"format", required_argument, 0, O_FORMAT},
                                       {"batch", required_argument, 0, O_BATCH}, {"db", required_argument, 0, O_DB},
                                       {"order", required_argument, 0, O_ORDER}, {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
  const char *input = NULL, *batch = NULL;
  char *owned = NULL, *order_text = NULL;
  const char *order[256];
  size_t n_order = 0;
  ivs_triples_map map = IVS_TRIPLES_MAP_INIT;
  ivs_level level = IVS_LEVEL_NOMINAL;
  size_t nboot = 1000;
  uint64_t seed = 1;
  int json = 0, c, code = EXIT_FAIL;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_INPUT: input = optarg; break;
    case O_MAP:
      if (ivs_triples_map_parse(&map, optarg, &owned)) {
        free(owned);
        return report_error();
      }
      break;
    case O_LEVEL:
      if (ivs_level_parse(optarg, &level)) return report_error();
      break;
    case O_BOOT:
      if (ivs_parse_size("--bootstrap", optarg, 0, 100000, &nboot))
        return usage_error("agreement", "--bootstrap: 0 to 100000 resamples");
      break;
    case O_SEED:
      if (ivs_parse_u64("--seed", optarg, 0, UINT64_MAX, &seed)) return usage_error("agreement", "--seed: expected a number");
      break;
    case O_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "text")) return usage_error("agreement", "--format: text or json");
      json = !strcmp(optarg, "json");
      break;
    case O_BATCH: batch = optarg; break;
    case O_ORDER: order_text = optarg; break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("agreement", "unknown option");
    }
  }
  if (optind != argc) return usage_error("agreement", "unexpected argument '%s'", argv[optind]);
  if (input && batch) return usage_error("agreement", "--input reads a file; --batch the store: not both");
  if (order_text) { /* labels as written, commas between (spaces are part of a label) */
    if (level != IVS_LEVEL_ORDINAL) return usage_error("agreement", "--order applies to --level ordinal");
    for (char *p = order_text, *q; p; p = q) {
      if ((q = strchr(p, ','))) *q++ = '\0';
      if (!*p) return usage_error("agreement", "--order: an empty label (expected e.g. Easy,Neutral,Difficult)");
      if (n_order == sizeof order / sizeof *order) return usage_error("agreement", "--order: at most 256 labels");
      order[n_order++] = p;
    }
  }
  ivs_ratings *r = NULL;
  if (input) {
    if (ivs_ratings_new(&r) || ivs_triples_read(input, &map, r) || ivs_ratings_finish(r)) {
      code = report_error();
      goto out;
    }
  } else {
    ivs_store *st = NULL;
    int rs = ivs_store_open(&st, store_path(db), 0) || ivs_ratings_new(&r) || ivs_ratings_from_store(st, batch, 0, r);
    ivs_store_free(st);
    if (rs) {
      code = report_error();
      goto out;
    }
    input = batch ? batch : "all judgments";
  }
  if (n_order && ivs_ratings_set_order(r, order, n_order, 0)) {
    code = report_error();
    goto out;
  }
  size_t I = ivs_ratings_items(r), A = ivs_ratings_annotators(r), L = ivs_ratings_labels(r);
  double alpha = 0, lo = 0, hi = 0, fleiss = 0, pct = 0;
  int ra = ivs_alpha(r, level, &alpha);
  char alpha_msg[512];
  snprintf(alpha_msg, sizeof alpha_msg, "%s", ivs_error_message());
  int rb = ra ? ra : nboot ? ivs_alpha_bootstrap(r, level, nboot, seed, &lo, &hi) : 1;
  static const char *const levels[] = {"nominal", "ordinal", "interval", "ratio"};

  int first = 1;
  if (json) {
    printf("{\"input\":");
    json_string(stdout, input);
    printf(",\"items\":%zu,\"annotators\":%zu,\"labels\":%zu,\"judgments\":%zu,\"level\":\"%s\"", I, A, L,
           ivs_ratings_judgments(r), levels[level]);
    first = 0;
    if (ra) ivs_error_set(ra, "%s", alpha_msg);
    json_stat("alpha", ra, alpha, &first);
    if (!ra && !rb) printf(",\"alpha_ci95\":[%.17g,%.17g],\"n_boot\":%zu,\"seed\":%llu", lo, hi, nboot, (unsigned long long)seed);
    int rf = ivs_fleiss_kappa(r, &fleiss);
    json_stat("fleiss_kappa", rf, fleiss, &first);
    int rp = ivs_percent_agreement(r, &pct);
    json_stat("percent_agreement", rp, pct, &first);
    printf(",\"pairs\":[");
    for (size_t a = 0; A <= MAX_PAIR_ANNOTATORS && a < A; a++)
      for (size_t b = a + 1; b < A; b++) {
        double k = 0, p = 0;
        size_t shared = 0;
        int rk = ivs_cohen_kappa(r, a, b, &k, &shared);
        printf("%s{\"a\":", a == 0 && b == 1 ? "" : ",");
        json_string(stdout, ivs_ratings_annotator_name(r, a));
        printf(",\"b\":");
        json_string(stdout, ivs_ratings_annotator_name(r, b));
        printf(",\"shared\":%zu", shared);
        int f2 = 0;
        json_stat("cohen_kappa", rk, k, &f2);
        int rs = ivs_scott_pi(r, a, b, &p, &shared);
        json_stat("scott_pi", rs, p, &f2);
        printf("}");
      }
    printf("],\"per_label\":{");
    for (size_t l = 0; l < L; l++) {
      double v = 0;
      int rl = ivs_alpha_label(r, l, &v);
      printf("%s", l ? "," : "");
      json_string(stdout, ivs_ratings_label_name(r, l));
      printf(":");
      if (rl) printf("null");
      else printf("%.17g", v);
    }
    printf("},\"per_annotator\":{");
    for (size_t a = 0; a < A; a++) {
      double v = 0;
      size_t pairs = 0;
      int rr = ivs_annotator_agreement(r, a, &v, &pairs);
      printf("%s", a ? "," : "");
      json_string(stdout, ivs_ratings_annotator_name(r, a));
      if (rr) printf(":{\"agreement\":null,\"pairs\":0}");
      else printf(":{\"agreement\":%.17g,\"pairs\":%zu}", v, pairs);
    }
    printf("}}\n");
  } else {
    printf("%s: %zu items, %zu annotators, %zu labels, %zu judgments\n", input, I, A, L, ivs_ratings_judgments(r));
    char name[64];
    snprintf(name, sizeof name, "Krippendorff's alpha (%s)", levels[level]);
    if (ra) ivs_error_set(ra, "%s", alpha_msg);
    text_stat(name, ra, alpha);
    if (!ra && !rb)
      printf("  95%% interval [%.4f, %.4f] (%zu bootstrap resamples over items, seed %llu)\n", lo, hi, nboot, (unsigned long long)seed);
    else if (!ra && nboot)
      printf("  no interval: %s\n", ivs_error_message());
    int rf = ivs_fleiss_kappa(r, &fleiss); /* evaluated before use: argument order is unspecified */
    text_stat("Fleiss' kappa", rf, fleiss);
    int rp = ivs_percent_agreement(r, &pct);
    text_stat("percent agreement", rp, pct);
    if (A <= MAX_PAIR_ANNOTATORS && A >= 2) {
      printf("pairs (shared items, Cohen's kappa, Scott's pi):\n");
      for (size_t a = 0; a < A; a++)
        for (size_t b = a + 1; b < A; b++) {
          double k = 0, p = 0;
          size_t shared = 0;
          int rk = ivs_cohen_kappa(r, a, b, &k, &shared);
          printf("  %s / %s: %zu", ivs_ratings_annotator_name(r, a), ivs_ratings_annotator_name(r, b), shared);
          if (rk) printf(", %s\n", ivs_error_message());
          else if (ivs_scott_pi(r, a, b, &p, &shared) == 0) printf(", %.4f, %.4f\n", k, p);
          else printf(", %.4f, undefined\n", k);
        }
    } else if (A > MAX_PAIR_ANNOTATORS) {
      printf("pairs: not listed for more than %d annotators\n", MAX_PAIR_ANNOTATORS);
    }
    printf("per label (alpha of the label against the rest):\n");
    for (size_t l = 0; l < L; l++) {
      double v = 0;
      if (ivs_alpha_label(r, l, &v) == 0) printf("  %-20s %.4f\n", ivs_ratings_label_name(r, l), v);
      else printf("  %-20s %s\n", ivs_ratings_label_name(r, l), ivs_error_message());
    }
    printf("per annotator (share of pairings with the others that agree):\n");
    for (size_t a = 0; a < A; a++) {
      double v = 0;
      size_t pairs = 0;
      if (ivs_annotator_agreement(r, a, &v, &pairs) == 0)
        printf("  %-20s %.4f over %zu pairings\n", ivs_ratings_annotator_name(r, a), v, pairs);
      else printf("  %-20s %s\n", ivs_ratings_annotator_name(r, a), ivs_error_message());
    }
  }
  /* alpha is the anchor statistic: when it is undefined the command fails */
  code = finish_stdout(ra ? EXIT_FAIL : EXIT_OK);
  goto out;

out:
  ivs_ratings_free(r);
  free(owned);
  return code;
}

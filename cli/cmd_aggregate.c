/* invscale aggregate --input FILE: one final label per item. */
#include <csv.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fileio.h"
#include "label/aggregate.h"
#include "label/crowd.h"
#include "label/triples.h"

static const char help[] =
    "usage: invscale aggregate --method majority|dawid-skene [--batch B] [--out labels.csv]\n"
    "       invscale aggregate --method majority|dawid-skene --input FILE --out labels.csv\n"
    "                          [--map item=COL,annotator=COL,label=COL] [--iterations N] [--tolerance T]\n\n"
    "From the store: the final label of every judged item (of batch B, or all) becomes its\n"
    "answer_index; gold items keep their known answer and adjudicated items their adjudication.\n"
    "From a file: writes item,label,confidence.\n"
    "  majority     the most frequent label; a tie goes to the label first in sorted order\n"
    "               (crowd-kit's rule); confidence = the winner's share of the judgments\n"
    "  dawid-skene  Dawid & Skene's EM (starting from majority-vote shares, confusion\n"
    "               matrices clipped at 1e-10 as crowd-kit does, at most N iterations,\n"
    "               default 100, stopping when parameters move less than T, default 1e-5);\n"
    "               confidence = the posterior of the label\n"
    "--out - writes to standard output.\n";

int cmd_aggregate(int argc, char **argv, const char *db) {
  enum { O_METHOD = 256, O_INPUT, O_OUT, O_MAP, O_ITER, O_TOL, O_BATCH, O_DB, O_HELP };
  static const struct option opts[] = {{"method", required_argument, 0, O_METHOD}, {"input", required_argument, 0, O_INPUT},
                                       {"out", required_argument, 0, O_OUT},       {"map", required_argument, 0, O_MAP},
                                       {"iterations", required_argument, 0, O_ITER}, {"tolerance", required_argument, 0, O_TOL},
                                       {"batch", required_argument, 0, O_BATCH}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
  const char *method = NULL, *input = NULL, *out = NULL, *batch = NULL;
  char *owned = NULL;
  ivs_triples_map map = {0};
  size_t iterations = 100;
  double tolerance = 1e-5;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case O_METHOD: method = optarg; break;
    case O_INPUT: input = optarg; break;
    case O_OUT: out = optarg; break;
    case O_MAP:
      if (ivs_triples_map_parse(&map, optarg, &owned)) {
        free(owned);
        return report_error();
      }
      break;
    case O_ITER:
      iterations = (size_t)strtoull(optarg, &end, 10);
      if (*end || !iterations || iterations > 100000) return usage_error("aggregate", "--iterations: 1 to 100000");
      break;
    case O_BATCH: batch = optarg; break;
    case O_DB: db = optarg; break;
    case O_TOL:
      tolerance = strtod(optarg, &end);
      if (*end || tolerance < 0) return usage_error("aggregate", "--tolerance: a number >= 0 (0: run every iteration)");
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("aggregate", "unknown option");
    }
  }
  int ds = method && !strcmp(method, "dawid-skene");
  if (!method || (!ds && strcmp(method, "majority"))) return usage_error("aggregate", "--method majority or dawid-skene");
  if (input && !out) return usage_error("aggregate", "--input FILE needs --out FILE (or --out -)");
  if (input && batch) return usage_error("aggregate", "--input reads a file; --batch the store: not both");
  ivs_ratings *r = NULL;
  ivs_store *st = NULL;
  ivs_ds_result res;
  memset(&res, 0, sizeof res);
  size_t *labels = NULL;
  double *conf = NULL;
  ivs_atomic_file af = {0};
  int code = EXIT_FAIL;
  if (ivs_ratings_new(&r)) goto fail;
  if (input) {
    if (ds) ivs_ratings_keep_repeats(r);
    if (ivs_triples_read(input, &map, r) || ivs_ratings_finish(r)) goto fail;
  } else if (ivs_store_open(&st, store_path(db), 0) || ivs_store_ratings(st, batch, ds, r)) {
    goto fail;
  }
  size_t I = ivs_ratings_items(r), L = ivs_ratings_labels(r);
  labels = malloc((I ? I : 1) * sizeof *labels);
  conf = malloc((I ? I : 1) * sizeof *conf);
  if (!labels || !conf) {
    ivs_error_set(IVS_ENOMEM, "out of memory");
    goto fail;
  }
  if (ds) {
    ivs_ds_opts o = {iterations, tolerance, 1e-10, NULL};
    long *gold = NULL;
    if (st) { /* gold items of the store's batches are held at their known answer */
      if (!(gold = malloc((I ? I : 1) * sizeof *gold)) || ivs_store_gold(st, r, gold)) {
        free(gold);
        if (!gold) ivs_error_set(IVS_ENOMEM, "out of memory");
        goto fail;
      }
      o.clamp = gold;
    }
    int drc = ivs_dawid_skene(r, &o, &res);
    free(gold);
    if (drc) goto fail;
    for (size_t i = 0; i < I; i++) labels[i] = res.map[i], conf[i] = res.posterior[i * L + res.map[i]];
  } else if (ivs_majority_vote(r, labels, conf)) {
    goto fail;
  }
  if (st) { /* the store: final labels become answer_index */
    size_t written;
    if (ivs_final_labels_set(st, r, labels, conf, method, &written)) goto fail;
    printf("%zu items: final labels by %s; %zu examples updated (gold and adjudicated items keep theirs)\n", I, method,
           written);
    if (!out) {
      code = finish_stdout(EXIT_OK);
      goto done;
    }
  }
  FILE *f = stdout;
  if (strcmp(out, "-")) {
    if (ivs_atomic_open(&af, out)) goto fail;
    f = af.f;
  }
  fprintf(f, "item,label,confidence\n");
  for (size_t i = 0; i < I; i++) {
    const char *item = ivs_ratings_item_name(r, i), *label = ivs_ratings_label_name(r, labels[i]);
    csv_fwrite(f, item, strlen(item));
    fputc(',', f);
    csv_fwrite(f, label, strlen(label));
    fprintf(f, ",%.6f\n", conf[i]);
  }
  if (af.f && ivs_atomic_commit(&af)) goto fail;
  if (strcmp(out, "-")) fprintf(stderr, "%s: %zu items labelled by %s\n", out, I, method);
  if (ds) fprintf(stderr, "dawid-skene: %zu iterations, log-likelihood %.6f\n", res.iterations, res.log_likelihood);
  code = strcmp(out, "-") ? EXIT_OK : finish_stdout(EXIT_OK);
  goto done;
fail:
  code = report_error();
  ivs_atomic_abort(&af);
done:
  ivs_ds_result_release(&res);
  free(labels);
  free(conf);
  ivs_ratings_free(r);
  ivs_store_free(st);
  free(owned);
  return code;
}

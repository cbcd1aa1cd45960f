/* invscale aggregate --input FILE: one final label per item. */
#include <csv.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "invscale/label.h"

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
  ivs_triples_map map = IVS_TRIPLES_MAP_INIT;
  ivs_aggregate_opts ao = IVS_AGGREGATE_OPTS_INIT;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
      if (ivs_parse_size("--iterations", optarg, 1, 100000, &ao.max_iter)) return usage_error("aggregate", "--iterations: 1 to 100000");
      break;
    case O_BATCH: batch = optarg; break;
    case O_DB: db = optarg; break;
    case O_TOL:
      if (ivs_parse_double("--tolerance", optarg, 0, 1e300, &ao.tol))
        return usage_error("aggregate", "--tolerance: a number >= 0 (0: run every iteration)");
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("aggregate", "unknown option");
    }
  }
  if (!method || ivs_agg_method_parse(method, &ao.method)) return usage_error("aggregate", "--method majority or dawid-skene");
  int ds = ao.method == IVS_AGG_DAWID_SKENE;
  if (input && !out) return usage_error("aggregate", "--input FILE needs --out FILE (or --out -)");
  if (input && batch) return usage_error("aggregate", "--input reads a file; --batch the store: not both");
  ivs_ratings *r = NULL;
  ivs_store *st = NULL;
  ivs_aggregation agg;
  memset(&agg, 0, sizeof agg);
  ivs_atomic_file af = {0};
  int code = EXIT_FAIL;
  if (input) {
    if (ivs_ratings_new(&r)) goto fail;
    if (ds) ivs_ratings_keep_repeats(r);
    if (ivs_triples_read(input, &map, r) || ivs_ratings_finish(r) || ivs_aggregate(r, NULL, &ao, &agg)) goto fail;
  } else { /* the store: final labels become answer_index */
    size_t written;
    if (ivs_store_open(&st, store_path(db), 0) || ivs_aggregate_store(st, batch, &ao, &r, &agg, &written)) goto fail;
    printf("%zu items: final labels by %s; %zu examples updated (gold and adjudicated items keep theirs)\n", agg.items,
           method, written);
    if (!out) {
      code = finish_stdout(EXIT_OK);
      goto done;
    }
  }
  size_t I = agg.items;
  FILE *f = stdout;
  if (strcmp(out, "-")) {
    if (ivs_atomic_open(&af, out)) goto fail;
    f = af.f;
  }
  fprintf(f, "item,label,confidence\n");
  for (size_t i = 0; i < I; i++) {
    const char *item = ivs_ratings_item_name(r, i), *label = ivs_ratings_label_name(r, agg.labels[i]);
    csv_fwrite(f, item, strlen(item));
    fputc(',', f);
    csv_fwrite(f, label, strlen(label));
    fprintf(f, ",%.6f\n", agg.confidence[i]);
  }
  if (af.f && ivs_atomic_commit(&af)) goto fail;
  if (strcmp(out, "-")) fprintf(stderr, "%s: %zu items labelled by %s\n", out, I, method);
  if (ds) fprintf(stderr, "dawid-skene: %zu iterations, log-likelihood %.6f\n", agg.iterations, agg.log_likelihood);
  code = strcmp(out, "-") ? EXIT_OK : finish_stdout(EXIT_OK);
  goto done;
fail:
  code = report_error();
  ivs_atomic_abort(&af);
done:
  ivs_aggregation_release(&agg);
  ivs_ratings_free(r);
  ivs_store_free(st);
  free(owned);
  return code;
}

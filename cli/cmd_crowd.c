/* invscale annotator | batch | judgments | adjudicate: crowd annotation in the store. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fileio.h"
#include "label/crowd.h"

static int print_annotator(const char *name, const char *ext, int64_t n, void *ud) {
  (void)ud;
  printf("%-24s %-16s %lld judgments\n", name, ext ? ext : "-", (long long)n);
  return 0;
}

int cmd_annotator(int argc, char **argv, const char *db) {
  static const char help[] = "usage: invscale annotator add NAME [--external-id ID] | list\n";
  static const struct option opts[] = {{"external-id", required_argument, 0, 'x'}, {"db", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *ext = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'x') ext = optarg;
    else if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("annotator", "unknown option");
  }
  int add = optind < argc && !strcmp(argv[optind], "add"), list = optind < argc && !strcmp(argv[optind], "list");
  if (!(add && argc - optind == 2) && !(list && argc - optind == 1)) return usage_error("annotator", "expected 'add NAME' or 'list'");
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc = add ? ivs_annotator_add(st, argv[optind + 1], ext, NULL) : ivs_annotator_list(st, print_annotator, NULL);
  ivs_store_free(st);
  if (rc) return report_error();
  if (add) printf("added annotator %s\n", argv[optind + 1]);
  return finish_stdout(EXIT_OK);
}

int cmd_batch(int argc, char **argv, const char *db) {
  static const char help[] =
      "usage: invscale batch create --name B --per-item K [--size N] [--gold G] [--annotators a,b,c] [--seed S] [--tag T]\n"
      "       invscale batch export B --format labelstudio|toloka|csv|jsonl --out FILE\n\n"
      "create: items are examples with classes and no answer, not yet in a batch; G gold items (with\n"
      "known answers) are mixed in at random positions; each item gets K distinct named annotators\n"
      "(balanced), or K open slots; the same --seed gives the same batch.\n"
      "export: labelstudio also writes FILE.xml, the labeling config.\n";
  enum { O_NAME = 256, O_PER, O_SIZE, O_GOLD, O_ANN, O_SEED, O_TAG, O_FORMAT, O_OUT, O_DB, O_HELP };
  static const struct option opts[] = {
      {"name", required_argument, 0, O_NAME}, {"per-item", required_argument, 0, O_PER}, {"size", required_argument, 0, O_SIZE},
      {"gold", required_argument, 0, O_GOLD}, {"annotators", required_argument, 0, O_ANN}, {"seed", required_argument, 0, O_SEED},
      {"tag", required_argument, 0, O_TAG},   {"format", required_argument, 0, O_FORMAT}, {"out", required_argument, 0, O_OUT},
      {"db", required_argument, 0, O_DB},     {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
  ivs_batch_opts bo = {NULL, 0, 0, 0, NULL, 0, 1, NULL};
  const char *format = NULL, *out = NULL;
  char *annlist = NULL;
  const char *names[256];
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_NAME: bo.name = optarg; break;
    case O_PER: bo.per_item = (size_t)strtoull(optarg, NULL, 10); break;
    case O_SIZE: bo.size = (size_t)strtoull(optarg, NULL, 10); break;
    case O_GOLD: bo.gold = (size_t)strtoull(optarg, NULL, 10); break;
    case O_ANN: annlist = optarg; break;
    case O_SEED: bo.seed = strtoull(optarg, NULL, 10); break;
    case O_TAG: bo.tag = optarg; break;
    case O_FORMAT: format = optarg; break;
    case O_OUT: out = optarg; break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("batch", "unknown option");
    }
  }
  int create = optind < argc && !strcmp(argv[optind], "create") && argc - optind == 1;
  int export = optind < argc && !strcmp(argv[optind], "export") && argc - optind == 2;
  if (!create && !export) return usage_error("batch", "expected 'create' or 'export BATCH'");
  if (create && (!bo.name || !bo.per_item)) return usage_error("batch", "create needs --name and --per-item");
  if (annlist) {
    for (char *save = NULL, *t = strtok_r(annlist, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (bo.n_annotators == 256) return usage_error("batch", "at most 256 annotators");
      for (size_t k = 0; k < bo.n_annotators; k++)
        if (!strcmp(names[k], t)) return usage_error("batch", "annotator '%s' named twice", t);
      names[bo.n_annotators++] = t;
    }
    bo.annotators = names;
  }
  ivs_batch_format fmt = IVS_BATCH_CSV;
  if (export) {
    if (!format || !out) return usage_error("batch", "export needs --format and --out");
    if (!strcmp(format, "labelstudio")) fmt = IVS_BATCH_LABELSTUDIO;
    else if (!strcmp(format, "toloka")) fmt = IVS_BATCH_TOLOKA;
    else if (!strcmp(format, "jsonl")) fmt = IVS_BATCH_JSONL;
    else if (strcmp(format, "csv")) return usage_error("batch", "--format: labelstudio, toloka, csv or jsonl");
  }
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc;
  if (create) {
    size_t items = 0, gold = 0;
    rc = ivs_batch_create(st, &bo, &items, &gold);
    if (!rc)
      printf("batch %s: %zu items and %zu gold items, %zu judgments each (%s), seed %llu\n", bo.name, items, gold,
             bo.per_item, bo.n_annotators ? "named annotators" : "open slots", (unsigned long long)bo.seed);
  } else {
    ivs_atomic_file af = {0}, ax = {0};
    char xml[4096];
    snprintf(xml, sizeof xml, "%s.xml", out);
    rc = ivs_atomic_open(&af, out);
    if (!rc && fmt == IVS_BATCH_LABELSTUDIO) rc = ivs_atomic_open(&ax, xml);
    if (!rc) rc = ivs_batch_export(st, argv[optind + 1], fmt, af.f, ax.f);
    if (!rc) rc = ivs_atomic_commit(&af);
    if (!rc && ax.f) rc = ivs_atomic_commit(&ax);
    ivs_atomic_abort(&af);
    ivs_atomic_abort(&ax);
    if (!rc) printf("wrote %s%s%s\n", out, fmt == IVS_BATCH_LABELSTUDIO ? " and " : "", fmt == IVS_BATCH_LABELSTUDIO ? xml : "");
  }
  ivs_store_free(st);
  return rc ? report_error() : finish_stdout(EXIT_OK);
}

int cmd_judgments(int argc, char **argv, const char *db) {
  static const char help[] =
      "usage: invscale judgments import FILE --format labelstudio|csv|jsonl [--batch B]\n\n"
      "csv/jsonl: columns item (the example id), annotator, label, optional time (seconds).\n"
      "labelstudio: Label Studio's JSON export of a batch exported by invscale (data.item_id).\n"
      "Annotators unknown so far are registered under their id.  Judgments of unknown items,\n"
      "labels outside the item's classes and cancelled annotations are reported, not stored;\n"
      "re-importing a file adds nothing.  One transaction.\n";
  static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"batch", required_argument, 0, 'b'},
                                       {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *format = NULL, *batch = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'f') format = optarg;
    else if (c == 'b') batch = optarg;
    else if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("judgments", "unknown option");
  }
  if (!(optind + 2 == argc && !strcmp(argv[optind], "import"))) return usage_error("judgments", "expected 'import FILE'");
  ivs_judgment_format fmt;
  if (!format) return usage_error("judgments", "--format is required");
  if (!strcmp(format, "labelstudio")) fmt = IVS_JUDG_LABELSTUDIO;
  else if (!strcmp(format, "csv")) fmt = IVS_JUDG_CSV;
  else if (!strcmp(format, "jsonl")) fmt = IVS_JUDG_JSONL;
  else return usage_error("judgments", "unknown format '%s' (labelstudio, csv, jsonl; labelstudio-min, mturk-csv, "
                                       "mturk-xml and toloka are not implemented yet)", format);
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  ivs_import_report rep;
  int rc = ivs_judgments_import(st, argv[optind + 1], fmt, batch, &rep);
  ivs_store_free(st);
  if (rc) return report_error();
  printf("%s: %zu judgments imported, %zu duplicates, %zu rejected, %zu cancelled, %zu new annotators\n",
         argv[optind + 1], rep.imported, rep.duplicates, rep.rejected, rep.cancelled, rep.new_annotators);
  if (rep.rejected) printf("  first rejected: %s\n", rep.first_reject);
  return finish_stdout(rep.rejected ? (rep.imported ? EXIT_PARTIAL : EXIT_FAIL) : EXIT_OK);
}

int cmd_adjudicate(int argc, char **argv, const char *db) {
  static const char help[] = "usage: invscale adjudicate ITEM LABEL --by ANNOTATOR [--note TEXT]\n";
  static const struct option opts[] = {{"by", required_argument, 0, 'b'}, {"note", required_argument, 0, 'n'},
                                       {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *by = NULL, *note = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'b') by = optarg;
    else if (c == 'n') note = optarg;
    else if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("adjudicate", "unknown option");
  }
  if (argc - optind != 2 || !by) return usage_error("adjudicate", "expected ITEM LABEL --by ANNOTATOR");
  char *end;
  long long item = strtoll(argv[optind], &end, 10);
  if (*end) return usage_error("adjudicate", "ITEM is an example id");
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc = ivs_adjudicate(st, item, argv[optind + 1], by, note);
  ivs_store_free(st);
  if (rc) return report_error();
  printf("example %lld: final label '%s' (adjudicated by %s)\n", item, argv[optind + 1], by);
  return finish_stdout(EXIT_OK);
}

/* invscale annotator | batch | judgments | adjudicate: crowd annotation in the store. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "invscale/label.h"

static void print_row(const ivs_annotator_row *a) {
  printf("%-20s %8lld", a->stats.name, (long long)a->stats.judgments);
  if (a->stats.median_seconds >= 0) printf(" %9.1f", a->stats.median_seconds);
  else printf(" %9s", "-");
  if (a->gold_accuracy >= 0) printf(" %6.3f (%lld)", a->gold_accuracy, (long long)a->stats.gold_judgments);
  else printf(" %12s", "-");
  if (a->agreement >= 0) printf(" %9.3f", a->agreement);
  else printf(" %9s", "-");
  if (a->ds_accuracy >= 0) printf(" %8.3f", a->ds_accuracy);
  else printf(" %8s", "-");
  printf("%s\n", a->flagged ? "  FLAGGED" : "");
}

static int print_annotator(const char *name, const char *ext, int64_t n, void *ud) {
  (void)ud;
  printf("%-24s %-16s %lld judgments\n", name, ext ? ext : "-", (long long)n);
  return 0;
}

int cmd_annotator(int argc, char **argv, const char *db) {
  static const char help[] =
      "usage: invscale annotator add NAME [--external-id ID] | list\n"
      "       invscale annotator report [--batch B] [--min-gold-accuracy 0.7] [--min-agreement 0.6]\n\n"
      "report: judgments, median seconds per item, accuracy on gold items, agreement with the final\n"
      "labels (run 'invscale aggregate' first), Dawid-Skene's accuracy estimate (sum over labels of\n"
      "prior x P(correct)); annotators under a threshold are FLAGGED.\n";
  enum { O_EXT = 256, O_BATCH, O_MING, O_MINA, O_DB, O_HELP };
  static const struct option opts[] = {{"external-id", required_argument, 0, O_EXT}, {"batch", required_argument, 0, O_BATCH},
                                       {"min-gold-accuracy", required_argument, 0, O_MING},
                                       {"min-agreement", required_argument, 0, O_MINA}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
  const char *ext = NULL, *batch = NULL;
  ivs_report_opts ro = IVS_REPORT_OPTS_INIT;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == O_EXT) ext = optarg;
    else if (c == O_BATCH) batch = optarg;
    else if (c == O_MING) {
      if (ivs_parse_double("--min-gold-accuracy", optarg, 0, 1, &ro.min_gold)) return usage_error("annotator", "%s", ivs_error_message());
    } else if (c == O_MINA) {
      if (ivs_parse_double("--min-agreement", optarg, 0, 1, &ro.min_agree)) return usage_error("annotator", "%s", ivs_error_message());
    }
    else if (c == O_DB) db = optarg;
    else if (c == O_HELP || c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("annotator", "unknown option");
  }
  int add = optind < argc && !strcmp(argv[optind], "add"), list = optind < argc && !strcmp(argv[optind], "list");
  int report = optind < argc && !strcmp(argv[optind], "report");
  if (!(add && argc - optind == 2) && !((list || report) && argc - optind == 1))
    return usage_error("annotator", "expected 'add NAME', 'list' or 'report'");
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc;
  if (report) {
    ivs_annotator_report rep;
    ro.batch = batch;
    rc = ivs_annotator_report_make(st, &ro, &rep);
    if (!rc) {
      printf("%-20s %8s %9s %12s %9s %8s\n", "annotator", "judged", "median s", "gold acc", "agree", "DS acc");
      for (size_t i = 0; i < rep.n; i++) print_row(&rep.rows[i]);
      printf("%zu flagged (gold accuracy under %.2f or agreement with the final labels under %.2f)\n", rep.flagged,
             ro.min_gold, ro.min_agree);
      ivs_annotator_report_release(&rep);
    }
  } else {
    rc = add ? ivs_annotator_add(st, argv[optind + 1], ext, NULL) : ivs_annotator_list(st, print_annotator, NULL);
  }
  ivs_store_free(st);
  if (rc) return report_error();
  if (add) printf("added annotator %s\n", argv[optind + 1]);
  return finish_stdout(EXIT_OK);
}

int cmd_disagreements(int argc, char **argv, const char *db) {
  static const char help[] =
      "usage: invscale disagreements [--batch B] [--max-confidence 0.7]\n\n"
      "Items whose majority label has at most that share of the judgments, least agreed first:\n"
      "the candidates for 'invscale adjudicate'.\n";
  static const struct option opts[] = {{"batch", required_argument, 0, 'b'}, {"max-confidence", required_argument, 0, 'm'},
                                       {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *batch = NULL;
  double maxc = 0.7;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'b') batch = optarg;
    else if (c == 'm') {
      if (ivs_parse_double("--max-confidence", optarg, 0, 1, &maxc)) return usage_error("disagreements", "%s", ivs_error_message());
    }
    else if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("disagreements", "unknown option");
  }
  if (optind != argc) return usage_error("disagreements", "unexpected argument '%s'", argv[optind]);
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  ivs_ratings *r = NULL;
  ivs_disagreement *d = NULL;
  size_t shown = 0;
  int rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_ratings_from_store(st, batch, 0, r);
  if (!rc) rc = ivs_disagreements(r, maxc, &d, &shown);
  for (size_t k = 0; !rc && k < shown; k++)
    printf("item %-8s majority '%s' at %.2f\n", ivs_ratings_item_name(r, d[k].item), ivs_ratings_label_name(r, d[k].label),
           d[k].confidence);
  if (!rc) printf("%zu of %zu items at or under %.2f agreement\n", shown, ivs_ratings_items(r), maxc);
  free(d);
  ivs_ratings_free(r);
  ivs_store_free(st);
  if (rc) return report_error();
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
  ivs_batch_opts bo = IVS_BATCH_OPTS_INIT;
  const char *format = NULL, *out = NULL;
  char *annlist = NULL;
  const char *names[256];
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_NAME: bo.name = optarg; break;
    case O_PER:
      if (ivs_parse_size("--per-item", optarg, 0, 1000, &bo.per_item)) return usage_error("batch", "%s", ivs_error_message());
      break;
    case O_SIZE:
      if (ivs_parse_size("--size", optarg, 0, SIZE_MAX, &bo.size)) return usage_error("batch", "%s", ivs_error_message());
      break;
    case O_GOLD:
      if (ivs_parse_size("--gold", optarg, 0, SIZE_MAX, &bo.gold)) return usage_error("batch", "%s", ivs_error_message());
      break;
    case O_ANN: annlist = optarg; break;
    case O_SEED:
      if (ivs_parse_u64("--seed", optarg, 0, UINT64_MAX, &bo.seed)) return usage_error("batch", "%s", ivs_error_message());
      break;
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
      "usage: invscale judgments import FILE --format F [--batch B] [--map item=COL,annotator=COL,label=COL,time=COL]\n"
      "                                   [--match prompt=data.FIELD]\n\n"
      "F: labelstudio (JSON export; tasks with annotations, or completions in older files),\n"
      "   labelstudio-min (JSON_MIN: item_id, annotator, label), mturk-csv (batch results:\n"
      "   WorkerId, Input.item_id, Answer.label, Answer.<name>.label or Answer.taskAnswers,\n"
      "   WorkTimeInSeconds; several items a row as Input.item_id_N with Answer.label_N; Rejected\n"
      "   assignments skipped), toloka (TSV: INPUT:item_id, OUTPUT:label, ASSIGNMENT:worker_id;\n"
      "   REJECTED and blank rows skipped), mturk-xml (ListAssignmentsForHIT result: Assignment elements with\n"
      "   WorkerId, AssignmentStatus and an Answer holding QuestionFormAnswers with the answers\n"
      "   item_id and label), csv or jsonl (item, annotator, label, optional time in seconds).\n"
      "Items are example ids (invscale's batch exports carry them as item_id).  --map works for\n"
      "every format (labelstudio: item=data.FIELD, label=CONTROL); --match prompt=data.FIELD\n"
      "(labelstudio) finds the item whose prompt equals the task's text.\n"
      "Annotators unknown so far are registered under their id.  Judgments of unknown items,\n"
      "labels outside the item's classes and cancelled annotations are reported, not stored;\n"
      "a judgment is known by its platform's id (Label Studio annotation id, MTurk AssignmentId and\n"
      "item, Toloka assignment_id and item; csv/jsonl: item, annotator, label and time), so\n"
      "re-importing it under any name adds nothing; a changed one (new label or later updated_at)\n"
      "replaces the stored one, which is kept as history.  One transaction.\n";
  static const struct option opts[] = {{"format", required_argument, 0, 'f'}, {"batch", required_argument, 0, 'b'},
                                       {"map", required_argument, 0, 'm'},   {"db", required_argument, 0, 'd'},
                                       {"match", required_argument, 0, 'M'},
                                       {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
  const char *format = NULL, *batch = NULL;
  char *mapspec = NULL;
  const char *matchspec = NULL;
  ivs_judgment_map map = IVS_JUDGMENT_MAP_INIT;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'f') format = optarg;
    else if (c == 'm') mapspec = optarg;
    else if (c == 'M') matchspec = optarg;
    else if (c == 'b') batch = optarg;
    else if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("judgments", "unknown option");
  }
  if (!(optind + 2 == argc && !strcmp(argv[optind], "import"))) return usage_error("judgments", "expected 'import FILE'");
  ivs_judgment_format fmt;
  if (!format) return usage_error("judgments", "--format is required");
  if (ivs_judgment_format_parse(format, &fmt)) return report_error();
  for (char *save = NULL, *t = mapspec ? strtok_r(mapspec, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(t, '=');
    if (!eq || !eq[1]) return usage_error("judgments", "--map: expected NAME=COLUMN, got '%s'", t);
    *eq = '\0';
    if (!strcmp(t, "item")) map.item = eq + 1;
    else if (!strcmp(t, "annotator")) map.annotator = eq + 1;
    else if (!strcmp(t, "label")) map.label = eq + 1;
    else if (!strcmp(t, "time")) map.time = eq + 1;
    else return usage_error("judgments", "--map: unknown name '%s' (item, annotator, label, time)", t);
  }
  if (matchspec) {
    if (strncmp(matchspec, "prompt=", 7) || !matchspec[7])
      return usage_error("judgments", "--match: expected prompt=data.FIELD, got '%s'", matchspec);
    if (fmt != IVS_JUDG_LABELSTUDIO) return usage_error("judgments", "--match applies to labelstudio");
    if (map.item) return usage_error("judgments", "--match and --map item= both name the item: give one");
    map.match_prompt = matchspec + 7;
  }
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  ivs_import_report rep;
  int rc = ivs_judgments_import(st, argv[optind + 1], fmt, batch, &map, &rep);
  ivs_store_free(st);
  if (rc) return report_error();
  printf("%s: %zu judgments imported, %zu duplicates, %zu rejected, %zu cancelled, %zu new annotators", argv[optind + 1],
         rep.imported, rep.duplicates, rep.rejected, rep.cancelled, rep.new_annotators);
  if (rep.updated) printf(", %zu updated (the old versions kept as history)", rep.updated);
  putchar('\n');
  if (rep.rejected) printf("  first rejected: %s\n", rep.first_reject);
  return finish_stdout(rep.rejected ? (rep.imported || rep.updated ? EXIT_PARTIAL : EXIT_FAIL) : EXIT_OK);
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

/* invscale package: the submission zip. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/parse.h"
#include "core/error.h"
#include "export/package.h"

static const char help[] =
    "usage: invscale package --out submission.zip [--parts-by FIELD] [--type T] [--tag T]\n"
    "                        [--min-examples N]\n\n"
    "Writes a zip holding the task as CSV parts (NAME-PART1.csv, ... split by a metadata field,\n"
    "named after the task, never after people), the same examples as NAME.jsonl, and datasheet.md\n"
    "from 'invscale meta'.  Refused when a required datasheet field is missing, under 300 examples\n"
    "(--min-examples changes that), or when the data breaks an error rule.\n";

static int print_diag(const ivs_vdiag *d, void *ud) {
  size_t *shown = ud;
  if (!d->is_error || (*shown)++ >= 50) return 0;
  fprintf(stderr, "package:");
  if (d->line) fprintf(stderr, "%zu:", d->line);
  fprintf(stderr, " error [%s]%s%s: %s\n", d->rule, d->field[0] ? " " : "", d->field, d->message);
  return 0;
}

int cmd_package(int argc, char **argv, const char *db) {
  enum { O_OUT = 256, O_PARTS, O_TYPE, O_TAG, O_MIN, O_DB, O_HELP };
  static const struct option opts[] = {{"out", required_argument, 0, O_OUT},   {"parts-by", required_argument, 0, O_PARTS},
                                       {"type", required_argument, 0, O_TYPE}, {"tag", required_argument, 0, O_TAG},
                                       {"min-examples", required_argument, 0, O_MIN}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP},       {0, 0, 0, 0}};
  size_t shown = 0;
  ivs_package_opts po = IVS_PACKAGE_OPTS_INIT;
  po.on_diag = print_diag, po.ud = &shown;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_OUT: po.out = optarg; break;
    case O_PARTS: po.parts_by = optarg; break;
    case O_TYPE:
      if (ivs_type_parse(optarg, &po.type)) return report_error();
      break;
    case O_TAG: po.tag = optarg; break;
    case O_MIN:
      if (ivs_parse_size("--min-examples", optarg, 0, SIZE_MAX, &po.min_examples)) return usage_from_error("package");
      break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("package", "unknown option");
    }
  }
  if (optind != argc) return usage_error("package", "unexpected argument '%s'", argv[optind]);
  if (!po.out) return usage_error("package", "--out FILE is required");
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  ivs_package_report rep;
  int rc = ivs_package_write(st, &po, &rep);
  ivs_store_free(st);
  if (rc) return report_error();
  printf("wrote %s: %zu %s examples\n", po.out, rep.examples, ivs_type_name(rep.type));
  for (size_t i = 0; i < rep.nnames; i++) printf("  %s\n", rep.names[i]);
  if (rep.warnings) printf("%zu warnings: run 'invscale validate' on the JSONL to see them\n", rep.warnings);
  return finish_stdout(EXIT_OK);
}

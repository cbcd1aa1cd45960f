/* invscale export: the project's examples of one type, in the prize's format. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/parse.h"
#include "export/task.h"

static const char help[] =
    "usage: invscale export --type T --out FILE [--format jsonl|csv] [--classes-as array|python]\n"
    "                       [--tag T] [--min-examples N]\n\n"
    "Writes the examples of one task type that have an answer (sequence_prob: all), after checking\n"
    "the result against the prize's rules; a file that breaks an error rule is not written.\n"
    "The format follows FILE's extension (.csv, else jsonl) unless --format says.  The file is\n"
    "written to a temporary name, synced and renamed: never a partial file.\n\n"
    "  --classes-as python  JSONL classes as a string holding a Python list (the March 2023 form)\n"
    "  --min-examples N     the fewest examples accepted (default 300, the prize's minimum)\n";

static int print_diag(const ivs_export_diag *ed, void *ud) {
  size_t *shown = ud;
  const ivs_vdiag *d = ed->d;
  if (!d->is_error || (*shown)++ >= 50) return 0;
  if (ed->has_origin)
    fprintf(stderr, "example %lld (%s:%lld):", (long long)ed->example_id, ed->source, (long long)ed->source_line);
  else
    fprintf(stderr, "export:");
  fprintf(stderr, " error [%s]%s%s: %s\n", d->rule, d->field[0] ? " " : "", d->field, d->message);
  return 0;
}

int cmd_export(int argc, char **argv, const char *db) {
  enum { O_TYPE = 256, O_OUT, O_FORMAT, O_CLASSES, O_TAG, O_MIN, O_DB, O_HELP };
  static const struct option opts[] = {
      {"type", required_argument, 0, O_TYPE},      {"out", required_argument, 0, O_OUT},
      {"format", required_argument, 0, O_FORMAT},  {"classes-as", required_argument, 0, O_CLASSES},
      {"tag", required_argument, 0, O_TAG},        {"min-examples", required_argument, 0, O_MIN},
      {"db", required_argument, 0, O_DB},          {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0}};
  static const char *const formats[] = {"jsonl", "csv"}, *const class_forms[] = {"array", "python"};
  const char *format = NULL;
  ivs_export_task_opts eo = IVS_EXPORT_TASK_OPTS_INIT;
  size_t shown = 0;
  int c;
  eo.on_diag = print_diag, eo.ud = &shown;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TYPE:
      if (ivs_type_parse(optarg, &eo.format.type) || eo.format.type == IVS_TYPE_AUTO)
        return usage_error("export", "--type: one of classification, sequence_prob, logodds, absolute_logodds");
      break;
    case O_OUT: eo.out = optarg; break;
    case O_FORMAT: format = optarg; break;
    case O_CLASSES:
      if (ivs_parse_enum("--classes-as", optarg, class_forms, 2, &eo.format.classes_python))
        return usage_error("export", "--classes-as: array or python");
      break;
    case O_TAG: eo.tag = optarg; break;
    case O_MIN:
      if (ivs_parse_size("--min-examples", optarg, 0, SIZE_MAX, &eo.min_examples))
        return usage_error("export", "%s", ivs_error_message());
      break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("export", "unknown option");
    }
  }
  if (optind != argc) return usage_error("export", "unexpected argument '%s'", argv[optind]);
  if (eo.format.type == IVS_TYPE_AUTO) return usage_error("export", "--type is required");
  if (!eo.out) return usage_error("export", "--out FILE is required");
  const char *out = eo.out;
  size_t olen = strlen(out);
  if (format) {
    if (ivs_parse_enum("--format", format, formats, 2, &eo.format.csv)) return usage_error("export", "--format: jsonl or csv");
  } else {
    eo.format.csv = olen > 4 && !strcmp(out + olen - 4, ".csv");
  }
  if (eo.format.csv && eo.format.classes_python) warn("--classes-as applies to JSONL; CSV always holds Python list literals");

  ivs_store *st = NULL;
  ivs_export_task_report rep;
  int code = EXIT_FAIL;
  if (ivs_store_open(&st, store_path(db), 0)) goto fail;
  if (ivs_export_task(st, &eo, &rep)) {
    if (rep.errors && shown > 50) fprintf(stderr, "... and %zu more errors\n", shown - 50);
    goto fail;
  }
  printf("wrote %zu %s examples to %s (%s%s)", rep.examples, ivs_type_name(eo.format.type), out,
         eo.format.csv ? "csv" : "jsonl", !eo.format.csv && eo.format.classes_python ? ", classes as Python literals" : "");
  if (rep.warnings) printf("; %zu warnings: run 'invscale validate %s'", rep.warnings, out);
  printf("\n");
  code = EXIT_OK;
  goto done;
fail:
  code = report_error();
done:
  ivs_store_free(st);
  return code == EXIT_OK ? finish_stdout(code) : code;
}

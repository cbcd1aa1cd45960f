/* invscale ingest FORMAT FILE [options]: one import, one transaction. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/parse.h"
#include "ingest/csv.h"
#include "ingest/session.h"

static const char help[] =
    "usage: invscale ingest <format> FILE [options]\n\n"
    "formats:\n"
    "  csv FILE       [--tsv] [--type T] [--map F=COL,...] [--strict] [--tag T]\n"
    "  jsonl FILE     [--type T] [--map F=KEY,...] [--strict] [--tag T]\n"
    "  text FILE      --unit line|paragraph|file [--classes LIST] [--tag T]\n"
    "  template FILE  --fill FILLERS.csv [--product] [--type T] [--map ...] [--tag T]\n"
    "  xml FILE       --record XPATH --field NAME=XPATH ... [--type T] [--tag T]\n"
    "  html FILE      --record XPATH --field NAME=XPATH ... [--type T] [--tag T]\n\n"
    "options:\n"
    "  --type T             auto (default), classification, sequence_prob, logodds, absolute_logodds\n"
    "  --map F=COL,...      read task field F (prompt, classes, answer_index, other_prompt,\n"
    "                       completion) from column COL\n"
    "  --strict             stop at the first invalid record and store nothing\n"
    "  --tag T              label every imported example with T\n"
    "  --classes LIST       text: give every prompt these classes, e.g. \"[' Yes', ' No']\"\n"
    "  --max-field-size N   largest field in bytes (default 1048576); lines and records\n"
    "                       may be 16 times that\n"
    "  --format text|json   the import report's form\n"
    "  --db PATH            the project store\n\n"
    "Exit status: 0 imported, 1 failed (the store is unchanged), 2 usage,\n"
    "3 imported but some records were invalid and skipped.\n";

static void print_diag(FILE *f, const char *path, const ivs_diag *d) {
  fprintf(f, "  %s:%zu", path, d->line);
  if (d->column) fprintf(f, ":%zu", d->column);
  fprintf(f, ": %s%s%s\n", d->field, d->field[0] ? ": " : "", d->message);
}

static void report_text(const ivs_import_result *s, const char *path, const char *format, int text_mode) {
  printf("%s: %s, %s%s\n", path, format, ivs_type_name(s->type),
         s->type_inferred ? " (inferred from the fields; use --type to choose)" : "");
  printf("  imported    %zu\n", s->imported);
  printf("  duplicates  %zu%s\n", s->duplicates, s->duplicates ? " (same type and fields as a stored example; skipped)" : "");
  printf("  invalid     %zu%s\n", s->invalid, s->invalid ? " (skipped):" : "");
  for (size_t i = 0; i < s->n_rejects; i++) print_diag(stdout, path, &s->rejects[i]);
  if (s->invalid > s->n_rejects) printf("  ... and %zu more\n", s->invalid - s->n_rejects);
  if (!s->imported && s->duplicates && !s->invalid) printf("nothing new: every example is already in the store\n");
  if (text_mode && s->trimmed)
    printf("prompts with trailing whitespace (spaces, tabs, CR, FF, VT) trimmed, as the prize rejects it: %zu\n",
           s->trimmed);
  for (int k = 0; k < IVS_OLD_NAMES; k++)
    if (s->old_name_rows[k])
      warn("%s: the old field name '%s' was read as '%s' in %zu records", path, ivs_old_names[k].name,
           ivs_task_field_names[ivs_old_names[k].field], s->old_name_rows[k]);
  for (size_t i = 0; i < s->notes.n; i++) warn("%s:%s", path, s->notes.items[i]);
  if (s->trailing_space_rows)
    warn("%s: prompts ending in whitespace, which the prize rejects: %zu (kept as they are; 'invscale validate' reports them)",
         path, s->trailing_space_rows);
}

static void report_json(const ivs_import_result *s, const char *path, const char *format) {
  printf("{\"file\":");
  json_string(stdout, path);
  printf(",\"format\":\"%s\",\"type\":\"%s\",\"type_inferred\":%s,\"imported\":%zu,\"duplicates\":%zu,\"invalid\":%zu,"
         "\"trimmed\":%zu,\"biased_prompt_rows\":%zu,\"trailing_whitespace_prompts\":%zu,\"errors\":[",
         format, ivs_type_name(s->type), s->type_inferred ? "true" : "false", s->imported, s->duplicates,
         s->invalid, s->trimmed, s->biased_prompt_rows, s->trailing_space_rows);
  for (size_t i = 0; i < s->n_rejects; i++) {
    const ivs_diag *d = &s->rejects[i];
    printf("%s{\"line\":%zu,\"column\":%zu,\"field\":", i ? "," : "", d->line, d->column);
    json_string(stdout, d->field);
    printf(",\"message\":");
    json_string(stdout, d->message);
    printf("}");
  }
  printf("]}\n");
}

int cmd_ingest(int argc, char **argv, const char *db) {
  enum { O_TSV = 256, O_TYPE, O_MAP, O_STRICT, O_TAG, O_UNIT, O_CLASSES, O_FILL, O_PRODUCT, O_RECORD, O_FIELD,
         O_MAXF, O_FORMAT, O_DB, O_HELP };
  static const struct option opts[] = {
      {"tsv", no_argument, 0, O_TSV},           {"type", required_argument, 0, O_TYPE},
      {"map", required_argument, 0, O_MAP},     {"strict", no_argument, 0, O_STRICT},
      {"tag", required_argument, 0, O_TAG},     {"unit", required_argument, 0, O_UNIT},
      {"classes", required_argument, 0, O_CLASSES}, {"fill", required_argument, 0, O_FILL},
      {"product", no_argument, 0, O_PRODUCT},   {"record", required_argument, 0, O_RECORD},
      {"field", required_argument, 0, O_FIELD}, {"max-field-size", required_argument, 0, O_MAXF},
      {"format", required_argument, 0, O_FORMAT}, {"db", required_argument, 0, O_DB},
      {"help", no_argument, 0, O_HELP},         {0, 0, 0, 0}};
  static const char *const report_forms[] = {"text", "json"};
  int json = 0, has_unit = 0, c, code = EXIT_FAIL;
  const char *type_name = "auto", *classes = NULL;
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  ivs_import_result res;
  ivs_fieldmap map = {{0}};
  ivs_strlist fixed = {0};
  ivs_xml_field fields[IVS_XML_MAX_FIELDS];
  ivs_store *st = NULL;
  memset(&res, 0, sizeof res);
  o.map = &map;
  o.fields = fields;
  o.max_field = IVS_DEFAULT_MAX_FIELD;

  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TSV: o.tsv = 1; break;
    case O_TYPE: type_name = optarg; break;
    case O_MAP:
      if (ivs_fieldmap_parse(&map, optarg)) goto fail;
      break;
    case O_STRICT: o.strict = 1; break;
    case O_TAG: o.tag = optarg; break;
    case O_UNIT:
      if (ivs_text_unit_parse(optarg, &o.unit)) goto fail;
      has_unit = 1;
      break;
    case O_CLASSES: classes = optarg; break;
    case O_FILL: o.fill = optarg; break;
    case O_PRODUCT: o.product = 1; break;
    case O_RECORD: o.record = optarg; break;
    case O_FIELD: {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || !eq[1]) {
        code = usage_error("ingest", "--field: expected NAME=XPATH, got '%s'", optarg);
        goto out;
      }
      if (o.n_fields == IVS_XML_MAX_FIELDS) {
        code = usage_error("ingest", "at most %d --field options", IVS_XML_MAX_FIELDS);
        goto out;
      }
      *eq = '\0';
      fields[o.n_fields].name = optarg, fields[o.n_fields++].xpath = eq + 1;
      break;
    }
    case O_MAXF:
      if (ivs_parse_size("--max-field-size", optarg, 16, (size_t)1 << 30, &o.max_field)) goto usage;
      break;
    case O_FORMAT:
      if (ivs_parse_enum("--format", optarg, report_forms, 2, &json)) goto usage;
      break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h':
      fputs(help, stdout);
      code = finish_stdout(EXIT_OK);
      goto out;
    default: code = usage_error("ingest", "unknown option"); goto out;
    }
  }
  if (argc - optind != 2) {
    code = usage_error("ingest", "expected a format and a file");
    goto out;
  }
  const char *format = argv[optind], *path = argv[optind + 1];
  if (ivs_source_format_parse(format, &o.format)) goto usage;
  if (o.tsv && o.format != IVS_SOURCE_CSV) {
    code = usage_error("ingest", "--tsv only applies to csv");
    goto out;
  }
  if (o.format == IVS_SOURCE_TEXT && !has_unit) {
    code = usage_error("ingest", "text needs --unit line, paragraph or file");
    goto out;
  }
  if (ivs_import_opts_check(&o)) goto usage;
  if (ivs_type_parse(type_name, &o.type)) goto fail;
  if (classes) {
    size_t at;
    if (ivs_pylist_parse(classes, strlen(classes), &fixed, &at)) {
      code = usage_error("ingest", "--classes: %s at character %zu", ivs_error_message(), at + 1);
      goto out;
    }
    o.classes = &fixed;
  }
  o.progress = progress_update, o.progress_ud = (void *)path;
  if (ivs_store_open(&st, store_path(db), 0)) goto fail;
  int rc = ivs_import_run(st, path, &o, &res);
  progress_done();
  if (rc) {
    code = report_error();
    if (!o.strict || rc != IVS_EINVAL || !strstr(ivs_error_message(), "--strict"))
      fprintf(stderr, "invscale: nothing was imported from %s\n", path);
    goto out;
  }
  if (json) report_json(&res, path, format);
  else report_text(&res, path, format, o.format == IVS_SOURCE_TEXT);
  code = res.invalid ? (res.imported ? EXIT_PARTIAL : EXIT_FAIL) : EXIT_OK;
  code = finish_stdout(code);
  goto out;
usage:
  code = usage_error("ingest", "%s", ivs_error_message());
  goto out;
fail:
  code = report_error();
out:
  ivs_store_free(st);
  ivs_import_result_release(&res);
  ivs_fieldmap_release(&map);
  ivs_strlist_release(&fixed);
  return code;
}

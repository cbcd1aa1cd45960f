/* invscale ingest FORMAT FILE [options]: one import, one transaction. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "ingest/pipeline.h"
#include "ingest/template.h"
#include "ingest/text.h"
#include "ingest/xml.h"

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

#define MAX_REJECTS_KEPT 1000

typedef struct {
  ivs_store *st;
  ivs_ingest_ctx ctx;
  int64_t import_id;
  const char *tag;
  int strict;
  size_t imported, duplicates, invalid;
  ivs_diag *rejects;
  size_t n_rejects;
} session;

/* Runs on the calling thread: store an example or record a reject. */
static int consume(ivs_item *it, void *ud) {
  session *s = ud;
  if (it->is_reject) {
    const ivs_diag *d = &it->diag;
    s->invalid++;
    if (s->strict) {
      if (d->column)
        return ivs_error_set(IVS_EINVAL, "%s:%zu:%zu: %s%s%s (--strict: nothing imported)", s->ctx.path, d->line,
                             d->column, d->field, d->field[0] ? ": " : "", d->message);
      return ivs_error_set(IVS_EINVAL, "%s:%zu: %s%s%s (--strict: nothing imported)", s->ctx.path, d->line, d->field,
                           d->field[0] ? ": " : "", d->message);
    }
    if (s->n_rejects < MAX_REJECTS_KEPT) s->rejects[s->n_rejects++] = *d;
    return 0;
  }
  int added = 0;
  int rc = ivs_store_add_example(s->st, s->import_id, s->tag, &it->ex, &added);
  if (rc) return rc;
  if (added) s->imported++;
  else s->duplicates++;
  return 0;
}

/* What the worker thread parses. */
typedef struct {
  int fmt;
  const char *path;
  ivs_csv_opts csv;
  ivs_jsonl_opts jsonl;
  ivs_text_opts text;
  ivs_template_opts tmpl;
  const char *fill;
  ivs_xml_opts xml;
  size_t trimmed;
} parse_job;

static int run_parser(void *ud, ivs_record_fn cb, void *cb_ud) {
  parse_job *j = ud;
  switch (j->fmt) {
  case 0: return ivs_csv_read(j->path, &j->csv, cb, cb_ud);
  case 1: return ivs_jsonl_read(j->path, &j->jsonl, cb, cb_ud);
  case 2: return ivs_text_read(j->path, &j->text, cb, cb_ud, &j->trimmed);
  case 3: return ivs_template_expand(j->path, j->fill, &j->tmpl, cb, cb_ud);
  default: return ivs_xml_read(j->path, &j->xml, cb, cb_ud);
  }
}

static void print_diag(FILE *f, const char *path, const ivs_diag *d) {
  fprintf(f, "  %s:%zu", path, d->line);
  if (d->column) fprintf(f, ":%zu", d->column);
  fprintf(f, ": %s%s%s\n", d->field, d->field[0] ? ": " : "", d->message);
}

static void report_text(const session *s, const char *path, const char *format, size_t trimmed, int text_mode) {
  printf("%s: %s, %s%s\n", path, format, ivs_type_name(s->ctx.type),
         s->ctx.type_inferred ? " (inferred from the fields; use --type to choose)" : "");
  printf("  imported    %zu\n", s->imported);
  printf("  duplicates  %zu%s\n", s->duplicates, s->duplicates ? " (same type and fields as a stored example; skipped)" : "");
  printf("  invalid     %zu%s\n", s->invalid, s->invalid ? " (skipped):" : "");
  for (size_t i = 0; i < s->n_rejects; i++) print_diag(stdout, path, &s->rejects[i]);
  if (s->invalid > s->n_rejects) printf("  ... and %zu more\n", s->invalid - s->n_rejects);
  if (!s->imported && s->duplicates && !s->invalid) printf("nothing new: every example is already in the store\n");
  if (text_mode && trimmed)
    printf("prompts with trailing whitespace (spaces, tabs, CR, FF, VT) trimmed, as the prize rejects it: %zu\n",
           trimmed);
  if (s->ctx.biased_prompt_rows)
    warn("%s: the old field name 'biased_prompt' was read as 'other_prompt' in %zu records", path,
         s->ctx.biased_prompt_rows);
  if (s->ctx.trailing_space_rows)
    warn("%s: prompts ending in whitespace, which the prize rejects: %zu (kept as they are; 'invscale validate' reports them)",
         path, s->ctx.trailing_space_rows);
}

static void report_json(const session *s, const char *path, const char *format, size_t trimmed) {
  printf("{\"file\":");
  json_string(stdout, path);
  printf(",\"format\":\"%s\",\"type\":\"%s\",\"type_inferred\":%s,\"imported\":%zu,\"duplicates\":%zu,\"invalid\":%zu,"
         "\"trimmed\":%zu,\"biased_prompt_rows\":%zu,\"trailing_whitespace_prompts\":%zu,\"errors\":[",
         format, ivs_type_name(s->ctx.type), s->ctx.type_inferred ? "true" : "false", s->imported, s->duplicates,
         s->invalid, trimmed, s->ctx.biased_prompt_rows, s->ctx.trailing_space_rows);
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
  int tsv = 0, strict = 0, product = 0, json = 0, has_unit = 0, c, code = EXIT_FAIL;
  const char *type_name = "auto", *tag = NULL, *classes = NULL, *fill = NULL, *record = NULL;
  ivs_text_unit unit = IVS_UNIT_LINE;
  ivs_fieldmap map = {{0}};
  ivs_xml_field fields[IVS_XML_MAX_FIELDS];
  size_t n_fields = 0, max_field = IVS_DEFAULT_MAX_FIELD;
  session s;
  memset(&s, 0, sizeof s);

  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TSV: tsv = 1; break;
    case O_TYPE: type_name = optarg; break;
    case O_MAP:
      if (ivs_fieldmap_parse(&map, optarg)) {
        code = report_error();
        goto out;
      }
      break;
    case O_STRICT: strict = 1; break;
    case O_TAG: tag = optarg; break;
    case O_UNIT:
      if (ivs_text_unit_parse(optarg, &unit)) {
        code = report_error();
        goto out;
      }
      has_unit = 1;
      break;
    case O_CLASSES: classes = optarg; break;
    case O_FILL: fill = optarg; break;
    case O_PRODUCT: product = 1; break;
    case O_RECORD: record = optarg; break;
    case O_FIELD: {
      char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || !eq[1]) {
        code = usage_error("ingest", "--field: expected NAME=XPATH, got '%s'", optarg);
        goto out;
      }
      if (n_fields == IVS_XML_MAX_FIELDS) {
        code = usage_error("ingest", "at most %d --field options", IVS_XML_MAX_FIELDS);
        goto out;
      }
      *eq = '\0';
      fields[n_fields++] = (ivs_xml_field){optarg, eq + 1};
      break;
    }
    case O_MAXF: {
      char *end;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (*end || v < 16 || v > (1ULL << 30)) {
        code = usage_error("ingest", "--max-field-size: expected a byte count from 16 to 1073741824");
        goto out;
      }
      max_field = (size_t)v;
      break;
    }
    case O_FORMAT:
      if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
        code = usage_error("ingest", "--format: expected text or json");
        goto out;
      }
      json = !strcmp(optarg, "json");
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
  static const char *const formats[] = {"csv", "jsonl", "text", "template", "xml", "html"};
  int fmt = -1;
  for (int i = 0; i < 6; i++)
    if (!strcmp(format, formats[i])) fmt = i;
  if (fmt < 0) {
    code = usage_error("ingest", "unknown format '%s' (csv, jsonl, text, template, xml, html)", format);
    goto out;
  }
  if (tsv && fmt != 0) {
    code = usage_error("ingest", "--tsv only applies to csv");
    goto out;
  }
  if (fmt == 2 && !has_unit) {
    code = usage_error("ingest", "text needs --unit line, paragraph or file");
    goto out;
  }
  if (fmt == 3 && !fill) {
    code = usage_error("ingest", "template needs --fill FILLERS.csv");
    goto out;
  }
  if (fmt >= 4 && (!record || !n_fields)) {
    code = usage_error("ingest", "%s needs --record XPATH and at least one --field NAME=XPATH", format);
    goto out;
  }
  if (ivs_type_parse(type_name, &s.ctx.type)) {
    code = report_error();
    goto out;
  }
  if (fmt == 2 && s.ctx.type == IVS_TYPE_AUTO) s.ctx.type = IVS_TYPE_CLASSIFICATION;
  if (classes) {
    size_t at;
    if (ivs_pylist_parse(classes, strlen(classes), &s.ctx.fixed_classes, &at)) {
      code = usage_error("ingest", "--classes: %s at character %zu", ivs_error_message(), at + 1);
      goto out;
    }
    s.ctx.has_fixed_classes = 1;
  }
  s.ctx.path = path;
  s.ctx.map = &map;
  s.tag = tag;
  s.strict = strict;
  s.rejects = calloc(MAX_REJECTS_KEPT, sizeof *s.rejects);
  if (!s.rejects) {
    code = report_error();
    goto out;
  }

  if (ivs_store_open(&s.st, store_path(db), 0) || ivs_store_begin_bulk(s.st) ||
      ivs_store_import_start(s.st, path, format, tag, &s.import_id)) {
    code = report_error();
    goto out;
  }
  parse_job job;
  memset(&job, 0, sizeof job);
  job.fmt = fmt;
  job.path = path;
  job.fill = fill;
  job.csv = (ivs_csv_opts){tsv ? '\t' : ',', max_field, &map, progress_update, (void *)path};
  job.jsonl = (ivs_jsonl_opts){max_field * 16, progress_update, (void *)path, 1}; /* records are converted (copied) */
  job.text = (ivs_text_opts){unit, max_field, progress_update, (void *)path};
  size_t plen = strlen(path);
  int tmpl_jsonl = (plen > 6 && !strcmp(path + plen - 6, ".jsonl")) || (plen > 5 && !strcmp(path + plen - 5, ".json"));
  job.tmpl = (ivs_template_opts){product, tmpl_jsonl, &map, max_field};
  job.xml = (ivs_xml_opts){fmt == 5, record, fields, n_fields, ivs_fieldmap_source(&map, IVS_F_CLASSES), max_field * 256};
  int rc = ivs_pipeline_run(run_parser, &job, &s.ctx, consume, &s);
  size_t trimmed = job.trimmed;
  progress_done();
  if (!rc) rc = ivs_store_import_finish(s.st, s.import_id, s.imported, s.duplicates, s.invalid);
  if (!rc && s.imported) rc = ivs_store_commit(s.st);
  if (rc) {
    code = report_error();
    ivs_store_rollback(s.st);
    if (!strict || ivs_error_code() != IVS_EINVAL || !strstr(ivs_error_message(), "--strict"))
      fprintf(stderr, "invscale: nothing was imported from %s\n", path);
    goto out;
  }
  ivs_store_rollback(s.st); /* nothing new: leave the store exactly as it was */
  if (json) report_json(&s, path, format, trimmed);
  else report_text(&s, path, format, trimmed, fmt == 2);
  code = s.invalid ? (s.imported ? EXIT_PARTIAL : EXIT_FAIL) : EXIT_OK;
  code = finish_stdout(code);
out:
  ivs_store_free(s.st);
  ivs_ingest_ctx_release(&s.ctx);
  ivs_fieldmap_release(&map);
  free(s.rejects);
  return code;
}

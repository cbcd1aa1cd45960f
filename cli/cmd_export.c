/* invscale export: the project's examples of one type, in the prize's format. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/fileio.h"
#include "export/validate.h"
#include "export/write.h"

static const char help[] =
    "usage: invscale export --type T --out FILE [--format jsonl|csv] [--classes-as array|python]\n"
    "                       [--tag T] [--min-examples N]\n\n"
    "Writes the examples of one task type that have an answer (sequence_prob: all), after checking\n"
    "the result against the prize's rules; a file that breaks an error rule is not written.\n"
    "The format follows FILE's extension (.csv, else jsonl) unless --format says.  The file is\n"
    "written to a temporary name, synced and renamed: never a partial file.\n\n"
    "  --classes-as python  JSONL classes as a string holding a Python list (the March 2023 form)\n"
    "  --min-examples N     the fewest examples accepted (default 300, the prize's minimum)\n";

/* Where each example starts in the output, so that a diagnostic about the
 * written file can name the example and where it came from. */
typedef struct {
  size_t out_line;
  int64_t id, src_line;
  size_t src; /* index into sources */
} origin;

typedef struct {
  ivs_exporter *e;
  FILE *f;
  size_t n;
  int scan;
  origin *origins;
  size_t cap;
  char **sources;
  size_t nsources;
} export_state;

static int each(const ivs_stored_example *ex, void *ud) {
  export_state *s = ud;
  if (s->scan) return ivs_exporter_scan(s->e, ex);
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    origin *o = realloc(s->origins, cap * sizeof *o);
    if (!o) return ivs_error_set(IVS_ENOMEM, "out of memory");
    s->origins = o;
    s->cap = cap;
  }
  size_t src = 0;
  const char *name = ex->source ? ex->source : "?";
  while (src < s->nsources && strcmp(s->sources[src], name)) src++;
  if (src == s->nsources) {
    char **p = realloc(s->sources, (src + 1) * sizeof *p);
    if (!p || !(p[src] = strdup(name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    s->sources = p;
    s->nsources++;
  }
  s->origins[s->n] = (origin){ivs_exporter_lines(s->e) + 1, ex->id, ex->line, src};
  s->n++;
  return ivs_exporter_write(s->e, ex, s->f);
}

typedef struct {
  const export_state *s;
  size_t shown;
} diag_out;

static int print_diag(const ivs_vdiag *d, void *ud) {
  diag_out *o = ud;
  if (!d->is_error || o->shown++ >= 50) return 0;
  const export_state *s = o->s;
  if (d->line && s->n) { /* the last example starting at or before the line */
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (s->origins[mid].out_line <= d->line) lo = mid;
      else hi = mid;
    }
    const origin *g = &s->origins[lo];
    fprintf(stderr, "example %lld (%s:%lld):", (long long)g->id, s->sources[g->src], (long long)g->src_line);
  } else {
    fprintf(stderr, "export:");
  }
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
  const char *out = NULL, *format = NULL, *tag = NULL;
  ivs_export_opts eo = {0, 0, IVS_TYPE_AUTO};
  size_t min_examples = 300;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case O_TYPE:
      if (ivs_type_parse(optarg, &eo.type) || eo.type == IVS_TYPE_AUTO)
        return usage_error("export", "--type: one of classification, sequence_prob, logodds, absolute_logodds");
      break;
    case O_OUT: out = optarg; break;
    case O_FORMAT: format = optarg; break;
    case O_CLASSES:
      if (!strcmp(optarg, "python")) eo.classes_python = 1;
      else if (strcmp(optarg, "array")) return usage_error("export", "--classes-as: array or python");
      break;
    case O_TAG: tag = optarg; break;
    case O_MIN:
      min_examples = (size_t)strtoull(optarg, &end, 10);
      if (*end || !*optarg) return usage_error("export", "--min-examples: expected a number");
      break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("export", "unknown option");
    }
  }
  if (optind != argc) return usage_error("export", "unexpected argument '%s'", argv[optind]);
  if (eo.type == IVS_TYPE_AUTO) return usage_error("export", "--type is required");
  if (!out) return usage_error("export", "--out FILE is required");
  size_t olen = strlen(out);
  if (format) {
    if (strcmp(format, "csv") && strcmp(format, "jsonl")) return usage_error("export", "--format: jsonl or csv");
    eo.csv = !strcmp(format, "csv");
  } else {
    eo.csv = olen > 4 && !strcmp(out + olen - 4, ".csv");
  }
  if (eo.csv && eo.classes_python) warn("--classes-as applies to JSONL; CSV always holds Python list literals");

  ivs_store *st = NULL;
  ivs_exporter *e = NULL;
  ivs_atomic_file af = {0};
  int code = EXIT_FAIL;
  if (ivs_store_open(&st, store_path(db), 0) || ivs_exporter_new(&e, &eo)) goto fail;
  ivs_example_query q = {tag, ivs_type_name(eo.type), 0, 1};
  export_state s = {e, NULL, 0, 1, NULL, 0, NULL, 0};
  if (eo.csv && ivs_store_examples(st, &q, each, &s)) goto fail;
  if (ivs_atomic_open(&af, out)) goto fail;
  s.f = af.f;
  s.scan = 0;
  if (ivs_exporter_header(e, af.f) || ivs_store_examples(st, &q, each, &s)) goto fail;
  if (s.n == 0) {
    ivs_error_set(IVS_EINVAL, "no %s examples with an answer%s%s to export", ivs_type_name(eo.type),
                  tag ? " tagged " : "", tag ? tag : "");
    goto fail;
  }
  if (fflush(af.f) != 0) {
    ivs_error_set(IVS_EIO, "%s: write error", out);
    goto fail;
  }
  /* check exactly what was written */
  diag_out dout = {&s, 0};
  ivs_validate_file_opts vo = {eo.type, min_examples, 0, print_diag, &dout, 0};
  ivs_validate_stats vs;
  ivs_file_kind kind;
  if (ivs_validate_file(af.tmp, &vo, &vs, &kind)) goto fail;
  if (vs.errors) {
    if (dout.shown > 50) fprintf(stderr, "... and %zu more errors\n", dout.shown - 50);
    ivs_error_set(IVS_EINVAL, "%s not written: %zu error%s (see above)", out, vs.errors, vs.errors == 1 ? "" : "s");
    goto fail;
  }
  if (ivs_atomic_commit(&af)) goto fail;
  printf("wrote %zu %s examples to %s (%s%s)", s.n, ivs_type_name(eo.type), out, eo.csv ? "csv" : "jsonl",
         !eo.csv && eo.classes_python ? ", classes as Python literals" : "");
  if (vs.warnings) printf("; %zu warnings: run 'invscale validate %s'", vs.warnings, out);
  printf("\n");
  code = EXIT_OK;
  goto done;
fail:
  code = report_error();
  ivs_atomic_abort(&af);
done:
  free(s.origins);
  for (size_t i = 0; i < s.nsources; i++) free(s.sources[i]);
  free(s.sources);
  ivs_exporter_free(e);
  ivs_store_free(st);
  return code == EXIT_OK ? finish_stdout(code) : code;
}

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/parse.h"
#include "core/buf.h"
#include "core/error.h"
#include "export/json.h"

static const char help[] =
    "usage: invscale examples list [--tag T] [--type T] [--limit N] [--format text|jsonl]\n\n"
    "Lists stored examples in id order.  jsonl prints one object per example with id, type,\n"
    "the task fields as stored (classes as a JSON array), metadata, tag and source.\n";

typedef struct {
  int jsonl;
  ivs_buf line;
} list_state;

/* One-line preview: newlines and tabs shown as symbols, cut at 60 characters. */
static void preview(const char *s, size_t width) {
  size_t shown = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && shown < width; p++) {
    if (*p == '\n') fputs("\xE2\x8F\x8E", stdout);
    else if (*p == '\t') fputs("\xE2\x86\x92", stdout);
    else fputc(*p, stdout);
    if ((*p & 0xC0) != 0x80) shown++;
    if (shown == width && p[1]) {
      while ((p[1] & 0xC0) == 0x80) fputc(*++p, stdout);
      fputs("...", stdout);
    }
  }
}

static int print_one(const ivs_stored_example *ex, void *ud) {
  list_state *ls = ud;
  if (ls->jsonl) {
    ivs_buf_clear(&ls->line);
    int rc = ivs_stored_example_json(ex, &ls->line);
    if (rc) return rc;
    fwrite(ls->line.data, 1, ls->line.len, stdout);
    fputc('\n', stdout);
    return 0;
  }
  printf("%-6lld %-16s ", (long long)ex->id, ex->type);
  preview(ex->prompt, 60);
  if (ex->classes_json) printf("  %s", ex->classes_json);
  if (ex->completion) {
    fputs("  -> ", stdout);
    preview(ex->completion, 30);
  }
  if (ex->answer_index >= 0) printf("  answer=%ld", ex->answer_index);
  fputc('\n', stdout);
  return 0;
}

int cmd_examples(int argc, char **argv, const char *db) {
  enum { O_TAG = 256, O_TYPE, O_LIMIT, O_FORMAT, O_DB, O_HELP };
  static const char *const forms[] = {"text", "jsonl"};
  static const struct option opts[] = {{"tag", required_argument, 0, O_TAG},       {"type", required_argument, 0, O_TYPE},
                                       {"limit", required_argument, 0, O_LIMIT},   {"format", required_argument, 0, O_FORMAT},
                                       {"db", required_argument, 0, O_DB},         {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
  ivs_example_query q = {NULL, NULL, 0, 0};
  list_state ls = {0, IVS_BUF_INIT};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TAG: q.tag = optarg; break;
    case O_TYPE: {
      ivs_task_type t;
      if (ivs_type_parse(optarg, &t) || t == IVS_TYPE_AUTO) return usage_error("examples", "--type: unknown task type '%s'", optarg);
      q.type = optarg;
      break;
    }
    case O_LIMIT: {
      uint64_t v;
      if (ivs_parse_u64("--limit", optarg, 1, INT64_MAX, &v)) return usage_from_error("examples");
      q.limit = (int64_t)v;
      break;
    }
    case O_FORMAT:
      if (ivs_parse_enum("--format", optarg, forms, 2, &ls.jsonl)) return usage_error("examples", "--format: expected text or jsonl");
      break;
    case O_DB: db = optarg; break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("examples", "unknown option");
    }
  }
  if (optind >= argc || strcmp(argv[optind], "list") || optind + 1 != argc)
    return usage_error("examples", "expected 'list'");
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc = ivs_store_examples(st, &q, print_one, &ls);
  ivs_buf_release(&ls.line);
  ivs_store_free(st);
  if (rc) return report_error();
  return finish_stdout(EXIT_OK);
}

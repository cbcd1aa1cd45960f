#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include "cli/cli.h"
#include "core/parse.h"

static const char help[] =
    "usage: invscale info [--format text|json]\n\n"
    "Shows the store's path and schema version and counts examples by type, tag and source.\n";

typedef struct {
  int json, first;
  long long total;
} info_state;

static int print_count(const char *name, int64_t n, void *ud) {
  info_state *is = ud;
  if (is->json) {
    printf("%s", is->first ? "" : ",");
    json_string(stdout, name);
    printf(":%lld", (long long)n);
  } else {
    printf("  %-40s %lld\n", name, (long long)n);
  }
  is->first = 0;
  is->total += n;
  return 0;
}

int cmd_info(int argc, char **argv, const char *db) {
  enum { O_FORMAT = 256, O_DB, O_HELP };
  static const struct option opts[] = {{"format", required_argument, 0, O_FORMAT}, {"db", required_argument, 0, O_DB},
                                       {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
  static const char *const forms[] = {"text", "json"};
  info_state is = {0, 1, 0};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == O_FORMAT && !ivs_parse_enum("--format", optarg, forms, 2, &is.json)) continue;
    else if (c == O_DB) db = optarg;
    else if (c == O_HELP || c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("info", "unknown option or value");
  }
  if (optind != argc) return usage_error("info", "unexpected argument '%s'", argv[optind]);
  const char *path = store_path(db);
  ivs_store *st;
  if (ivs_store_open(&st, path, 0)) return report_error();
  static const char *const groups[] = {"type", "tag", "source"};
  int rc = 0;
  if (is.json) {
    printf("{\"store\":");
    json_string(stdout, path);
    printf(",\"schema_version\":%d", ivs_store_version(st));
  } else {
    printf("store: %s\nschema version: %d\n", path, ivs_store_version(st));
  }
  long long total = 0;
  for (int g = 0; g < 3 && !rc; g++) {
    is.first = 1;
    is.total = 0;
    if (is.json) printf(",\"by_%s\":{", groups[g]);
    else printf("by %s:\n", groups[g]);
    rc = ivs_store_counts(st, groups[g], print_count, &is);
    if (is.json) printf("}");
    if (g == 0) total = is.total;
  }
  if (is.json) printf(",\"examples\":%lld}\n", total);
  else printf("examples: %lld\n", total);
  ivs_store_free(st);
  if (rc) return report_error();
  return finish_stdout(EXIT_OK);
}

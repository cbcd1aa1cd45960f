#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static const char help[] =
    "usage: invscale init [--db PATH]\n\n"
    "Creates the project store (an SQLite file) at PATH, $INVSCALE_DB or ./invscale.db.\n"
    "Running it on an existing store migrates it to the current schema and changes nothing else.\n";

int cmd_init(int argc, char **argv, const char *db) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'd') db = optarg;
    else if (c == 'h') return fputs(help, stdout), finish_stdout(EXIT_OK);
    else return usage_error("init", "unknown option");
  }
  if (optind != argc) return usage_error("init", "unexpected argument '%s'", argv[optind]);
  const char *path = store_path(db);
  ivs_store *st;
  if (ivs_store_open(&st, path, IVS_STORE_CREATE)) return report_error();
  int found = ivs_store_version_found(st);
  if (found == 0) printf("created %s (schema version %d)\n", path, ivs_store_version(st));
  else if (found < ivs_store_version(st))
    printf("%s: migrated from schema version %d to %d\n", path, found, ivs_store_version(st));
  else printf("%s: already a store (schema version %d); nothing to do\n", path, found);
  ivs_store_free(st);
  return finish_stdout(EXIT_OK);
}

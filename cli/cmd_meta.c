/* invscale meta set|get|list|unset: the datasheet fields of the project. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/error.h"
#include "export/datasheet.h"

static int usage(void) {
  fprintf(stderr, "usage: invscale meta set KEY VALUE | get KEY | list\n\nkeys:");
  for (size_t i = 0; i < ivs_datasheet_nfields; i++)
    fprintf(stderr, "%s %s%s", i % 4 ? "" : "\n ", ivs_datasheet_fields[i].key,
            ivs_datasheet_fields[i].required ? "" : " (optional)");
  fputc('\n', stderr);
  return EXIT_USAGE;
}

int cmd_meta(int argc, char **argv, const char *db) {
  int i = 1;
  while (i + 1 < argc && !strcmp(argv[i], "--db")) db = argv[i + 1], i += 2;
  if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
    usage();
    return EXIT_OK;
  }
  if (i >= argc) return usage();
  const char *verb = argv[i++];
  int set = !strcmp(verb, "set"), get = !strcmp(verb, "get"), list = !strcmp(verb, "list");
  if (!set && !get && !list) return usage();
  if ((set && argc - i != 2) || (get && argc - i != 1) || (list && argc - i != 0)) return usage();
  if (!list && !ivs_datasheet_find(argv[i])) {
    fprintf(stderr, "invscale meta: unknown key '%s'\n", argv[i]);
    return usage();
  }
  ivs_store *st;
  if (ivs_store_open(&st, store_path(db), 0)) return report_error();
  int rc = 0;
  if (set) {
    if (!argv[i + 1][0]) rc = ivs_error_set(IVS_EUSAGE, "meta %s: empty value", argv[i]);
    else rc = ivs_store_meta_set(st, argv[i], argv[i + 1]);
  } else if (get) {
    char *v = NULL;
    rc = ivs_store_meta_get(st, argv[i], &v);
    if (!rc && !v) rc = ivs_error_set(IVS_EINVAL, "meta: '%s' is not set", argv[i]);
    if (!rc) printf("%s\n", v);
    free(v);
  } else {
    for (size_t k = 0; k < ivs_datasheet_nfields && !rc; k++) {
      char *v = NULL;
      rc = ivs_store_meta_get(st, ivs_datasheet_fields[k].key, &v);
      printf("%-20s %s\n", ivs_datasheet_fields[k].key,
             v ? v : ivs_datasheet_fields[k].required ? "(missing: required)" : "(not set)");
      free(v);
    }
  }
  ivs_store_free(st);
  if (rc) return report_error();
  return finish_stdout(EXIT_OK);
}

/* A program built against the installed library (pkg-config invscale):
 * imports a task CSV into a new project store and prints Krippendorff's
 * alpha (nominal) of a triples file (item, annotator, label).
 *
 *   cc alpha_of_triples.c $(pkg-config --cflags --libs invscale) -o alpha_of_triples
 *   ./alpha_of_triples store.db task.csv judgments.csv
 */
#include <stdio.h>

#include "invscale/ingest.h"
#include "invscale/label.h"
#include "invscale/store.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s STORE TASK.csv TRIPLES.csv\n", argv[0]);
    return 2;
  }
  ivs_store *st = NULL;
  ivs_import_opts o = IVS_IMPORT_OPTS_INIT;
  ivs_import_result res = {0};
  ivs_ratings *r = NULL;
  double alpha;
  int rc = ivs_store_open(&st, argv[1], IVS_STORE_CREATE);
  if (!rc) rc = ivs_import_run(st, argv[2], &o, &res);
  if (!rc) printf("%s: %zu examples imported (%s), %zu duplicates, %zu invalid\n", argv[2], res.imported,
                  ivs_type_name(res.type), res.duplicates, res.invalid);
  if (!rc) rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_triples_read(argv[3], NULL, r);
  if (!rc) rc = ivs_ratings_finish(r);
  if (!rc) rc = ivs_alpha(r, IVS_LEVEL_NOMINAL, &alpha);
  if (!rc)
    printf("%s: %zu items, %zu annotators, %zu judgments: Krippendorff's alpha (nominal) %.6f\n", argv[3],
           ivs_ratings_items(r), ivs_ratings_annotators(r), ivs_ratings_judgments(r), alpha);
  else
    fprintf(stderr, "error: %s\n", ivs_error_message());
  ivs_ratings_free(r);
  ivs_import_result_release(&res);
  ivs_store_free(st);
  return rc ? 1 : 0;
}

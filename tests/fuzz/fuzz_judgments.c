/* libFuzzer: the judgment import parsers (Label Studio, JSON_MIN, MTurk CSV and
 * XML, Toloka, CSV, JSONL) against an in-memory store holding two items.  The
 * first byte picks the format; the rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/example.h"
#include "invscale/label.h"

static ivs_store *st;
static char path[64];

static void setup(void) {
  if (ivs_store_open(&st, ":memory:", IVS_STORE_CREATE)) abort();
  ivs_store_begin(st);
  for (int i = 0; i < 2; i++) {
    ivs_example ex;
    ivs_example_init(&ex);
    ex.type = IVS_TYPE_CLASSIFICATION;
    char p[8];
    snprintf(p, sizeof p, "Q%d", i);
    ex.prompt = p;
    ex.has_classes = 1;
    ivs_strlist_push(&ex.classes, " Yes", 4);
    ivs_strlist_push(&ex.classes, " No", 3);
    int added;
    ivs_store_add_example(st, 0, NULL, &ex, &added);
    ex.prompt = NULL;
    ivs_example_release(&ex);
  }
  ivs_store_commit(st);
  snprintf(path, sizeof path, "/tmp/ivs-fuzz-judgments-%d", (int)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!st) setup();
  if (size < 1) return 0;
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  ivs_import_report rep;
  ivs_judgments_import(st, path, (ivs_judgment_format)(data[0] % 7), NULL, NULL, &rep);
  return 0;
}

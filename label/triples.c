#include "label/triples.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

int ivs_triples_map_parse(ivs_triples_map *m, const char *spec, char **owned) {
  char *s = strdup(spec), *save = NULL;
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  *owned = s;
  for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1]) return ivs_error_set(IVS_EUSAGE, "--map: expected NAME=COLUMN, got '%s'", tok);
    *eq = '\0';
    if (!strcmp(tok, "item")) m->item = eq + 1;
    else if (!strcmp(tok, "annotator")) m->annotator = eq + 1;
    else if (!strcmp(tok, "label")) m->label = eq + 1;
    else return ivs_error_set(IVS_EUSAGE, "--map: unknown name '%s' (item, annotator, label)", tok);
  }
  return 0;
}

typedef struct {
  const char *path;
  const ivs_triples_map *m;
  ivs_ratings *r;
} state;

static int on_record(const ivs_record *rec, void *ud) {
  state *s = ud;
  if (rec->error) return ivs_error_set(IVS_EPARSE, "%s:%zu: %s", s->path, rec->line, rec->error);
  size_t filled = 0; /* a row of empty fields (Toloka's separator between task suites): skipped */
  for (size_t k = 0; k < rec->n; k++) filled += rec->fields[k].json || (rec->fields[k].str && rec->fields[k].len);
  if (!filled) return 0;
  const ivs_field *fi = ivs_record_field(rec, s->m->item ? s->m->item : "item", s->m->item ? NULL : "task");
  const ivs_field *fa = ivs_record_field(rec, s->m->annotator ? s->m->annotator : "annotator", s->m->annotator ? NULL : "worker");
  const ivs_field *fl = ivs_record_field(rec, s->m->label ? s->m->label : "label", NULL);
  char b1[64], b2[64], b3[64];
  const char *item = fi ? ivs_field_text(fi, b1, sizeof b1) : NULL, *ann = fa ? ivs_field_text(fa, b2, sizeof b2) : NULL,
             *lab = fl ? ivs_field_text(fl, b3, sizeof b3) : NULL;
  const char *missing = !fi ? "item" : !fa ? "annotator" : !fl ? "label" : NULL;
  if (missing)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: no '%s' column (name it, or use --map %s=COLUMN)", s->path, rec->line,
                         missing, missing);
  if (!item || !*item || !ann || !*ann || !lab || !*lab)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: empty or non-text %s", s->path, rec->line,
                         !item || !*item ? "item" : !ann || !*ann ? "annotator" : "label");
  return ivs_ratings_add(s->r, item, ann, lab);
}

int ivs_triples_read(const char *path, const ivs_triples_map *m, ivs_ratings *r) {
  static const ivs_triples_map defaults = IVS_TRIPLES_MAP_INIT;
  state s = {path, m ? m : &defaults, r};
  size_t n = strlen(path);
  if (n > 6 && !strcmp(path + n - 6, ".jsonl")) {
    ivs_jsonl_opts o = IVS_JSONL_OPTS_INIT;
    return ivs_jsonl_read(path, &o, on_record, &s);
  }
  ivs_csv_opts o = {.delim = n > 4 && !strcmp(path + n - 4, ".tsv") ? '\t' : ',', .max_field = 0};
  return ivs_csv_read(path, &o, on_record, &s);
}

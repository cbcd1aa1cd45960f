/* Helpers shared by the unit tests: collect records into copies. */
#ifndef IVS_TEST_COMMON_H
#define IVS_TEST_COMMON_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/record.h"

#define MAX_RECS 64
#define MAX_F 16

typedef struct {
  size_t n;
  size_t line[MAX_RECS], nf[MAX_RECS];
  char *err[MAX_RECS];
  char *name[MAX_RECS][MAX_F], *val[MAX_RECS][MAX_F];
} recs;

static inline int collect_rec(const ivs_record *r, void *ud) {
  recs *rs = ud;
  if (rs->n == MAX_RECS) return -100;
  size_t i = rs->n++;
  rs->line[i] = r->line;
  rs->nf[i] = r->n;
  rs->err[i] = r->error ? strdup(r->error) : NULL;
  for (size_t k = 0; k < r->n && k < MAX_F; k++) {
    rs->name[i][k] = strdup(r->fields[k].name);
    rs->val[i][k] = r->fields[k].json ? cJSON_PrintUnformatted(r->fields[k].json) : strndup(r->fields[k].str, r->fields[k].len);
  }
  return 0;
}

static inline void recs_free(recs *rs) {
  for (size_t i = 0; i < rs->n; i++) {
    free(rs->err[i]);
    for (size_t k = 0; k < rs->nf[i] && k < MAX_F; k++) free(rs->name[i][k]), free(rs->val[i][k]);
  }
  memset(rs, 0, sizeof *rs);
}

static inline const char *tmpfile_with(const char *content, size_t len) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/ivs_test_XXXXXX");
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "wb");
  fwrite(content, 1, len, f);
  fclose(f);
  return path;
}

#endif

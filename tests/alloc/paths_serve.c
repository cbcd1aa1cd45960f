/* Allocation-failure path: the annotation server's API calls (serve/api.c)
 * as its store thread makes them, without HTTP: an annotator's session, next
 * (a lease), submit, a retried submit, undo, progress, and the lead's
 * summary, each in its own transaction that is committed only when the call
 * answered 200 (the server's rule: a 5xx answer is never acknowledged);
 * the n-th allocation of the run fails, in whichever call it falls.  A
 * failing allocation must give a 5xx answer with a JSON body (the server
 * turns a missing body into 500), never a 4xx that would tell the annotator
 * their link or label is wrong; after a failed run the store is intact and
 * holds at most the one judgment; a successful run answers exactly as the
 * reference run did (times are fixed). */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_paths.h"
#include "core/error.h"
#include "core/example.h"
#include "invscale/label.h"
#include "invscale/label_work.h"
#include "invscale/serve.h"
#include "invscale/store.h"
#include "serve/api.h"

enum { CALLS = 7 };

static struct {
  char db[512], pristine[512];
  char ann[IVS_TOKEN_LEN + 1], lead[IVS_TOKEN_LEN + 1];
  cJSON *bodies[CALLS];
  char *ref[CALLS];
  int have_ref;
} S;

static const struct {
  const char *method, *path;
  int lead;
} calls[CALLS] = {{"GET", "session", 0},   {"POST", "next", 0},     {"POST", "submit", 0}, {"POST", "submit", 0},
                  {"POST", "undo", 0},     {"GET", "progress", 0},  {"GET", "summary", 1}};

static int run(void *state);

static int setup(const char *dir, void **state) {
  snprintf(S.db, sizeof S.db, "%s/serve.db", dir);
  snprintf(S.pristine, sizeof S.pristine, "%s/serve.pristine.db", dir);
  *state = &S;
  remove(S.db), remove_store_sidecars(S.db);
  ivs_store *st;
  int rc = ivs_store_open(&st, S.db, IVS_STORE_CREATE);
  if (!rc) rc = ivs_store_begin(st);
  for (int i = 0; i < 3 && !rc; i++) {
    ivs_example ex;
    ivs_example_init(&ex);
    ex.type = IVS_TYPE_CLASSIFICATION;
    char p[32];
    snprintf(p, sizeof p, "Is %d even?", i + 1);
    ex.prompt = strdup(p);
    ex.has_classes = 1;
    ivs_strlist_push(&ex.classes, " Yes", 4);
    ivs_strlist_push(&ex.classes, " No", 3);
    int added;
    rc = ex.prompt ? ivs_store_add_example(st, 0, NULL, &ex, &added) : IVS_ENOMEM;
    ivs_example_release(&ex);
  }
  if (!rc) rc = ivs_store_commit(st);
  ivs_batch_opts o = IVS_BATCH_OPTS_INIT;
  o.name = "b", o.per_item = 2;
  size_t items, gold;
  if (!rc) rc = ivs_batch_create(st, &o, &items, &gold);
  if (!rc) rc = ivs_link_new(st, "b", "ann", S.ann);
  if (!rc) rc = ivs_link_new(st, "b", NULL, S.lead);
  ivs_store_free(st);
  remove_store_sidecars(S.db);
  if (!rc && alloc_copy_file(S.db, S.pristine)) rc = ivs_error_set(IVS_EIO, "cannot copy the store");
  if (rc) return rc;
  /* the item handed out first is the store's first example (half-done items
   * first, then in order) */
  static const char *const texts[CALLS] = {NULL, "{\"count\":1}",
                                           "{\"submits\":[{\"id\":\"c1\",\"item\":1,\"label\":\" Yes\",\"seconds\":4}]}",
                                           "{\"submits\":[{\"id\":\"c1\",\"item\":1,\"label\":\" Yes\",\"seconds\":4}]}",
                                           "{\"before\":0}", NULL, NULL};
  for (int k = 0; k < CALLS; k++)
    if (texts[k] && !(S.bodies[k] = cJSON_Parse(texts[k]))) return ivs_error_set(IVS_ENOMEM, "cannot parse a body");
  S.have_ref = 0;
  rc = run(state); /* the reference answers */
  S.have_ref = !rc;
  return rc;
}

static int reset(void *state) {
  (void)state;
  remove(S.db), remove_store_sidecars(S.db);
  return alloc_copy_file(S.pristine, S.db) ? -1 : 0;
}

/* One call in its own transaction, as the server's store thread makes it. */
static int call(ivs_api *a, ivs_store *st, int k, double now) {
  int own = 0;
  ivs_api_endpoint(calls[k].method, calls[k].path, &own);
  const char *tok = calls[k].lead ? S.lead : S.ann;
  ivs_api_call c = {.method = calls[k].method, .path = calls[k].path, .token = tok, .token_len = strlen(tok),
                    .body = S.bodies[k], .max_conf = ""};
  ivs_work_idle(a->w);
  ivs_api_refresh(a);
  int rc = own ? 0 : ivs_store_begin(st);
  if (rc) return rc;
  ivs_api_handle(a, &c, now);
  int status = c.out ? c.status : 500;
  if (!own) {
    /* SQLite may have ended the transaction itself: the server answers 503 */
    int live = ivs_work_in_transaction(a->w);
    if (status == 200 && live) rc = ivs_store_commit(st);
    else {
      ivs_store_rollback(st);
      if (status == 200) status = 503;
    }
  }
  ivs_work_idle(a->w);
  if (!rc && status != 200) {
    if (status >= 400 && status < 500)
      rc = wrong("%s %s answered %d under an allocation failure: %s", calls[k].method, calls[k].path, status,
                 c.out ? c.out : "(no body)");
    else rc = ivs_error_set(IVS_ENOMEM, "%s %s answered %d: %s", calls[k].method, calls[k].path, status,
                            c.out ? c.out : "(no body)");
  }
  if (!rc && S.have_ref && strcmp(c.out, S.ref[k]))
    rc = wrong("%s %s answered %s, the reference run %s", calls[k].method, calls[k].path, c.out, S.ref[k]);
  if (!rc && !S.have_ref) S.ref[k] = c.out, c.out = NULL;
  free(c.out);
  return rc;
}

static int run(void *state) {
  (void)state;
  ivs_serve_opts so = IVS_SERVE_OPTS_INIT;
  ivs_store *st = NULL;
  ivs_api a;
  memset(&a, 0, sizeof a);
  a.o = &so, a.batch = "b", a.url = "http://127.0.0.1:8080/", a.lead_name = "lead", a.guideline_text = "";
  int rc = ivs_store_open(&st, S.db, 0);
  if (!rc) rc = ivs_work_open(st, &a.w);
  if (!rc) a.st = st, rc = ivs_work_batch(st, "b", &a.batch_id, &a.per_item);
  /* the run stops at the first call that fails (the calls after it depend
   * on it: a submit of an item never handed out is rightly refused) */
  for (int k = 0; k < CALLS && !rc; k++) rc = call(&a, st, k, 1.7e9 + k);
  ivs_work_free(a.w);
  ivs_store_free(st);
  return rc;
}

/* After a failed run: the store is intact, no judgment doubled. */
static int check(void *state, int rc) {
  (void)state, (void)rc;
  sqlite3 *db;
  if (sqlite3_open_v2(S.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return sqlite3_close(db), 1;
  sqlite3_stmt *s = NULL;
  int bad = sqlite3_prepare_v2(db, "SELECT (SELECT integrity_check = 'ok' FROM pragma_integrity_check), "
                                   "(SELECT count(*) FROM judgments)", -1, &s, NULL) != SQLITE_OK ||
            sqlite3_step(s) != SQLITE_ROW || !sqlite3_column_int(s, 0) || sqlite3_column_int(s, 1) > 1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return bad;
}

static void teardown(void *state) {
  (void)state;
  for (int k = 0; k < CALLS; k++) cJSON_Delete(S.bodies[k]), free(S.ref[k]), S.bodies[k] = NULL, S.ref[k] = NULL;
}

const alloc_path alloc_path_serve = {"serve", setup, reset, run, check, teardown};

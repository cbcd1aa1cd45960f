/* The work of an annotator in a batch, as the annotation server hands it
 * out: leases on the next items, submits made idempotent by a client id,
 * undo, progress; and the lead's counts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "invscale/label_work.h"
#include "label/judgments.h"

enum {
  S_MINE,       /* my live leases */
  S_NEXT,       /* the next items for me */
  S_LEASE,      /* take or renew a lease */
  S_ORDER_GET,  /* the class order shown to me */
  S_ORDER_PUT,
  S_SEEN,       /* a submit id seen before */
  S_IN_BATCH,   /* the item is in the batch */
  S_HANDED,     /* the item was handed out to me */
  S_UNLEASE,
  S_MARK,
  S_SUBMIT,
  S_GUIDE,
  S_JUDGED,     /* my judgment of an item (its row id and label) */
  S_LAST,       /* my judgment before a row id */
  S_ITEM,       /* prompt and classes of an example */
  S_DONE,
  S_TOTAL,
  S_MARKS,
  S_SECONDS,
  S_VERSION,
  S_SAVEPOINT,
  S_RELEASE,
  S_ROLLBACK,
  S_COUNT
};

struct ivs_work {
  ivs_store *st;
  sqlite3_stmt *s[S_COUNT];
  ivs_judgment_ctx cx;
  int64_t cx_batch; /* the batch cx is for; 0: none yet */
};

static const char *const sql[S_COUNT] = {
    [S_MINE] = "SELECT l.example_id FROM leases l WHERE l.batch_id = ?1 AND l.annotator_id = ?2 AND l.expires_at > ?3"
               " AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.example_id = l.example_id AND j.annotator_id = ?2"
               "   AND j.batch_id = ?1)"
               " AND NOT EXISTS (SELECT 1 FROM item_marks m WHERE m.batch_id = ?1 AND m.example_id = l.example_id"
               "   AND m.annotator_id = ?2 AND m.kind = 'skip')"
               " ORDER BY l.leased_at, l.example_id LIMIT ?4",
    /* an item is open to me when a slot is mine, or when its open slots
     * outnumber the live leases of others who hold no slot of it */
    [S_NEXT] = "SELECT bi.example_id FROM batch_items bi WHERE bi.batch_id = ?1 AND bi.judged < ?4"
               " AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.example_id = bi.example_id AND j.annotator_id = ?2"
               "   AND j.batch_id = ?1)"
               " AND NOT EXISTS (SELECT 1 FROM item_marks m WHERE m.batch_id = ?1 AND m.example_id = bi.example_id"
               "   AND m.annotator_id = ?2 AND m.kind = 'skip')"
               " AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.batch_id = ?1 AND l.example_id = bi.example_id"
               "   AND l.annotator_id = ?2 AND l.expires_at > ?3)"
               " AND (EXISTS (SELECT 1 FROM assignments x WHERE x.batch_id = ?1 AND x.example_id = bi.example_id"
               "        AND x.annotator_id = ?2)"
               "   OR (SELECT count(*) FROM assignments x WHERE x.batch_id = ?1 AND x.example_id = bi.example_id"
               "        AND x.annotator_id IS NULL)"
               "    > (SELECT count(*) FROM leases l WHERE l.batch_id = ?1 AND l.example_id = bi.example_id"
               "        AND l.annotator_id <> ?2 AND l.expires_at > ?3 AND NOT EXISTS (SELECT 1 FROM assignments y"
               "          WHERE y.batch_id = ?1 AND y.example_id = bi.example_id AND y.annotator_id = l.annotator_id)))"
               " ORDER BY bi.judged DESC, bi.position LIMIT ?5",
    [S_LEASE] = "INSERT INTO leases (batch_id, example_id, annotator_id, leased_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)"
                " ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at,"
                " leased_at = CASE WHEN leases.expires_at > excluded.leased_at THEN leases.leased_at ELSE excluded.leased_at END",
    [S_ORDER_GET] = "SELECT classes FROM class_orders WHERE batch_id = ?1 AND annotator_id = ?2 AND example_id = ?3",
    [S_ORDER_PUT] = "INSERT OR IGNORE INTO class_orders (batch_id, annotator_id, example_id, classes) VALUES (?1, ?2, ?3, ?4)",
    [S_SEEN] = "SELECT status, kind, example_id FROM submits WHERE batch_id = ?1 AND annotator_id = ?2 AND client_id = ?3",
    [S_IN_BATCH] = "SELECT 1 FROM batch_items WHERE batch_id = ?1 AND example_id = ?2",
    [S_HANDED] = "SELECT EXISTS (SELECT 1 FROM assignments WHERE batch_id = ?1 AND example_id = ?2 AND annotator_id = ?3)"
                 " OR EXISTS (SELECT 1 FROM leases WHERE batch_id = ?1 AND example_id = ?2 AND annotator_id = ?3)"
                 " OR EXISTS (SELECT 1 FROM judgments WHERE example_id = ?2 AND annotator_id = ?3 AND batch_id = ?1)",
    [S_UNLEASE] = "UPDATE leases SET expires_at = min(expires_at, ?4) WHERE batch_id = ?1 AND example_id = ?2 AND annotator_id = ?3",
    [S_MARK] = "INSERT INTO item_marks (batch_id, example_id, annotator_id, kind, note) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_SUBMIT] = "INSERT INTO submits (batch_id, annotator_id, client_id, kind, example_id, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_GUIDE] = "UPDATE judgments SET guideline_id = ?2 WHERE id_space = 'serve' AND platform_id = ?1"
                " AND EXISTS (SELECT 1 FROM guidelines WHERE id = ?2)",
    [S_JUDGED] = "SELECT id, label FROM judgments WHERE example_id = ?2 AND annotator_id = ?3 AND batch_id = ?1"
                 " ORDER BY id DESC LIMIT 1",
    [S_LAST] = "SELECT example_id, label FROM judgments WHERE batch_id = ?1 AND annotator_id = ?2 AND id < ?3"
               " ORDER BY id DESC LIMIT 1",
    [S_ITEM] = "SELECT prompt, classes FROM examples WHERE id = ?1",
    [S_DONE] = "SELECT count(*) FROM judgments WHERE batch_id = ?1 AND annotator_id = ?2",
    [S_TOTAL] = "SELECT count(*) FROM batch_items bi WHERE bi.batch_id = ?1 AND bi.judged < ?3"
                " AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.example_id = bi.example_id AND j.annotator_id = ?2"
                "   AND j.batch_id = ?1)"
                " AND NOT EXISTS (SELECT 1 FROM item_marks m WHERE m.batch_id = ?1 AND m.example_id = bi.example_id"
                "   AND m.annotator_id = ?2 AND m.kind = 'skip')"
                " AND EXISTS (SELECT 1 FROM assignments x WHERE x.batch_id = ?1 AND x.example_id = bi.example_id"
                "   AND (x.annotator_id = ?2 OR x.annotator_id IS NULL))",
    [S_MARKS] = "SELECT coalesce(sum(kind = 'skip'), 0), coalesce(sum(kind = 'flag'), 0) FROM item_marks"
                " WHERE batch_id = ?1 AND annotator_id = ?2",
    [S_VERSION] = "PRAGMA data_version",
    [S_SAVEPOINT] = "SAVEPOINT ivs_submit",
    [S_RELEASE] = "RELEASE ivs_submit",
    [S_ROLLBACK] = "ROLLBACK TO ivs_submit",
    [S_SECONDS] = "SELECT seconds FROM judgments WHERE batch_id = ?1 AND annotator_id = ?2 AND seconds IS NOT NULL"
                  " ORDER BY seconds",
};

/* The statement i, prepared once and reset for this use. */
static sqlite3_stmt *st_get(ivs_work *w, int i, int *rc) {
  *rc = ivs_db_prepare(w->st, &w->s[i], sql[i], IVS_DB_PERSISTENT, "cannot prepare");
  return *rc ? NULL : w->s[i];
}

/* Steps statement i once (one without results). */
static int run_one(ivs_work *w, int i) {
  int rc;
  sqlite3_stmt *s = st_get(w, i, &rc);
  if (rc) return rc;
  int step = sqlite3_step(s);
  sqlite3_reset(s);
  return step == SQLITE_DONE ? 0 : ivs_store_fail(w->st, "cannot run a savepoint");
}

int ivs_work_open(ivs_store *st, ivs_work **out) {
  *out = NULL;
  ivs_work *w = calloc(1, sizeof *w);
  if (!w) return ivs_error_set(IVS_ENOMEM, "out of memory");
  w->st = st;
  int rc = ivs_db_exec(st, "PRAGMA synchronous = FULL");
  for (int i = 0; i < S_COUNT && !rc; i++) st_get(w, i, &rc);
  if (rc) {
    ivs_work_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

void ivs_work_free(ivs_work *w) {
  if (!w) return;
  for (int i = 0; i < S_COUNT; i++) ivs_db_finalize(&w->s[i]);
  if (w->cx_batch) ivs_judgment_ctx_release(&w->cx);
  free(w);
}

void ivs_work_idle(ivs_work *w) {
  sqlite3 *db = ivs_store_db(w->st);
  for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s; s = sqlite3_next_stmt(db, s))
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
}

int ivs_work_in_transaction(ivs_work *w) { return !sqlite3_get_autocommit(ivs_store_db(w->st)); }

int ivs_work_data_version(ivs_work *w, int64_t *v) {
  int rc;
  sqlite3_stmt *s = st_get(w, S_VERSION, &rc);
  if (rc) return rc;
  int step = sqlite3_step(s);
  *v = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_reset(s);
  return step == SQLITE_ROW ? 0 : ivs_store_fail(w->st, "cannot read the data version");
}

static int need_annotator(const ivs_work_who *who) {
  return who->annotator_id ? 0 : ivs_error_set(IVS_EUSAGE, "this call is for an annotator's link, not the lead's");
}

/* The classes of example `item` as shown to the annotator: the stored order,
 * or with shuffle an order drawn once and stored.  *out is malloc'd. */
static int shown_classes(ivs_work *w, const ivs_work_who *who, int64_t item, const char *classes, int shuffle, char **out) {
  int rc;
  *out = NULL;
  sqlite3_stmt *s = st_get(w, S_ORDER_GET, &rc);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  sqlite3_bind_int64(s, 3, item);
  if (sqlite3_step(s) == SQLITE_ROW) {
    *out = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  sqlite3_reset(s);
  if (!shuffle || !classes) {
    *out = strdup(classes ? classes : "[]");
    return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  cJSON *a = cJSON_Parse(classes);
  int n = a ? cJSON_GetArraySize(a) : 0;
  cJSON **items = n ? calloc((size_t)n, sizeof *items) : NULL;
  if (!a || (n && !items)) {
    cJSON_Delete(a);
    free(items);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  while (n && cJSON_GetArraySize(a)) items[cJSON_GetArraySize(a) - 1] = cJSON_DetachItemFromArray(a, cJSON_GetArraySize(a) - 1);
  uint64_t seed = ivs_hash_mix(ivs_hash_mix(ivs_hash_mix(0x5eed, (uint64_t)who->batch_id), (uint64_t)who->annotator_id),
                               (uint64_t)item);
  for (int i = n; i > 1; i--) {
    int j = (int)(ivs_splitmix(&seed) % (uint64_t)i);
    cJSON *t = items[i - 1];
    items[i - 1] = items[j];
    items[j] = t;
  }
  int lost = 0;
  for (int i = 0; i < n; i++)
    if (!cJSON_AddItemToArray(a, items[i])) cJSON_Delete(items[i]), lost = 1;
  free(items);
  *out = lost ? NULL : cJSON_PrintUnformatted(a);
  cJSON_Delete(a);
  if (!*out) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!(s = st_get(w, S_ORDER_PUT, &rc))) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  sqlite3_bind_int64(s, 3, item);
  ivs_db_text(s, 4, *out);
  if (sqlite3_step(s) != SQLITE_DONE) rc = ivs_store_fail(w->st, "cannot store a class order");
  sqlite3_reset(s);
  return rc;
}

/* Leases `item` to the annotator and hands it to fn with `label`. */
static int hand_out(ivs_work *w, const ivs_work_who *who, int64_t item, const char *label, const ivs_next_opts *o,
                    ivs_work_item_fn fn, void *ud) {
  int rc;
  sqlite3_stmt *s = st_get(w, S_LEASE, &rc);
  if (rc) return rc;
  double until = o->now + o->lease_seconds;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, item);
  sqlite3_bind_int64(s, 3, who->annotator_id);
  sqlite3_bind_double(s, 4, o->now);
  sqlite3_bind_double(s, 5, until);
  int step = sqlite3_step(s);
  sqlite3_reset(s);
  if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot lease an item");
  if (!(s = st_get(w, S_ITEM, &rc))) return rc;
  sqlite3_bind_int64(s, 1, item);
  if (sqlite3_step(s) != SQLITE_ROW) {
    sqlite3_reset(s);
    return ivs_store_fail(w->st, "cannot read an item");
  }
  char *prompt = strdup((const char *)sqlite3_column_text(s, 0));
  const char *cl = (const char *)sqlite3_column_text(s, 1);
  char *classes = cl ? strdup(cl) : NULL;
  sqlite3_reset(s);
  char *shown = NULL;
  if (!prompt || (cl && !classes)) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!rc) rc = shown_classes(w, who, item, classes, o->shuffle_classes, &shown);
  if (!rc) {
    ivs_work_item it = {item, prompt, shown, label, until};
    rc = fn(&it, ud);
  }
  free(prompt), free(classes), free(shown);
  return rc;
}

int ivs_work_next(ivs_work *w, const ivs_work_who *who, const ivs_next_opts *o, ivs_work_item_fn fn, void *ud) {
  int rc = need_annotator(who);
  if (rc) return rc;
  size_t want = o->count > 50 ? 50 : o->count, got = 0;
  int64_t ids[50];
  for (int pass = 0; pass < 2 && got < want; pass++) {
    sqlite3_stmt *s = st_get(w, pass ? S_NEXT : S_MINE, &rc);
    if (rc) return rc;
    sqlite3_bind_int64(s, 1, who->batch_id);
    sqlite3_bind_int64(s, 2, who->annotator_id);
    sqlite3_bind_double(s, 3, o->now);
    if (pass) {
      sqlite3_bind_int64(s, 4, who->per_item);
      sqlite3_bind_int64(s, 5, (sqlite3_int64)(want - got));
    } else {
      sqlite3_bind_int64(s, 4, (sqlite3_int64)want);
    }
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && got < want) ids[got++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot find the next items");
  }
  for (size_t i = 0; i < got && !rc; i++) rc = hand_out(w, who, ids[i], NULL, o, fn, ud);
  return rc;
}

/* ---- submits ---- */

static int ctx_for(ivs_work *w, const ivs_work_who *who) {
  if (w->cx_batch == who->batch_id) return 0;
  if (w->cx_batch) ivs_judgment_ctx_release(&w->cx);
  w->cx_batch = 0;
  int rc = ivs_judgment_ctx_init(&w->cx, w->st, who->batch);
  if (rc) {
    ivs_judgment_ctx_release(&w->cx);
    return rc;
  }
  w->cx_batch = who->batch_id;
  return 0;
}

static const char *const kind_names[] = {"judgment", "skip", "flag"};
static const char *const status_names[] = {"stored", "revised", "same"};

static int status_code(const char *s) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(s, status_names[i])) return i;
  return IVS_SUBMITTED_STORED;
}

static int submit(ivs_work *w, const ivs_work_who *who, const ivs_work_submit *sub, double now, int *status) {
  int rc;
  sqlite3_stmt *s = st_get(w, S_IN_BATCH, &rc);
  if (rc) return rc;
  long long item = (long long)sub->item;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, sub->item);
  int step = sqlite3_step(s);
  sqlite3_reset(s);
  if (step == SQLITE_DONE) return ivs_error_set(IVS_EINVAL, "item %lld is not in batch '%s'", item, who->batch);
  if (step != SQLITE_ROW) return ivs_store_fail(w->st, "cannot look up the item");
  if (!(s = st_get(w, S_HANDED, &rc))) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, sub->item);
  sqlite3_bind_int64(s, 3, who->annotator_id);
  step = sqlite3_step(s);
  int handed = step == SQLITE_ROW && sqlite3_column_int(s, 0);
  sqlite3_reset(s);
  if (step != SQLITE_ROW) return ivs_store_fail(w->st, "cannot look up the assignment");
  if (!handed) return ivs_error_set(IVS_EINVAL, "item %lld was not handed out to '%s'", item, who->annotator);
  *status = IVS_SUBMITTED_STORED;
  if (sub->kind == IVS_SUBMIT_JUDGMENT) {
    if (!sub->label) return ivs_error_set(IVS_EINVAL, "a judgment needs a label");
    if ((rc = ctx_for(w, who))) return rc;
    char pid[96], source[64];
    snprintf(pid, sizeof pid, "%lld:%lld:%lld", (long long)who->batch_id, (long long)who->annotator_id, item);
    snprintf(source, sizeof source, "serve:%.50s", sub->client_id);
    double secs = sub->seconds < 0 ? -1 : sub->seconds > 86400 ? 86400 : sub->seconds;
    ivs_judgment j = {sub->item, who->annotator, sub->label, secs, NULL, source};
    ivs_jident idn = {"serve", pid, NULL};
    int added;
    if ((rc = ivs_judgment_put(&w->cx, &j, &idn, &added))) return rc;
    *status = added == IVS_PUT_ADDED ? IVS_SUBMITTED_STORED : added == IVS_PUT_UPDATED ? IVS_SUBMITTED_REVISED : IVS_SUBMITTED_SAME;
    if (sub->guideline > 0 && *status != IVS_SUBMITTED_SAME) {
      if (!(s = st_get(w, S_GUIDE, &rc))) return rc;
      ivs_db_text(s, 1, pid);
      sqlite3_bind_int64(s, 2, sub->guideline);
      step = sqlite3_step(s);
      sqlite3_reset(s);
      if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot record the guidelines");
    }
  } else {
    if (!(s = st_get(w, S_MARK, &rc))) return rc;
    sqlite3_bind_int64(s, 1, who->batch_id);
    sqlite3_bind_int64(s, 2, sub->item);
    sqlite3_bind_int64(s, 3, who->annotator_id);
    ivs_db_text(s, 4, kind_names[sub->kind]);
    ivs_db_text(s, 5, sub->note);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot record the mark");
  }
  if (sub->kind != IVS_SUBMIT_FLAG) { /* the lease ends */
    if (!(s = st_get(w, S_UNLEASE, &rc))) return rc;
    sqlite3_bind_int64(s, 1, who->batch_id);
    sqlite3_bind_int64(s, 2, sub->item);
    sqlite3_bind_int64(s, 3, who->annotator_id);
    sqlite3_bind_double(s, 4, now);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot end the lease");
  }
  if (!(s = st_get(w, S_SUBMIT, &rc))) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  ivs_db_text(s, 3, sub->client_id);
  ivs_db_text(s, 4, kind_names[sub->kind]);
  sqlite3_bind_int64(s, 5, sub->item);
  ivs_db_text(s, 6, status_names[*status]);
  step = sqlite3_step(s);
  sqlite3_reset(s);
  if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot record the submit");
  return 0;
}

int ivs_work_submit_one(ivs_work *w, const ivs_work_who *who, const ivs_work_submit *sub, double now, int *status,
                        int *first) {
  int rc = need_annotator(who);
  if (rc) return rc;
  size_t idlen = sub->client_id ? strlen(sub->client_id) : 0;
  if (idlen < 1 || idlen > 64) return ivs_error_set(IVS_EINVAL, "a submit needs an id of 1 to 64 bytes");
  if ((unsigned)sub->kind > IVS_SUBMIT_FLAG) return ivs_error_set(IVS_EUSAGE, "unknown submit kind");
  sqlite3_stmt *s = st_get(w, S_SEEN, &rc);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  ivs_db_text(s, 3, sub->client_id);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    int was = status_code((const char *)sqlite3_column_text(s, 0));
    int same = !strcmp((const char *)sqlite3_column_text(s, 1), kind_names[sub->kind]) && sqlite3_column_int64(s, 2) == sub->item;
    sqlite3_reset(s);
    if (!same) return ivs_error_set(IVS_EINVAL, "submit id '%.64s' was used before for another submit", sub->client_id);
    *status = IVS_SUBMITTED_REPEAT;
    if (first) *first = was;
    return 0;
  }
  sqlite3_reset(s);
  if (step != SQLITE_DONE) return ivs_store_fail(w->st, "cannot look up the submit id");
  if ((rc = run_one(w, S_SAVEPOINT))) return rc;
  rc = submit(w, who, sub, now, status);
  if (rc) {
    /* keep the message: the rollback must not replace it */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ivs_error_message());
    run_one(w, S_ROLLBACK);
    run_one(w, S_RELEASE);
    ivs_error_set(rc, "%s", msg);
    return rc;
  }
  if (first) *first = *status;
  return run_one(w, S_RELEASE);
}

int ivs_work_undo(ivs_work *w, const ivs_work_who *who, int64_t before, const ivs_next_opts *o, ivs_work_item_fn fn,
                  void *ud) {
  int rc = need_annotator(who);
  if (rc) return rc;
  int64_t bound = INT64_MAX;
  sqlite3_stmt *s;
  if (before > 0) {
    if (!(s = st_get(w, S_JUDGED, &rc))) return rc;
    sqlite3_bind_int64(s, 1, who->batch_id);
    sqlite3_bind_int64(s, 2, before);
    sqlite3_bind_int64(s, 3, who->annotator_id);
    if (sqlite3_step(s) == SQLITE_ROW) bound = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
  }
  if (!(s = st_get(w, S_LAST, &rc))) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  sqlite3_bind_int64(s, 3, bound);
  int step = sqlite3_step(s);
  if (step != SQLITE_ROW) {
    sqlite3_reset(s);
    return step == SQLITE_DONE ? 0 : ivs_store_fail(w->st, "cannot find the last judgment");
  }
  int64_t item = sqlite3_column_int64(s, 0);
  char *label = strdup((const char *)sqlite3_column_text(s, 1));
  sqlite3_reset(s);
  if (!label) return ivs_error_set(IVS_ENOMEM, "out of memory");
  rc = hand_out(w, who, item, label, o, fn, ud);
  free(label);
  return rc;
}

static int64_t count1(ivs_work *w, int i, const ivs_work_who *who, int with_k, int *rc) {
  sqlite3_stmt *s = st_get(w, i, rc);
  if (*rc) return 0;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  if (with_k) sqlite3_bind_int64(s, 3, who->per_item);
  int64_t v = 0;
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  else *rc = ivs_store_fail(w->st, "cannot count");
  sqlite3_reset(s);
  return v;
}

int ivs_work_progress_get(ivs_work *w, const ivs_work_who *who, ivs_work_progress *p) {
  memset(p, 0, sizeof *p);
  p->median_seconds = -1;
  int rc = need_annotator(who);
  if (rc) return rc;
  p->done = count1(w, S_DONE, who, 0, &rc);
  if (!rc) p->total = p->done + count1(w, S_TOTAL, who, 1, &rc);
  if (rc) return rc;
  sqlite3_stmt *s = st_get(w, S_MARKS, &rc);
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  if (sqlite3_step(s) == SQLITE_ROW) {
    p->skipped = sqlite3_column_int64(s, 0);
    p->flagged = sqlite3_column_int64(s, 1);
  }
  sqlite3_reset(s);
  if (!(s = st_get(w, S_SECONDS, &rc))) return rc;
  sqlite3_bind_int64(s, 1, who->batch_id);
  sqlite3_bind_int64(s, 2, who->annotator_id);
  double *v = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (n == cap) {
      double *g = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
      if (!g) {
        rc = ivs_error_set(IVS_ENOMEM, "out of memory");
        break;
      }
      v = g;
    }
    v[n++] = sqlite3_column_double(s, 0);
  }
  sqlite3_reset(s);
  if (!rc && n) p->median_seconds = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  free(v);
  return rc;
}

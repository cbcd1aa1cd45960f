/* Links of a batch: a token per annotator and one for the lead, stored as
 * SHA-256 hashes, revocable; and the guideline versions shown with them. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "invscale/label.h"
#include "invscale/label_work.h"
#include "store/db.h"

/* Begins a transaction when none is open; *own says whether to end it. */
static int begin_own(ivs_store *st, int *own) {
  *own = sqlite3_get_autocommit(ivs_store_db(st));
  return *own ? ivs_store_begin(st) : 0;
}

static int end_own(ivs_store *st, int own, int rc) {
  if (!own) return rc;
  if (rc) {
    ivs_store_rollback(st);
    return rc;
  }
  return ivs_store_commit(st);
}

static int batch_id(ivs_store *st, const char *batch, int64_t *id) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, "SELECT id FROM batches WHERE name = ?1", 0, "cannot look up the batch");
  if (rc) return rc;
  ivs_db_text(s, 1, batch);
  int step = sqlite3_step(s);
  *id = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return ivs_store_fail(st, "cannot look up the batch");
  return *id ? 0 : ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
}

/* Revokes the live link of (bid, aid: 0 for the lead); *n counts the rows. */
static int revoke(ivs_store *st, int64_t bid, int64_t aid, int *n) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "UPDATE links SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                          " WHERE batch_id = ?1 AND coalesce(annotator_id, 0) = ?2 AND revoked_at IS NULL",
                          0, "cannot revoke a link");
  if (rc) return rc;
  sqlite3_bind_int64(s, 1, bid);
  sqlite3_bind_int64(s, 2, aid);
  if (sqlite3_step(s) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot revoke a link");
  *n = sqlite3_changes(ivs_store_db(st));
  sqlite3_finalize(s);
  return rc;
}

int ivs_link_new(ivs_store *st, const char *batch, const char *annotator, char tok[IVS_TOKEN_LEN + 1]) {
  int own, n, rc = begin_own(st, &own);
  if (rc) return rc;
  int64_t bid = 0, aid = 0;
  if ((rc = batch_id(st, batch, &bid))) goto done;
  if (annotator) {
    if (!*annotator) {
      rc = ivs_error_set(IVS_EINVAL, "an annotator needs a name");
      goto done;
    }
    if (ivs_annotator_id(st, annotator, &aid) && (rc = ivs_annotator_add(st, annotator, NULL, &aid))) goto done;
  }
  if ((rc = revoke(st, bid, aid, &n)) || (rc = ivs_token_make(tok))) goto done;
  char hex[65];
  ivs_token_hash(tok, strlen(tok), hex);
  sqlite3_stmt *s = NULL;
  if ((rc = ivs_db_prepare(st, &s, "INSERT INTO links (batch_id, annotator_id, token_hash) VALUES (?1, ?2, ?3)", 0,
                           "cannot store a link")))
    goto done;
  sqlite3_bind_int64(s, 1, bid);
  ivs_db_int64_or_null(s, 2, aid ? aid : -1);
  ivs_db_text(s, 3, hex);
  if (sqlite3_step(s) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot store a link");
  sqlite3_finalize(s);
done:
  if (rc) memset(tok, 0, IVS_TOKEN_LEN + 1);
  return end_own(st, own, rc);
}

int ivs_link_revoke(ivs_store *st, const char *batch, const char *annotator) {
  int own, n = 0, rc = begin_own(st, &own);
  if (rc) return rc;
  int64_t bid = 0, aid = 0;
  if ((rc = batch_id(st, batch, &bid))) goto done;
  if (annotator && (rc = ivs_annotator_id(st, annotator, &aid))) goto done;
  if ((rc = revoke(st, bid, aid, &n))) goto done;
  if (!n) rc = ivs_error_set(IVS_EINVAL, "%s%s%s has no live link to batch '%s'", annotator ? "'" : "the lead",
                             annotator ? annotator : "", annotator ? "'" : "", batch);
done:
  return end_own(st, own, rc);
}

int ivs_link_list(ivs_store *st, const char *batch, ivs_link_fn fn, void *ud) {
  int64_t bid;
  int rc = batch_id(st, batch, &bid);
  if (rc) return rc;
  sqlite3_stmt *s = NULL;
  /* the live link, else the latest revoked one, per person */
  if ((rc = ivs_db_prepare(st, &s,
                           "WITH who(aid) AS (SELECT 0 UNION SELECT annotator_id FROM assignments WHERE batch_id = ?1"
                           "   AND annotator_id IS NOT NULL UNION SELECT coalesce(annotator_id, 0) FROM links WHERE batch_id = ?1)"
                           " SELECT a.name, l.created_at, l.revoked_at,"
                           "  EXISTS (SELECT 1 FROM assignments x WHERE x.batch_id = ?1 AND x.annotator_id = who.aid)"
                           " FROM who LEFT JOIN annotators a ON a.id = who.aid"
                           " LEFT JOIN links l ON l.id = (SELECT id FROM links m WHERE m.batch_id = ?1"
                           "   AND coalesce(m.annotator_id, 0) = who.aid ORDER BY m.revoked_at IS NULL DESC, m.id DESC LIMIT 1)"
                           " ORDER BY who.aid <> 0, a.name",
                           0, "cannot list the links")))
    return rc;
  sqlite3_bind_int64(s, 1, bid);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    ivs_link_info l = {(const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                       (const char *)sqlite3_column_text(s, 2), sqlite3_column_int(s, 3)};
    if ((rc = fn(&l, ud))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot list the links");
  sqlite3_finalize(s);
  return rc;
}

int ivs_link_resolve(ivs_store *st, const char *token, size_t n, ivs_work_who *who) {
  char hex[65];
  memset(who, 0, sizeof *who);
  if (n != IVS_TOKEN_LEN) return ivs_error_set(IVS_EINVAL, "unknown or revoked token");
  ivs_token_hash(token, n, hex);
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                          "SELECT l.id, l.batch_id, coalesce(l.annotator_id, 0), b.per_item, b.name, coalesce(a.name, '')"
                          " FROM links l JOIN batches b ON b.id = l.batch_id LEFT JOIN annotators a ON a.id = l.annotator_id"
                          " WHERE l.token_hash = ?1 AND l.revoked_at IS NULL",
                          0, "cannot look up a token");
  if (rc) return rc;
  ivs_db_text(s, 1, hex);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    who->link_id = sqlite3_column_int64(s, 0);
    who->batch_id = sqlite3_column_int64(s, 1);
    who->annotator_id = sqlite3_column_int64(s, 2);
    who->per_item = sqlite3_column_int(s, 3);
    snprintf(who->batch, sizeof who->batch, "%s", (const char *)sqlite3_column_text(s, 4));
    snprintf(who->annotator, sizeof who->annotator, "%s", (const char *)sqlite3_column_text(s, 5));
  } else if (step == SQLITE_DONE) {
    rc = ivs_error_set(IVS_EINVAL, "unknown or revoked token");
  } else {
    rc = ivs_store_fail(st, "cannot look up a token");
  }
  sqlite3_finalize(s);
  return rc;
}

/* ---- guidelines ---- */

int ivs_guidelines_put(ivs_store *st, const char *text, int64_t *version) {
  char hex[65];
  ivs_token_hash(text, strlen(text), hex);
  int own, rc = begin_own(st, &own);
  if (rc) return rc;
  sqlite3_stmt *s = NULL;
  if (!(rc = ivs_db_prepare(st, &s, "INSERT OR IGNORE INTO guidelines (text, sha256) VALUES (?1, ?2)", 0,
                            "cannot store the guidelines"))) {
    ivs_db_text(s, 1, text);
    ivs_db_text(s, 2, hex);
    if (sqlite3_step(s) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot store the guidelines");
    ivs_db_finalize(&s);
  }
  if (!rc && !(rc = ivs_db_prepare(st, &s, "SELECT id FROM guidelines WHERE sha256 = ?1", 0, "cannot find the guidelines"))) {
    ivs_db_text(s, 1, hex);
    if (sqlite3_step(s) == SQLITE_ROW) *version = sqlite3_column_int64(s, 0);
    else rc = ivs_store_fail(st, "cannot find the guidelines");
    ivs_db_finalize(&s);
  }
  return end_own(st, own, rc);
}

int ivs_guidelines_from_meta(ivs_store *st, char **text) {
  *text = NULL;
  char *g = NULL;
  int rc = ivs_store_meta_get(st, "guidelines", &g);
  if (rc) return rc;
  if (g) {
    *text = g;
    return 0;
  }
  static const char *const keys[][2] = {{"description", "The task"},
                                        {"correct_behaviour", "The correct answer"},
                                        {"label_expertise", "Expertise needed"}};
  ivs_buf b = IVS_BUF_INIT;
  for (size_t i = 0; i < 3 && !rc; i++) {
    char *v = NULL;
    if ((rc = ivs_store_meta_get(st, keys[i][0], &v)) || !v) continue;
    if (b.len) ivs_buf_puts(&b, "\n\n");
    ivs_buf_puts(&b, keys[i][1]);
    ivs_buf_puts(&b, "\n");
    ivs_buf_puts(&b, v);
    free(v);
  }
  if (!rc && !(*text = strdup(b.len ? b.data : ""))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_buf_release(&b);
  return rc;
}

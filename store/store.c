#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/json.h"
#include "store/db.h"

#define APPLICATION_ID 0x49565331 /* "IVS1" */
/* SQLite page cache: 32 MiB (a negative cache_size counts KiB). */
#define CACHE_KB "-32768"

extern const char ivs_store_sql[];

struct ivs_store {
  sqlite3 *db;
  char *path;
  int version, version_found;
  sqlite3_stmt *find_dup, *insert;
  ivs_buf classes; /* scratch for the classes JSON */
  /* Hashes of every stored example, kept during a transaction so that most
   * inserts skip the duplicate query (see seen_*).  NULL: not loaded, or the
   * store is too large and every insert asks SQLite. */
  uint64_t *seen;
  size_t seen_cap, seen_n;
  int seen_off;
  /* (hash, example id) of rows added in this transaction and not yet in
   * example_hashes: written sorted by hash before a duplicate query, when
   * PENDING_MAX are waiting, and at commit. */
  struct hash_row *pending;
  size_t pending_n, pending_cap;
  sqlite3_stmt *add_hash;
  int bulk; /* in a bulk transaction: the journal goes back to WAL at its end */
};

struct hash_row {
  int64_t hash, id;
};

/* At most this many pending rows (16 bytes each: 8 MiB). */
#define PENDING_MAX ((size_t)1 << 19)

/* At most this many hashes are kept (the table is twice as large: 32 MiB). */
#define SEEN_MAX ((size_t)2 << 20)

static int db_error(ivs_store *st, const char *what) {
  return ivs_error_set(IVS_ESTORE, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* ---- the helpers of store/db.h ---- */

sqlite3 *ivs_store_db(ivs_store *st) { return st->db; }
int ivs_store_fail(ivs_store *st, const char *what) { return db_error(st, what); }

int ivs_db_prepare(ivs_store *st, sqlite3_stmt **s, const char *sql, int flags, const char *what) {
  if (*s) {
    sqlite3_reset(*s);
    sqlite3_clear_bindings(*s);
    return 0;
  }
  unsigned pf = (flags & IVS_DB_PERSISTENT) ? SQLITE_PREPARE_PERSISTENT : 0;
  if (sqlite3_prepare_v3(st->db, sql, -1, pf, s, NULL) != SQLITE_OK) {
    sqlite3_finalize(*s);
    *s = NULL;
    return db_error(st, what ? what : "cannot prepare a statement");
  }
  return 0;
}

void ivs_db_finalize(sqlite3_stmt **s) {
  sqlite3_finalize(*s);
  *s = NULL;
}

void ivs_db_text(sqlite3_stmt *s, int i, const char *v) {
  if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, i);
}

void ivs_db_int64_or_null(sqlite3_stmt *s, int i, int64_t v) {
  if (v >= 0) sqlite3_bind_int64(s, i, v);
  else sqlite3_bind_null(s, i);
}

int ivs_db_exec(ivs_store *st, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = ivs_error_set(IVS_ESTORE, "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return rc;
  }
  return 0;
}

static int exec(ivs_store *st, const char *sql) { return ivs_db_exec(st, sql); }

static int pragma_int(ivs_store *st, const char *sql, int *out) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, sql, 0, "cannot read the store")) return IVS_ESTORE;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *out = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : db_error(st, "cannot read the store");
}

/* Runs every "-- version N" section of store.sql with N > from. */
static int migrate(ivs_store *st, int from) {
  const char *p = ivs_store_sql;
  const char *marker = "\n-- version ";
  int rc = 0;
  if (exec(st, "BEGIN IMMEDIATE")) return ivs_error_code();
  while ((p = strstr(p, marker))) {
    p += strlen(marker);
    int v = atoi(p);
    const char *body = strchr(p, '\n');
    const char *next = body ? strstr(body, marker) : NULL;
    if (!body) break;
    if (v <= from) continue;
    size_t n = next ? (size_t)(next - body) : strlen(body);
    char *sql = malloc(n + 64);
    if (!sql) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      break;
    }
    memcpy(sql, body, n);
    snprintf(sql + n, 64, ";\nPRAGMA user_version = %d;", v);
    rc = exec(st, sql);
    free(sql);
    if (rc) {
      ivs_error_prefix("migrating to schema version %d", v);
      break;
    }
  }
  if (!rc) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
    rc = exec(st, sql);
  }
  if (rc) {
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
  }
  return exec(st, "COMMIT");
}

int ivs_store_open(ivs_store **out, const char *path, int flags) {
  *out = NULL;
  /* Memory statistics cost a mutex per allocation and nothing here reads
   * them.  Only possible before SQLite initialises; later calls fail harmlessly. */
  static int configured;
  if (!configured) {
    configured = 1;
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  }
  struct stat sb;
  int exists = stat(path, &sb) == 0;
  if (!exists && !(flags & IVS_STORE_CREATE))
    return ivs_error_set(IVS_ESTORE, "%s: no project store here (run 'invscale init' or pass --db)", path);
  if (exists && S_ISDIR(sb.st_mode)) return ivs_error_set(IVS_ESTORE, "%s: is a directory, not a store", path);
  if (exists && !(flags & IVS_STORE_READONLY) && access(path, W_OK) != 0)
    return ivs_error_set(IVS_ESTORE, "%s: the store is read-only (check the file's permissions)", path);

  ivs_store *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(path))) {
    free(st);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  int oflags = SQLITE_OPEN_NOMUTEX | ((flags & IVS_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  if (flags & IVS_STORE_CREATE) oflags |= SQLITE_OPEN_CREATE;
  int rc;
  if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
    rc = db_error(st, "cannot open the store");
    goto fail;
  }
  sqlite3_busy_timeout(st->db, 5000);
  int app = 0;
  if ((rc = pragma_int(st, "PRAGMA application_id", &app)) ||
      (rc = pragma_int(st, "PRAGMA user_version", &st->version_found)))
    goto fail;
  int tables = 0;
  if ((rc = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &tables))) goto fail;
  if ((app != 0 && app != APPLICATION_ID) || (app == 0 && tables > 0 && st->version_found == 0)) {
    rc = ivs_error_set(IVS_ESTORE, "%s: an SQLite database, but not an invscale store", path);
    goto fail;
  }
  if (st->version_found > IVS_STORE_VERSION) {
    rc = ivs_error_set(IVS_ESTORE, "%s: made by a newer invscale (schema version %d; this one knows %d)", path,
                       st->version_found, IVS_STORE_VERSION);
    goto fail;
  }
  if (!(flags & IVS_STORE_READONLY)) {
    if (sqlite3_db_readonly(st->db, "main") == 1) {
      rc = ivs_error_set(IVS_ESTORE, "%s: the store is read-only (check the file's permissions)", path);
      goto fail;
    }
    /* 64 KiB pages for a new store: an import of a million examples then
     * makes a sixteenth of the page reads and writes (measured: 8.3 s -> 6.9 s
     * for bench/ingest's million rows).  Must be set before the first table. */
    if (st->version_found == 0 && (rc = exec(st, "PRAGMA page_size = 65536"))) goto fail;
    if ((rc = exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                       "PRAGMA temp_store = MEMORY;" /* statement journals of upserts: not one file write per row */
                       "PRAGMA cache_size = " CACHE_KB)))
      goto fail;
    if (st->version_found < IVS_STORE_VERSION && (rc = migrate(st, st->version_found))) goto fail;
  } else if (st->version_found < IVS_STORE_VERSION) {
    rc = ivs_error_set(IVS_ESTORE, "%s: schema version %d needs migrating; open it writable once", path,
                       st->version_found);
    goto fail;
  }
  st->version = IVS_STORE_VERSION;
  *out = st;
  return 0;
fail:
  ivs_store_free(st);
  return rc;
}

void ivs_store_free(ivs_store *st) {
  if (!st) return;
  sqlite3_finalize(st->find_dup);
  sqlite3_finalize(st->insert);
  sqlite3_finalize(st->add_hash);
  free(st->pending);
  sqlite3_close(st->db);
  ivs_buf_release(&st->classes);
  free(st->path);
  free(st);
}

int ivs_store_version(ivs_store *st) { return st->version; }
int ivs_store_version_found(ivs_store *st) { return st->version_found; }

static void seen_reset(ivs_store *st) {
  free(st->seen);
  st->seen = NULL;
  st->seen_cap = st->seen_n = 0;
  st->seen_off = 0;
}

int ivs_store_begin(ivs_store *st) {
  seen_reset(st);
  st->pending_n = 0;
  return exec(st, "BEGIN IMMEDIATE");
}
int ivs_store_begin_bulk(ivs_store *st) {
  /* Leaving WAL needs the only connection; when that fails, stay in WAL. */
  st->bulk = sqlite3_exec(st->db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) == SQLITE_OK;
  return ivs_store_begin(st);
}
static int end_bulk(ivs_store *st, int rc) {
  if (st->bulk) {
    st->bulk = 0;
    /* Back to WAL: best effort.  After a COMMIT its failure (out of memory,
     * say) must not turn a committed import into a reported failure; the
     * store stays in rollback-journal mode until it is next opened. */
    if (exec(st, "PRAGMA journal_mode = WAL") && !rc) ivs_error_clear();
  }
  return rc;
}
static int pending_flush(ivs_store *st);
int ivs_store_commit(ivs_store *st) {
  int rc = pending_flush(st);
  seen_reset(st);
  return end_bulk(st, rc ? rc : exec(st, "COMMIT"));
}
int ivs_store_rollback(ivs_store *st) {
  seen_reset(st);
  st->pending_n = 0;
  if (sqlite3_get_autocommit(st->db)) return end_bulk(st, 0);
  return end_bulk(st, exec(st, "ROLLBACK"));
}

/* A statement kept in the store for the whole session. */
static int prepare(ivs_store *st, sqlite3_stmt **s, const char *sql) {
  return ivs_db_prepare(st, s, sql, IVS_DB_PERSISTENT, NULL);
}

#define bind_text ivs_db_text

int ivs_store_import_start(ivs_store *st, const char *path, const char *format, const char *tag, int64_t *id) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, "INSERT INTO imports (path, format, tag) VALUES (?1, ?2, ?3)", 0, "cannot record the import")) return IVS_ESTORE;
  bind_text(s, 1, path);
  bind_text(s, 2, format);
  bind_text(s, 3, tag);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_error(st, "cannot record the import");
  sqlite3_finalize(s);
  *id = sqlite3_last_insert_rowid(st->db);
  return rc;
}

int ivs_store_import_finish(ivs_store *st, int64_t id, size_t imported, size_t duplicates, size_t invalid) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, "UPDATE imports SET imported = ?2, duplicates = ?3, invalid = ?4 WHERE id = ?1", 0, "cannot record the import")) return IVS_ESTORE;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)imported);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)duplicates);
  sqlite3_bind_int64(s, 4, (sqlite3_int64)invalid);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_error(st, "cannot record the import");
  sqlite3_finalize(s);
  return rc;
}

/* A 64-bit hash over length-prefixed fields, eight bytes at a time (so that
 * ("ab","c") != ("a","bc")).  Only a filter: equal hashes are confirmed by
 * comparing the fields themselves. */
static uint64_t hash_field(uint64_t h, const char *s) {
  return s ? ivs_hash_bytes(h, s, strlen(s)) : ivs_hash_mix(h, 0xFFFFFFFFFFFFFFFFULL); /* NULL differs from "" */
}

/* Open addressing on the hash itself; 0 marks an empty slot, so hash 0 is
 * stored as 1 (a false "maybe" only costs one query). */
static int seen_add(ivs_store *st, uint64_t h) {
  if (!h) h = 1;
  if (st->seen_n >= SEEN_MAX) {
    seen_reset(st);
    st->seen_off = 1;
    return 0;
  }
  if ((st->seen_n + 1) * 2 > st->seen_cap) {
    size_t cap = st->seen_cap ? st->seen_cap * 2 : 4096;
    uint64_t *t = calloc(cap, sizeof *t), *old = st->seen;
    if (!t) return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t i = 0; i < st->seen_cap; i++)
      if (old[i]) {
        size_t j = old[i] & (cap - 1);
        while (t[j]) j = (j + 1) & (cap - 1);
        t[j] = old[i];
      }
    free(old);
    st->seen = t;
    st->seen_cap = cap;
  }
  size_t j = h & (st->seen_cap - 1);
  while (st->seen[j] && st->seen[j] != h) j = (j + 1) & (st->seen_cap - 1);
  if (!st->seen[j]) st->seen[j] = h, st->seen_n++;
  return 0;
}

static int seen_maybe(const ivs_store *st, uint64_t h) {
  if (!h) h = 1;
  size_t j = h & (st->seen_cap - 1);
  while (st->seen[j]) {
    if (st->seen[j] == h) return 1;
    j = (j + 1) & (st->seen_cap - 1);
  }
  return 0;
}

static int cmp_hash_row(const void *a, const void *b) {
  const struct hash_row *x = a, *y = b;
  if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Writes the pending (hash, id) rows to example_hashes in key order, so the
 * B-tree is walked once instead of at a random place per row. */
static int pending_flush(ivs_store *st) {
  int rc;
  if (!st->pending_n) return 0;
  qsort(st->pending, st->pending_n, sizeof *st->pending, cmp_hash_row);
  for (size_t i = 0; i < st->pending_n; i++) {
    if ((rc = prepare(st, &st->add_hash, "INSERT INTO example_hashes (fhash, example_id) VALUES (?1, ?2)")))
      return rc;
    sqlite3_bind_int64(st->add_hash, 1, st->pending[i].hash);
    sqlite3_bind_int64(st->add_hash, 2, st->pending[i].id);
    if (sqlite3_step(st->add_hash) != SQLITE_DONE) return db_error(st, "cannot store an example hash");
  }
  sqlite3_reset(st->add_hash);
  st->pending_n = 0;
  return 0;
}

static int pending_add(ivs_store *st, uint64_t h, int64_t id) {
  if (st->pending_n == st->pending_cap &&
      ivs_grow((void **)&st->pending, &st->pending_cap, st->pending_n + 1, sizeof *st->pending, 4096))
    return IVS_ENOMEM;
  st->pending[st->pending_n++] = (struct hash_row){(int64_t)h, id};
  return st->pending_n >= PENDING_MAX ? pending_flush(st) : 0;
}

/* Loads the hashes of the stored examples (a scan of example_hashes). */
static int seen_load(ivs_store *st) {
  sqlite3_stmt *s = NULL;
  int rc = 0, step;
  if (ivs_db_prepare(st, &s, "SELECT fhash FROM example_hashes", 0, "cannot read example hashes")) return IVS_ESTORE;
  if ((rc = seen_add(st, 0))) goto done; /* allocate even for an empty store */
  while (!st->seen_off && (step = sqlite3_step(s)) == SQLITE_ROW)
    if ((rc = seen_add(st, (uint64_t)sqlite3_column_int64(s, 0)))) break;
done:
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_add_example(ivs_store *st, int64_t import_id, const char *tag, const ivs_example *ex, int *added) {
  const char *classes = NULL;
  ivs_buf_clear(&st->classes);
  if (ex->has_classes) {
    if (ivs_json_put_string_array(&st->classes, ex->classes.items, ex->classes.n)) return ivs_error_code();
    classes = st->classes.data;
  }
  const char *type = ivs_type_name(ex->type);
  uint64_t h = hash_field(0xcbf29ce484222325ULL, type);
  h = hash_field(h, ex->prompt);
  h = hash_field(h, classes);
  h = ivs_hash_mix(h, (uint64_t)ex->answer_index);
  h = hash_field(h, ex->other_prompt);
  h = hash_field(h, ex->completion);
  sqlite3_stmt *s;
  int rc, step;
  *added = 0;
  if (!st->seen && !st->seen_off && (rc = seen_load(st))) return rc;
  if (!st->seen || seen_maybe(st, h)) { /* possibly a duplicate: ask the store */
    if ((rc = pending_flush(st)) ||
        (rc = prepare(st, &st->find_dup,
                      "SELECT 1 FROM example_hashes h JOIN examples e ON e.id = h.example_id WHERE h.fhash = ?1"
                      " AND e.type = ?2 AND e.prompt = ?3 AND e.classes IS ?4 AND e.answer_index IS ?5"
                      " AND e.other_prompt IS ?6 AND e.completion IS ?7 LIMIT 1")))
      return rc;
    s = st->find_dup;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)h);
    bind_text(s, 2, type);
    bind_text(s, 3, ex->prompt);
    bind_text(s, 4, classes);
    if (ex->answer_index >= 0) sqlite3_bind_int64(s, 5, ex->answer_index);
    bind_text(s, 6, ex->other_prompt);
    bind_text(s, 7, ex->completion);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    if (step == SQLITE_ROW) return 0; /* duplicate */
    if (step != SQLITE_DONE) return db_error(st, "cannot look up duplicates");
  }
  if ((rc = prepare(st, &st->insert,
                    "INSERT INTO examples (type, prompt, classes, answer_index, other_prompt, completion, metadata,"
                    " tag, source_line, fhash, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")))
    return rc;
  s = st->insert;
  bind_text(s, 1, type);
  bind_text(s, 2, ex->prompt);
  bind_text(s, 3, classes);
  if (ex->answer_index >= 0) sqlite3_bind_int64(s, 4, ex->answer_index);
  bind_text(s, 5, ex->other_prompt);
  bind_text(s, 6, ex->completion);
  bind_text(s, 7, ex->metadata);
  bind_text(s, 8, tag);
  sqlite3_bind_int64(s, 9, (sqlite3_int64)ex->line);
  sqlite3_bind_int64(s, 10, (sqlite3_int64)h);
  if (import_id > 0) sqlite3_bind_int64(s, 11, import_id);
  step = sqlite3_step(s);
  sqlite3_reset(s);
  if (step != SQLITE_DONE) return db_error(st, "cannot store an example");
  *added = 1;
  if ((rc = pending_add(st, h, sqlite3_last_insert_rowid(st->db)))) return rc;
  return st->seen ? seen_add(st, h) : 0;
}

int ivs_store_examples(ivs_store *st, const ivs_example_query *q, ivs_stored_example_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  const char *sql =
      "SELECT e.id, e.type, e.prompt, e.classes, e.answer_index, e.other_prompt, e.completion, e.metadata, e.tag,"
      " i.path, e.source_line FROM examples e LEFT JOIN imports i ON i.id = e.import_id"
      " WHERE (?1 IS NULL OR e.tag = ?1) AND (?2 IS NULL OR e.type = ?2)"
      " AND (?4 = 0 OR e.answer_index IS NOT NULL OR e.type = 'sequence_prob') ORDER BY e.id LIMIT ?3";
  if (ivs_db_prepare(st, &s, sql, 0, "cannot list examples")) return IVS_ESTORE;
  bind_text(s, 1, q ? q->tag : NULL);
  bind_text(s, 2, q ? q->type : NULL);
  sqlite3_bind_int64(s, 3, q && q->limit > 0 ? q->limit : -1);
  sqlite3_bind_int(s, 4, q ? q->labelled : 0);
  int rc = 0, step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    ivs_stored_example ex = {
        .id = sqlite3_column_int64(s, 0),
        .type = (const char *)sqlite3_column_text(s, 1),
        .prompt = (const char *)sqlite3_column_text(s, 2),
        .classes_json = (const char *)sqlite3_column_text(s, 3),
        .answer_index = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(s, 4),
        .other_prompt = (const char *)sqlite3_column_text(s, 5),
        .completion = (const char *)sqlite3_column_text(s, 6),
        .metadata_json = (const char *)sqlite3_column_text(s, 7),
        .tag = (const char *)sqlite3_column_text(s, 8),
        .source = (const char *)sqlite3_column_text(s, 9),
        .line = sqlite3_column_int64(s, 10),
    };
    if ((rc = fn(&ex, ud))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = db_error(st, "cannot list examples");
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_counts(ivs_store *st, const char *what, ivs_count_fn fn, void *ud) {
  const char *sql;
  if (!strcmp(what, "type")) sql = "SELECT type, count(*) FROM examples GROUP BY 1 ORDER BY 1";
  else if (!strcmp(what, "tag")) sql = "SELECT tag, count(*) FROM examples GROUP BY 1 ORDER BY 1";
  else if (!strcmp(what, "source"))
    sql = "SELECT i.path, count(*) FROM examples e LEFT JOIN imports i ON i.id = e.import_id GROUP BY 1 ORDER BY 1";
  else return ivs_error_set(IVS_EUSAGE, "unknown grouping '%s'", what);
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, sql, 0, "cannot count examples")) return IVS_ESTORE;
  int rc = 0, step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if ((rc = fn(name ? name : "(none)", sqlite3_column_int64(s, 1), ud))) break;
  }
  if (!rc && step != SQLITE_DONE) rc = db_error(st, "cannot count examples");
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_meta_set(ivs_store *st, const char *key, const char *value) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value", 0, "cannot set metadata")) return IVS_ESTORE;
  bind_text(s, 1, key);
  bind_text(s, 2, value);
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_error(st, "cannot set metadata");
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_meta_get(ivs_store *st, const char *key, char **value) {
  sqlite3_stmt *s = NULL;
  *value = NULL;
  if (ivs_db_prepare(st, &s, "SELECT value FROM meta WHERE key = ?1", 0, "cannot read metadata")) return IVS_ESTORE;
  bind_text(s, 1, key);
  int rc = 0, step = sqlite3_step(s);
  if (step == SQLITE_ROW && !(*value = strdup((const char *)sqlite3_column_text(s, 0))))
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  else if (step != SQLITE_ROW && step != SQLITE_DONE)
    rc = db_error(st, "cannot read metadata");
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_meta_list(ivs_store *st, ivs_meta_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, "SELECT key, value FROM meta ORDER BY key", 0, "cannot read metadata")) return IVS_ESTORE;
  int rc = 0, step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW)
    if ((rc = fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1), ud))) break;
  if (!rc && step != SQLITE_DONE) rc = db_error(st, "cannot read metadata");
  sqlite3_finalize(s);
  return rc;
}

int ivs_store_check(ivs_store *st) {
  sqlite3_stmt *s = NULL;
  if (ivs_db_prepare(st, &s, "PRAGMA integrity_check", 0, "integrity check failed")) return IVS_ESTORE;
  int rc = 0;
  if (sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok"))
    rc = ivs_error_set(IVS_ESTORE, "%s: integrity check failed: %s", st->path,
                       sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : sqlite3_errmsg(st->db));
  sqlite3_finalize(s);
  return rc;
}


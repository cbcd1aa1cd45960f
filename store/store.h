/* The project store: one SQLite file holding examples (and, later, the
 * annotation data).
 *
 * The schema is schemas/store.sql, compiled in.  Opening a store made by an
 * older version migrates it inside one transaction.  The store runs in WAL
 * mode with foreign keys on and a busy timeout; all SQL is prepared.  An
 * import is wrapped by the caller in ivs_store_begin/commit (or rollback), so
 * a failed or killed import leaves the store as it was.
 */
#ifndef IVS_STORE_STORE_H
#define IVS_STORE_STORE_H

#include <stdint.h>

#include "core/example.h"

#define IVS_STORE_VERSION 4

typedef struct ivs_store ivs_store;

enum { IVS_STORE_CREATE = 1, IVS_STORE_READONLY = 2 };

/* Opens (with IVS_STORE_CREATE: creates) the store at `path` and migrates it
 * to IVS_STORE_VERSION.  Fails with IVS_ESTORE when the file is missing (and
 * not to be created), is not an SQLite database, belongs to another program or
 * a newer invscale, or cannot be migrated.  *out is owned by the caller
 * (ivs_store_free). */
int ivs_store_open(ivs_store **out, const char *path, int flags);
void ivs_store_free(ivs_store *st); /* accepts NULL */

/* Schema version of the open store (after migration). */
int ivs_store_version(ivs_store *st);
/* Version the file had before it was opened (0: newly created). */
int ivs_store_version_found(ivs_store *st);

int ivs_store_begin(ivs_store *st); /* BEGIN IMMEDIATE; fails on a read-only store */
/* As ivs_store_begin, for a transaction that writes many rows (an import):
 * when no other connection has the store open it switches from WAL to a
 * rollback journal until commit or rollback, so new pages are written once
 * instead of twice (WAL, then checkpoint).  Readers wait meanwhile. */
int ivs_store_begin_bulk(ivs_store *st);
int ivs_store_commit(ivs_store *st);
int ivs_store_rollback(ivs_store *st);

/* Records an import (inside the caller's transaction); *id identifies it. */
int ivs_store_import_start(ivs_store *st, const char *path, const char *format, const char *tag, int64_t *id);
int ivs_store_import_finish(ivs_store *st, int64_t id, size_t imported, size_t duplicates, size_t invalid);

/* Adds ex unless an example of the same type with the same task fields exists
 * (metadata and tag do not count).  *added is 1 when stored, 0 when it was a
 * duplicate. */
int ivs_store_add_example(ivs_store *st, int64_t import_id, const char *tag, const ivs_example *ex, int *added);

/* An example as stored.  All pointers are borrowed for the callback only. */
typedef struct ivs_stored_example {
  int64_t id;
  const char *type, *prompt, *classes_json, *other_prompt, *completion, *metadata_json, *tag, *source;
  long answer_index; /* -1: NULL */
  int64_t line;
} ivs_stored_example;

typedef int (*ivs_stored_example_fn)(const ivs_stored_example *ex, void *ud);

typedef struct ivs_example_query {
  const char *tag;  /* NULL: any */
  const char *type; /* NULL: any */
  int64_t limit;    /* <= 0: no limit */
  int labelled;     /* only examples with an answer_index (sequence_prob: all) */
} ivs_example_query;

/* Calls fn for each matching example in id order; stops when fn returns nonzero (returned). */
int ivs_store_examples(ivs_store *st, const ivs_example_query *q, ivs_stored_example_fn fn, void *ud);

/* Counts grouped by `what` ("type", "tag" or "source"); NULL names come as "(none)". */
typedef int (*ivs_count_fn)(const char *name, int64_t count, void *ud);
int ivs_store_counts(ivs_store *st, const char *what, ivs_count_fn fn, void *ud);

/* Project metadata (the datasheet fields): key -> text. */
int ivs_store_meta_set(ivs_store *st, const char *key, const char *value);
/* *value is malloc'd (caller frees), or NULL when the key is not set. */
int ivs_store_meta_get(ivs_store *st, const char *key, char **value);
typedef int (*ivs_meta_fn)(const char *key, const char *value, void *ud);
int ivs_store_meta_list(ivs_store *st, ivs_meta_fn fn, void *ud);

/* Runs PRAGMA integrity_check; 0 when "ok". */
int ivs_store_check(ivs_store *st);

#endif

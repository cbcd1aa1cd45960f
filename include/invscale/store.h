/* invscale: the project store.
 *
 * One SQLite file holds a project: the examples, where they came from, the
 * datasheet metadata and the crowd-annotation data (see invscale/label.h).
 * The schema is versioned (PRAGMA user_version); opening a file made by an
 * older invscale migrates it inside one transaction.  The store runs in WAL
 * mode with foreign keys on and a busy timeout of five seconds.
 *
 * Errors.  Every function returning int returns IVS_OK (0) or a negative
 * IVS_E* code from invscale/core.h, with the detail in ivs_error_message().
 * SQLite failures are IVS_ESTORE with "<store path>: <what>: <SQLite's
 * message>".
 *
 * Threads.  An ivs_store is one SQLite connection opened without SQLite's
 * mutexes: use it from one thread at a time.  Several processes (or several
 * ivs_store of one thread) may open the same file; writers wait for each
 * other up to the busy timeout.
 *
 * Strings passed in are read during the call only.  Strings handed to a
 * callback are borrowed for that call only.
 */
#ifndef INVSCALE_STORE_H
#define INVSCALE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this library writes. */
#define IVS_STORE_VERSION 6

/* An open store.  Opaque. */
typedef struct ivs_store ivs_store;

/* Flags of ivs_store_open. */
enum { IVS_STORE_CREATE = 1, IVS_STORE_READONLY = 2 };

/* Opens the store at `path` (":memory:" for a private in-memory store).
 * With IVS_STORE_CREATE a missing file is created; with IVS_STORE_READONLY
 * nothing is written (a store that would need migrating is then refused).
 * Returns IVS_OK and sets *out, owned by the caller (ivs_store_free); or
 * IVS_ESTORE when the file is missing (and not to be created), is a directory,
 * is not an SQLite database, belongs to another program or a newer invscale,
 * is read-only while asked writable, or cannot be migrated; IVS_ENOMEM.  On
 * failure *out is NULL. */
int ivs_store_open(ivs_store **out, const char *path, int flags);

/* Closes the store and frees it.  A transaction still open is rolled back by
 * SQLite.  Accepts NULL. */
void ivs_store_free(ivs_store *st);

/* The schema version of the open store (after migration): IVS_STORE_VERSION. */
int ivs_store_version(ivs_store *st);
/* The version the file had before it was opened; 0 when newly created. */
int ivs_store_version_found(ivs_store *st);

/* Transactions.  ivs_store_begin starts one (BEGIN IMMEDIATE: the write lock
 * is taken at once, so a busy store fails here rather than mid-import);
 * IVS_ESTORE on a read-only store or when another writer holds it past the
 * busy timeout.  Transactions do not nest.
 *
 * ivs_store_begin_bulk is ivs_store_begin for a transaction that writes many
 * rows (an import): when no other connection has the store open it leaves WAL
 * for a rollback journal until the commit or rollback, so new pages are
 * written once instead of twice.  Readers wait meanwhile.
 *
 * ivs_store_rollback with no transaction open is IVS_OK. */
int ivs_store_begin(ivs_store *st);
int ivs_store_begin_bulk(ivs_store *st);
int ivs_store_commit(ivs_store *st);
int ivs_store_rollback(ivs_store *st);

/* Records an import of `path` in `format` (tag may be NULL), inside the
 * caller's transaction; *id identifies it for ivs_store_add_example and
 * ivs_store_import_finish. */
int ivs_store_import_start(ivs_store *st, const char *path, const char *format, const char *tag, int64_t *id);
/* Stores the counts of import `id`. */
int ivs_store_import_finish(ivs_store *st, int64_t id, size_t imported, size_t duplicates, size_t invalid);

/* An example as the ingest readers make it (defined by the library's core;
 * programs get them from the ingest functions). */
struct ivs_example;

/* Adds ex (of import `import_id`, or none when <= 0; tag may be NULL) unless
 * an example of the same type with the same task fields is stored already
 * (metadata and tag do not count).  *added is 1 when stored, 0 for a
 * duplicate.  Meant to run inside a transaction: outside one every example is
 * its own transaction and an import is slow. */
int ivs_store_add_example(ivs_store *st, int64_t import_id, const char *tag, const struct ivs_example *ex, int *added);

/* An example as stored.  Every pointer is borrowed for the callback only;
 * NULL members are fields the example does not have. */
typedef struct ivs_stored_example {
  int64_t id;
  const char *type, *prompt, *classes_json, *other_prompt, *completion, *metadata_json, *tag, *source;
  long answer_index; /* -1: none */
  int64_t line;      /* line in the source file */
} ivs_stored_example;

/* Return nonzero to stop; that value is then returned by the caller. */
typedef int (*ivs_stored_example_fn)(const ivs_stored_example *ex, void *ud);

/* Which examples ivs_store_examples lists.  Zero-initialised (or
 * IVS_EXAMPLE_QUERY_INIT): all of them. */
typedef struct ivs_example_query {
  const char *tag;  /* NULL: any */
  const char *type; /* a type name ("classification", ...); NULL: any */
  int64_t limit;    /* <= 0: no limit */
  int labelled;     /* nonzero: only examples with an answer_index (sequence_prob: all) */
} ivs_example_query;
#define IVS_EXAMPLE_QUERY_INIT {NULL, NULL, 0, 0}

/* Calls fn for each matching example (q NULL: every example) in id order.
 * Returns IVS_OK, fn's nonzero value when it stopped, or IVS_ESTORE. */
int ivs_store_examples(ivs_store *st, const ivs_example_query *q, ivs_stored_example_fn fn, void *ud);

/* Example counts grouped by `what`: "type", "tag" or "source" (the import's
 * path), in name order; a NULL name comes as "(none)".  IVS_EUSAGE for
 * another `what`.  fn's nonzero value stops and is returned. */
typedef int (*ivs_count_fn)(const char *name, int64_t count, void *ud);
int ivs_store_counts(ivs_store *st, const char *what, ivs_count_fn fn, void *ud);

/* Project metadata (the datasheet fields): key -> text.  Setting replaces. */
int ivs_store_meta_set(ivs_store *st, const char *key, const char *value);
/* *value is malloc'd (the caller frees it), or NULL when the key is not set. */
int ivs_store_meta_get(ivs_store *st, const char *key, char **value);
/* Every key in order; fn's nonzero value stops and is returned. */
typedef int (*ivs_meta_fn)(const char *key, const char *value, void *ud);
int ivs_store_meta_list(ivs_store *st, ivs_meta_fn fn, void *ud);

/* Runs SQLite's integrity check: IVS_OK when the file is sound, else
 * IVS_ESTORE with the first problem found. */
int ivs_store_check(ivs_store *st);

#ifdef __cplusplus
}
#endif
#endif

/* For the store and label modules only: the SQLite connection behind a store
 * and the one set of helpers that prepare statements and bind values.
 * Nothing outside store/ and label/ includes this. */
#ifndef IVS_STORE_DB_H
#define IVS_STORE_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

/* Borrowed: valid while the store is open. */
sqlite3 *ivs_store_db(ivs_store *st);
/* Sets the last error from SQLite's message: "<store>: <what>: <sqlite
 * message>", and returns IVS_ESTORE. */
int ivs_store_fail(ivs_store *st, const char *what);

/* Flags of ivs_db_prepare. */
enum { IVS_DB_PERSISTENT = 1 }; /* a statement kept for many uses (SQLITE_PREPARE_PERSISTENT) */

/* Makes *s ready to bind and step.  When *s is NULL, prepares `sql` into it;
 * when *s is already prepared (a cached statement: sql is then not read),
 * resets it and clears its bindings.  On failure *s stays NULL and the error
 * is IVS_ESTORE with `what` (NULL: "cannot prepare a statement").  The
 * caller finalizes *s (ivs_db_finalize). */
int ivs_db_prepare(ivs_store *st, sqlite3_stmt **s, const char *sql, int flags, const char *what);

/* Finalizes *s (NULL is fine) and sets it to NULL, so that it can be
 * prepared again. */
void ivs_db_finalize(sqlite3_stmt **s);

/* Binds text v to parameter i, or NULL when v is NULL.  Not copied: v must
 * stay valid until the statement has been stepped and reset. */
void ivs_db_text(sqlite3_stmt *s, int i, const char *v);

/* Binds v to parameter i, or NULL when v is negative (an absent id, index or
 * duration). */
void ivs_db_int64_or_null(sqlite3_stmt *s, int i, int64_t v);

/* Runs SQL without results (several statements are fine); IVS_ESTORE with
 * "<store>: <message>". */
int ivs_db_exec(ivs_store *st, const char *sql);

#endif

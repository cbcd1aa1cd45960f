/* For the store and label modules only: the SQLite handle behind a store.  Borrowed:
 * valid while the store is open.  Nothing outside store/ and label/ includes this. */
#ifndef IVS_STORE_DB_H
#define IVS_STORE_DB_H

#include <sqlite3.h>

#include "store/store.h"

sqlite3 *ivs_store_db(ivs_store *st);
/* Sets the last error from SQLite's message: "<store>: <what>: <sqlite message>". */
int ivs_store_fail(ivs_store *st, const char *what);

#endif

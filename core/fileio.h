/* Writing a file atomically: everything goes to a temporary file beside the
 * target, which is flushed, fsynced and renamed over it; on failure (or if
 * the process is killed) the target is untouched and no partial file
 * remains under its name. */
#ifndef IVS_CORE_FILEIO_H
#define IVS_CORE_FILEIO_H

#include <stdio.h>

#include "core/buf.h"

typedef struct ivs_atomic_file {
  FILE *f;        /* write here */
  char *path;     /* owned: the target */
  char *tmp;      /* owned: the temporary file */
} ivs_atomic_file;

/* Creates the temporary file next to `path` ("-" is refused: use stdout). */
int ivs_atomic_open(ivs_atomic_file *af, const char *path);
/* Flushes, fsyncs, renames over the target and fsyncs the directory. */
int ivs_atomic_commit(ivs_atomic_file *af);
/* Closes and removes the temporary file (safe after a failed commit). */
void ivs_atomic_abort(ivs_atomic_file *af);

/* Reads a whole file into out (initialised by the callee; the caller
 * releases it).  IVS_EIO for a missing file, a directory, a read error or an
 * empty file; IVS_ELIMIT past `limit` bytes.  Messages name the path. */
int ivs_file_read_all(const char *path, size_t limit, ivs_buf *out);

#endif

/* Error codes and the thread-local last error.
 *
 * Every library function that can fail returns an int: 0 on success or one of
 * the negative IVS_E* codes below.  The human-readable detail, usually
 * prefixed with a position ("data.csv:12:3: ..."), is kept in a thread-local
 * buffer that the caller reads with ivs_error_message().  Nothing in the
 * library prints or exits; that is the command line's job.
 */
#ifndef IVS_CORE_ERROR_H
#define IVS_CORE_ERROR_H

#include <stdarg.h>

enum {
  IVS_OK = 0,
  IVS_ERROR = -1,   /* generic failure */
  IVS_ENOMEM = -2,  /* allocation failed */
  IVS_EIO = -3,     /* file could not be opened, read or written */
  IVS_EPARSE = -4,  /* malformed input (syntax, encoding) */
  IVS_EINVAL = -5,  /* well-formed input with an invalid value */
  IVS_ELIMIT = -6,  /* a size or depth limit was exceeded */
  IVS_ESTORE = -7,  /* the SQLite store failed or is unusable */
  IVS_EUSAGE = -8,  /* the caller asked for something impossible */
  IVS_ESTOP = -9    /* a callback asked to stop */
};

/* Records a printf-style message as the last error of this thread and
 * returns `code`, so that `return ivs_error_set(IVS_EINVAL, ...)` reads well. */
int ivs_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ivs_error_setv(int code, const char *fmt, va_list ap);

/* Prepends "prefix: " to the current message (e.g. a file name). */
void ivs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message of this thread; never NULL, "" when none.  Borrowed: valid
 * until the next ivs_error_* call on this thread. */
const char *ivs_error_message(void);
int ivs_error_code(void);
void ivs_error_clear(void);

#endif

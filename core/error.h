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

#include "invscale/core.h" /* the codes, ivs_error_message, ivs_error_code, ivs_error_clear */

/* Records a printf-style message as the last error of this thread and
 * returns `code`, so that `return ivs_error_set(IVS_EINVAL, ...)` reads well. */
int ivs_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ivs_error_setv(int code, const char *fmt, va_list ap);

/* Prepends "prefix: " to the current message (e.g. a file name). */
void ivs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


#endif

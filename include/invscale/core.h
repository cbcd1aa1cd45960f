/* invscale: what every part of the library shares.
 *
 * Error handling.  Every function of the library that can fail returns an
 * int: 0 (IVS_OK) on success, or one of the negative IVS_E* codes below.  The
 * detail, usually with the position in the input ("data.csv:12:3: invalid
 * label 'maybe'"), is kept as the last error of the calling thread and read
 * with ivs_error_message().  Nothing in the library prints, exits or looks at
 * the terminal.
 *
 * Task types: the four of the Inverse Scaling Prize.
 */
#ifndef INVSCALE_CORE_H
#define INVSCALE_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

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

/* The last message of the calling thread; never NULL, "" when none.
 * Borrowed: valid until the next library call on this thread. */
const char *ivs_error_message(void);
/* The code of the last error of the calling thread (IVS_OK when none). */
int ivs_error_code(void);
void ivs_error_clear(void);

typedef enum ivs_task_type {
  IVS_TYPE_AUTO = 0, /* "infer from the fields" where a type is asked for */
  IVS_TYPE_CLASSIFICATION,
  IVS_TYPE_SEQUENCE_PROB,
  IVS_TYPE_LOGODDS,
  IVS_TYPE_ABSOLUTE_LOGODDS
} ivs_task_type;

/* "classification", "sequence_prob", "logodds", "absolute_logodds" or
 * "auto".  A static string. */
const char *ivs_type_name(ivs_task_type t);
/* Parses a type name; returns 0 and sets *out, or IVS_EUSAGE (*out untouched). */
int ivs_type_parse(const char *name, ivs_task_type *out);

#include <stddef.h>

/* A list of owned UTF-8 strings (each NUL-terminated, no inner NUL): the
 * classes of an example.  A zeroed struct is an empty list. */
typedef struct ivs_strlist {
  char **items; /* owned, each item too */
  size_t n, cap;
} ivs_strlist;

/* Frees the items; the list is empty (and reusable) afterwards. */
void ivs_strlist_release(ivs_strlist *l);

/* Parses a `classes` value, a Python list literal of strings as the prize's
 * loader reads it with ast.literal_eval (a JSON array of strings is one too),
 * from s[0..len) into *out (zeroed or released by the caller; left empty on
 * error).  On failure returns IVS_EPARSE (or IVS_ENOMEM, IVS_ELIMIT past 4096
 * items) and stores in *err_offset the byte offset of the problem. */
int ivs_pylist_parse(const char *s, size_t len, ivs_strlist *out, size_t *err_offset);

/* Progress of a long read: `done` of `total` units (total 0: unknown).
 * Called on the library's worker thread; must not call back into the
 * library on the same object. */
typedef void (*ivs_progress_fn)(unsigned long long done, unsigned long long total, void *ud);

#ifdef __cplusplus
}
#endif
#endif

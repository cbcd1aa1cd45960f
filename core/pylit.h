/* Parser for the `classes` field: a Python list literal of strings, as the
 * prize's loader reads it with ast.literal_eval.
 *
 * Accepted: '[' strings separated by commas, optional trailing comma, ']';
 * strings quoted with ' " ''' or """, optional u/r prefixes, adjacent literals
 * concatenated, whitespace and # comments between tokens.  Escapes: \\ \' \"
 * \a \b \f \n \r \t \v, octal \ooo, \xNN, \uNNNN, \UNNNNNNNN, backslash-newline;
 * unknown escapes are kept verbatim as Python does.  A \u high surrogate
 * followed by a \u low surrogate is combined (JSON writes astral characters so;
 * Python would produce an unencodable pair).  A JSON array of strings is
 * therefore accepted too.  Rejected with a byte offset: anything else,
 * \N{...} escapes, lone surrogates, NUL characters, invalid UTF-8, more than
 * IVS_MAX_CLASSES items.
 */
#ifndef IVS_CORE_PYLIT_H
#define IVS_CORE_PYLIT_H

#include <stddef.h>

#define IVS_MAX_CLASSES 4096

#include "invscale/core.h" /* ivs_strlist, ivs_strlist_release, ivs_pylist_parse */

/* Appends a copy of s[0..n). */
int ivs_strlist_push(ivs_strlist *l, const char *s, size_t n);


struct ivs_buf;
/* Appends the list as Python writes it (repr of a list of str): ['a', "it's"].
 * ast.literal_eval of the result gives the same strings back. */
int ivs_pylist_write(struct ivs_buf *b, char *const *items, size_t n);

#endif

/* A growable byte buffer with a hard size cap.
 *
 * The data is always NUL-terminated (the terminator is not counted in len),
 * so it can be handed to C string functions when it holds no NUL bytes.
 * Appending past `limit` fails with IVS_ELIMIT and leaves the buffer as it was.
 */
#ifndef IVS_CORE_BUF_H
#define IVS_CORE_BUF_H

#include <stddef.h>

typedef struct ivs_buf {
  char *data;   /* owned; NULL until the first append */
  size_t len;
  size_t cap;
  size_t limit; /* maximum len; 0 means IVS_BUF_DEFAULT_LIMIT */
} ivs_buf;

#define IVS_BUF_DEFAULT_LIMIT ((size_t)1 << 30)
#define IVS_BUF_INIT {NULL, 0, 0, 0}

void ivs_buf_init(ivs_buf *b, size_t limit);
/* Frees the contents; the struct may be reused after ivs_buf_init. */
void ivs_buf_release(ivs_buf *b);
void ivs_buf_clear(ivs_buf *b); /* len = 0, keeps memory */
int ivs_buf_reserve(ivs_buf *b, size_t extra);
int ivs_buf_append(ivs_buf *b, const void *p, size_t n);
int ivs_buf_putc(ivs_buf *b, char c);
int ivs_buf_puts(ivs_buf *b, const char *s);
/* Appends c as UTF-8 (1 to 4 bytes).  c must be a Unicode scalar value. */
int ivs_buf_put_utf8(ivs_buf *b, unsigned long c);
/* Hands the data to the caller (caller frees) and resets the buffer. */
char *ivs_buf_detach(ivs_buf *b, size_t *len);

#endif

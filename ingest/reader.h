/* A streaming file reader for the text parsers.
 *
 * It hands out the file as segments that end at a newline (inclusive) or at
 * the end of its buffer, keeps the line number, checks that every byte is
 * valid UTF-8 and that there is no NUL byte (an error names line, column and
 * byte offset), and skips a UTF-8 byte order mark at the start.  Memory use is
 * bounded by the buffer size whatever the file size.
 */
#ifndef IVS_INGEST_READER_H
#define IVS_INGEST_READER_H

#include <stdio.h>

#include "core/buf.h"

#include "invscale/core.h" /* ivs_progress_fn */

typedef struct ivs_reader {
  const char *path;  /* borrowed: must outlive the reader; "-" is stdin */
  FILE *f;
  char *buf;
  size_t len, pos, keep; /* keep: bytes carried over (an incomplete UTF-8 tail) */
  size_t line;           /* line of the next byte, 1-based */
  size_t col;            /* code points already handed out on that line */
  unsigned long long offset, total; /* byte offset of the next byte; file size (0: unknown) */
  int eof;
  int ranged;                  /* reading stops after `remaining` more bytes */
  unsigned long long remaining;
  ivs_progress_fn progress;
  void *progress_ud;
} ivs_reader;

/* Opens `path`.  Fails (IVS_EIO) on a missing file, a directory, or an empty
 * regular file, with the path in the message. */
int ivs_reader_open(ivs_reader *r, const char *path);
void ivs_reader_close(ivs_reader *r);
/* Restricts a freshly opened reader of a regular file to bytes [start, end)
 * (start at a line's beginning; line numbers then count from r->line, which
 * the caller may set).  IVS_EIO when the file cannot seek. */
int ivs_reader_range(ivs_reader *r, unsigned long long start, unsigned long long end);

/* Next segment: *seg points into the reader's buffer (valid until the next
 * call).  Returns 1 with data, 0 at end of file, negative on error.
 * *line_end is set when the segment ends with '\n'.  Before the call,
 * r->line is the line the segment starts on. */
int ivs_reader_next(ivs_reader *r, const char **seg, size_t *n, int *line_end);

/* Reads one whole line into `line` (cleared first, newline and a preceding
 * '\r' removed).  Returns 1, 0 at end of file, or negative (IVS_ELIMIT when the
 * line is longer than line->limit; the reader then stands at the next line).
 * *lineno gets the line's number. */
int ivs_reader_line(ivs_reader *r, ivs_buf *line, size_t *lineno);

/* The first non-blank line of a file, read whole into `line` (initialised by
 * the caller); 1 when there is one, else 0 (also for a file that cannot be
 * read: for peeking only). */
int ivs_reader_first_line(const char *path, ivs_buf *line, size_t *lineno);

#endif

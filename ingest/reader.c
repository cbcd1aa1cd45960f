#include "ingest/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/utf8.h"

#define READ_CHUNK (1u << 20)

int ivs_reader_open(ivs_reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->line = 1;
  if (strcmp(path, "-") == 0) {
    r->f = stdin;
  } else {
    r->f = fopen(path, "rb");
    if (!r->f) return ivs_error_set(IVS_EIO, "%s: cannot open: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fileno(r->f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ivs_reader_close(r);
      return ivs_error_set(IVS_EIO, "%s: is a directory, not a file", path);
    }
    if (S_ISREG(st.st_mode)) {
      if (st.st_size == 0) {
        ivs_reader_close(r);
        return ivs_error_set(IVS_EIO, "%s: file is empty", path);
      }
      r->total = (unsigned long long)st.st_size;
    }
  }
  r->buf = malloc(READ_CHUNK);
  if (!r->buf) {
    ivs_reader_close(r);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  return 0;
}

void ivs_reader_close(ivs_reader *r) {
  if (r->f && r->f != stdin) fclose(r->f);
  r->f = NULL;
  free(r->buf);
  r->buf = NULL;
}

int ivs_reader_range(ivs_reader *r, unsigned long long start, unsigned long long end) {
  if (end < start || fseeko(r->f, (off_t)start, SEEK_SET) != 0)
    return ivs_error_set(IVS_EIO, "%s: cannot seek: %s", r->path, strerror(errno));
  r->offset = start;
  r->ranged = 1;
  r->remaining = end - start;
  return 0;
}

static int encoding_error(ivs_reader *r, const char *seg, size_t bad, const char *what) {
  size_t col = r->col + ivs_utf8_count(seg, bad) + 1;
  return ivs_error_set(IVS_EPARSE, "%s:%zu:%zu: %s (byte offset %llu)", r->path, r->line, col, what,
                       r->offset + bad);
}

static int refill(ivs_reader *r) {
  /* carry over the incomplete UTF-8 tail of the previous chunk */
  size_t carry = r->len - r->pos;
  memmove(r->buf, r->buf + r->pos, carry);
  r->pos = 0;
  r->len = carry;
  size_t want = READ_CHUNK - carry;
  if (r->ranged && want > r->remaining) want = (size_t)r->remaining;
  size_t got = want ? fread(r->buf + carry, 1, want, r->f) : 0;
  if (r->ranged) r->remaining -= got;
  if (got == 0) {
    if (ferror(r->f)) return ivs_error_set(IVS_EIO, "%s: read error: %s", r->path, strerror(errno));
    r->eof = 1;
    r->keep = 0;
    return 0;
  }
  int first = r->offset == 0 && carry == 0;
  r->len += got;
  if (first && r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
    r->pos = 3;
    r->offset = 3;
  }
  /* hold back a UTF-8 sequence cut by the chunk end */
  size_t tail = 0, p = r->len;
  while (p > r->pos && r->len - p < 4) {
    unsigned char c = (unsigned char)r->buf[--p];
    if ((c & 0xC0) == 0x80) continue;
    if (c >= 0xC0) {
      size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (r->len - p < need) tail = r->len - p;
    }
    break;
  }
  r->keep = tail;
  if (r->progress) r->progress(r->offset, r->total, r->progress_ud);
  return 1;
}

int ivs_reader_next(ivs_reader *r, const char **seg, size_t *n, int *line_end) {
  if (r->len - r->pos <= r->keep) {
    if (r->eof) return 0;
    int rc = refill(r);
    if (rc < 0) return rc;
    if (rc == 0 && r->len == r->pos) return 0;
  }
  size_t avail = r->len - r->pos - r->keep;
  const char *s = r->buf + r->pos;
  const char *nl = memchr(s, '\n', avail);
  size_t len = nl ? (size_t)(nl - s) + 1 : avail;
  const char *nul = memchr(s, '\0', len);
  if (nul) return encoding_error(r, s, (size_t)(nul - s), "NUL byte in text");
  size_t ok = ivs_utf8_valid_prefix((const unsigned char *)s, len, 0);
  if (ok != len) return encoding_error(r, s, ok, "invalid UTF-8");
  *seg = s;
  *n = len;
  *line_end = nl != NULL;
  r->pos += len;
  r->offset += len;
  if (nl) {
    r->line++;
    r->col = 0;
  } else {
    r->col += ivs_utf8_count(s, len);
  }
  return 1;
}

int ivs_reader_first_line(const char *path, ivs_buf *line, size_t *lineno) {
  ivs_reader rd;
  if (ivs_reader_open(&rd, path)) return 0;
  int got;
  while ((got = ivs_reader_line(&rd, line, lineno)) == 1 && !line->len) continue;
  ivs_reader_close(&rd);
  return got == 1;
}

int ivs_reader_line(ivs_reader *r, ivs_buf *line, size_t *lineno) {
  const char *seg;
  size_t n;
  int end = 0, rc, any = 0;
  ivs_buf_clear(line);
  *lineno = r->line;
  while (!end) {
    rc = ivs_reader_next(r, &seg, &n, &end);
    if (rc < 0) return rc;
    if (rc == 0) break;
    any = 1;
    if ((rc = ivs_buf_append(line, seg, n)) < 0) {
      if (rc != IVS_ELIMIT) return rc;
      /* leave the reader at the start of the next line */
      rc = 0;
      while (!end && (rc = ivs_reader_next(r, &seg, &n, &end)) > 0) {}
      if (rc < 0) return rc;
      return ivs_error_set(IVS_ELIMIT, "%s:%zu: line longer than the limit of %zu bytes", r->path, *lineno,
                           line->limit);
    }
  }
  if (!any) return 0;
  if (line->len && line->data[line->len - 1] == '\n') line->len--;
  if (line->len && line->data[line->len - 1] == '\r') line->len--;
  if (line->data) line->data[line->len] = '\0';
  return 1;
}

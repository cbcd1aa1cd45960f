#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

/* mkstemp without its 0600: the file is created with 0666 less the umask, as
 * any output (fchmod after mkstemp would need the umask, and reading it means
 * changing it, which races with other threads writing files). */
static int open_unique(char *tmpl) {
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t len = strlen(tmpl);
  for (int attempt = 0; attempt < 100; attempt++) {
    uint64_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL + (uint64_t)attempt;
    for (size_t i = len - 6; i < len; i++, r /= 62) tmpl[i] = chars[r % 62];
    int fd = open(tmpl, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

int ivs_atomic_open(ivs_atomic_file *af, const char *path) {
  memset(af, 0, sizeof af[0]);
  size_t n = strlen(path);
  af->path = strdup(path);
  af->tmp = malloc(n + 32);
  if (!af->path || !af->tmp) {
    ivs_atomic_abort(af);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  /* a hidden name in the same directory, so rename() stays on one file system */
  const char *slash = strrchr(path, '/');
  size_t dir = slash ? (size_t)(slash - path + 1) : 0;
  snprintf(af->tmp, n + 32, "%.*s.%s.tmp-XXXXXX", (int)dir, path, path + dir);
  int fd = open_unique(af->tmp);
  if (fd < 0) {
    int e = errno;
    free(af->tmp);
    af->tmp = NULL;
    ivs_atomic_abort(af);
    return ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(e));
  }
  af->f = fdopen(fd, "wb");
  if (!af->f) {
    close(fd);
    ivs_atomic_abort(af);
    return ivs_error_set(IVS_EIO, "%s: cannot write", path);
  }
  return 0;
}

int ivs_atomic_commit(ivs_atomic_file *af) {
  int e = 0;
  if (fflush(af->f) != 0 || ferror(af->f)) e = errno ? errno : EIO;
  if (!e && fsync(fileno(af->f)) != 0) e = errno;
  if (fclose(af->f) != 0 && !e) e = errno;
  af->f = NULL;
  if (!e && rename(af->tmp, af->path) != 0) e = errno;
  if (e) {
    int rc = ivs_error_set(IVS_EIO, "%s: cannot write: %s", af->path, strerror(e));
    ivs_atomic_abort(af);
    return rc;
  }
  /* make the rename itself durable */
  char *dir = strdup(af->path);
  if (dir) {
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = '\0';
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dir);
  }
  free(af->tmp);
  af->tmp = NULL;
  ivs_atomic_abort(af);
  return 0;
}

void ivs_atomic_abort(ivs_atomic_file *af) {
  if (af->f) fclose(af->f);
  if (af->tmp) unlink(af->tmp);
  free(af->tmp);
  free(af->path);
  memset(af, 0, sizeof af[0]);
}

int ivs_file_read_all(const char *path, size_t limit, ivs_buf *out) {
  ivs_buf_init(out, limit);
  FILE *f = fopen(path, "rb");
  if (!f) return ivs_error_set(IVS_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    return ivs_error_set(IVS_EIO, "%s: is a directory, not a file", path);
  }
  char chunk[65536];
  size_t got;
  int rc = 0;
  while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0) rc = ivs_buf_append(out, chunk, got);
  int err = ferror(f);
  fclose(f);
  if (rc == IVS_ELIMIT) rc = ivs_error_set(IVS_ELIMIT, "%s: larger than the limit of %zu bytes", path, limit);
  else if (!rc && err) rc = ivs_error_set(IVS_EIO, "%s: read error", path);
  else if (!rc && out->len == 0) rc = ivs_error_set(IVS_EIO, "%s: file is empty", path);
  if (rc) ivs_buf_release(out);
  return rc;
}

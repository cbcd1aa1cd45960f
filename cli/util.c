#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/json.h"

int report_error(void) {
  fprintf(stderr, "invscale: error: %s\n", ivs_error_message());
  return ivs_error_code() == IVS_EUSAGE ? EXIT_USAGE : EXIT_FAIL;
}

int usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "invscale %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n(see 'invscale %s --help')\n", cmd);
  return EXIT_USAGE;
}

void warn(const char *fmt, ...) {
  va_list ap;
  fputs("invscale: warning: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

const char *store_path(const char *db) {
  if (db && *db) return db;
  const char *env = getenv("INVSCALE_DB");
  return env && *env ? env : "invscale.db";
}

int finish_stdout(int code) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "invscale: error: writing to standard output failed\n");
    return EXIT_FAIL;
  }
  return code;
}

static int progress_shown;
static struct timespec progress_last;

void progress_update(unsigned long long done, unsigned long long total, void *label) {
  if (!isatty(STDERR_FILENO)) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double dt = (double)(now.tv_sec - progress_last.tv_sec) + (double)(now.tv_nsec - progress_last.tv_nsec) / 1e9;
  if (progress_shown && dt < 0.25) return;
  progress_last = now;
  progress_shown = 1;
  if (total)
    fprintf(stderr, "\r%s: %3.0f%% (%llu of %llu MB)", (const char *)label, 100.0 * (double)done / (double)total,
            done >> 20, total >> 20);
  else
    fprintf(stderr, "\r%s: %llu MB", (const char *)label, done >> 20);
}

void progress_done(void) {
  if (progress_shown) fputs("\r\033[K", stderr);
  progress_shown = 0;
}

void json_string(FILE *f, const char *s) {
  ivs_buf b = IVS_BUF_INIT; /* the same escaping as every JSON invscale writes */
  if (ivs_json_put_string(&b, s, strlen(s)) == 0) fwrite(b.data, 1, b.len, f);
  ivs_buf_release(&b);
}

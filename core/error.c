#include "core/error.h"

#include "core/utf8.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[2048];
static _Thread_local int last_code;

int ivs_error_setv(int code, const char *fmt, va_list ap) {
  vsnprintf(last_msg, sizeof last_msg, fmt, ap);
  ivs_nul_visible(last_msg); /* a message quoting text shows a NUL as \0 */
  last_code = code;
  return code;
}

int ivs_error_set(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ivs_error_setv(code, fmt, ap);
  va_end(ap);
  return code;
}

void ivs_error_prefix(const char *fmt, ...) {
  char prefix[1024], old[sizeof last_msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, last_msg, sizeof old);
  /* truncation is fine: messages are bounded on purpose */
  size_t n = strlen(prefix);
  if (n > sizeof last_msg - 3) n = sizeof last_msg - 3;
  memcpy(last_msg, prefix, n);
  memcpy(last_msg + n, ": ", 2);
  size_t room = sizeof last_msg - n - 3;
  size_t m = strlen(old);
  if (m > room) m = room;
  memcpy(last_msg + n + 2, old, m);
  last_msg[n + 2 + m] = '\0';
}

const char *ivs_error_message(void) { return last_msg; }
int ivs_error_code(void) { return last_code; }
void ivs_error_clear(void) {
  last_msg[0] = '\0';
  last_code = 0;
}

/* The fake:SCALE[@PARAMS] backend, for tests: a deterministic
 * log-probability computed from the texts alone,
 *
 *   log P(continuation | context) = -SCALE * (1 + h % 8) / 8,
 *
 * h the 64-bit FNV-1a hash of context, a NUL byte and continuation.  A
 * larger SCALE makes a model more uncertain; PARAMS, when given, is the
 * parameter count it declares. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/parse.h"
#include "eval/backend.h"

typedef struct {
  double scale, params;
} fake_state;

static int parse(const char *arg, fake_state *s) {
  char num[64];
  const char *at = strchr(arg, '@');
  size_t n = at ? (size_t)(at - arg) : strlen(arg);
  s->scale = 1, s->params = 0;
  if (n >= sizeof num) return ivs_error_set(IVS_EUSAGE, "expected fake:SCALE or fake:SCALE@PARAMS");
  memcpy(num, arg, n), num[n] = '\0';
  if (n && ivs_parse_double("fake: SCALE", num, 0, 1e6, &s->scale)) return IVS_EUSAGE;
  if (at && ivs_parse_double("fake: PARAMS", at + 1, 1, 1e16, &s->params)) return IVS_EUSAGE;
  return 0;
}

static int check_fake(const char *arg) {
  fake_state s;
  return parse(arg, &s);
}

static int open_fake(const char *name, const char *arg, const ivs_eval_opts *opts, void **state) {
  (void)name, (void)opts;
  fake_state *s = malloc(sizeof *s);
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int rc = parse(arg, s);
  if (rc) {
    free(s);
    return rc;
  }
  *state = s;
  return 0;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
  return h;
}

static int score_fake(void *state, const ivs_backend_req *reqs, size_t n, double *out) {
  const fake_state *s = state;
  for (size_t i = 0; i < n; i++) {
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, reqs[i].context, strlen(reqs[i].context) + 1);
    h = fnv1a(h, reqs[i].continuation, strlen(reqs[i].continuation));
    out[i] = -s->scale * (double)(1 + h % 8) / 8;
  }
  return 0;
}

static double params_fake(void *state) { return ((const fake_state *)state)->params; }

static void close_fake(void *state) { free(state); }

const ivs_backend ivs_backend_fake = {.prefix = "fake:", .caps = IVS_BACKEND_SCORE, .check = check_fake,
                                      .open = open_fake, .score = score_fake, .params = params_fake,
                                      .close = close_fake};

/* The fake:SCALE[@PARAMS] backend, for tests: a deterministic
 * log-probability computed from the texts alone,
 *
 *   log P(continuation | context) = -SCALE * (1 + h % 8) / 8,
 *
 * h the 64-bit FNV-1a hash of context, a NUL byte and continuation.  A
 * larger SCALE makes a model more uncertain; PARAMS, when given, is the
 * parameter count it declares.
 *
 * It generates too, so that the probes can be tested without a model: words
 * of a fixed vocabulary (ids 1000 + their index), drawn from a generator
 * seeded by (seed, prompt, sample; greedy: the sample is not used), until
 * a point L = (1 - r) * max_new_tokens * u (u uniform in [0.5, 1.5), r =
 * SCALE / (SCALE + 1)) after which the last P words (P from 2 to 6) repeat
 * to the end: a larger SCALE loops sooner, so repetition grows with SCALE.
 * After 8 words a fresh draw ends the text (EOS) once in 50.  A prompt
 * ending in ':' is answered first with a number: 500 (1 - w) + a w + a
 * noise of +-10 per sample, a the last number in the prompt (500 when none)
 * and w = SCALE / (SCALE + 4), so that an anchor pulls harder with SCALE;
 * then a newline.  Stop strings end the text as a model's would. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
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

static const char *const vocab[] = {
    "the", "a", "model", "of", "and", "to", "in", "is", "that", "it", "was", "for", "on", "with", "as", "list",
    "first", "second", "third", "item", "one", "two", "three", "more", "great", "product", "price", "free", "click",
    "here", "buy", "now", "offer", "today", "review", "forum", "post", "thread", "reply", "thanks", "email", "send",
    "money", "deal", "best", "quality", "very", "good", "bad", "day", "time", "people", "world", "new", "old", "small",
    "large", "size", "scale", "trend", "data", "number", "value", "again"};
#define VOCAB (sizeof vocab / sizeof *vocab)

static uint64_t next_u64(uint64_t *st) { /* splitmix64 */
  uint64_t z = (*st += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double next_unit(uint64_t *st) { return (double)(next_u64(st) >> 11) * 0x1.0p-53; }

/* The last number in a prompt (a run of digits with a '.' part), or -1. */
static double last_number(const char *p) {
  double v = -1;
  for (const char *q = p; *q; q++)
    if (*q >= '0' && *q <= '9' && (q == p || q[-1] < '0' || q[-1] > '9')) {
      char buf[64];
      size_t k = 0;
      while (k < 60 && ((q[k] >= '0' && q[k] <= '9') || q[k] == '.' || q[k] == ',')) k++;
      size_t j = 0;
      for (size_t i = 0; i < k && j < sizeof buf - 1; i++)
        if (q[i] != ',') buf[j++] = q[i];
      buf[j] = '\0';
      v = strtod(buf, NULL);
    }
  return v;
}

/* Whether text, from byte `from` on, holds a stop string; *at: where the
 * first one starts. */
static int find_stop(const ivs_buf *text, size_t from, const ivs_gen_params *p, size_t *at) {
  int found = 0;
  for (size_t k = 0; k < p->n_stop; k++) {
    size_t sl = strlen(p->stop[k]);
    if (!sl) continue;
    size_t start = from >= sl ? from - sl + 1 : 0;
    const char *hit = text->len >= sl ? memmem(text->data + start, text->len - start, p->stop[k], sl) : NULL;
    if (hit && (!found || (size_t)(hit - text->data) < *at)) found = 1, *at = (size_t)(hit - text->data);
  }
  return found;
}

static int generate_one(const fake_state *s, const char *prompt, size_t i, size_t sample, const ivs_gen_params *p,
                        ivs_generation *g) {
  (void)i;
  uint64_t st = ivs_hash_mix(ivs_hash_bytes(p->seed, prompt, strlen(prompt)), p->greedy ? 0 : sample + 1);
  double r = s->scale / (s->scale + 1), u = 0.5 + next_unit(&st);
  size_t loop_at = (size_t)floor((1 - r) * (double)p->max_new_tokens * u), period = 2 + next_u64(&st) % 5;
  ivs_buf text = IVS_BUF_INIT;
  int32_t *ids = malloc(p->max_new_tokens * sizeof *ids);
  size_t n = 0, cut = 0;
  int rc = ids ? 0 : IVS_ENOMEM;
  g->stop = IVS_GEN_LENGTH;
  size_t plen = strlen(prompt);
  while (plen && (prompt[plen - 1] == ' ' || prompt[plen - 1] == '\n')) plen--;
  int numeric = plen && prompt[plen - 1] == ':';
  while (!rc && n < p->max_new_tokens) {
    size_t before = text.len;
    if (numeric && n == 0) {
      double a = last_number(prompt), w = s->scale / (s->scale + 4);
      if (a < 0) a = 500;
      char num[64];
      snprintf(num, sizeof num, " %.0f", 500 * (1 - w) + a * w + (next_unit(&st) - 0.5) * 20);
      rc = ivs_buf_puts(&text, num);
      ids[n++] = 999;
    } else if (numeric && n == 1) {
      rc = ivs_buf_putc(&text, '\n');
      ids[n++] = 998;
    } else {
      size_t w;
      if (n >= loop_at && n >= period + (numeric ? 2 : 0)) { /* (not back into the number) */
        w = (size_t)ids[n - period] - 1000;
      } else {
        if (n >= 8 && next_u64(&st) % 50 == 0) {
          g->stop = IVS_GEN_EOS;
          break;
        }
        w = next_u64(&st) % VOCAB;
      }
      if (!(rc = ivs_buf_putc(&text, ' '))) rc = ivs_buf_puts(&text, vocab[w]);
      ids[n++] = (int32_t)(1000 + w);
    }
    if (!rc && p->n_stop && find_stop(&text, before, p, &cut)) {
      text.len = cut, text.data[cut] = '\0';
      g->stop = IVS_GEN_STOP;
      break;
    }
  }
  if (rc) {
    free(ids), ivs_buf_release(&text);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  if (!text.data && ivs_buf_puts(&text, "")) {
    free(ids);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  g->text = ivs_buf_detach(&text, NULL);
  g->ids = ids, g->n_ids = n, g->n_tokens = n;
  return 0;
}

static int generate_fake(void *state, const char *const *prompts, size_t n, const ivs_gen_params *p,
                         ivs_generation *out) {
  const fake_state *s = state;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < p->samples; k++) {
      int rc = generate_one(s, prompts[i], i, k, p, &out[i * p->samples + k]);
      if (rc) {
        for (size_t j = 0; j < n * p->samples; j++) ivs_generation_release(&out[j]);
        return rc;
      }
    }
  return 0;
}

static double params_fake(void *state) { return ((const fake_state *)state)->params; }

static void close_fake(void *state) { free(state); }

const ivs_backend ivs_backend_fake = {.prefix = "fake:", .caps = IVS_BACKEND_SCORE | IVS_BACKEND_GENERATE,
                                      .check = check_fake, .open = open_fake, .score = score_fake,
                                      .generate = generate_fake, .params = params_fake,
                                      .close = close_fake};

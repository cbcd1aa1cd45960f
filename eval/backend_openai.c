/* The openai:URL@ID backend: an OpenAI-compatible server (eval/openai.h)
 * behind the backend interface, scoring and generating.  Answers are cached per model id in the
 * run's cache folder; progress and the count of cached and sent requests go
 * to the run's progress callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "eval/backend.h"
#include "eval/openai.h"

typedef struct {
  const char *name;
  char *url, *id; /* owned copies of the spec's parts */
  const ivs_eval_opts *opts;
} openai_state;

/* "http://HOST:PORT/v1@MODEL_ID": the last '@' separates the model id. */
static const char *split_at(const char *arg) {
  const char *at = strrchr(arg, '@');
  if (!at || at == arg || !at[1] || (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8))) return NULL;
  return at;
}

static int check_openai(const char *arg) {
  return split_at(arg) ? 0 : ivs_error_set(IVS_EUSAGE, "expected openai:http://HOST:PORT/v1@MODEL_ID");
}

static int open_openai(const char *name, const char *arg, const ivs_eval_opts *opts, void **state) {
  const char *at = split_at(arg);
  if (!at) return check_openai(arg);
  openai_state *s = calloc(1, sizeof *s);
  if (s) s->url = strndup(arg, (size_t)(at - arg)), s->id = strdup(at + 1);
  if (!s || !s->url || !s->id) {
    if (s) free(s->url), free(s->id), free(s);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  s->name = name, s->opts = opts;
  *state = s;
  return 0;
}

static void on_progress(size_t done, size_t total, void *ud) {
  const openai_state *s = ud;
  if (!s->opts->progress) return;
  ivs_eval_event ev = {IVS_EVAL_EVENT_REQUESTS, s->name, done, total, ""};
  s->opts->progress(&ev, s->opts->progress_ud);
}

static void event(const openai_state *s, ivs_eval_event_kind kind, const char *text) {
  if (!s->opts->progress) return;
  ivs_eval_event ev = {kind, s->name, 0, 0, text};
  s->opts->progress(&ev, s->opts->progress_ud);
}

/* The model's cache file (one per model id, named so that any id makes a
 * plain file name) into cache, or "" without a cache folder. */
static int cache_path(const openai_state *s, char *cache, size_t cap) {
  const ivs_eval_opts *o = s->opts;
  cache[0] = '\0';
  if (!o->cache_dir) return 0;
  char id[200];
  size_t j = 0;
  for (const char *p = s->id; *p && j + 1 < sizeof id; p++)
    id[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                             *p == '-'
                         ? *p
                         : '_');
  id[j] = '\0';
  if (mkdir(o->cache_dir, 0777) != 0 && errno != EEXIST)
    return ivs_error_set(IVS_EIO, "%s: cannot create the cache folder: %s", o->cache_dir, strerror(errno));
  if ((size_t)snprintf(cache, cap, "%s/%s.jsonl", o->cache_dir, id) >= cap)
    return ivs_error_set(IVS_EUSAGE, "%s: cache path too long", o->cache_dir);
  return 0;
}

static ivs_openai_opts server_opts(openai_state *s, const char *cache) {
  const ivs_eval_opts *o = s->opts;
  return (ivs_openai_opts){.base_url = s->url, .model = s->id, .api_key = o->api_key, .api_key_env = o->api_key_env,
                           .cache_path = cache[0] ? cache : NULL, .concurrency = o->concurrency,
                           .timeout_ms = o->timeout_ms, .retries = o->retries, .progress = on_progress,
                           .progress_ud = s};
}

/* After a server's work: the step's end, and how it went. */
static int finish(openai_state *s, int rc, const char *what, size_t n, const ivs_openai_stats *st) {
  event(s, IVS_EVAL_EVENT_STEP_END, "");
  if (rc) {
    ivs_error_prefix("model '%s'", s->name);
    return rc;
  }
  char note[400];
  int len = snprintf(note, sizeof note, "%s: %zu %s: %zu from the cache, %zu requests sent (%zu retried)", s->name, n,
                     what, st->cached, st->sent, st->retried);
  if (st->fallbacks && len > 0 && (size_t)len < sizeof note)
    snprintf(note + len, sizeof note - (size_t)len, "; the server refused n > 1, so samples were asked for one at a time");
  event(s, IVS_EVAL_EVENT_NOTE, note);
  return 0;
}

static int score_openai(void *state, const ivs_backend_req *reqs, size_t n, double *out) {
  openai_state *s = state;
  char cache[4300];
  int rc = cache_path(s, cache, sizeof cache);
  if (rc) return rc;
  ivs_openai_opts mo = server_opts(s, cache);
  ivs_openai_stats st;
  rc = ivs_openai_score(&mo, reqs, n, out, &st);
  return finish(s, rc, "requests", n, &st);
}

static int generate_openai(void *state, const char *const *prompts, size_t n, const ivs_gen_params *p,
                           ivs_generation *out) {
  openai_state *s = state;
  char cache[4300];
  int rc = cache_path(s, cache, sizeof cache);
  if (rc) {
    for (size_t k = 0; k < n * p->samples; k++) ivs_generation_release(&out[k]);
    return rc;
  }
  ivs_openai_opts mo = server_opts(s, cache);
  ivs_openai_stats st;
  rc = ivs_openai_generate(&mo, prompts, n, p, out, &st);
  return finish(s, rc, "samples", n * p->samples, &st);
}

static void close_openai(void *state) {
  openai_state *s = state;
  if (!s) return;
  free(s->url), free(s->id), free(s);
}

const ivs_backend ivs_backend_openai = {.prefix = "openai:", .caps = IVS_BACKEND_SCORE | IVS_BACKEND_GENERATE,
                                        .check = check_openai, .open = open_openai, .score = score_openai,
                                        .generate = generate_openai, .close = close_openai};

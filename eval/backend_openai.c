/* The openai:URL@ID backend: an OpenAI-compatible server (eval/openai.h)
 * behind the backend interface.  Answers are cached per model id in the
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

static int score_openai(void *state, const ivs_backend_req *reqs, size_t n, double *out) {
  openai_state *s = state;
  const ivs_eval_opts *o = s->opts;
  char cache[4300];
  if (o->cache_dir) {
    /* one file per model id, named so that any id makes a plain file name */
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
    if ((size_t)snprintf(cache, sizeof cache, "%s/%s.jsonl", o->cache_dir, id) >= sizeof cache)
      return ivs_error_set(IVS_EUSAGE, "%s: cache path too long", o->cache_dir);
  }
  ivs_openai_opts mo = {.base_url = s->url, .model = s->id, .api_key = o->api_key, .api_key_env = o->api_key_env,
                        .cache_path = o->cache_dir ? cache : NULL, .concurrency = o->concurrency,
                        .timeout_ms = o->timeout_ms, .retries = o->retries, .progress = on_progress, .progress_ud = s};
  ivs_openai_stats st;
  int rc = ivs_openai_score(&mo, reqs, n, out, &st);
  event(s, IVS_EVAL_EVENT_STEP_END, "");
  if (rc) {
    ivs_error_prefix("model '%s'", s->name);
    return rc;
  }
  char note[300];
  snprintf(note, sizeof note, "%s: %zu requests: %zu from the cache, %zu sent (%zu retried)", s->name, n, st.cached,
           st.sent, st.retried);
  event(s, IVS_EVAL_EVENT_NOTE, note);
  return 0;
}

static void close_openai(void *state) {
  openai_state *s = state;
  if (!s) return;
  free(s->url), free(s->id), free(s);
}

const ivs_backend ivs_backend_openai = {.prefix = "openai:", .caps = IVS_BACKEND_SCORE, .check = check_openai,
                                        .open = open_openai, .score = score_openai, .close = close_openai};

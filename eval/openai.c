#include "eval/openai.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/utf8.h"

#define MAX_BODY ((size_t)64 << 20) /* a response larger than this is refused */
#define CACHE_LINE_MAX ((size_t)64 << 20)

/* ---- one response ---- */

static int error_text(const cJSON *root, char *out, size_t cap) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
  const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message")
                                     : cJSON_GetObjectItemCaseSensitive(root, "message"); /* vLLM's error object */
  if (cJSON_IsString(e)) m = e;
  if (!cJSON_IsString(m)) return 0;
  snprintf(out, cap, "%s", m->valuestring);
  return 1;
}

int ivs_openai_parse(const char *body, size_t len, size_t context_chars, size_t total_chars, double *logprob) {
  cJSON *root = cJSON_ParseWithLength(body, len);
  if (!root) return ivs_error_set(IVS_EPARSE, "the response is not JSON");
  int rc = 0;
  const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
  const cJSON *lp = cJSON_GetObjectItemCaseSensitive(choice, "logprobs");
  const cJSON *tl = cJSON_GetObjectItemCaseSensitive(lp, "token_logprobs");
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(lp, "text_offset");
  if (!cJSON_IsArray(tl) || !cJSON_IsArray(to) || cJSON_GetArraySize(tl) != cJSON_GetArraySize(to)) {
    char msg[300];
    if (error_text(root, msg, sizeof msg)) rc = ivs_error_set(IVS_EPARSE, "the server answered with an error: %s", msg);
    else
      rc = ivs_error_set(IVS_EPARSE, "the response has no choices[0].logprobs with token_logprobs and text_offset "
                                     "of equal length (is echo with logprobs supported?)");
    goto done;
  }
  int n = cJSON_GetArraySize(to), start = -1;
  if (!n || !cJSON_IsNumber(to->child) || to->child->valuedouble != 0) { /* the echoed text starts at 0 */
    rc = ivs_error_set(IVS_EPARSE, "the response has no log-probabilities for the prompt's own tokens (the server does "
                                   "not echo them: echo with logprobs is not supported)");
    goto done;
  }
  double sum = 0;
  size_t tokens = 0;
  const cJSON *o = to->child, *l = tl->child;
  for (int k = 0; k < n; k++, o = o->next, l = l->next) {
    if (!cJSON_IsNumber(o) || o->valuedouble < 0 || o->valuedouble > 1e15) {
      rc = ivs_error_set(IVS_EPARSE, "text_offset[%d] is not a non-negative integer", k);
      goto done;
    }
    size_t off = (size_t)o->valuedouble;
    if (off < context_chars) continue;
    if (off >= total_chars) break; /* a generated token (max_tokens 1) */
    if (start < 0) {
      if (off != context_chars) break; /* the first token after the context starts inside the continuation */
      start = k;
    }
    if (!cJSON_IsNumber(l) || isnan(l->valuedouble) || l->valuedouble > 0) {
      rc = ivs_error_set(IVS_EINVAL, "token_logprobs[%d] is %s, not a log-probability", k,
                         cJSON_IsNull(l) ? "null" : cJSON_IsNumber(l) ? "out of range" : "not a number");
      goto done;
    }
    sum += l->valuedouble;
    tokens++;
  }
  if (start < 0 || !tokens) {
    rc = ivs_error_set(IVS_EINVAL, "did not start on a token boundary: no token begins at character %zu, where the "
                                   "context ends", context_chars);
    goto done;
  }
  *logprob = sum;
done:
  cJSON_Delete(root);
  return rc;
}

/* ---- the cache: {"key":"<32 hex>","logprob":x,"response":{...}} per line ---- */

typedef struct {
  uint64_t k[2];
  double v;
} centry;

typedef struct {
  centry *e;
  size_t cap, n;
} ctable;

static void key_of(const char *model, const char *ctx, const char *cont, uint64_t k[2]) {
  for (int i = 0; i < 2; i++) {
    uint64_t h = i ? 0x6a09e667f3bcc908ULL : 0xbb67ae8584caa73bULL;
    h = ivs_hash_bytes(h, model, strlen(model));
    h = ivs_hash_bytes(h, ctx, strlen(ctx));
    k[i] = ivs_hash_bytes(h, cont, strlen(cont));
  }
  if (!k[0]) k[0] = 1; /* 0 marks an empty slot */
}

static centry *ctable_slot(ctable *t, const uint64_t k[2]) {
  size_t j = k[0] & (t->cap - 1);
  while (t->e[j].k[0] && (t->e[j].k[0] != k[0] || t->e[j].k[1] != k[1])) j = (j + 1) & (t->cap - 1);
  return &t->e[j];
}

static int ctable_put(ctable *t, const uint64_t k[2], double v) {
  if ((t->n + 1) * 2 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    ctable nt = {calloc(cap, sizeof(centry)), cap, 0};
    if (!nt.e) return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->cap; i++)
      if (t->e[i].k[0]) *ctable_slot(&nt, t->e[i].k) = t->e[i], nt.n++;
    free(t->e);
    *t = nt;
  }
  centry *s = ctable_slot(t, k);
  if (!s->k[0]) t->n++;
  s->k[0] = k[0], s->k[1] = k[1], s->v = v;
  return 0;
}

/* Loads a cache file (a missing one is empty; a torn last line from a killed
 * run is skipped). */
static int cache_load(const char *path, ctable *t) {
  FILE *f = fopen(path, "rb");
  if (!f) return errno == ENOENT ? 0 : ivs_error_set(IVS_EIO, "%s: cannot open the cache: %s", path, strerror(errno));
  ivs_buf line;
  ivs_buf_init(&line, CACHE_LINE_MAX);
  int rc = 0, c;
  for (;;) {
    ivs_buf_clear(&line);
    while ((c = fgetc(f)) != EOF && c != '\n')
      if ((rc = ivs_buf_putc(&line, (char)c))) break;
    if (rc) {
      ivs_error_prefix("%s", path);
      break;
    }
    if (line.len) {
      cJSON *o = cJSON_ParseWithLength(line.data, line.len);
      const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "logprob");
      uint64_t key[2];
      if (cJSON_IsString(k) && strlen(k->valuestring) == 32 && cJSON_IsNumber(v) &&
          sscanf(k->valuestring, "%16" SCNx64 "%16" SCNx64, &key[0], &key[1]) == 2)
        rc = ctable_put(t, key, v->valuedouble);
      cJSON_Delete(o);
      if (rc) break;
    }
    if (c == EOF) break;
  }
  ivs_buf_release(&line);
  fclose(f);
  return rc;
}

/* ---- requests: one driver for scoring and generating ----
 *
 * A run hands out pieces of work (take), one per job: a scoring request, or
 * a prompt's samples.  Each job builds its payload, is sent on the multi
 * handle, and its answer is handled by the run's kind; retries, backoff,
 * concurrency and the one-request-until-the-first-answer rule are the
 * driver's, the same for both. */

typedef struct {
  size_t req;      /* scoring: index into reqs; generating: the prompt */
  size_t s0, k;    /* generating: samples s0 .. s0 + k - 1 */
  int attempt;
  int max_tokens;  /* scoring: what this attempt asked for */
  double not_before;
  CURL *h;
  struct curl_slist *hdrs;
  char *payload;
  ivs_buf body;
  long retry_after;
  char errbuf[CURL_ERROR_SIZE];
  char what[96];   /* the request in messages */
} job;

typedef struct run run;
struct run {
  const ivs_openai_opts *o;
  ivs_openai_stats *st;
  char url[2048];
  FILE *cache;
  size_t done, total;        /* progress, in requests (scoring) or samples (generating) */
  /* the kind of work */
  int (*take)(run *r, job *j);    /* 1: j got work; 0: none left */
  int (*payload)(run *r, job *j); /* j->payload */
  int (*answer)(run *r, job *j);  /* an HTTP 200 body: 0 or an error */
  /* an HTTP error the kind handles itself: 2 send again now (not an attempt), 0 not handled */
  int (*refused)(run *r, job *j, long status, const char *msg);
  size_t (*units)(const job *j); /* progress units a finished job counts */
  void *kind;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  job *j = ud;
  return ivs_buf_append(&j->body, p, size * n) ? 0 : size * n; /* 0 aborts the transfer */
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  job *j = ud;
  size_t len = size * n;
  if (len > 12 && !strncasecmp(p, "retry-after:", 12)) j->retry_after = strtol(p + 12, NULL, 10);
  return len;
}

static int job_start(run *r, CURLM *multi, job *j) {
  int rc = r->payload(r, j);
  if (rc) return rc;
  if (!j->h && !(j->h = curl_easy_init())) return ivs_error_set(IVS_ENOMEM, "cannot start a request");
  if (!j->hdrs) {
    j->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (r->o->api_key) {
      char auth[4200];
      snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->o->api_key);
      j->hdrs = curl_slist_append(j->hdrs, auth);
    }
  }
  ivs_buf_clear(&j->body);
  j->retry_after = -1;
  j->errbuf[0] = '\0';
  CURL *h = j->h;
  curl_easy_setopt(h, CURLOPT_URL, r->url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->payload);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->o->timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->o->timeout_ms < 10000 ? r->o->timeout_ms : 10000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_PRIVATE, j);
  if (curl_multi_add_handle(multi, h) != CURLM_OK) return ivs_error_set(IVS_ERROR, "cannot start a request");
  r->st->sent++;
  return 0;
}

static void body_snippet(const job *j, char *out, size_t cap) {
  size_t n = j->body.len < 160 ? j->body.len : 160;
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    char c = j->body.data[i];
    out[k++] = c == '\n' || c == '\r' ? ' ' : c;
  }
  out[k] = '\0';
}

static int cache_write(run *r, const char *line, size_t n) {
  if (!r->cache) return 0;
  if (fwrite(line, 1, n, r->cache) == n && fflush(r->cache) == 0) return 0;
  return ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", r->o->cache_path, strerror(errno));
}

/* What to do with a finished transfer: 0 done, 1 retry after a backoff, 2
 * send again now (not counted as an attempt), or an error. */
static int job_finish(run *r, job *j, CURLcode cres) {
  long status = 0;
  curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &status);
  int can_retry = j->attempt < r->o->retries;
  if (cres != CURLE_OK) {
    if (can_retry) return 1;
    return ivs_error_set(IVS_EIO, "%s (%s): %s after %d attempt%s", r->url, j->what,
                         j->errbuf[0] ? j->errbuf : curl_easy_strerror(cres), j->attempt + 1, j->attempt ? "s" : "");
  }
  if (status == 200) return r->answer(r, j);
  char msg[300] = "";
  cJSON *root = cJSON_ParseWithLength(j->body.data ? j->body.data : "", j->body.len);
  if (!error_text(root, msg, sizeof msg)) body_snippet(j, msg, sizeof msg);
  cJSON_Delete(root);
  int handled = r->refused ? r->refused(r, j, status, msg) : 0;
  if (handled) return handled;
  if (status == 401 || status == 403)
    return ivs_error_set(IVS_EUSAGE, "%s: HTTP %ld %s: %s (%s)", r->url, status,
                         status == 401 ? "Unauthorized" : "Forbidden", msg,
                         r->o->api_key ? "check the key" : "no API key was sent; name its variable with --api-key-env");
  if ((status == 429 || status >= 500) && can_retry) return 1;
  return ivs_error_set(IVS_EIO, "%s (%s): HTTP %ld after %d attempt%s: %s", r->url, j->what, status, j->attempt + 1,
                       j->attempt ? "s" : "", msg);
}

static void job_release(job *j) {
  if (j->h) curl_easy_cleanup(j->h);
  curl_slist_free_all(j->hdrs);
  cJSON_free(j->payload);
  ivs_buf_release(&j->body);
  memset(j, 0, sizeof *j);
}

/* Runs the work r->take hands out until none is left or one piece fails. */
static int drive(run *r) {
  const ivs_openai_opts *o = r->o;
  ivs_openai_stats *stats = r->st;
  int rc = 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int C = o->concurrency > 0 ? o->concurrency : 1;
  job *jobs = calloc((size_t)C, sizeof *jobs);
  int *busy = calloc((size_t)C, sizeof *busy); /* 0 free, 1 in flight, 2 waiting to retry */
  CURLM *multi = curl_multi_init();
  if (!jobs || !busy || !multi) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  for (int i = 0; i < C && jobs; i++) ivs_buf_init(&jobs[i].body, MAX_BODY);
  int answered = 0; /* until the first answer only one request is in flight: a wrong URL, key or
                       max_tokens costs one request, not one per slot */
  if (o->progress) o->progress(r->done, r->total, o->progress_ud);
  while (!rc) {
    double t = now_s(), wake = 1.0;
    int active = 0;
    for (int i = 0; i < C && !rc; i++) {
      if (busy[i] == 2 && jobs[i].not_before <= t) {
        rc = job_start(r, multi, &jobs[i]);
        busy[i] = 1;
        stats->retried += jobs[i].attempt > 0;
      } else if (busy[i] == 0 && (answered || i == 0) && r->take(r, &jobs[i])) {
        jobs[i].attempt = 0;
        rc = job_start(r, multi, &jobs[i]);
        busy[i] = 1;
      }
      if (busy[i] == 2 && jobs[i].not_before - t < wake) wake = jobs[i].not_before - t;
      active += busy[i] != 0;
    }
    if (rc || !active) break;
    int running;
    curl_multi_perform(multi, &running);
    int timeout = (int)(wake * 1000);
    curl_multi_poll(multi, NULL, 0, timeout < 1 ? 1 : timeout > 1000 ? 1000 : timeout, NULL);
    curl_multi_perform(multi, &running);
    CURLMsg *m;
    int left;
    while (!rc && (m = curl_multi_info_read(multi, &left))) {
      if (m->msg != CURLMSG_DONE) continue;
      job *j;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
      CURLcode cres = m->data.result;
      curl_multi_remove_handle(multi, j->h);
      int res = job_finish(r, j, cres);
      int slot = (int)(j - jobs);
      if (res == 2) {
        j->not_before = 0;
        busy[slot] = 2;
      } else if (res == 1) {
        double backoff = j->retry_after >= 0 && j->retry_after <= 300 ? (double)j->retry_after
                                                                      : 0.25 * (double)(1 << (j->attempt < 8 ? j->attempt : 8));
        j->attempt++;
        j->not_before = now_s() + backoff;
        busy[slot] = 2;
      } else if (res == 0) {
        busy[slot] = 0;
        answered = 1;
        r->done += r->units(j);
        if (o->progress) o->progress(r->done, r->total, o->progress_ud);
      } else {
        rc = res;
      }
    }
  }
  for (int i = 0; jobs && i < C; i++) {
    if (busy && busy[i] == 1) curl_multi_remove_handle(multi, jobs[i].h);
    job_release(&jobs[i]);
  }
  if (multi) curl_multi_cleanup(multi);
  curl_global_cleanup();
  free(jobs);
  free(busy);
  return rc;
}

static int open_cache(run *r) {
  if (r->o->cache_path && !(r->cache = fopen(r->o->cache_path, "ab")))
    return ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", r->o->cache_path, strerror(errno));
  return 0;
}

static int close_cache(run *r, int rc) {
  if (r->cache && fclose(r->cache) != 0 && !rc)
    rc = ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", r->o->cache_path, strerror(errno));
  r->cache = NULL;
  return rc;
}

static int set_url(run *r) {
  size_t blen = strlen(r->o->base_url);
  while (blen && r->o->base_url[blen - 1] == '/') blen--;
  if (blen + 13 > sizeof r->url) return ivs_error_set(IVS_EUSAGE, "openai: base URL too long");
  snprintf(r->url, sizeof r->url, "%.*s/completions", (int)blen, r->o->base_url);
  return 0;
}

/* ---- scoring ---- */

typedef struct {
  const ivs_openai_req *reqs;
  double *out;
  size_t *todo, ntodo, next;
  int max_tokens;
} score_kind;

static int score_take(run *r, job *j) {
  score_kind *k = r->kind;
  if (k->next >= k->ntodo) return 0;
  j->req = k->todo[k->next++];
  snprintf(j->what, sizeof j->what, "%s", k->reqs[j->req].what);
  return 1;
}

static int score_payload(run *r, job *j) {
  score_kind *k = r->kind;
  const ivs_openai_req *q = &k->reqs[j->req];
  ivs_buf text = IVS_BUF_INIT;
  int rc = ivs_buf_puts(&text, q->context);
  if (!rc) rc = ivs_buf_puts(&text, q->continuation);
  cJSON *o = rc ? NULL : cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "model", r->o->model);
    cJSON_AddStringToObject(o, "prompt", text.data);
    j->max_tokens = k->max_tokens;
    cJSON_AddNumberToObject(o, "max_tokens", j->max_tokens);
    cJSON_AddTrueToObject(o, "echo");
    cJSON_AddNumberToObject(o, "logprobs", 1);
    cJSON_AddNumberToObject(o, "temperature", 0);
    cJSON_free(j->payload);
    j->payload = ivs_json_print(o); /* a NUL in the text as \u0000 (cJSON would send the bytes C0 80) */
    cJSON_Delete(o);
  }
  ivs_buf_release(&text);
  if (rc) return rc;
  if (!o || !j->payload) return ivs_error_set(IVS_ENOMEM, "out of memory");
  return 0;
}

static int score_cache_append(run *r, const job *j, double v) {
  if (!r->cache) return 0;
  score_kind *sk = r->kind;
  uint64_t k[2];
  const ivs_openai_req *q = &sk->reqs[j->req];
  key_of(r->o->model, q->context, q->continuation, k);
  cJSON *resp = cJSON_ParseWithLength(j->body.data, j->body.len);
  cJSON *lp = cJSON_DetachItemFromObjectCaseSensitive(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "choices"), 0), "logprobs");
  char *lps = lp ? cJSON_PrintUnformatted(lp) : NULL;
  ivs_buf line = IVS_BUF_INIT;
  char head[128];
  snprintf(head, sizeof head, "{\"key\":\"%016" PRIx64 "%016" PRIx64 "\",\"logprob\":%.17g,\"logprobs\":", k[0], k[1], v);
  int rc = ivs_buf_puts(&line, head);
  if (!rc) rc = ivs_buf_puts(&line, lps ? lps : "null");
  if (!rc) rc = ivs_buf_puts(&line, "}\n");
  if (!rc) rc = cache_write(r, line.data, line.len);
  else rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_buf_release(&line);
  cJSON_free(lps);
  cJSON_Delete(lp);
  cJSON_Delete(resp);
  return rc;
}

static int score_answer(run *r, job *j) {
  score_kind *k = r->kind;
  const ivs_openai_req *q = &k->reqs[j->req];
  size_t lc = ivs_utf8_count(q->context, strlen(q->context));
  size_t lt = lc + ivs_utf8_count(q->continuation, strlen(q->continuation));
  double v;
  int rc = ivs_openai_parse(j->body.data ? j->body.data : "", j->body.len, lc, lt, &v);
  if (rc) {
    char why[400], snip[200];
    snprintf(why, sizeof why, "%s", ivs_error_message()); /* the message is rewritten below */
    if (rc == IVS_EINVAL && strstr(why, "token boundary"))
      return ivs_error_set(IVS_EINVAL, "%s: text '%.60s' %s", q->what, q->continuation, why);
    body_snippet(j, snip, sizeof snip);
    return ivs_error_set(rc, "%s (%s): %s; the body began: %s", r->url, q->what, why, snip);
  }
  k->out[j->req] = v;
  return score_cache_append(r, j, v);
}

static int score_refused(run *r, job *j, long status, const char *msg) {
  score_kind *k = r->kind;
  if (status == 400 && j->max_tokens == 0 && strstr(msg, "max_tokens")) {
    k->max_tokens = 1; /* this server wants at least one generated token: ask for one and drop it */
    return 2;          /* again at once; not a failed attempt */
  }
  return 0;
}

static size_t one_unit(const job *j) {
  (void)j;
  return 1;
}

int ivs_openai_score(const ivs_openai_opts *o, const ivs_openai_req *reqs, size_t n, double *out,
                     ivs_openai_stats *stats) {
  ivs_openai_stats local = {0, 0, 0, 0};
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  score_kind k = {reqs, out, NULL, 0, 0, 0};
  run r = {.o = o, .st = stats, .total = n, .take = score_take, .payload = score_payload, .answer = score_answer,
           .refused = score_refused, .units = one_unit, .kind = &k};
  int rc = set_url(&r);
  if (rc) return rc;
  /* answers already in the cache */
  ctable cache = {NULL, 0, 0};
  if (!(k.todo = malloc((n ? n : 1) * sizeof *k.todo))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  rc = o->cache_path ? cache_load(o->cache_path, &cache) : 0;
  for (size_t i = 0; i < n && !rc; i++) {
    uint64_t key[2];
    key_of(o->model, reqs[i].context, reqs[i].continuation, key);
    centry *e = cache.cap ? ctable_slot(&cache, key) : NULL;
    if (e && e->k[0]) out[i] = e->v, stats->cached++, r.done++;
    else k.todo[k.ntodo++] = i;
  }
  free(cache.e);
  if (!rc && k.ntodo && !(rc = open_cache(&r))) rc = close_cache(&r, drive(&r));
  free(k.todo);
  return rc;
}

/* ---- generating ---- */

typedef struct {
  size_t prompt, s0, k;
} unit;

typedef struct {
  const char *const *prompts;
  const ivs_gen_params *p;
  ivs_generation *out;
  unit *q;              /* the work left: a ring of cap slots (never more units than missing samples) */
  size_t head, count, cap;
  int single;           /* the server refused n > 1: one sample a request from now on */
  char params[1024];    /* the decoding parameters, for the cache key */
} gen_kind;

/* Sample s of a prompt under the run's parameters. */
static void gen_key(const ivs_openai_opts *o, const gen_kind *g, size_t prompt, size_t s, uint64_t k[2]) {
  char sample[32];
  snprintf(sample, sizeof sample, "#%zu", s);
  ivs_buf b = IVS_BUF_INIT;
  int rc = ivs_buf_puts(&b, g->params);
  if (!rc) rc = ivs_buf_puts(&b, sample);
  const char *tail = rc ? "" : b.data; /* out of memory: a key that cannot be confused with a real one */
  key_of(o->model, g->prompts[prompt], tail, k);
  k[1] ^= 0x9e3779b97f4a7c15ULL; /* never a scoring key */
  ivs_buf_release(&b);
}

/* The seed a request sends: 31 bits (servers take an int) mixed from the
 * run's seed, the prompt and the first sample. */
static long request_seed(const ivs_gen_params *p, size_t prompt, size_t s0) {
  uint64_t h = ivs_hash_mix(ivs_hash_mix(p->seed, prompt), s0);
  return (long)(h & 0x7fffffff);
}

static void gen_push(gen_kind *g, unit u) {
  g->q[(g->head + g->count++) % g->cap] = u;
}

static int gen_take(run *r, job *j) {
  gen_kind *g = r->kind;
  if (!g->count) return 0;
  unit u = g->q[g->head];
  g->head = (g->head + 1) % g->cap, g->count--;
  if (g->single && u.k > 1) { /* the rest of the unit goes back on the queue */
    gen_push(g, (unit){u.prompt, u.s0 + 1, u.k - 1});
    u.k = 1;
  }
  j->req = u.prompt, j->s0 = u.s0, j->k = u.k;
  if (u.k == 1) snprintf(j->what, sizeof j->what, "prompt %zu, sample %zu", u.prompt, u.s0);
  else snprintf(j->what, sizeof j->what, "prompt %zu, samples %zu to %zu", u.prompt, u.s0, u.s0 + u.k - 1);
  return 1;
}

static int gen_payload(run *r, job *j) {
  gen_kind *g = r->kind;
  const ivs_gen_params *p = g->p;
  cJSON *o = cJSON_CreateObject();
  if (!o) return ivs_error_set(IVS_ENOMEM, "out of memory");
  cJSON_AddStringToObject(o, "model", r->o->model);
  cJSON_AddStringToObject(o, "prompt", g->prompts[j->req]);
  cJSON_AddNumberToObject(o, "max_tokens", (double)p->max_new_tokens);
  if (j->k > 1) cJSON_AddNumberToObject(o, "n", (double)j->k);
  if (p->greedy) {
    cJSON_AddNumberToObject(o, "temperature", 0);
  } else {
    cJSON_AddNumberToObject(o, "temperature", p->temperature);
    if (p->top_p < 1) cJSON_AddNumberToObject(o, "top_p", p->top_p);
    if (p->top_k) cJSON_AddNumberToObject(o, "top_k", (double)p->top_k); /* vLLM's and SGLang's extra field */
  }
  cJSON_AddNumberToObject(o, "seed", (double)request_seed(p, j->req, j->s0));
  if (p->n_stop) {
    cJSON *st = cJSON_AddArrayToObject(o, "stop");
    for (size_t k = 0; k < p->n_stop; k++) cJSON_AddItemToArray(st, cJSON_CreateString(p->stop[k]));
  }
  cJSON_AddNumberToObject(o, "logprobs", 1); /* for the generated tokens' texts */
  cJSON_free(j->payload);
  j->payload = ivs_json_print(o);
  cJSON_Delete(o);
  return j->payload ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

/* "token_id:123" (vLLM's return_tokens_as_token_ids) as an id. */
static int token_id(const char *s, int32_t *id) {
  if (strncmp(s, "token_id:", 9)) return 0;
  char *end;
  long v = strtol(s + 9, &end, 10);
  if (end == s + 9 || *end || v < 0 || v > INT32_MAX) return 0;
  *id = (int32_t)v;
  return 1;
}

int ivs_openai_generation_parse(const cJSON *choice, int one_choice_usage, size_t usage_tokens, ivs_generation *g) {
  memset(g, 0, sizeof *g);
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(choice, "text");
  if (!cJSON_IsString(text)) return ivs_error_set(IVS_EPARSE, "a choice without a text");
  if (!(g->text = strdup(text->valuestring))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
  const cJSON *sr = cJSON_GetObjectItemCaseSensitive(choice, "stop_reason"); /* vLLM: the stop string, or null for EOS */
  g->stop = IVS_GEN_LENGTH;
  if (cJSON_IsString(fr) && !strcmp(fr->valuestring, "stop")) g->stop = cJSON_IsString(sr) ? IVS_GEN_STOP : IVS_GEN_EOS;
  const cJSON *toks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "logprobs"), "tokens");
  if (!toks) toks = cJSON_GetObjectItemCaseSensitive(choice, "tokens"); /* a cache line */
  int nt = cJSON_IsArray(toks) ? cJSON_GetArraySize(toks) : -1;
  if (nt >= 0) {
    int all_ids = nt > 0;
    for (const cJSON *t = toks->child; t; t = t->next) {
      int32_t id;
      if (!cJSON_IsString(t)) {
        ivs_generation_release(g);
        return ivs_error_set(IVS_EPARSE, "logprobs.tokens holds something other than strings");
      }
      all_ids &= token_id(t->valuestring, &id);
    }
    size_t n = (size_t)nt, k = 0;
    if (all_ids) {
      if (!(g->ids = malloc(n * sizeof *g->ids))) goto oom;
      for (const cJSON *t = toks->child; t; t = t->next) token_id(t->valuestring, &g->ids[k++]);
      g->n_ids = n;
    } else if (n) {
      if (!(g->token_texts = calloc(n, sizeof *g->token_texts))) goto oom;
      for (const cJSON *t = toks->child; t; t = t->next, k++) {
        if (!(g->token_texts[k] = strdup(t->valuestring))) {
          g->n_token_texts = k;
          goto oom;
        }
      }
      g->n_token_texts = n;
    }
    g->n_tokens = n;
  } else {
    const cJSON *nt_json = cJSON_GetObjectItemCaseSensitive(choice, "n_tokens");
    if (cJSON_IsNumber(nt_json) && nt_json->valuedouble >= 0 && nt_json->valuedouble < 1e9) g->n_tokens = (size_t)nt_json->valuedouble;
    else if (one_choice_usage) g->n_tokens = usage_tokens;
  }
  return 0;
oom:
  ivs_generation_release(g);
  return ivs_error_set(IVS_ENOMEM, "out of memory");
}

/* The cache line of a generation: its text, how it ended and its tokens. */
static int gen_cache_append(run *r, const job *j, size_t s, const ivs_generation *gen, const cJSON *choice) {
  if (!r->cache) return 0;
  gen_kind *g = r->kind;
  uint64_t k[2];
  gen_key(r->o, g, j->req, s, k);
  cJSON *o = cJSON_CreateObject();
  char key[40];
  snprintf(key, sizeof key, "%016" PRIx64 "%016" PRIx64, k[0], k[1]);
  cJSON_AddStringToObject(o, "key", key);
  cJSON *gj = cJSON_AddObjectToObject(o, "gen");
  cJSON_AddStringToObject(gj, "text", gen->text);
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason"), *sr = cJSON_GetObjectItemCaseSensitive(choice, "stop_reason");
  if (fr) cJSON_AddItemToObject(gj, "finish_reason", cJSON_Duplicate(fr, 1));
  if (sr) cJSON_AddItemToObject(gj, "stop_reason", cJSON_Duplicate(sr, 1));
  const cJSON *toks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "logprobs"), "tokens");
  if (cJSON_IsArray(toks)) cJSON_AddItemToObject(gj, "tokens", cJSON_Duplicate(toks, 1));
  else cJSON_AddNumberToObject(gj, "n_tokens", (double)gen->n_tokens);
  char *line = ivs_json_print(o);
  cJSON_Delete(o);
  if (!line) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t n = strlen(line);
  int rc = cache_write(r, line, n);
  if (!rc) rc = cache_write(r, "\n", 1);
  cJSON_free(line);
  return rc;
}

static int gen_answer(run *r, job *j) {
  gen_kind *g = r->kind;
  cJSON *root = cJSON_ParseWithLength(j->body.data ? j->body.data : "", j->body.len);
  char snip[200];
  if (!root) {
    body_snippet(j, snip, sizeof snip);
    return ivs_error_set(IVS_EPARSE, "%s (%s): the response is not JSON; the body began: %s", r->url, j->what, snip);
  }
  const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
  int nc = cJSON_IsArray(choices) ? cJSON_GetArraySize(choices) : 0;
  const cJSON *usage = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "usage"), "completion_tokens");
  size_t ut = cJSON_IsNumber(usage) && usage->valuedouble >= 0 && usage->valuedouble < 1e9 ? (size_t)usage->valuedouble : 0;
  int rc = 0;
  if (!nc) {
    char msg[300];
    if (error_text(root, msg, sizeof msg)) rc = ivs_error_set(IVS_EPARSE, "%s (%s): the server answered with an error: %s", r->url, j->what, msg);
    else {
      body_snippet(j, snip, sizeof snip);
      rc = ivs_error_set(IVS_EPARSE, "%s (%s): the response has no choices; the body began: %s", r->url, j->what, snip);
    }
  }
  /* choices by their index (vLLM may list them in another order); fewer than
   * asked: the server ignores n, the rest are asked for one at a time */
  size_t got = 0;
  for (const cJSON *c = nc ? choices->child : NULL; c && !rc; c = c->next) {
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(c, "index");
    size_t k = cJSON_IsNumber(ix) && ix->valuedouble >= 0 ? (size_t)ix->valuedouble : got;
    if (k >= j->k) continue;
    ivs_generation *dst = &g->out[j->req * g->p->samples + j->s0 + k];
    if (dst->text) continue; /* an index twice */
    rc = ivs_openai_generation_parse(c, j->k == 1, ut, dst);
    if (rc) {
      ivs_error_prefix("%s (%s)", r->url, j->what);
      break;
    }
    rc = gen_cache_append(r, j, j->s0 + k, dst, c);
    got++;
  }
  cJSON_Delete(root);
  if (rc) return rc;
  if (!got)
    return ivs_error_set(IVS_EPARSE, "%s (%s): the response has no choice with an index below %zu", r->url, j->what, j->k);
  if (got < j->k) { /* the server ignored n: the missing samples go back on the queue, one a request */
    g->single = 1;
    for (size_t k = 0; k < j->k; k++)
      if (!g->out[j->req * g->p->samples + j->s0 + k].text) gen_push(g, (unit){j->req, j->s0 + k, 1});
    r->done -= j->k - got; /* the driver counts j->k */
  }
  return 0;
}

static int gen_refused(run *r, job *j, long status, const char *msg) {
  gen_kind *g = r->kind;
  (void)msg;
  if ((status == 400 || status == 422) && j->k > 1) {
    /* a server that does not sample several completions (n > 1): from now on
     * one sample a request, each with its own seed */
    g->single = 1;
    for (size_t k = 1; k < j->k; k++) gen_push(g, (unit){j->req, j->s0 + k, 1});
    j->k = 1;
    snprintf(j->what, sizeof j->what, "prompt %zu, sample %zu", j->req, j->s0);
    r->st->fallbacks++;
    return 2;
  }
  return 0;
}

static size_t gen_units(const job *j) { return j->k; }

/* Fills the samples the cache holds. */
static int gen_cache_load(const ivs_openai_opts *o, gen_kind *g, size_t n, size_t *cached) {
  *cached = 0;
  FILE *f = fopen(o->cache_path, "rb");
  if (!f) return errno == ENOENT ? 0 : ivs_error_set(IVS_EIO, "%s: cannot open the cache: %s", o->cache_path, strerror(errno));
  size_t S = g->p->samples, NS = n * S, cap = 16;
  while (cap < NS * 2) cap *= 2;
  uint64_t(*keys)[2] = calloc(cap, sizeof *keys);
  size_t *slot = malloc(cap * sizeof *slot);
  int rc = keys && slot ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && !rc; i++)
    for (size_t s = 0; s < S; s++) {
      uint64_t k[2];
      gen_key(o, g, i, s, k);
      size_t j = k[0] & (cap - 1);
      while (keys[j][0] && (keys[j][0] != k[0] || keys[j][1] != k[1])) j = (j + 1) & (cap - 1);
      keys[j][0] = k[0], keys[j][1] = k[1], slot[j] = i * S + s;
    }
  ivs_buf line;
  ivs_buf_init(&line, CACHE_LINE_MAX);
  int c = 0;
  while (!rc && c != EOF) {
    ivs_buf_clear(&line);
    while ((c = fgetc(f)) != EOF && c != '\n')
      if ((rc = ivs_buf_putc(&line, (char)c))) break;
    if (rc) {
      ivs_error_prefix("%s", o->cache_path);
      break;
    }
    if (!line.len) continue;
    cJSON *obj = cJSON_ParseWithLength(line.data, line.len); /* a torn last line is skipped */
    const cJSON *kj = cJSON_GetObjectItemCaseSensitive(obj, "key"), *gj = cJSON_GetObjectItemCaseSensitive(obj, "gen");
    uint64_t k[2];
    if (cJSON_IsString(kj) && strlen(kj->valuestring) == 32 && cJSON_IsObject(gj) &&
        sscanf(kj->valuestring, "%16" SCNx64 "%16" SCNx64, &k[0], &k[1]) == 2 && k[0]) {
      size_t j = k[0] & (cap - 1);
      while (keys[j][0] && (keys[j][0] != k[0] || keys[j][1] != k[1])) j = (j + 1) & (cap - 1);
      if (keys[j][0] && !g->out[slot[j]].text) {
        ivs_generation tmp;
        if (ivs_openai_generation_parse(gj, 0, 0, &tmp) == 0) g->out[slot[j]] = tmp, (*cached)++;
      }
    }
    cJSON_Delete(obj);
  }
  ivs_buf_release(&line);
  fclose(f);
  free(keys), free(slot);
  return rc;
}

int ivs_openai_generate(const ivs_openai_opts *o, const char *const *prompts, size_t n, const ivs_gen_params *p,
                        ivs_generation *out, ivs_openai_stats *stats) {
  ivs_openai_stats local;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  size_t S = p->samples;
  gen_kind g = {.prompts = prompts, .p = p, .out = out};
  /* the parameters that make a sample what it is */
  ivs_buf pk = IVS_BUF_INIT;
  char head[300];
  snprintf(head, sizeof head, "gen|max=%zu|greedy=%d|t=%.17g|k=%zu|p=%.17g|seed=%llu|stop", p->max_new_tokens, p->greedy,
           p->greedy ? 0 : p->temperature, p->greedy ? 0 : p->top_k, p->greedy ? 1 : p->top_p,
           (unsigned long long)p->seed);
  int rc = ivs_buf_puts(&pk, head);
  for (size_t k = 0; k < p->n_stop && !rc; k++) {
    char len[24];
    snprintf(len, sizeof len, "|%zu:", strlen(p->stop[k]));
    if (!(rc = ivs_buf_puts(&pk, len))) rc = ivs_buf_puts(&pk, p->stop[k]);
  }
  if (!rc && pk.len >= sizeof g.params) rc = ivs_error_set(IVS_EUSAGE, "openai: stop strings too long (%zu bytes in all)", pk.len);
  if (!rc) memcpy(g.params, pk.data, pk.len + 1);
  ivs_buf_release(&pk);
  if (rc) return rc;
  run r = {.o = o, .st = stats, .total = n * S, .take = gen_take, .payload = gen_payload, .answer = gen_answer,
           .refused = gen_refused, .units = gen_units, .kind = &g};
  if ((rc = set_url(&r))) return rc;
  size_t cached = 0;
  if (o->cache_path && (rc = gen_cache_load(o, &g, n, &cached))) goto done;
  stats->cached = cached, r.done = cached;
  g.cap = n * S + 1;
  if (!(g.q = malloc(g.cap * sizeof *g.q))) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  /* the missing samples of each prompt, in runs */
  for (size_t i = 0; i < n; i++)
    for (size_t s = 0; s < S;) {
      if (out[i * S + s].text) {
        s++;
        continue;
      }
      size_t e = s;
      while (e < S && !out[i * S + e].text) e++;
      gen_push(&g, (unit){i, s, e - s});
      s = e;
    }
  if (g.count && !(rc = open_cache(&r))) rc = close_cache(&r, drive(&r));
done:
  free(g.q);
  if (rc)
    for (size_t k = 0; k < n * S; k++) ivs_generation_release(&out[k]);
  return rc;
}

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

/* ---- requests ---- */

typedef struct {
  size_t req;     /* index into reqs */
  int attempt;
  int max_tokens; /* what this attempt asked for */
  double not_before;
  CURL *h;
  struct curl_slist *hdrs;
  char *payload;
  ivs_buf body;
  long retry_after;
  char errbuf[CURL_ERROR_SIZE];
} job;

typedef struct {
  const ivs_openai_opts *o;
  const ivs_openai_req *reqs;
  double *out;
  ivs_openai_stats *st;
  char url[2048];
  int max_tokens;
  FILE *cache;
  size_t done, total;
} run;

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
  const ivs_openai_req *q = &r->reqs[j->req];
  ivs_buf text = IVS_BUF_INIT;
  int rc = ivs_buf_puts(&text, q->context);
  if (!rc) rc = ivs_buf_puts(&text, q->continuation);
  cJSON *o = rc ? NULL : cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "model", r->o->model);
    cJSON_AddStringToObject(o, "prompt", text.data);
    j->max_tokens = r->max_tokens;
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

static int cache_append(run *r, const job *j, double v) {
  if (!r->cache) return 0;
  uint64_t k[2];
  const ivs_openai_req *q = &r->reqs[j->req];
  key_of(r->o->model, q->context, q->continuation, k);
  cJSON *resp = cJSON_ParseWithLength(j->body.data, j->body.len);
  cJSON *lp = cJSON_DetachItemFromObjectCaseSensitive(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "choices"), 0), "logprobs");
  char *lps = lp ? cJSON_PrintUnformatted(lp) : NULL;
  char head[128];
  int hn = snprintf(head, sizeof head, "{\"key\":\"%016" PRIx64 "%016" PRIx64 "\",\"logprob\":%.17g,\"logprobs\":", k[0],
                    k[1], v);
  const char *tail = lps ? lps : "null";
  size_t tn = strlen(tail);
  int ok = hn > 0 && (size_t)hn < sizeof head && fwrite(head, 1, (size_t)hn, r->cache) == (size_t)hn &&
           fwrite(tail, 1, tn, r->cache) == tn && fwrite("}\n", 1, 2, r->cache) == 2 && fflush(r->cache) == 0;
  cJSON_free(lps);
  cJSON_Delete(lp);
  cJSON_Delete(resp);
  return ok ? 0 : ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", r->o->cache_path, strerror(errno));
}

/* What to do with a finished transfer: 0 done, 1 retry after a backoff, 2
 * send again now (not counted as an attempt), or an error. */
static int job_finish(run *r, job *j, CURLcode cres) {
  const ivs_openai_req *q = &r->reqs[j->req];
  long status = 0;
  curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &status);
  char snip[200];
  int can_retry = j->attempt < r->o->retries;
  if (cres != CURLE_OK) {
    if (can_retry) return 1;
    return ivs_error_set(IVS_EIO, "%s (%s): %s after %d attempt%s", r->url, q->what,
                         j->errbuf[0] ? j->errbuf : curl_easy_strerror(cres), j->attempt + 1, j->attempt ? "s" : "");
  }
  if (status == 200) {
    size_t lc = ivs_utf8_count(q->context, strlen(q->context));
    size_t lt = lc + ivs_utf8_count(q->continuation, strlen(q->continuation));
    double v;
    int rc = ivs_openai_parse(j->body.data ? j->body.data : "", j->body.len, lc, lt, &v);
    if (rc) {
      char why[400];
      snprintf(why, sizeof why, "%s", ivs_error_message()); /* the message is rewritten below */
      if (rc == IVS_EINVAL && strstr(why, "token boundary"))
        return ivs_error_set(IVS_EINVAL, "%s: text '%.60s' %s", q->what, q->continuation, why);
      body_snippet(j, snip, sizeof snip);
      return ivs_error_set(rc, "%s (%s): %s; the body began: %s", r->url, q->what, why, snip);
    }
    r->out[j->req] = v;
    return cache_append(r, j, v);
  }
  char msg[300] = "";
  cJSON *root = cJSON_ParseWithLength(j->body.data ? j->body.data : "", j->body.len);
  if (!error_text(root, msg, sizeof msg)) body_snippet(j, msg, sizeof msg);
  cJSON_Delete(root);
  if (status == 400 && j->max_tokens == 0 && strstr(msg, "max_tokens")) {
    r->max_tokens = 1; /* this server wants at least one generated token: ask for one and drop it */
    return 2;          /* again at once; not a failed attempt */
  }
  if (status == 401 || status == 403)
    return ivs_error_set(IVS_EUSAGE, "%s: HTTP %ld %s: %s (%s)", r->url, status,
                         status == 401 ? "Unauthorized" : "Forbidden", msg,
                         r->o->api_key ? "check the key" : "no API key was sent; name its variable with --api-key-env");
  if ((status == 429 || status >= 500) && can_retry) return 1;
  return ivs_error_set(IVS_EIO, "%s (%s): HTTP %ld after %d attempt%s: %s", r->url, q->what, status, j->attempt + 1,
                       j->attempt ? "s" : "", msg);
}

static void job_release(job *j) {
  if (j->h) curl_easy_cleanup(j->h);
  curl_slist_free_all(j->hdrs);
  cJSON_free(j->payload);
  ivs_buf_release(&j->body);
  memset(j, 0, sizeof *j);
}

int ivs_openai_score(const ivs_openai_opts *o, const ivs_openai_req *reqs, size_t n, double *out,
                     ivs_openai_stats *stats) {
  ivs_openai_stats local = {0, 0, 0};
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  run r = {o, reqs, out, stats, "", 0, NULL, 0, n};
  size_t blen = strlen(o->base_url);
  while (blen && o->base_url[blen - 1] == '/') blen--;
  if (blen + 13 > sizeof r.url) return ivs_error_set(IVS_EUSAGE, "openai: base URL too long");
  snprintf(r.url, sizeof r.url, "%.*s/completions", (int)blen, o->base_url);

  /* answers already in the cache */
  ctable cache = {NULL, 0, 0};
  size_t *todo = malloc((n ? n : 1) * sizeof *todo), ntodo = 0;
  if (!todo) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int rc = o->cache_path ? cache_load(o->cache_path, &cache) : 0;
  for (size_t i = 0; i < n && !rc; i++) {
    uint64_t k[2];
    key_of(o->model, reqs[i].context, reqs[i].continuation, k);
    centry *e = cache.cap ? ctable_slot(&cache, k) : NULL;
    if (e && e->k[0]) out[i] = e->v, stats->cached++, r.done++;
    else todo[ntodo++] = i;
  }
  free(cache.e);
  if (rc || !ntodo) {
    free(todo);
    return rc;
  }
  if (o->cache_path && !(r.cache = fopen(o->cache_path, "ab"))) {
    free(todo);
    return ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", o->cache_path, strerror(errno));
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int C = o->concurrency > 0 ? o->concurrency : 1;
  job *jobs = calloc((size_t)C, sizeof *jobs);
  int *busy = calloc((size_t)C, sizeof *busy); /* 0 free, 1 in flight, 2 waiting to retry */
  CURLM *multi = curl_multi_init();
  if (!jobs || !busy || !multi) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  for (int i = 0; i < C && jobs; i++) ivs_buf_init(&jobs[i].body, MAX_BODY);
  size_t next = 0;
  int answered = 0; /* until the first answer only one request is in flight: a wrong URL, key or
                       max_tokens costs one request, not one per slot */
  if (o->progress) o->progress(r.done, n, o->progress_ud);
  while (!rc) {
    double t = now_s(), wake = 1.0;
    int active = 0;
    for (int i = 0; i < C && !rc; i++) {
      if (busy[i] == 2 && jobs[i].not_before <= t) {
        rc = job_start(&r, multi, &jobs[i]);
        busy[i] = 1;
        stats->retried++;
      } else if (busy[i] == 0 && next < ntodo && (answered || i == 0)) {
        jobs[i].req = todo[next++];
        jobs[i].attempt = 0;
        rc = job_start(&r, multi, &jobs[i]);
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
      int res = job_finish(&r, j, cres);
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
        r.done++;
        if (o->progress) o->progress(r.done, n, o->progress_ud);
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
  free(todo);
  if (r.cache && fclose(r.cache) != 0 && !rc)
    rc = ivs_error_set(IVS_EIO, "%s: cannot write the cache: %s", o->cache_path, strerror(errno));
  return rc;
}

/* The annotation server: libmicrohttpd takes the connections on its thread
 * (limits, body size, headers, origin and rate checks, the compiled-in
 * pages); API calls are suspended and handed to the store thread, which
 * answers the calls of a moment in one transaction and resumes them after
 * the commit. */
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/error.h"
#include "invscale/label.h"
#include "invscale/serve.h"
#include "serve/api.h"
#include "serve/body.h"
#include "serve/limit.h"
#include "serve/web.h"

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
                          " base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

enum { C_NEW, C_BODY, C_QUEUED, C_DONE };

typedef struct call {
  struct MHD_Connection *conn;
  int state;
  char method[8], path[200];
  char token[64];
  size_t token_len;
  char max_conf[32];
  char *body;
  size_t len;
  int too_big;
  cJSON *json;
  int own;
  double retry_after; /* seconds, for a 429 */
  ivs_api_call api;
  double t0;
  struct call *next;
} call;

struct ivs_serve {
  ivs_serve_opts o;
  char *store_path, *batch, *guidelines, *lead_name;
  char url[600], origin[300], prefix[300];
  struct MHD_Daemon *d;
  ivs_store *st;
  ivs_api api;
  pthread_t worker;
  int worker_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  call *head, *tail;
  int stopping;
  ivs_limiter lim; /* the MHD thread's only */
};

static double now_real(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void logf_(ivs_serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(ivs_serve *s, const char *fmt, ...) {
  if (!s->o.on_log) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  s->o.on_log(line, s->o.log_ud);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  ivs_serve *s = cls;
  char line[400];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
  logf_(s, "libmicrohttpd: %s", line);
}

/* ---- answers ---- */

static enum MHD_Result send_bytes(ivs_serve *s, call *c, int status, const char *type, const void *data, size_t n,
                                  enum MHD_ResponseMemoryMode mode, int cache) {
  struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)data, mode);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Content-Security-Policy", CSP);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(r, "X-Frame-Options", "DENY");
  MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
  MHD_add_response_header(r, "Cache-Control", cache ? "no-cache" : "no-store");
  if (status == 429) {
    char ra[32];
    snprintf(ra, sizeof ra, "%d", c->retry_after > 1 ? (int)(c->retry_after + 0.999) : 1);
    MHD_add_response_header(r, "Retry-After", ra);
  }
  enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)status, r);
  MHD_destroy_response(r);
  logf_(s, "%s %s %d %.1f ms", c->method, c->path, status, (now_mono() - c->t0) * 1000);
  return ret;
}

static enum MHD_Result send_json(ivs_serve *s, call *c, int status, char *json) {
  /* json is handed over to libmicrohttpd, which frees it */
  if (!json) return MHD_NO;
  if (c->api.out == json) c->api.out = NULL;
  return send_bytes(s, c, status, "application/json; charset=utf-8", json, strlen(json), MHD_RESPMEM_MUST_FREE, 0);
}

static enum MHD_Result send_error(ivs_serve *s, call *c, int status, const char *msg) {
  return send_json(s, c, status, ivs_api_error_json(status, msg));
}

static enum MHD_Result send_file(ivs_serve *s, call *c, const char *name) {
  for (const ivs_web_file *f = ivs_web_files; f->name; f++)
    if (!strcmp(f->name, name)) return send_bytes(s, c, 200, f->type, f->data, f->len, MHD_RESPMEM_PERSISTENT, 1);
  return send_error(s, c, 404, "no such page");
}

/* ---- taking requests ---- */

static const char *header(struct MHD_Connection *conn, const char *name) {
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* POSTs come from the page itself: JSON, and the public origin (or a
 * same-origin fetch when the browser sends no Origin). */
static const char *post_refusal(ivs_serve *s, struct MHD_Connection *conn, int *status) {
  const char *ct = header(conn, "Content-Type");
  if (!ct || strncasecmp(ct, "application/json", 16) || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
    *status = 415;
    return "POST bodies must be sent with Content-Type: application/json";
  }
  const char *origin = header(conn, "Origin");
  const char *site = header(conn, "Sec-Fetch-Site");
  *status = 403;
  if (origin) return strcmp(origin, s->origin) ? "cross-site request refused: the Origin is not this server's" : NULL;
  if (site) return strcmp(site, "same-origin") ? "cross-site request refused (Sec-Fetch-Site)" : NULL;
  return "a POST needs an Origin (or Sec-Fetch-Site) header";
}

static enum MHD_Result take_api(ivs_serve *s, call *c, const char *path) {
  snprintf(c->path, sizeof c->path, "%s", path);
  int own = 0, roles = ivs_api_endpoint(c->method, path + 8, &own);
  if (roles == 0) return send_error(s, c, 404, "no such endpoint");
  if (roles < 0) return send_error(s, c, 405, "method not allowed");
  const char *auth = header(c->conn, "Authorization");
  if (!auth || strncmp(auth, "Bearer ", 7)) return send_error(s, c, 401, "an Authorization: Bearer <token> header is needed");
  const char *tok = auth + 7;
  size_t tl = strlen(tok);
  if (tl >= sizeof c->token) return send_error(s, c, 401, "unknown or revoked token");
  memcpy(c->token, tok, tl + 1);
  c->token_len = tl;
  if (!strcmp(c->method, "POST")) {
    int status;
    const char *why = post_refusal(s, c->conn, &status);
    if (why) return send_error(s, c, status, why);
  }
  char hex[65];
  ivs_token_hash(tok, tl, hex);
  double wait;
  if (!ivs_limiter_take(&s->lim, hex, now_mono(), &wait)) {
    c->retry_after = wait;
    return send_error(s, c, 429, "too many requests: slow down");
  }
  if (c->too_big) return send_error(s, c, 413, "request body too large: at most 65536 bytes");
  if (!strcmp(c->method, "POST")) {
    if (ivs_serve_body_parse(c->body ? c->body : "", c->len, &c->json))
      return send_error(s, c, 400, ivs_error_message()); /* the size was checked as it came */
  }
  const char *mc = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "max");
  snprintf(c->max_conf, sizeof c->max_conf, "%s", mc ? mc : "");
  c->own = own;
  c->api = (ivs_api_call){c->method, c->path + 8, c->token, c->token_len, c->json, c->max_conf, 0, NULL, 0};
  pthread_mutex_lock(&s->mu);
  if (s->stopping) {
    pthread_mutex_unlock(&s->mu);
    return send_error(s, c, 503, "the server is stopping");
  }
  c->state = C_QUEUED;
  MHD_suspend_connection(c->conn);
  if (s->tail) s->tail->next = c;
  else s->head = c;
  s->tail = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  (void)version;
  ivs_serve *s = cls;
  call *c = *con_cls;
  if (!c) {
    if (!(c = calloc(1, sizeof *c))) return MHD_NO;
    c->conn = conn;
    c->t0 = now_mono();
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->path, sizeof c->path, "%s", url);
    *con_cls = c;
    const char *cl = header(conn, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > IVS_SERVE_MAX_BODY) {
      c->state = C_DONE;
      return send_error(s, c, 413, "request body too large: at most 65536 bytes");
    }
    c->state = C_BODY;
    return MHD_YES;
  }
  if (*upload_size) {
    if (!c->too_big) {
      if (c->len + *upload_size > IVS_SERVE_MAX_BODY) {
        c->too_big = 1;
        free(c->body);
        c->body = NULL;
        c->len = 0;
      } else {
        char *b = realloc(c->body, c->len + *upload_size + 1);
        if (!b) return MHD_NO;
        memcpy(b + c->len, upload, *upload_size);
        c->body = b;
        c->len += *upload_size;
        b[c->len] = 0;
      }
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (c->state == C_DONE) {
    if (!c->api.out) return MHD_NO; /* answered already (the early 413) */
    return send_json(s, c, c->api.status, c->api.out);
  }
  if (c->state == C_QUEUED) return MHD_YES; /* not yet answered */
  /* the path under the public URL's prefix */
  const char *p = url;
  size_t pl = strlen(s->prefix);
  if (pl && !strncmp(p, s->prefix, pl) && (p[pl] == '/' || !p[pl])) p += pl;
  if (!*p) p = "/";
  if (!strncmp(p, "/api/v1/", 8)) return take_api(s, c, p);
  if (strcmp(method, "GET") && strcmp(method, "HEAD")) return send_error(s, c, 405, "method not allowed");
  if (!strcmp(p, "/")) return send_file(s, c, "index.html");
  if (!strcmp(p, "/annotate")) return send_file(s, c, "annotate.html");
  if (!strcmp(p, "/lead")) return send_file(s, c, "lead.html");
  if (!strncmp(p, "/static/", 8) && !strstr(p + 8, "html")) return send_file(s, c, p + 8);
  return send_error(s, c, 404, "no such page");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls, (void)conn, (void)toe;
  call *c = *con_cls;
  if (!c) return;
  free(c->body);
  cJSON_Delete(c->json);
  free(c->api.out);
  free(c);
  *con_cls = NULL;
}

/* ---- the store thread ---- */

static void *worker_main(void *ud) {
  ivs_serve *s = ud;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stopping) pthread_cond_wait(&s->cv, &s->mu);
    call *list = s->head;
    s->head = s->tail = NULL;
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (!list && stop) break;
    double now = now_real();
    int grouped = 0;
    for (call *c = list; c; c = c->next) grouped += !c->own;
    ivs_work_idle(s->api.w); /* no statement keeps an old snapshot open */
    ivs_api_refresh(&s->api);
    if (grouped) {
      int rc = ivs_store_begin(s->st);
      char why[300] = "";
      if (rc) snprintf(why, sizeof why, "not stored, try again: %s", ivs_error_message());
      for (call *c = list; c && !rc; c = c->next) {
        if (c->own) continue;
        ivs_api_handle(&s->api, &c->api, now);
        /* SQLite rolled the transaction back by itself (a full disk, out of
         * memory): nothing of the group may be stored outside it */
        if (!ivs_work_in_transaction(s->api.w)) {
          rc = IVS_ESTORE;
          snprintf(why, sizeof why, "not stored, try again: the transaction was rolled back");
        }
      }
      if (!rc && (rc = ivs_store_commit(s->st)))
        snprintf(why, sizeof why, "not stored, try again: %s", ivs_error_message());
      if (rc) {
        ivs_store_rollback(s->st); /* nothing when SQLite ended it already */
        logf_(s, "error: %s", why);
        for (call *c = list; c; c = c->next)
          if (!c->own) {
            free(c->api.out);
            c->api.status = 503;
            c->api.out = ivs_api_error_json(503, why);
          }
      }
    }
    ivs_work_idle(s->api.w);
    for (call *c = list; c; c = c->next)
      if (c->own) {
        ivs_api_handle(&s->api, &c->api, now);
        ivs_work_idle(s->api.w);
      }
    for (call *c = list, *next; c; c = next) {
      next = c->next;
      if (!c->api.out) {
        c->api.status = 500;
        c->api.out = ivs_api_error_json(500, "out of memory");
      }
      c->state = C_DONE;
      MHD_resume_connection(c->conn); /* c belongs to libmicrohttpd again */
    }
  }
  return NULL;
}

/* ---- starting and stopping ---- */

int ivs_serve_link(const char *url, int lead, const char *token, char **out) {
  size_t n = strlen(url) + strlen(token) + 16;
  if (!(*out = malloc(n))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  snprintf(*out, n, "%s%s#t=%s", url, lead ? "lead" : "annotate", token);
  return 0;
}

const char *ivs_serve_url(const ivs_serve *s) { return s->url; }

/* scheme://host[:port][/path] into origin, the path prefix (no trailing
 * slash) and the URL (with one). */
static int parse_public(ivs_serve *s, const char *u) {
  const char *rest = !strncmp(u, "http://", 7) ? u + 7 : !strncmp(u, "https://", 8) ? u + 8 : NULL;
  if (!rest || !*rest || *rest == '/')
    return ivs_error_set(IVS_EUSAGE, "--public-url '%s': expected http://HOST[:PORT][/PATH/] or https://...", u);
  const char *slash = strchr(rest, '/');
  size_t ol = slash ? (size_t)(slash - u) : strlen(u);
  if (ol >= sizeof s->origin || strlen(u) + 2 >= sizeof s->url || strpbrk(u, "?# \"'<>\\"))
    return ivs_error_set(IVS_EUSAGE, "--public-url '%s': too long, or with a query, fragment or space", u);
  memcpy(s->origin, u, ol);
  s->origin[ol] = 0;
  snprintf(s->prefix, sizeof s->prefix, "%s", slash ? slash : "");
  size_t pl = strlen(s->prefix);
  while (pl && s->prefix[pl - 1] == '/') s->prefix[--pl] = 0;
  snprintf(s->url, sizeof s->url, "%s%s/", s->origin, s->prefix);
  return 0;
}

static int parse_listen(const char *l, struct sockaddr_storage *ss, socklen_t *len, int *v6) {
  char host[256];
  const char *colon = strrchr(l, ':');
  if (!colon || colon == l || strlen(l) >= sizeof host)
    return ivs_error_set(IVS_EUSAGE, "--listen '%s': expected HOST:PORT", l);
  size_t hl = (size_t)(colon - l);
  memcpy(host, l, hl);
  host[hl] = 0;
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = 0;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || port < 0 || port > 65535)
    return ivs_error_set(IVS_EUSAGE, "--listen '%s': the port must be a number from 0 to 65535", l);
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  if (getaddrinfo(host, colon + 1, &hints, &res) || !res)
    return ivs_error_set(IVS_EUSAGE, "--listen '%s': cannot resolve '%s'", l, host);
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  *v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int ivs_serve_start(const ivs_serve_opts *o, ivs_serve **out) {
  *out = NULL;
  ivs_serve *s = calloc(1, sizeof *s);
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  s->o = *o;
  if (!s->o.listen) s->o.listen = "127.0.0.1:8080";
  s->store_path = dup_or_null(o->store);
  s->batch = dup_or_null(o->batch);
  s->lead_name = strdup(o->lead_name ? o->lead_name : "lead");
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  ivs_limiter_init(&s->lim, o->rate, o->burst);
  struct sockaddr_storage ss;
  socklen_t sl;
  int v6 = 0, rc = 0;
  if (!s->batch || !s->store_path) rc = ivs_error_set(IVS_EUSAGE, "a store and a batch are needed");
  if (!rc && !(o->lease_seconds >= 1)) rc = ivs_error_set(IVS_EUSAGE, "the lease must be at least 1 second");
  if (!rc) rc = parse_listen(s->o.listen, &ss, &sl, &v6);
  if (!rc && o->public_url) rc = parse_public(s, o->public_url);
  if (!rc) rc = ivs_store_open(&s->st, s->store_path, 0);
  if (!rc) rc = ivs_work_open(s->st, &s->api.w);
  if (!rc) {
    s->api.st = s->st;
    s->api.o = &s->o;
    s->api.batch = s->batch;
    s->api.lead_name = s->lead_name;
    rc = ivs_work_batch(s->st, s->batch, &s->api.batch_id, &s->api.per_item);
  }
  if (!rc) {
    if (o->guidelines) s->guidelines = strdup(o->guidelines);
    else rc = ivs_guidelines_from_meta(s->st, &s->guidelines);
    if (!rc && !s->guidelines) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    if (!rc && *s->guidelines) rc = ivs_guidelines_put(s->st, s->guidelines, &s->api.guideline);
    s->api.guideline_text = s->guidelines;
  }
  if (rc) {
    ivs_serve_stop(s);
    return rc;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (v6) flags |= MHD_USE_IPv6;
  s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                          MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 256u,
                          MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_connections ? o->per_ip_connections : 128u,
                          MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_seconds ? o->timeout_seconds : 30u,
                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->connection_memory ? o->connection_memory : (size_t)32768,
                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                          MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
  if (!s->d) {
    rc = ivs_error_set(IVS_EIO, "cannot listen on %s (taken, or not an address of this machine)", s->o.listen);
    ivs_serve_stop(s);
    return rc;
  }
  if (!o->public_url) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    char host[300];
    const char *colon = strrchr(s->o.listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - s->o.listen), s->o.listen);
    char u[400];
    snprintf(u, sizeof u, "http://%s:%u/", host, di ? (unsigned)di->port : 0u);
    if ((rc = parse_public(s, u))) {
      ivs_serve_stop(s);
      return rc;
    }
  }
  s->api.url = s->url;
  if (pthread_create(&s->worker, NULL, worker_main, s)) {
    ivs_serve_stop(s);
    return ivs_error_set(IVS_ENOMEM, "cannot start the store thread");
  }
  s->worker_started = 1;
  *out = s;
  return 0;
}

void ivs_serve_stop(ivs_serve *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (s->worker_started) pthread_join(s->worker, NULL); /* answers what was queued */
  if (s->d) MHD_stop_daemon(s->d);
  ivs_work_free(s->api.w);
  ivs_store_free(s->st);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->store_path), free(s->batch), free(s->guidelines), free(s->lead_name);
  free(s);
}

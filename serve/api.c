/* The API's endpoints: what each reads from the request and the store, and
 * the JSON it answers.  Gold answers and the gold flag are never part of an
 * annotator's answer. */
#include "serve/api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtoa.h"
#include "core/error.h"
#include "core/json_arena.h"
#include "invscale/label.h"
#include "serve/body.h"

typedef struct endpoint {
  const char *method, *path;
  int roles, own;
} endpoint;

static const endpoint endpoints[] = {
    {"GET", "session", IVS_API_ANNOTATOR | IVS_API_LEAD, 0},
    {"POST", "next", IVS_API_ANNOTATOR, 0},
    {"POST", "submit", IVS_API_ANNOTATOR, 0},
    {"POST", "undo", IVS_API_ANNOTATOR, 0},
    {"GET", "progress", IVS_API_ANNOTATOR, 0},
    {"GET", "summary", IVS_API_LEAD, 0},
    {"GET", "disagreements", IVS_API_LEAD, 0},
    {"POST", "adjudicate", IVS_API_LEAD, 1},
    {"GET", "links", IVS_API_LEAD, 0},
    {"POST", "links", IVS_API_LEAD, 1},
};
#define N_ENDPOINTS (sizeof endpoints / sizeof *endpoints)

int ivs_api_endpoint(const char *method, const char *path, int *own) {
  int other = 0;
  for (size_t i = 0; i < N_ENDPOINTS; i++) {
    if (strcmp(endpoints[i].path, path)) continue;
    if (!strcmp(endpoints[i].method, method)) {
      *own = endpoints[i].own;
      return endpoints[i].roles;
    }
    other = 1;
  }
  return other ? -1 : 0;
}

char *ivs_api_error_json(int status, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  cJSON_AddNumberToObject(o, "status", status);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static void fail(ivs_api_call *c, int status, const char *msg) {
  free(c->out);
  c->status = status;
  c->out = ivs_api_error_json(status, msg);
}

/* The status of a library error: refusals are 4xx, the store's failures 503. */
static void fail_rc(ivs_api_call *c, int rc) {
  int st = rc == IVS_EINVAL ? 422 : rc == IVS_EUSAGE ? 403 : rc == IVS_EPARSE || rc == IVS_ELIMIT ? 400 : 503;
  fail(c, st, ivs_error_message());
}

/* Adds item to o under key (to the array o when key is NULL); deletes it
 * when it cannot be added (out of memory: answer() then says 500). */
static void put(cJSON *o, const char *key, cJSON *item) {
  if (item && !(key ? cJSON_AddItemToObject(o, key, item) : cJSON_AddItemToArray(o, item))) cJSON_Delete(item);
}

/* o as the answer: 500 when any of cJSON's allocations in this call failed
 * (an answer with a field silently missing must not pass for a full one). */
static void answer(ivs_api_call *c, cJSON *o) {
  free(c->out);
  c->out = ivs_json_oom() ? NULL : cJSON_PrintUnformatted(o);
  c->status = c->out ? 200 : 500;
  if (!c->out) c->out = ivs_api_error_json(500, "out of memory");
  cJSON_Delete(o);
}

/* A double exactly (the shortest text that reads back as the same double:
 * cJSON's own printing may drop the last bit). */
static cJSON *num(double v) {
  if (!isfinite(v)) return cJSON_CreateNull();
  char b[IVS_DTOA_SIZE];
  ivs_dtoa(v, b);
  return cJSON_CreateRaw(b);
}

static cJSON *parsed_or_string(const char *json) {
  cJSON *v = json ? cJSON_Parse(json) : NULL;
  return v ? v : cJSON_CreateNull();
}

/* ---- the annotator ---- */

static int add_item(const ivs_work_item *it, void *ud) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "item", (double)it->item);
  cJSON_AddStringToObject(o, "prompt", it->prompt);
  put(o, "classes", parsed_or_string(it->classes_json));
  if (it->label) cJSON_AddStringToObject(o, "label", it->label);
  cJSON_AddNumberToObject(o, "lease_expires", floor(it->lease_expires * 1000) / 1000);
  put(ud, NULL, o);
  return 0;
}

static ivs_next_opts next_opts(const ivs_api *a, size_t count, double now) {
  ivs_next_opts o = IVS_NEXT_OPTS_INIT;
  o.count = count;
  o.lease_seconds = a->o->lease_seconds;
  o.shuffle_classes = a->o->shuffle_classes;
  o.now = now;
  return o;
}

static void progress_json(cJSON *o, const ivs_work_progress *p) {
  cJSON_AddNumberToObject(o, "done", (double)p->done);
  cJSON_AddNumberToObject(o, "total", (double)p->total);
  cJSON_AddNumberToObject(o, "skipped", (double)p->skipped);
  cJSON_AddNumberToObject(o, "flagged", (double)p->flagged);
  if (p->median_seconds >= 0) put(o, "median_seconds", num(p->median_seconds));
  else cJSON_AddNullToObject(o, "median_seconds");
}

static void do_session(ivs_api *a, const ivs_work_who *who, ivs_api_call *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "role", who->annotator_id ? "annotator" : "lead");
  cJSON_AddStringToObject(o, "batch", a->batch);
  if (who->annotator_id) cJSON_AddStringToObject(o, "annotator", who->annotator);
  cJSON_AddNumberToObject(o, "per_item", a->per_item);
  cJSON_AddNumberToObject(o, "lease_seconds", a->o->lease_seconds);
  cJSON *g = cJSON_AddObjectToObject(o, "guidelines");
  cJSON_AddNumberToObject(g, "version", (double)a->guideline);
  cJSON_AddStringToObject(g, "text", a->guideline_text ? a->guideline_text : "");
  if (who->annotator_id) {
    ivs_work_progress p;
    int rc = ivs_work_progress_get(a->w, who, &p);
    if (rc) {
      cJSON_Delete(o);
      fail_rc(c, rc);
      return;
    }
    progress_json(cJSON_AddObjectToObject(o, "progress"), &p);
  }
  answer(c, o);
}

static void do_next(ivs_api *a, const ivs_work_who *who, ivs_api_call *c, double now) {
  int64_t count;
  if (ivs_serve_int_member(c->body, "count", 1, 20, 2, &count)) return fail(c, 400, ivs_error_message());
  cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
  ivs_next_opts no = next_opts(a, (size_t)count, now);
  int rc = ivs_work_next(a->w, who, &no, add_item, items);
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  c->wrote = 1;
  answer(c, o);
}

static void do_submit(ivs_api *a, const ivs_work_who *who, ivs_api_call *c, double now) {
  ivs_work_submit subs[IVS_SERVE_MAX_SUBMITS];
  size_t n;
  int rc = ivs_serve_submits_parse(c->body, subs, &n);
  if (rc) return fail(c, rc == IVS_ELIMIT ? 413 : 400, ivs_error_message());
  static const char *const names[] = {"stored", "revised", "same", "repeat"};
  cJSON *o = cJSON_CreateObject(), *res = cJSON_AddArrayToObject(o, "results");
  for (size_t i = 0; i < n; i++) {
    int status = 0, first = 0;
    rc = ivs_work_submit_one(a->w, who, &subs[i], now, &status, &first);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", subs[i].client_id);
    cJSON_AddNumberToObject(r, "item", (double)subs[i].item);
    if (rc == IVS_EINVAL) {
      cJSON_AddStringToObject(r, "status", "refused");
      cJSON_AddStringToObject(r, "error", ivs_error_message());
    } else if (rc) {
      cJSON_Delete(r);
      cJSON_Delete(o);
      return fail_rc(c, rc);
    } else {
      cJSON_AddStringToObject(r, "status", names[status]);
      if (status == IVS_SUBMITTED_REPEAT) cJSON_AddStringToObject(r, "first", names[first]);
    }
    put(res, NULL, r);
  }
  c->wrote = 1;
  answer(c, o);
}

static void do_undo(ivs_api *a, const ivs_work_who *who, ivs_api_call *c, double now) {
  int64_t before;
  if (ivs_serve_int_member(c->body, "before", 0, INT64_C(1) << 53, 0, &before)) return fail(c, 400, ivs_error_message());
  cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
  ivs_next_opts no = next_opts(a, 1, now);
  int rc = ivs_work_undo(a->w, who, before, &no, add_item, items);
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  c->wrote = 1;
  answer(c, o);
}

static void do_progress(ivs_api *a, const ivs_work_who *who, ivs_api_call *c) {
  ivs_work_progress p;
  int rc = ivs_work_progress_get(a->w, who, &p);
  if (rc) return fail_rc(c, rc);
  cJSON *o = cJSON_CreateObject();
  progress_json(o, &p);
  answer(c, o);
}

/* ---- the lead ---- */

typedef struct stats_ctx {
  cJSON *arr;
} stats_ctx;

static cJSON *find_named(cJSON *arr, const char *name) {
  cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
    if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) return e;
  }
  return NULL;
}

static int add_annotator(const ivs_work_annotator *w, void *ud) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", w->name);
  cJSON_AddNumberToObject(o, "done", (double)w->done);
  cJSON_AddNumberToObject(o, "assigned", (double)w->assigned);
  cJSON_AddNumberToObject(o, "skipped", (double)w->skipped);
  cJSON_AddNumberToObject(o, "flagged", (double)w->flagged);
  cJSON_AddNumberToObject(o, "leases", (double)w->live_leases);
  cJSON_AddNullToObject(o, "median_seconds");
  cJSON_AddNumberToObject(o, "gold_judgments", 0);
  cJSON_AddNumberToObject(o, "gold_correct", 0);
  cJSON_AddNullToObject(o, "gold_accuracy");
  put(ud, NULL, o);
  return 0;
}

/* The annotator report's numbers (ivs_annotator_stats_list, as `invscale
 * annotator report --batch`) merged into the rows. */
static int add_stats(const ivs_annotator_stats *s, void *ud) {
  cJSON *o = find_named(ud, s->name);
  if (!o) return 0;
  if (s->median_seconds >= 0) cJSON_ReplaceItemInObject(o, "median_seconds", num(s->median_seconds));
  cJSON_ReplaceItemInObject(o, "gold_judgments", cJSON_CreateNumber((double)s->gold_judgments));
  cJSON_ReplaceItemInObject(o, "gold_correct", cJSON_CreateNumber((double)s->gold_correct));
  if (s->gold_judgments)
    cJSON_ReplaceItemInObject(o, "gold_accuracy", num((double)s->gold_correct / (double)s->gold_judgments));
  return 0;
}

static int add_flag(const ivs_work_flag *f, void *ud) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "item", (double)f->item);
  cJSON_AddStringToObject(o, "annotator", f->annotator);
  if (f->note) cJSON_AddStringToObject(o, "note", f->note);
  else cJSON_AddNullToObject(o, "note");
  cJSON_AddStringToObject(o, "created", f->created);
  put(ud, NULL, o);
  return 0;
}

/* A statistic or, when undefined, null with the reason. */
static void add_stat(cJSON *o, const char *key, int rc, double v) {
  if (!rc) {
    put(o, key, num(v));
    return;
  }
  cJSON_AddNullToObject(o, key);
  char k[64];
  snprintf(k, sizeof k, "%s_undefined", key); /* as invscale agreement --format json names it */
  cJSON_AddStringToObject(o, k, ivs_error_message());
}

/* Krippendorff's alpha (nominal) and Fleiss' kappa of the batch's
 * judgments: the calls `invscale agreement --batch B` makes, on the same
 * ratings (ivs_ratings_from_store). */
static int agreement_json(ivs_api *a, cJSON *o) {
  ivs_ratings *r = NULL;
  int rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_ratings_from_store(a->st, a->batch, 0, r);
  if (rc) {
    ivs_ratings_free(r);
    return rc;
  }
  cJSON_AddNumberToObject(o, "items", (double)ivs_ratings_items(r));
  cJSON_AddNumberToObject(o, "annotators", (double)ivs_ratings_annotators(r));
  cJSON_AddNumberToObject(o, "judgments", (double)ivs_ratings_judgments(r));
  double alpha = 0, fleiss = 0;
  int ra = ivs_alpha(r, IVS_LEVEL_NOMINAL, &alpha);
  add_stat(o, "alpha", ra, alpha);
  int rf = ivs_fleiss_kappa(r, &fleiss);
  add_stat(o, "fleiss_kappa", rf, fleiss);
  ivs_ratings_free(r);
  return 0;
}

static void do_summary(ivs_api *a, ivs_api_call *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "batch", a->batch);
  cJSON_AddNumberToObject(o, "per_item", a->per_item);
  int64_t cov[65] = {0}, adj = 0, items = 0;
  int K = a->per_item > 64 ? 64 : a->per_item;
  int rc = ivs_work_coverage(a->st, a->batch_id, K, cov, &adj);
  cJSON *ca = cJSON_AddArrayToObject(o, "coverage");
  for (int k = 0; k <= K; k++) {
    put(ca, NULL, cJSON_CreateNumber((double)cov[k]));
    items += cov[k];
  }
  cJSON_AddNumberToObject(o, "items", (double)items);
  cJSON_AddNumberToObject(o, "complete", (double)cov[K]);
  cJSON_AddNumberToObject(o, "adjudicated", (double)adj);
  cJSON *ann = cJSON_AddArrayToObject(o, "annotators");
  if (!rc) rc = ivs_work_annotators(a->st, a->batch_id, add_annotator, ann);
  if (!rc) rc = ivs_annotator_stats_list(a->st, a->batch, add_stats, ann);
  if (!rc) rc = agreement_json(a, cJSON_AddObjectToObject(o, "agreement"));
  if (!rc) rc = ivs_work_flags(a->st, a->batch_id, 100, add_flag, cJSON_AddArrayToObject(o, "flags"));
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  answer(c, o);
}

static int add_example(const ivs_work_example *e, void *ud) {
  cJSON *o = ud;
  cJSON_AddStringToObject(o, "prompt", e->prompt);
  put(o, "classes", parsed_or_string(e->classes_json));
  cJSON_AddBoolToObject(o, "gold", e->gold);
  if (e->final_label) cJSON_AddStringToObject(o, "final", e->final_label);
  else cJSON_AddNullToObject(o, "final");
  if (e->final_method) cJSON_AddStringToObject(o, "final_method", e->final_method);
  else cJSON_AddNullToObject(o, "final_method");
  cJSON_AddArrayToObject(o, "judgments");
  return 0;
}

static int add_label(const char *annotator, const char *label, void *ud) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "annotator", annotator);
  cJSON_AddStringToObject(j, "label", label);
  put(cJSON_GetObjectItemCaseSensitive(ud, "judgments"), NULL, j);
  return 0;
}

/* The items whose majority has at most max_conf of the judgments (the call
 * `invscale disagreements --batch B` makes), least agreed first, at most 100. */
static void do_disagreements(ivs_api *a, ivs_api_call *c) {
  double maxc = 0.7;
  if (c->max_conf && *c->max_conf) {
    char *end;
    maxc = strtod(c->max_conf, &end);
    if (*end || !(maxc >= 0 && maxc <= 1)) return fail(c, 400, "max: expected a number from 0 to 1");
  }
  ivs_ratings *r = NULL;
  ivs_disagreement *d = NULL;
  size_t n = 0;
  int rc = ivs_ratings_new(&r);
  if (!rc) rc = ivs_ratings_from_store(a->st, a->batch, 0, r);
  if (!rc) rc = ivs_disagreements(r, maxc, &d, &n);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "max_confidence", maxc);
  cJSON_AddNumberToObject(o, "count", (double)n);
  cJSON *arr = cJSON_AddArrayToObject(o, "items");
  for (size_t i = 0; i < n && i < 100 && !rc; i++) {
    cJSON *e = cJSON_CreateObject();
    const char *name = ivs_ratings_item_name(r, d[i].item);
    cJSON_AddNumberToObject(e, "item", strtod(name, NULL));
    cJSON_AddStringToObject(e, "majority", ivs_ratings_label_name(r, d[i].label));
    put(e, "confidence", num(d[i].confidence));
    rc = ivs_work_example_get(a->st, a->batch_id, (int64_t)strtoll(name, NULL, 10), add_example, add_label, e);
    put(arr, NULL, e);
  }
  free(d);
  ivs_ratings_free(r);
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  answer(c, o);
}

static void do_adjudicate(ivs_api *a, ivs_api_call *c) {
  int64_t item;
  const cJSON *label = cJSON_GetObjectItemCaseSensitive(c->body, "label");
  const cJSON *note = cJSON_GetObjectItemCaseSensitive(c->body, "note");
  if (ivs_serve_int_member(c->body, "item", 1, INT64_C(1) << 53, 0, &item) || !item)
    return fail(c, 400, "'item': expected an example id");
  if (!cJSON_IsString(label)) return fail(c, 400, "'label': expected a string");
  if (note && !cJSON_IsNull(note) && (!cJSON_IsString(note) || strlen(note->valuestring) > 2000))
    return fail(c, 400, "'note': expected a string of at most 2000 bytes");
  /* only items of this batch */
  cJSON *tmp = cJSON_CreateObject();
  int rc = ivs_work_example_get(a->st, a->batch_id, item, add_example, NULL, tmp);
  cJSON_Delete(tmp);
  if (!rc) {
    int64_t id;
    if (ivs_annotator_id(a->st, a->lead_name, &id)) rc = ivs_annotator_add(a->st, a->lead_name, NULL, &id);
  }
  if (!rc) rc = ivs_adjudicate(a->st, item, label->valuestring, a->lead_name, cJSON_IsString(note) ? note->valuestring : NULL);
  if (rc) return fail_rc(c, rc);
  c->wrote = 1;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "item", (double)item);
  cJSON_AddStringToObject(o, "final", label->valuestring);
  cJSON_AddStringToObject(o, "by", a->lead_name);
  answer(c, o);
}

static int add_link(const ivs_link_info *l, void *ud) {
  cJSON *o = cJSON_CreateObject();
  if (l->annotator) cJSON_AddStringToObject(o, "annotator", l->annotator);
  else cJSON_AddNullToObject(o, "annotator");
  cJSON_AddStringToObject(o, "role", l->annotator ? "annotator" : "lead");
  if (l->created) cJSON_AddStringToObject(o, "created", l->created);
  else cJSON_AddNullToObject(o, "created");
  if (l->revoked) cJSON_AddStringToObject(o, "revoked", l->revoked);
  else cJSON_AddNullToObject(o, "revoked");
  cJSON_AddBoolToObject(o, "live", l->created && !l->revoked);
  cJSON_AddBoolToObject(o, "assigned", l->assigned);
  put(ud, NULL, o);
  return 0;
}

static void do_links(ivs_api *a, ivs_api_call *c) {
  cJSON *o = cJSON_CreateObject();
  int rc = ivs_link_list(a->st, a->batch, add_link, cJSON_AddArrayToObject(o, "links"));
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  answer(c, o);
}

static void do_link_change(ivs_api *a, ivs_api_call *c) {
  const cJSON *who = cJSON_GetObjectItemCaseSensitive(c->body, "annotator");
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(c->body, "action");
  if (who && !cJSON_IsNull(who) && (!cJSON_IsString(who) || !*who->valuestring || strlen(who->valuestring) > 120))
    return fail(c, 400, "'annotator': expected a name, or null for the lead");
  if (!cJSON_IsString(act) || (strcmp(act->valuestring, "new") && strcmp(act->valuestring, "revoke")))
    return fail(c, 400, "'action': expected \"new\" or \"revoke\"");
  const char *name = cJSON_IsString(who) ? who->valuestring : NULL;
  cJSON *o = cJSON_CreateObject();
  int rc;
  if (!strcmp(act->valuestring, "new")) {
    char tok[IVS_TOKEN_LEN + 1];
    char *link = NULL;
    rc = ivs_link_new(a->st, a->batch, name, tok);
    if (!rc) rc = ivs_serve_link(a->url, name == NULL, tok, &link);
    if (!rc) cJSON_AddStringToObject(o, "link", link);
    free(link);
  } else {
    rc = ivs_link_revoke(a->st, a->batch, name);
    if (!rc) cJSON_AddBoolToObject(o, "revoked", 1);
  }
  memset(a->cache, 0, sizeof a->cache); /* a link changed: resolve again */
  if (rc) {
    cJSON_Delete(o);
    return fail_rc(c, rc);
  }
  c->wrote = 1;
  answer(c, o);
}

void ivs_api_refresh(ivs_api *a) {
  int64_t v = 0;
  if (ivs_work_data_version(a->w, &v) || v != a->data_version) {
    memset(a->cache, 0, sizeof a->cache);
    a->data_version = v;
  }
}

/* The token's link: from the cache, else the store (and then cached). */
static int resolve(ivs_api *a, const char *token, size_t n, ivs_work_who *who) {
  char hex[65];
  ivs_token_hash(token, n, hex);
  size_t slot = (size_t)strtoul((char[9]){hex[0], hex[1], hex[2], hex[3], hex[4], hex[5], hex[6], hex[7], 0}, NULL, 16) %
                (sizeof a->cache / sizeof *a->cache);
  if (!strcmp(a->cache[slot].hash, hex)) {
    *who = a->cache[slot].who;
    return 0;
  }
  int rc = ivs_link_resolve(a->st, token, n, who);
  if (!rc) {
    memcpy(a->cache[slot].hash, hex, sizeof hex);
    a->cache[slot].who = *who;
  }
  return rc;
}

void ivs_api_handle(ivs_api *a, ivs_api_call *c, double now) {
  ivs_json_oom_reset();
  int own = 0, roles = ivs_api_endpoint(c->method, c->path, &own);
  if (roles <= 0) return fail(c, roles ? 405 : 404, roles ? "method not allowed" : "no such endpoint");
  ivs_work_who who;
  int rc = resolve(a, c->token, c->token_len, &who);
  if (rc == IVS_EINVAL || (!rc && who.batch_id != a->batch_id)) return fail(c, 401, "unknown or revoked token");
  if (rc) return fail_rc(c, rc);
  int role = who.annotator_id ? IVS_API_ANNOTATOR : IVS_API_LEAD;
  if (!(roles & role))
    return fail(c, 403, role == IVS_API_LEAD ? "this call is for an annotator's link" : "this call is for the lead's link");
  const char *p = c->path;
  if (!strcmp(p, "session")) do_session(a, &who, c);
  else if (!strcmp(p, "next")) do_next(a, &who, c, now);
  else if (!strcmp(p, "submit")) do_submit(a, &who, c, now);
  else if (!strcmp(p, "undo")) do_undo(a, &who, c, now);
  else if (!strcmp(p, "progress")) do_progress(a, &who, c);
  else if (!strcmp(p, "summary")) do_summary(a, c);
  else if (!strcmp(p, "disagreements")) do_disagreements(a, c);
  else if (!strcmp(p, "adjudicate")) do_adjudicate(a, c);
  else if (!strcmp(p, "links") && !strcmp(c->method, "GET")) do_links(a, c);
  else do_link_change(a, c);
}

/* Request bodies: bounded JSON and the shape of submits. */
#include "serve/body.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

static int depth_ok(const char *d, size_t n) {
  int depth = 0, in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = d[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      if (++depth > 32) return 0;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return 1;
}

int ivs_serve_body_parse(const char *data, size_t n, cJSON **out) {
  *out = NULL;
  if (n > IVS_SERVE_MAX_BODY) return ivs_error_set(IVS_ELIMIT, "request body of %zu bytes: at most %d", n, IVS_SERVE_MAX_BODY);
  if (!depth_ok(data, n)) return ivs_error_set(IVS_EPARSE, "request body nested deeper than 32 levels");
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(data, n, &end, 0);
  if (!j) {
    size_t at = end && end >= data && end <= data + n ? (size_t)(end - data) : 0;
    return ivs_error_set(IVS_EPARSE, "request body: malformed JSON at byte %zu", at);
  }
  /* only white space may follow the value */
  for (const char *p = end; p && p < data + n; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      cJSON_Delete(j);
      return ivs_error_set(IVS_EPARSE, "request body: text after the JSON value at byte %zu", (size_t)(p - data));
    }
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return ivs_error_set(IVS_EPARSE, "request body: expected a JSON object");
  }
  *out = j;
  return 0;
}

int ivs_serve_int_member(const cJSON *body, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *v) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, key);
  if (!m || cJSON_IsNull(m)) {
    *v = dflt;
    return 0;
  }
  double d = m->valuedouble;
  if (!cJSON_IsNumber(m) || !isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
    return ivs_error_set(IVS_EPARSE, "'%s': expected a whole number from %lld to %lld", key, (long long)lo, (long long)hi);
  *v = (int64_t)d;
  return 0;
}

int ivs_serve_submits_parse(const cJSON *body, ivs_work_submit *out, size_t *n) {
  *n = 0;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "submits");
  if (!cJSON_IsArray(a)) return ivs_error_set(IVS_EPARSE, "'submits': expected an array");
  const cJSON *e;
  size_t i = 0;
  cJSON_ArrayForEach(e, a) {
    if (i >= IVS_SERVE_MAX_SUBMITS)
      return ivs_error_set(IVS_ELIMIT, "'submits': at most %d in one request", IVS_SERVE_MAX_SUBMITS);
    if (!cJSON_IsObject(e)) return ivs_error_set(IVS_EPARSE, "submits[%zu]: expected an object", i);
    ivs_work_submit s = {NULL, IVS_SUBMIT_JUDGMENT, 0, NULL, -1, NULL, 0};
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > 64)
      return ivs_error_set(IVS_EPARSE, "submits[%zu].id: expected a string of 1 to 64 bytes", i);
    s.client_id = id->valuestring;
    int64_t v;
    if (ivs_serve_int_member(e, "item", 1, INT64_C(1) << 53, 0, &v) || v == 0)
      return ivs_error_set(IVS_EPARSE, "submits[%zu].item: expected an example id", i);
    s.item = v;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "kind");
    if (k) {
      if (!cJSON_IsString(k)) return ivs_error_set(IVS_EPARSE, "submits[%zu].kind: expected a string", i);
      if (!strcmp(k->valuestring, "judgment")) s.kind = IVS_SUBMIT_JUDGMENT;
      else if (!strcmp(k->valuestring, "skip")) s.kind = IVS_SUBMIT_SKIP;
      else if (!strcmp(k->valuestring, "flag")) s.kind = IVS_SUBMIT_FLAG;
      else return ivs_error_set(IVS_EPARSE, "submits[%zu].kind: expected judgment, skip or flag", i);
    }
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "label");
    if (s.kind == IVS_SUBMIT_JUDGMENT && !cJSON_IsString(l))
      return ivs_error_set(IVS_EPARSE, "submits[%zu].label: expected a string", i);
    if (cJSON_IsString(l)) s.label = l->valuestring;
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(e, "seconds");
    if (sec && !cJSON_IsNull(sec)) {
      if (!cJSON_IsNumber(sec) || !isfinite(sec->valuedouble) || sec->valuedouble < 0)
        return ivs_error_set(IVS_EPARSE, "submits[%zu].seconds: expected a number >= 0", i);
      s.seconds = sec->valuedouble;
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(e, "note");
    if (note && !cJSON_IsNull(note)) {
      if (!cJSON_IsString(note) || strlen(note->valuestring) > 2000)
        return ivs_error_set(IVS_EPARSE, "submits[%zu].note: expected a string of at most 2000 bytes", i);
      s.note = note->valuestring;
    }
    if (ivs_serve_int_member(e, "guideline", 0, INT64_C(1) << 53, 0, &v))
      return ivs_error_set(IVS_EPARSE, "submits[%zu].guideline: expected a version number", i);
    s.guideline = v;
    out[i++] = s;
  }
  *n = i;
  return 0;
}

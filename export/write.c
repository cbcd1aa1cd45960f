#include "export/write.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/pylit.h"
#include "core/utf8.h"

struct ivs_exporter {
  ivs_export_opts o;
  ivs_strlist keys; /* CSV metadata columns */
  ivs_buf line;
  size_t lines;     /* written so far */
};

size_t ivs_exporter_lines(const ivs_exporter *e) { return e->lines; }

static size_t count_nl(const char *s) {
  size_t n = 0;
  for (; (s = strchr(s, '\n')); s++) n++;
  return n;
}

static const char *const task_fields[] = {"prompt", "other_prompt", "classes", "answer_index", "completion"};

static int is_task_field(const char *k) {
  for (size_t i = 0; i < 5; i++)
    if (!strcmp(k, task_fields[i])) return 1;
  return 0;
}

int ivs_exporter_new(ivs_exporter **out, const ivs_export_opts *opts) {
  ivs_exporter *e = calloc(1, sizeof *e);
  if (!e) return ivs_error_set(IVS_ENOMEM, "out of memory");
  e->o = *opts;
  *out = e;
  return 0;
}

void ivs_exporter_free(ivs_exporter *e) {
  if (!e) return;
  ivs_strlist_release(&e->keys);
  ivs_buf_release(&e->line);
  free(e);
}

int ivs_exporter_scan(ivs_exporter *e, const ivs_stored_example *ex) {
  if (!e->o.csv || !ex->metadata_json) return 0;
  cJSON *m = cJSON_Parse(ex->metadata_json);
  if (!m) return ivs_error_set(IVS_ESTORE, "example %lld: stored metadata is not JSON", (long long)ex->id);
  const cJSON *it;
  int rc = 0;
  cJSON_ArrayForEach(it, m) {
    if (is_task_field(it->string)) continue;
    int seen = 0;
    for (size_t i = 0; i < e->keys.n && !seen; i++) seen = !strcmp(e->keys.items[i], it->string);
    if (!seen && (rc = ivs_strlist_push(&e->keys, it->string, strlen(it->string)))) break;
  }
  cJSON_Delete(m);
  return rc;
}

/* One quoted CSV field, then ',' or the line end. */
static int csv_field(ivs_exporter *e, FILE *f, const char *s, int last) {
  if (strstr(s, IVS_NUL)) /* (classes are Python literals, where it is \x00) */
    return ivs_error_set(IVS_EINVAL, "a NUL character (\\u0000, \\x00) cannot be written in a CSV field; export as JSONL");
  e->lines += count_nl(s) + (last ? 1 : 0);
  if (csv_fwrite(f, s, strlen(s)) != 0) return ivs_error_set(IVS_EIO, "write error");
  return fputc(last ? '\n' : ',', f) == EOF ? ivs_error_set(IVS_EIO, "write error") : 0;
}


int ivs_exporter_header(ivs_exporter *e, FILE *f) {
  if (!e->o.csv) return 0;
  const char *cols[4];
  size_t n = 0;
  cols[n++] = "prompt";
  if (e->o.type == IVS_TYPE_SEQUENCE_PROB) {
    cols[n++] = "completion";
  } else {
    if (ivs_type_is_logodds(e->o.type)) cols[n++] = "other_prompt";
    cols[n++] = "classes";
    cols[n++] = "answer_index";
  }
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) rc = csv_field(e, f, cols[i], i + 1 == n && e->keys.n == 0);
  for (size_t i = 0; i < e->keys.n && !rc; i++) rc = csv_field(e, f, e->keys.items[i], i + 1 == e->keys.n);
  return rc;
}

/* classes_json -> strings */
static int classes_of(const ivs_stored_example *ex, ivs_strlist *out) {
  cJSON *a = ex->classes_json ? cJSON_Parse(ex->classes_json) : NULL;
  if (!a || !cJSON_IsArray(a)) {
    cJSON_Delete(a);
    return ivs_error_set(IVS_EINVAL, "example %lld has no classes", (long long)ex->id);
  }
  const cJSON *it;
  int rc = 0;
  cJSON_ArrayForEach(it, a) if (!rc && cJSON_IsString(it)) rc = ivs_strlist_push(out, it->valuestring, strlen(it->valuestring));
  cJSON_Delete(a);
  return rc;
}

static int write_jsonl(ivs_exporter *e, const ivs_stored_example *ex, FILE *f) {
  ivs_buf *b = &e->line;
  ivs_buf_clear(b);
  int rc = ivs_buf_puts(b, "{\"prompt\":");
  if (!rc) rc = ivs_json_put_text(b, ex->prompt, strlen(ex->prompt));
  if (e->o.type == IVS_TYPE_SEQUENCE_PROB) {
    if (!rc) rc = ivs_buf_puts(b, ",\"completion\":");
    if (!rc) rc = ivs_json_put_text(b, ex->completion ? ex->completion : "", ex->completion ? strlen(ex->completion) : 0);
  } else {
    if (!rc && ex->other_prompt) {
      rc = ivs_buf_puts(b, ",\"other_prompt\":");
      if (!rc) rc = ivs_json_put_text(b, ex->other_prompt, strlen(ex->other_prompt));
    }
    ivs_strlist cl = {0};
    if (!rc) rc = classes_of(ex, &cl);
    if (!rc) rc = ivs_buf_puts(b, ",\"classes\":");
    if (!rc && e->o.classes_python) {
      ivs_buf lit = IVS_BUF_INIT;
      rc = ivs_pylist_write(&lit, cl.items, cl.n);
      if (!rc) rc = ivs_json_put_text(b, lit.data, lit.len);
      ivs_buf_release(&lit);
    } else if (!rc) {
      rc = ivs_json_put_text_array(b, cl.items, cl.n);
    }
    ivs_strlist_release(&cl);
    char num[32];
    snprintf(num, sizeof num, ",\"answer_index\":%ld", ex->answer_index);
    if (!rc) rc = ivs_buf_puts(b, num);
  }
  if (!rc && ex->metadata_json) {
    cJSON *m = cJSON_Parse(ex->metadata_json);
    const cJSON *it;
    cJSON_ArrayForEach(it, m) {
      if (rc || is_task_field(it->string)) continue;
      char *v = ivs_json_print(it);
      rc = ivs_buf_putc(b, ',');
      if (!rc) rc = ivs_json_put_text(b, it->string, strlen(it->string));
      if (!rc) rc = ivs_buf_putc(b, ':');
      if (!rc) rc = v ? ivs_buf_puts(b, v) : ivs_error_set(IVS_ENOMEM, "out of memory");
      cJSON_free(v);
    }
    cJSON_Delete(m);
  }
  if (!rc) rc = ivs_buf_puts(b, "}\n");
  e->lines++;
  if (!rc && fwrite(b->data, 1, b->len, f) != b->len) rc = ivs_error_set(IVS_EIO, "write error");
  return rc;
}

static int write_csv(ivs_exporter *e, const ivs_stored_example *ex, FILE *f) {
  int rc = csv_field(e, f, ex->prompt, 0);
  int last_task = e->keys.n == 0;
  if (e->o.type == IVS_TYPE_SEQUENCE_PROB) {
    if (!rc) rc = csv_field(e, f, ex->completion ? ex->completion : "", last_task);
  } else {
    if (!rc && (ivs_type_is_logodds(e->o.type)))
      rc = csv_field(e, f, ex->other_prompt ? ex->other_prompt : "", 0);
    ivs_strlist cl = {0};
    ivs_buf_clear(&e->line);
    if (!rc) rc = classes_of(ex, &cl);
    if (!rc) rc = ivs_pylist_write(&e->line, cl.items, cl.n);
    ivs_strlist_release(&cl);
    if (!rc) rc = csv_field(e, f, e->line.data, 0);
    char num[32];
    snprintf(num, sizeof num, "%ld", ex->answer_index);
    if (!rc) rc = csv_field(e, f, num, last_task);
  }
  cJSON *m = ex->metadata_json ? cJSON_Parse(ex->metadata_json) : NULL;
  for (size_t i = 0; i < e->keys.n && !rc; i++) {
    const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, e->keys.items[i]) : NULL;
    int last = i + 1 == e->keys.n;
    if (!v || cJSON_IsNull(v)) rc = csv_field(e, f, "", last);
    else if (cJSON_IsString(v)) rc = csv_field(e, f, v->valuestring, last);
    else {
      char *t = ivs_json_print(v);
      rc = t ? csv_field(e, f, t, last) : ivs_error_set(IVS_ENOMEM, "out of memory");
      cJSON_free(t);
    }
  }
  cJSON_Delete(m);
  return rc;
}

int ivs_exporter_write(ivs_exporter *e, const ivs_stored_example *ex, FILE *f) {
  int rc = e->o.csv ? write_csv(e, ex, f) : write_jsonl(e, ex, f);
  if (rc == IVS_EINVAL)
    ivs_error_prefix("example %lld (%s:%lld)", (long long)ex->id, ex->source ? ex->source : "?", (long long)ex->line);
  return rc;
}

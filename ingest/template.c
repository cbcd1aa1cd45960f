#include "ingest/template.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/grow.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

int ivs_template_fill(const char *t, const char *const *names, const char *const *values, size_t n, ivs_buf *out) {
  ivs_buf_clear(out);
  int rc = 0;
  for (size_t i = 0; t[i] && !rc;) {
    if ((t[i] == '{' && t[i + 1] == '{') || (t[i] == '}' && t[i + 1] == '}')) {
      rc = ivs_buf_putc(out, t[i]);
      i += 2;
    } else if (t[i] == '}') {
      return ivs_error_set(IVS_EINVAL, "single '}' at character %zu (write '}}' for a literal brace)", i + 1);
    } else if (t[i] == '{') {
      const char *close = strchr(t + i + 1, '}');
      const char *open = strchr(t + i + 1, '{');
      if (!close || (open && open < close))
        return ivs_error_set(IVS_EINVAL, "unclosed '{' at character %zu (write '{{' for a literal brace)", i + 1);
      size_t len = (size_t)(close - t - (long)i - 1);
      size_t k = 0;
      while (k < n && !(strlen(names[k]) == len && !strncmp(names[k], t + i + 1, len))) k++;
      if (k == n) return ivs_error_set(IVS_EINVAL, "placeholder {%.*s} has no filler column", (int)len, t + i + 1);
      rc = ivs_buf_puts(out, values[k]);
      i += len + 2;
    } else {
      rc = ivs_buf_putc(out, t[i++]);
    }
  }
  if (!rc && !out->data) rc = ivs_buf_reserve(out, 0);
  return rc;
}

/* ---- reading the two files into memory ---- */

typedef struct {
  cJSON **rows;
  size_t *lines;
  size_t n, cap;
  const char *path;
} rowset;

static int collect(const ivs_record *rec, void *ud) {
  rowset *rs = ud;
  if (rec->error) return ivs_error_set(IVS_EPARSE, "%s:%zu: %s", rs->path, rec->line, rec->error);
  if (rs->n >= IVS_MAX_EXPANSIONS) return ivs_error_set(IVS_ELIMIT, "%s: too many rows", rs->path);
  size_t cap = rs->cap;
  if (ivs_grow((void **)&rs->rows, &cap, rs->n + 1, sizeof *rs->rows, 64) ||
      ivs_grow((void **)&rs->lines, &rs->cap, rs->n + 1, sizeof *rs->lines, 64))
    return IVS_ENOMEM;
  cJSON *obj = cJSON_CreateObject();
  if (!obj) return ivs_error_set(IVS_ENOMEM, "out of memory");
  rs->rows[rs->n] = obj;
  rs->lines[rs->n++] = rec->line;
  for (size_t i = 0; i < rec->n; i++) {
    const ivs_field *f = &rec->fields[i];
    cJSON *v = f->json ? cJSON_Duplicate(f->json, 1) : cJSON_CreateString(f->str);
    if (!v) return ivs_error_set(IVS_ENOMEM, "out of memory");
    cJSON_AddItemToObject(obj, f->name, v);
  }
  return 0;
}

static void rowset_release(rowset *rs) {
  for (size_t i = 0; i < rs->n; i++) cJSON_Delete(rs->rows[i]);
  free(rs->rows);
  free(rs->lines);
}

/* ---- expansion ---- */

typedef struct {
  const char *path;
  size_t line;
  const char *classes_name;
  const char *const *names;
  const char *const *values;
  size_t n;
  ivs_buf tmp;
} filler;

static int fill_string(filler *fl, const char *field, const char *s, cJSON **out) {
  if (ivs_template_fill(s, fl->names, fl->values, fl->n, &fl->tmp)) {
    if (ivs_error_code() == IVS_EINVAL)
      ivs_error_prefix("%s:%zu: template row, field '%s'", fl->path, fl->line, field);
    return ivs_error_code();
  }
  *out = cJSON_CreateString(fl->tmp.data);
  return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

static int expand_one(filler *fl, const cJSON *tmpl, size_t row_no, ivs_record_fn cb, void *ud) {
  cJSON *obj = cJSON_CreateObject();
  int rc = obj ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
  const cJSON *it;
  cJSON_ArrayForEach(it, tmpl) {
    if (rc) break;
    cJSON *v = NULL;
    int is_classes = !strcmp(it->string, fl->classes_name);
    if (is_classes && (cJSON_IsArray(it) || (cJSON_IsString(it) && it->valuestring[0]))) {
      ivs_strlist cl = {0};
      size_t at;
      if (cJSON_IsString(it)) {
        rc = ivs_pylist_parse(it->valuestring, strlen(it->valuestring), &cl, &at);
        if (rc) {
          ivs_error_prefix("%s:%zu: template row, field '%s', character %zu", fl->path, fl->line, it->string, at + 1);
          break;
        }
      } else {
        const cJSON *c;
        cJSON_ArrayForEach(c, it) {
          if (!cJSON_IsString(c)) {
            rc = ivs_error_set(IVS_EINVAL, "%s:%zu: template row, field '%s': classes must be strings", fl->path, fl->line, it->string);
            break;
          }
          if ((rc = ivs_strlist_push(&cl, c->valuestring, strlen(c->valuestring)))) break;
        }
      }
      v = rc ? NULL : cJSON_CreateArray();
      for (size_t i = 0; !rc && i < cl.n; i++) {
        cJSON *s;
        if (!(rc = fill_string(fl, it->string, cl.items[i], &s))) cJSON_AddItemToArray(v, s);
      }
      ivs_strlist_release(&cl);
    } else if (cJSON_IsString(it)) {
      rc = fill_string(fl, it->string, it->valuestring, &v);
    } else {
      v = cJSON_Duplicate(it, 1);
    }
    if (v) cJSON_AddItemToObject(obj, it->string, v);
  }
  for (size_t i = 0; !rc && i < fl->n; i++)
    if (!cJSON_GetObjectItemCaseSensitive(obj, fl->names[i]))
      cJSON_AddItemToObject(obj, fl->names[i], cJSON_CreateString(fl->values[i]));
  if (!rc && !cJSON_GetObjectItemCaseSensitive(obj, "template_row"))
    cJSON_AddItemToObject(obj, "template_row", cJSON_CreateNumber((double)row_no));
  if (!rc) {
    size_t n = (size_t)cJSON_GetArraySize(obj), k = 0;
    ivs_field *fields = calloc(n, sizeof *fields);
    if (!fields) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    /* strings go over as text, like CSV cells ("0" is a valid answer_index) */
    cJSON_ArrayForEach(it, obj) if (fields) fields[k++] =
        cJSON_IsString(it) ? (ivs_field){it->string, it->valuestring, strlen(it->valuestring), NULL, 0}
                           : (ivs_field){it->string, NULL, 0, it, 0};
    if (fields) {
      ivs_record rec = {fields, n, fl->line, NULL, 0};
      rc = cb(&rec, ud);
      free(fields);
    }
  }
  cJSON_Delete(obj);
  return rc;
}

int ivs_template_expand(const char *template_path, const char *fillers_path, const ivs_template_opts *opts,
                        ivs_record_fn cb, void *ud) {
  rowset tm = {0}, fs = {0};
  tm.path = template_path;
  fs.path = fillers_path;
  const char **names = NULL, **values = NULL;
  char **uniq_store = NULL;
  size_t ncols = 0;
  int rc;
  if (opts->template_is_jsonl) {
    ivs_jsonl_opts jo = {.max_line = opts->max_field * 16};
    rc = ivs_jsonl_read(template_path, &jo, collect, &tm);
  } else {
    ivs_csv_opts co = {.delim = ',', .max_field = opts->max_field};
    rc = ivs_csv_read(template_path, &co, collect, &tm);
  }
  if (rc) goto done;
  ivs_csv_opts fo = {.delim = ',', .max_field = opts->max_field};
  if ((rc = ivs_csv_read(fillers_path, &fo, collect, &fs))) goto done;
  if (!tm.n) {
    rc = ivs_error_set(IVS_EINVAL, "%s: no template rows", template_path);
    goto done;
  }
  if (!fs.n) {
    rc = ivs_error_set(IVS_EINVAL, "%s: no filler rows", fillers_path);
    goto done;
  }
  ncols = (size_t)cJSON_GetArraySize(fs.rows[0]);
  names = calloc(ncols, sizeof *names);
  values = calloc(ncols, sizeof *values);
  if (!names || !values) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  size_t c = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, fs.rows[0]) names[c++] = it->string;

  filler fl = {.path = template_path, .classes_name = ivs_fieldmap_source(opts->map, IVS_F_CLASSES),
               .names = names, .values = values, .n = ncols};
  ivs_buf_init(&fl.tmp, opts->max_field ? opts->max_field * 4 : (size_t)4 << 20);

  if (!opts->product) {
    if ((double)tm.n * (double)fs.n > (double)IVS_MAX_EXPANSIONS) {
      rc = ivs_error_set(IVS_ELIMIT, "%zu templates x %zu filler rows is over the limit of %lu examples", tm.n, fs.n,
                         IVS_MAX_EXPANSIONS);
    }
    for (size_t t = 0; !rc && t < tm.n; t++)
      for (size_t r = 0; !rc && r < fs.n; r++) {
        c = 0;
        cJSON_ArrayForEach(it, fs.rows[r]) values[c++] = it->valuestring;
        fl.line = tm.lines[t];
        rc = expand_one(&fl, tm.rows[t], t + 1, cb, ud);
      }
  } else {
    /* distinct non-empty values per column, in order of first appearance */
    size_t *count = calloc(ncols, sizeof *count), *pos = calloc(ncols, sizeof *pos);
    uniq_store = calloc(ncols * fs.n, sizeof *uniq_store);
    double total = (double)tm.n;
    if (!count || !pos || !uniq_store) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < ncols; k++) {
      for (size_t r = 0; r < fs.n; r++) {
        char *v = cJSON_GetArrayItem(fs.rows[r], (int)k)->valuestring;
        int seen = !v[0];
        for (size_t j = 0; j < count[k] && !seen; j++) seen = !strcmp(uniq_store[k * fs.n + j], v);
        if (!seen) uniq_store[k * fs.n + count[k]++] = v;
      }
      total *= (double)count[k];
    }
    if (!rc && total > (double)IVS_MAX_EXPANSIONS)
      rc = ivs_error_set(IVS_ELIMIT, "the product of the filler columns gives %.0f examples, over the limit of %lu",
                         total, IVS_MAX_EXPANSIONS);
    if (!rc && total == 0) rc = ivs_error_set(IVS_EINVAL, "%s: a filler column has no values", fillers_path);
    for (size_t t = 0; !rc && t < tm.n; t++) {
      memset(pos, 0, ncols * sizeof *pos);
      for (;;) {
        for (size_t k = 0; k < ncols; k++) values[k] = uniq_store[k * fs.n + pos[k]];
        fl.line = tm.lines[t];
        if ((rc = expand_one(&fl, tm.rows[t], t + 1, cb, ud))) break;
        size_t k = ncols;
        while (k > 0 && ++pos[k - 1] == count[k - 1]) pos[--k] = 0;
        if (k == 0) break;
      }
    }
    free(count);
    free(pos);
  }
  ivs_buf_release(&fl.tmp);
done:
  free(names);
  free(values);
  free(uniq_store);
  rowset_release(&tm);
  rowset_release(&fs);
  return rc;
}

#include "ingest/record.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/json.h"
#include "core/utf8.h"

const char *const ivs_task_field_names[IVS_F_COUNT] = {"prompt", "classes", "answer_index", "other_prompt",
                                                       "completion"};

int ivs_fieldmap_parse(ivs_fieldmap *m, const char *spec) {
  const char *p = spec;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (!eq || eq == p || eq == p + n - 1)
      return ivs_error_set(IVS_EUSAGE, "--map: expected FIELD=COLUMN, got '%.*s'", (int)n, p);
    int f = -1;
    for (int i = 0; i < IVS_F_COUNT; i++)
      if (strlen(ivs_task_field_names[i]) == (size_t)(eq - p) && !strncmp(p, ivs_task_field_names[i], (size_t)(eq - p)))
        f = i;
    if (f < 0)
      return ivs_error_set(IVS_EUSAGE,
                           "--map: unknown task field '%.*s' (prompt, classes, answer_index, other_prompt, completion)",
                           (int)(eq - p), p);
    free(m->src[f]);
    m->src[f] = strndup(eq + 1, (size_t)(p + n - eq - 1));
    if (!m->src[f]) return ivs_error_set(IVS_ENOMEM, "out of memory");
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

void ivs_fieldmap_release(ivs_fieldmap *m) {
  for (int i = 0; i < IVS_F_COUNT; i++) {
    free(m->src[i]);
    m->src[i] = NULL;
  }
}

const char *ivs_fieldmap_source(const ivs_fieldmap *m, int f) {
  return m && m->src[f] ? m->src[f] : ivs_task_field_names[f];
}

void ivs_ingest_ctx_release(ivs_ingest_ctx *ctx) { ivs_strlist_release(&ctx->fixed_classes); }

const ivs_field *ivs_record_field(const ivs_record *rec, const char *name, const char *alt) {
  for (size_t i = 0; i < rec->n; i++)
    if (!strcmp(rec->fields[i].name, name) || (alt && !strcmp(rec->fields[i].name, alt))) return &rec->fields[i];
  return NULL;
}

const char *ivs_field_text(const ivs_field *f, char *buf, size_t cap) {
  if (!f) return NULL;
  if (!f->json) return f->str;
  if (cJSON_IsString(f->json)) return f->json->valuestring;
  if (cJSON_IsNumber(f->json)) {
    snprintf(buf, cap, "%.17g", f->json->valuedouble);
    return buf;
  }
  return NULL;
}

const ivs_old_name ivs_old_names[IVS_OLD_NAMES] = {
    {"biased_prompt", IVS_F_OTHER_PROMPT}, /* the prize's first round */
    {"filled_template", IVS_F_PROMPT},     /* the prize pipeline's own task files */
    {"answer_ix", IVS_F_ANSWER_INDEX},     /* the same */
    {"answer_idx", IVS_F_ANSWER_INDEX},    /* other participants' files */
};

/* The field for task field f: the mapped name, or when f is not mapped and
 * absent, one of its old names (*old gets that name's index + 1). */
static const ivs_field *task_field(const ivs_record *rec, const ivs_fieldmap *map, int f, int *old) {
  const ivs_field *x = ivs_record_field(rec, ivs_fieldmap_source(map, f), NULL);
  for (int k = 0; !x && k < IVS_OLD_NAMES && !(map && map->src[f]); k++)
    if (ivs_old_names[k].field == f && (x = ivs_record_field(rec, ivs_old_names[k].name, NULL)) && old) *old = k + 1;
  return x;
}

/* A required field missing from a table's header: said once, with the
 * columns the file has and the --map that would read one of them. */
static int missing_field(const ivs_ingest_ctx *ctx, const ivs_record *rec, int f) {
  static const char *const hints[IVS_F_COUNT][8] = {
      {"question", "text", "input", "query", "sentence", "statement", "instruction", "context"},
      {"options", "choices", "labels", "answers", "targets"},
      {"label", "answer", "target", "gold", "correct"},
      {"biased", "other", "control"},
      {"answer", "target", "output", "response", "continuation"}};
  const char *hint = NULL;
  char have[400] = "";
  size_t len = 0;
  for (size_t i = 0; i < rec->n; i++) {
    const char *name = rec->fields[i].name;
    if (len + strlen(name) + 8 < sizeof have) len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "", name);
    else if (len + 6 < sizeof have) len += (size_t)snprintf(have + len, sizeof have - len, ", ...");
    for (int k = 0; k < 8 && hints[f][k] && !hint; k++)
      if (!strcasecmp(name, hints[f][k])) hint = name;
  }
  if (!hint && f == IVS_F_PROMPT && rec->n) hint = rec->fields[0].name;
  const char *name = ivs_task_field_names[f];
  return ivs_error_set(IVS_EPARSE, "%s: no '%s' column (the header has: %s); %s --map %s=%s", ctx->path,
                       ivs_fieldmap_source(ctx->map, f), rec->n ? have : "nothing",
                       hint ? "to read it from one of them:" : "name the column to read with", name, hint ? hint : "COLUMN");
}

int ivs_type_infer(const ivs_record *rec, const ivs_fieldmap *map, ivs_task_type *out) {
  if (task_field(rec, map, IVS_F_OTHER_PROMPT, NULL)) *out = IVS_TYPE_LOGODDS;
  else if (task_field(rec, map, IVS_F_COMPLETION, NULL)) *out = IVS_TYPE_SEQUENCE_PROB;
  else if (task_field(rec, map, IVS_F_CLASSES, NULL)) *out = IVS_TYPE_CLASSIFICATION;
  else if (task_field(rec, map, IVS_F_PROMPT, NULL)) *out = IVS_TYPE_CLASSIFICATION; /* prompts to be labelled */
  else
    return ivs_error_set(IVS_EUSAGE, "cannot infer the task type: no '%s' field; use --map or --type",
                         ivs_fieldmap_source(map, IVS_F_PROMPT));
  return 0;
}

static int diag_set(ivs_diag *d, const ivs_record *rec, const ivs_field *f, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int diag_set(ivs_diag *d, const ivs_record *rec, const ivs_field *f, const char *field, const char *fmt, ...) {
  va_list ap;
  d->line = rec->line;
  d->column = f ? f->column : 0;
  snprintf(d->field, sizeof d->field, "%s", field ? field : "");
  va_start(ap, fmt);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  ivs_nul_visible(d->message);
  va_end(ap);
  return IVS_EINVAL;
}

/* Quotes up to 40 bytes of text starting at s for a message (no cut UTF-8). */
static void snippet(char *out, size_t cap, const char *s, size_t n) {
  size_t k = n < 40 ? n : 40;
  while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
  size_t j = 0;
  for (size_t i = 0; i < k && j + 3 < cap; i++) {
    char c = s[i];
    if (c == '\n') {
      out[j++] = '\\';
      out[j++] = 'n';
    } else {
      out[j++] = c;
    }
  }
  out[j] = '\0';
  if (k < n && j + 4 < cap) strcat(out, "...");
}

static int take_string(const ivs_record *rec, const ivs_field *f, const char *name, char **out, ivs_diag *d) {
  if (f->json) {
    if (cJSON_IsNull(f->json)) return 0;
    if (!cJSON_IsString(f->json)) return diag_set(d, rec, f, name, "%s must be a string", name);
    *out = strdup(f->json->valuestring);
  } else {
    *out = strndup(f->str, f->len);
  }
  return *out ? 0 : ivs_error_set(IVS_ENOMEM, "out of memory");
}

static int take_classes(const ivs_record *rec, const ivs_field *f, ivs_example *ex, ivs_diag *d) {
  const char *text;
  size_t len;
  int rc;
  if (f->json && cJSON_IsArray(f->json)) {
    const cJSON *it;
    cJSON_ArrayForEach(it, f->json) {
      if (!cJSON_IsString(it)) return diag_set(d, rec, f, "classes", "classes must be a list of strings");
      if ((rc = ivs_strlist_push(&ex->classes, it->valuestring, strlen(it->valuestring)))) {
        if (rc == IVS_ELIMIT) return diag_set(d, rec, f, "classes", "%s", ivs_error_message());
        return rc;
      }
    }
    ex->has_classes = 1;
    return 0;
  }
  if (f->json) {
    if (cJSON_IsNull(f->json)) return 0;
    if (!cJSON_IsString(f->json))
      return diag_set(d, rec, f, "classes", "classes must be a list of strings or a string holding one");
    text = f->json->valuestring;
    len = strlen(text);
  } else {
    text = f->str;
    len = f->len;
  }
  if (len == 0) return 0; /* an empty cell: no classes */
  size_t at = 0;
  rc = ivs_pylist_parse(text, len, &ex->classes, &at);
  if (rc == IVS_EPARSE || rc == IVS_ELIMIT) {
    char snip[200];
    snippet(snip, sizeof snip, text + at, len - at);
    return diag_set(d, rec, f, "classes", "%s at character %zu of the value: %s", ivs_error_message(),
                    ivs_utf8_count(text, at) + 1, snip);
  }
  if (rc) return rc;
  ex->has_classes = 1;
  return 0;
}

static int parse_index_text(const char *s, size_t n, long *out) {
  if (n == 0 || n > 18) return -1;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == n) return -1;
  long v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = s[0] == '-' ? -v : v;
  return 0;
}

static int take_answer(const ivs_record *rec, const ivs_field *f, ivs_example *ex, ivs_diag *d) {
  long v;
  if (f->json) {
    if (cJSON_IsNull(f->json)) return 0;
    double x = f->json->valuedouble;
    if (!cJSON_IsNumber(f->json) || x != floor(x) || fabs(x) > 1e15)
      return diag_set(d, rec, f, "answer_index", "answer_index must be an integer");
    v = (long)x;
  } else {
    if (f->len == 0) return 0; /* an empty cell: not labelled yet */
    if (parse_index_text(f->str, f->len, &v)) {
      char snip[200];
      snippet(snip, sizeof snip, f->str, f->len);
      return diag_set(d, rec, f, "answer_index", "answer_index must be an integer, got '%s'", snip);
    }
  }
  if (v < 0) return diag_set(d, rec, f, "answer_index", "answer_index %ld is negative", v);
  ex->answer_index = v;
  return 0;
}

/* Every field that is not a task field, as a JSON object (NULL when none). */
static int build_metadata(const ivs_record *rec, const ivs_field **used, ivs_example *ex) {
  ivs_buf b = IVS_BUF_INIT;
  int rc = 0;
  for (size_t i = 0; i < rec->n && !rc; i++) {
    const ivs_field *f = &rec->fields[i];
    int is_used = 0;
    for (int k = 0; k < IVS_F_COUNT; k++)
      if (used[k] == f) is_used = 1;
    if (is_used) continue;
    rc = ivs_buf_putc(&b, b.len ? ',' : '{');
    if (!rc) rc = ivs_json_put_string(&b, f->name, strlen(f->name));
    if (!rc) rc = ivs_buf_putc(&b, ':');
    if (rc) break;
    if (f->json) {
      char *text = cJSON_PrintUnformatted(f->json);
      rc = text ? ivs_buf_puts(&b, text) : ivs_error_set(IVS_ENOMEM, "out of memory");
      cJSON_free(text);
    } else {
      rc = ivs_json_put_string(&b, f->str, f->len);
    }
  }
  if (!rc && b.len) rc = ivs_buf_putc(&b, '}');
  if (rc) {
    ivs_buf_release(&b);
    return rc;
  }
  ex->metadata = b.len ? ivs_buf_detach(&b, NULL) : NULL;
  ivs_buf_release(&b);
  return 0;
}

int ivs_ingest_convert(ivs_ingest_ctx *ctx, const ivs_record *rec, ivs_example *ex, ivs_diag *diag) {
  int rc = 0;
  ivs_example_init(ex);
  ex->line = rec->line;
  if (rec->error) {
    diag_set(diag, rec, NULL, "", "%s", rec->error);
    diag->column = rec->error_column;
    return IVS_EINVAL;
  }
  /* The fields every record needs, checked once on the first record of a file
   * with a header (a CSV, TSV or template; XML fields are given by name).  In
   * JSON Lines each record has its own keys: a record without them is
   * invalid on its own. */
  if (!ctx->first_seen && !(rec->n && rec->fields[0].json)) {
    ctx->first_seen = 1;
    if (!task_field(rec, ctx->map, IVS_F_PROMPT, NULL)) return missing_field(ctx, rec, IVS_F_PROMPT);
    if (ctx->type == IVS_TYPE_SEQUENCE_PROB && !task_field(rec, ctx->map, IVS_F_COMPLETION, NULL))
      return missing_field(ctx, rec, IVS_F_COMPLETION);
    if (ivs_type_is_logodds(ctx->type) && !task_field(rec, ctx->map, IVS_F_OTHER_PROMPT, NULL))
      return missing_field(ctx, rec, IVS_F_OTHER_PROMPT);
  }
  if (ctx->type == IVS_TYPE_AUTO) {
    if ((rc = ivs_type_infer(rec, ctx->map, &ctx->type))) return rc;
    ctx->type_inferred = 1;
  }
  ex->type = ctx->type;
  int logodds = ivs_type_is_logodds(ex->type);
  const ivs_field *used[IVS_F_COUNT] = {0};
  for (int f = 0; f < IVS_F_COUNT; f++) {
    if (ex->type == IVS_TYPE_SEQUENCE_PROB && (f == IVS_F_CLASSES || f == IVS_F_ANSWER_INDEX || f == IVS_F_OTHER_PROMPT))
      continue;
    if (ex->type != IVS_TYPE_SEQUENCE_PROB && f == IVS_F_COMPLETION) continue;
    if (!logodds && f == IVS_F_OTHER_PROMPT) continue;
    int old = 0;
    used[f] = task_field(rec, ctx->map, f, &old);
    if (old) ctx->old_name_rows[old - 1]++;
  }
  ctx->biased_prompt_rows = ctx->old_name_rows[0];

  if (used[IVS_F_PROMPT] && (rc = take_string(rec, used[IVS_F_PROMPT], "prompt", &ex->prompt, diag))) goto fail;
  if (used[IVS_F_OTHER_PROMPT] &&
      (rc = take_string(rec, used[IVS_F_OTHER_PROMPT], "other_prompt", &ex->other_prompt, diag)))
    goto fail;
  if (used[IVS_F_COMPLETION] && (rc = take_string(rec, used[IVS_F_COMPLETION], "completion", &ex->completion, diag)))
    goto fail;
  if (used[IVS_F_CLASSES] && (rc = take_classes(rec, used[IVS_F_CLASSES], ex, diag))) goto fail;
  if (!ex->has_classes && ctx->has_fixed_classes && ex->type != IVS_TYPE_SEQUENCE_PROB) {
    for (size_t i = 0; i < ctx->fixed_classes.n; i++)
      if ((rc = ivs_strlist_push(&ex->classes, ctx->fixed_classes.items[i], strlen(ctx->fixed_classes.items[i]))))
        goto fail;
    ex->has_classes = 1;
  }
  if (used[IVS_F_ANSWER_INDEX] && (rc = take_answer(rec, used[IVS_F_ANSWER_INDEX], ex, diag))) goto fail;
  if (!ex->prompt) {
    rc = diag_set(diag, rec, NULL, "prompt", "missing field '%s'", ivs_fieldmap_source(ctx->map, IVS_F_PROMPT));
    goto fail;
  }
  const char *bad_field = NULL;
  if ((rc = ivs_example_check(ex, &bad_field))) {
    const ivs_field *src = NULL;
    for (int f = 0; f < IVS_F_COUNT; f++)
      if (!strcmp(ivs_task_field_names[f], bad_field)) src = used[f];
    rc = diag_set(diag, rec, src, bad_field, "%s", ivs_error_message());
    goto fail;
  }
  if (!ctx->drop_extra && (rc = build_metadata(rec, used, ex))) goto fail;
  size_t plen = strlen(ex->prompt);
  if (plen && strchr(" \t\r\n\f\v", ex->prompt[plen - 1])) ctx->trailing_space_rows++;
  return 0;
fail:
  ivs_example_release(ex);
  return rc;
}

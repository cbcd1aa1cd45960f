#include "ingest/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "ingest/pipeline.h"
#include "ingest/taskfile.h"
#include "ingest/template.h"

static const char *const format_names[] = {"csv", "jsonl", "text", "template", "xml", "html"};

int ivs_source_format_parse(const char *name, ivs_source_format *out) {
  for (int i = 0; i < 6; i++)
    if (!strcmp(name, format_names[i])) {
      *out = (ivs_source_format)i;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE, "unknown format '%s' (csv, jsonl, text, template, xml, html)", name);
}

const char *ivs_source_format_name(ivs_source_format f) { return format_names[f]; }

typedef struct {
  ivs_store *st;
  ivs_ingest_ctx ctx;
  int64_t import_id;
  const ivs_import_opts *o;
  ivs_import_result *res;
} session;

/* Runs on the calling thread: stores an example or records a reject. */
static int consume(ivs_item *it, void *ud) {
  session *s = ud;
  ivs_import_result *r = s->res;
  if (it->is_reject) {
    const ivs_diag *d = &it->diag;
    r->invalid++;
    if (s->o->strict) {
      if (d->column)
        return ivs_error_set(IVS_EINVAL, "%s:%zu:%zu: %s%s%s (--strict: nothing imported)", s->ctx.path, d->line,
                             d->column, d->field, d->field[0] ? ": " : "", d->message);
      return ivs_error_set(IVS_EINVAL, "%s:%zu: %s%s%s (--strict: nothing imported)", s->ctx.path, d->line, d->field,
                           d->field[0] ? ": " : "", d->message);
    }
    if (r->n_rejects < IVS_IMPORT_REJECTS_KEPT) r->rejects[r->n_rejects++] = *d;
    return 0;
  }
  int added = 0;
  int rc = ivs_store_add_example(s->st, s->import_id, s->o->tag, &it->ex, &added);
  if (rc) return rc;
  if (added) r->imported++;
  else r->duplicates++;
  return 0;
}

/* What the worker thread parses. */
typedef struct {
  const char *path;
  const ivs_import_opts *o;
  size_t max_field;
  size_t trimmed;
  ivs_strlist *notes;
  int note_rc;
} parse_job;

/* A note of the CSV reader, kept as "LINE:COLUMN: text" (on the worker thread;
 * the result is read only after the parse). */
static void on_note(size_t line, size_t column, const char *text, void *ud) {
  parse_job *j = ud;
  char note[300];
  int n = snprintf(note, sizeof note, "%zu:%zu: %s", line, column, text);
  if (!j->note_rc && n > 0) j->note_rc = ivs_strlist_push(j->notes, note, strlen(note));
}

static int run_parser(void *ud, ivs_record_fn cb, void *cb_ud) {
  parse_job *j = ud;
  const ivs_import_opts *o = j->o;
  size_t max = j->max_field;
  ivs_taskfile_kind kind;
  switch (o->format) {
  case IVS_SOURCE_CSV: {
    /* the format is the caller's; the task-file reader only finds a TSV */
    int tsv = o->tsv || (!ivs_taskfile_detect(j->path, IVS_TASKFILE_ANY_TABLE, &kind) && kind.format == IVS_TASKFILE_TSV);
    ivs_csv_opts co = {.delim = tsv ? '\t' : ',', .max_field = max, .map = o->map, .progress = o->progress,
                       .progress_ud = o->progress_ud, .on_note = on_note, .note_ud = j};
    int rc = ivs_csv_read(j->path, &co, cb, cb_ud);
    return rc ? rc : j->note_rc;
  }
  case IVS_SOURCE_JSONL: {
    ivs_jsonl_opts jo = {.max_line = max * 16, .progress = o->progress, .progress_ud = o->progress_ud, .transient = 1};
    return ivs_jsonl_read(j->path, &jo, cb, cb_ud);
  }
  case IVS_SOURCE_TEXT: {
    ivs_text_opts to = {.unit = o->unit, .max_field = max, .progress = o->progress, .progress_ud = o->progress_ud};
    return ivs_text_read(j->path, &to, cb, cb_ud, &j->trimmed);
  }
  case IVS_SOURCE_TEMPLATE: {
    int jsonl = !ivs_taskfile_detect(j->path, IVS_TASKFILE_ANY_TABLE, &kind) && kind.format == IVS_TASKFILE_JSONL;
    ivs_template_opts tp = {.product = o->product, .template_is_jsonl = jsonl, .map = o->map, .max_field = max};
    return ivs_template_expand(j->path, o->fill, &tp, cb, cb_ud);
  }
  default: {
    ivs_xml_opts xo = {.html = o->format == IVS_SOURCE_HTML, .record_xpath = o->record, .fields = o->fields,
                       .n_fields = o->n_fields, .classes_name = ivs_fieldmap_source(o->map, IVS_F_CLASSES),
                       .max_input = max * 256};
    return ivs_xml_read(j->path, &xo, cb, cb_ud);
  }
  }
}

void ivs_import_result_release(ivs_import_result *res) {
  free(res->rejects);
  ivs_strlist_release(&res->notes);
  memset(res, 0, sizeof *res);
}

int ivs_import_opts_check(const ivs_import_opts *o) {
  if (o->format == IVS_SOURCE_TEMPLATE && !o->fill) return ivs_error_set(IVS_EUSAGE, "template needs --fill FILLERS.csv");
  if ((o->format == IVS_SOURCE_XML || o->format == IVS_SOURCE_HTML) && (!o->record || !o->n_fields))
    return ivs_error_set(IVS_EUSAGE, "%s needs --record XPATH and at least one --field NAME=XPATH",
                         ivs_source_format_name(o->format));
  return 0;
}

int ivs_import_run(ivs_store *st, const char *path, const ivs_import_opts *o, ivs_import_result *res) {
  static const ivs_fieldmap no_map;
  memset(res, 0, sizeof *res);
  int rc = ivs_import_opts_check(o);
  if (rc) return rc;
  session s;
  memset(&s, 0, sizeof s);
  s.st = st, s.o = o, s.res = res;
  s.ctx.path = path;
  s.ctx.map = o->map ? o->map : &no_map;
  s.ctx.type = o->type == IVS_TYPE_AUTO && o->format == IVS_SOURCE_TEXT ? IVS_TYPE_CLASSIFICATION : o->type;
  if (o->classes) {
    s.ctx.has_fixed_classes = 1;
    for (size_t i = 0; i < o->classes->n && !rc; i++) rc = ivs_strlist_push(&s.ctx.fixed_classes, o->classes->items[i], strlen(o->classes->items[i]));
  }
  if (!rc && !(res->rejects = calloc(IVS_IMPORT_REJECTS_KEPT, sizeof *res->rejects)))
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  if (rc) goto out;
  if ((rc = ivs_store_begin_bulk(st))) goto out;
  parse_job job = {path, o, o->max_field ? o->max_field : IVS_DEFAULT_MAX_FIELD, 0, &res->notes, 0};
  rc = ivs_store_import_start(st, path, ivs_source_format_name(o->format), o->tag, &s.import_id);
  if (!rc) rc = ivs_pipeline_run(run_parser, &job, &s.ctx, consume, &s);
  if (!rc) rc = ivs_store_import_finish(st, s.import_id, res->imported, res->duplicates, res->invalid);
  int committed = 0;
  if (!rc && res->imported) committed = !(rc = ivs_store_commit(st));
  if (!committed) { /* a failure, or nothing new: the store exactly as it was */
    char why[1024];
    snprintf(why, sizeof why, "%s", ivs_error_message());
    ivs_store_rollback(st);
    if (rc) ivs_error_set(rc, "%s", why);
  }
  res->trimmed = job.trimmed;
out:
  res->type = s.ctx.type;
  res->type_inferred = s.ctx.type_inferred;
  res->biased_prompt_rows = s.ctx.biased_prompt_rows;
  memcpy(res->old_name_rows, s.ctx.old_name_rows, sizeof res->old_name_rows);
  res->trailing_space_rows = s.ctx.trailing_space_rows;
  ivs_ingest_ctx_release(&s.ctx);
  return rc;
}

#include "label/crowd.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <stdarg.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/hash.h"
#include "core/json.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"
#include "store/db.h"
#include "ingest/xml.h"
#include "label/triples.h"

static int prep(ivs_store *st, sqlite3_stmt **s, const char *sql) {
  if (sqlite3_prepare_v2(ivs_store_db(st), sql, -1, s, NULL) != SQLITE_OK) return ivs_store_fail(st, "cannot prepare");
  return 0;
}

static void text(sqlite3_stmt *s, int i, const char *v) {
  if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(s, i);
}

/* ---- annotators ---- */

static int annotator_id(ivs_store *st, const char *name, int64_t *id) {
  sqlite3_stmt *s;
  int rc = prep(st, &s, "SELECT id FROM annotators WHERE name = ?1");
  if (rc) return rc;
  text(s, 1, name);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) *id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return step == SQLITE_ROW ? 0 : ivs_error_set(IVS_EINVAL, "no annotator '%s' (add it with: invscale annotator add %s)",
                                                name, name);
}

int ivs_annotator_add(ivs_store *st, const char *name, const char *external_id, int64_t *id) {
  sqlite3_stmt *s;
  int rc = prep(st, &s, "INSERT INTO annotators (name, external_id) VALUES (?1, ?2)");
  if (rc) return rc;
  text(s, 1, name);
  text(s, 2, external_id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step == SQLITE_CONSTRAINT)
    return ivs_error_set(IVS_EINVAL, "an annotator named '%s'%s%s already exists", name,
                         external_id ? " or with external id " : "", external_id ? external_id : "");
  if (step != SQLITE_DONE) return ivs_store_fail(st, "cannot add the annotator");
  if (id) *id = sqlite3_last_insert_rowid(ivs_store_db(st));
  return 0;
}

int ivs_annotator_list(ivs_store *st, ivs_annotator_fn fn, void *ud) {
  sqlite3_stmt *s;
  int rc = prep(st, &s,
                "SELECT a.name, a.external_id, (SELECT count(*) FROM judgments j WHERE j.annotator_id = a.id)"
                " FROM annotators a ORDER BY a.name");
  if (rc) return rc;
  while (!rc && sqlite3_step(s) == SQLITE_ROW)
    rc = fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2),
            ud);
  sqlite3_finalize(s);
  return rc;
}

/* ---- batches ---- */

static void shuffle(int64_t *a, size_t n, uint64_t *seed) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(ivs_splitmix(seed) % i);
    int64_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

/* Example ids for a query with ?1 = tag. */
static int ids(ivs_store *st, const char *sql, const char *tag, int64_t **out, size_t *n) {
  sqlite3_stmt *s;
  int rc = prep(st, &s, sql);
  if (rc) return rc;
  text(s, 1, tag);
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 256;
      int64_t *p = realloc(*out, cap * sizeof *p);
      if (!p) {
        sqlite3_finalize(s);
        return ivs_error_set(IVS_ENOMEM, "out of memory");
      }
      *out = p;
    }
    (*out)[(*n)++] = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return 0;
}

int ivs_batch_create(ivs_store *st, const ivs_batch_opts *o, size_t *n_items, size_t *n_gold) {
  if (!o->per_item) return ivs_error_set(IVS_EUSAGE, "--per-item must be at least 1");
  if (o->annotators && o->per_item > o->n_annotators)
    return ivs_error_set(IVS_EUSAGE, "--per-item %zu is more than the %zu annotators named: an item cannot go twice to one annotator",
                         o->per_item, o->n_annotators);
  int64_t *items = NULL, *gold = NULL, *all = NULL, *ann = NULL;
  size_t ni = 0, ng = 0;
  uint64_t seed = o->seed;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  rc = ids(st,
           "SELECT id FROM examples e WHERE classes IS NOT NULL AND answer_index IS NULL AND (?1 IS NULL OR tag = ?1)"
           " AND type <> 'sequence_prob' AND NOT EXISTS (SELECT 1 FROM batch_items b WHERE b.example_id = e.id) ORDER BY id",
           o->tag, &items, &ni);
  if (!rc) rc = ids(st, "SELECT id FROM examples WHERE classes IS NOT NULL AND answer_index IS NOT NULL"
                        " AND (?1 IS NULL OR tag = ?1) AND type <> 'sequence_prob' ORDER BY id", o->tag, &gold, &ng);
  if (rc) goto done;
  shuffle(items, ni, &seed);
  if (o->size && o->size < ni) ni = o->size;
  if (o->gold > ng) {
    rc = ivs_error_set(IVS_EINVAL, "--gold %zu: only %zu examples with a known answer", o->gold, ng);
    goto done;
  }
  shuffle(gold, ng, &seed);
  ng = o->gold;
  if (ni + ng == 0) {
    rc = ivs_error_set(IVS_EINVAL, "empty batch: no example with classes is waiting for labels%s%s", o->tag ? " with tag " : "",
                       o->tag ? o->tag : "");
    goto done;
  }
  all = malloc((ni + ng) * sizeof *all);
  ann = calloc(o->n_annotators ? o->n_annotators : 1, sizeof *ann);
  if (!all || !ann) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  memcpy(all, items, ni * sizeof *all);
  memcpy(all + ni, gold, ng * sizeof *all);
  shuffle(all, ni + ng, &seed); /* gold at random positions */
  for (size_t a = 0; a < o->n_annotators && !rc; a++) rc = annotator_id(st, o->annotators[a], &ann[a]);
  if (rc) goto done;
  shuffle(ann, o->n_annotators, &seed);
  sqlite3_stmt *s;
  if ((rc = prep(st, &s, "INSERT INTO batches (name, per_item, seed) VALUES (?1, ?2, ?3)"))) goto done;
  text(s, 1, o->name);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)o->per_item);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)o->seed);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step == SQLITE_CONSTRAINT) {
    rc = ivs_error_set(IVS_EINVAL, "a batch named '%s' already exists", o->name);
    goto done;
  }
  if (step != SQLITE_DONE) {
    rc = ivs_store_fail(st, "cannot create the batch");
    goto done;
  }
  int64_t bid = sqlite3_last_insert_rowid(ivs_store_db(st));
  sqlite3_stmt *bi = NULL, *as = NULL;
  if ((rc = prep(st, &bi, "INSERT INTO batch_items (batch_id, example_id, position, gold) VALUES (?1, ?2, ?3, ?4)")) ||
      (rc = prep(st, &as, "INSERT INTO assignments (batch_id, example_id, slot, annotator_id) VALUES (?1, ?2, ?3, ?4)"))) {
    sqlite3_finalize(bi);
    goto done;
  }
  for (size_t p = 0; p < ni + ng && !rc; p++) {
    int is_gold = 0;
    for (size_t g = ni; g < ni + ng; g++) is_gold |= gold[g - ni] == all[p];
    sqlite3_reset(bi);
    sqlite3_bind_int64(bi, 1, bid);
    sqlite3_bind_int64(bi, 2, all[p]);
    sqlite3_bind_int64(bi, 3, (sqlite3_int64)p + 1);
    sqlite3_bind_int(bi, 4, is_gold);
    if (sqlite3_step(bi) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot add a batch item");
    for (size_t k = 0; k < o->per_item && !rc; k++) {
      sqlite3_reset(as);
      sqlite3_bind_int64(as, 1, bid);
      sqlite3_bind_int64(as, 2, all[p]);
      sqlite3_bind_int64(as, 3, (sqlite3_int64)k + 1);
      /* a rotation over the shuffled annotators: K distinct per item, loads even */
      if (o->n_annotators) sqlite3_bind_int64(as, 4, ann[(p * o->per_item + k) % o->n_annotators]);
      else sqlite3_bind_null(as, 4);
      if (sqlite3_step(as) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot assign");
    }
  }
  sqlite3_finalize(bi);
  sqlite3_finalize(as);
  *n_items = ni;
  *n_gold = ng;
done:
  free(items), free(gold), free(all), free(ann);
  if (rc) ivs_store_rollback(st);
  else rc = ivs_store_commit(st);
  return rc;
}

/* ---- batch export ---- */

typedef struct {
  int64_t id;
  char *prompt, *classes; /* classes: JSON array text */
  long answer;            /* gold answer or -1 */
  char *annotators;       /* comma-separated names of assigned annotators */
} batch_row;

static int batch_rows(ivs_store *st, const char *batch, batch_row **out, size_t *n) {
  sqlite3_stmt *s;
  int rc = prep(st, &s,
                "SELECT e.id, e.prompt, e.classes, CASE WHEN bi.gold THEN e.answer_index END,"
                " (SELECT group_concat(a.name, ',') FROM assignments x JOIN annotators a ON a.id = x.annotator_id"
                "   WHERE x.batch_id = b.id AND x.example_id = e.id)"
                " FROM batches b JOIN batch_items bi ON bi.batch_id = b.id JOIN examples e ON e.id = bi.example_id"
                " WHERE b.name = ?1 ORDER BY bi.position");
  if (rc) return rc;
  text(s, 1, batch);
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      batch_row *p = realloc(*out, cap * sizeof *p);
      if (!p) {
        rc = ivs_error_set(IVS_ENOMEM, "out of memory");
        break;
      }
      *out = p;
    }
    batch_row *r = &(*out)[(*n)++];
    const char *ann = (const char *)sqlite3_column_text(s, 4);
    r->id = sqlite3_column_int64(s, 0);
    r->prompt = strdup((const char *)sqlite3_column_text(s, 1));
    r->classes = strdup((const char *)sqlite3_column_text(s, 2));
    r->answer = sqlite3_column_type(s, 3) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(s, 3);
    r->annotators = strdup(ann ? ann : "");
  }
  sqlite3_finalize(s);
  if (!rc && *n == 0) rc = ivs_error_set(IVS_EINVAL, "no batch named '%s', or it is empty", batch);
  return rc;
}

static void rows_free(batch_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) free(rows[i].prompt), free(rows[i].classes), free(rows[i].annotators);
  free(rows);
}

/* Label Studio's labeling config: static choices when every item has the same
 * classes, else choices taken from each task's data. */
static int write_ls_config(FILE *f, const batch_row *rows, size_t n) {
  int same = 1;
  for (size_t i = 1; i < n; i++) same &= !strcmp(rows[i].classes, rows[0].classes);
  xmlBufferPtr buf = xmlBufferCreate();
  xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
  if (!w) {
    xmlBufferFree(buf);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  xmlTextWriterSetIndent(w, 1);
  xmlTextWriterStartElement(w, BAD_CAST "View");
  xmlTextWriterStartElement(w, BAD_CAST "Text");
  xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "prompt");
  xmlTextWriterWriteAttribute(w, BAD_CAST "value", BAD_CAST "$prompt");
  xmlTextWriterEndElement(w);
  xmlTextWriterStartElement(w, BAD_CAST "Choices");
  xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "label");
  xmlTextWriterWriteAttribute(w, BAD_CAST "toName", BAD_CAST "prompt");
  xmlTextWriterWriteAttribute(w, BAD_CAST "choice", BAD_CAST "single");
  xmlTextWriterWriteAttribute(w, BAD_CAST "required", BAD_CAST "true");
  if (same) {
    cJSON *a = cJSON_Parse(rows[0].classes);
    const cJSON *c;
    cJSON_ArrayForEach(c, a) {
      xmlTextWriterStartElement(w, BAD_CAST "Choice");
      xmlTextWriterWriteAttribute(w, BAD_CAST "value", BAD_CAST c->valuestring);
      xmlTextWriterEndElement(w);
    }
    cJSON_Delete(a);
  } else {
    xmlTextWriterWriteAttribute(w, BAD_CAST "value", BAD_CAST "$choices"); /* per-task options */
  }
  xmlTextWriterEndElement(w);
  xmlTextWriterEndElement(w);
  xmlFreeTextWriter(w);
  int rc = fwrite(buf->content, 1, (size_t)buf->use, f) == (size_t)buf->use ? 0 : ivs_error_set(IVS_EIO, "write error");
  xmlBufferFree(buf);
  return rc;
}

int ivs_batch_export(ivs_store *st, const char *batch, ivs_batch_format fmt, FILE *f, FILE *xml_out) {
  batch_row *rows;
  size_t n;
  int rc = batch_rows(st, batch, &rows, &n);
  if (rc) return rc;
  ivs_buf b = IVS_BUF_INIT;
  char num[32];
  if (fmt == IVS_BATCH_CSV) fputs("item_id,prompt,classes,annotators\n", f);
  if (fmt == IVS_BATCH_TOLOKA) fputs("INPUT:item_id\tINPUT:prompt\tINPUT:classes\tGOLDEN:label\n", f);
  if (fmt == IVS_BATCH_LABELSTUDIO) fputs("[\n", f);
  for (size_t i = 0; i < n && !rc; i++) {
    batch_row *r = &rows[i];
    snprintf(num, sizeof num, "%lld", (long long)r->id);
    cJSON *cl = cJSON_Parse(r->classes);
    const char *gold = r->answer >= 0 && cJSON_GetArrayItem(cl, (int)r->answer) ? cJSON_GetArrayItem(cl, (int)r->answer)->valuestring : "";
    ivs_buf_clear(&b);
    switch (fmt) {
    case IVS_BATCH_CSV:
      csv_fwrite(f, num, strlen(num)), fputc(',', f);
      csv_fwrite(f, r->prompt, strlen(r->prompt)), fputc(',', f);
      csv_fwrite(f, r->classes, strlen(r->classes)), fputc(',', f);
      csv_fwrite(f, r->annotators, strlen(r->annotators)), fputc('\n', f);
      break;
    case IVS_BATCH_JSONL:
    case IVS_BATCH_LABELSTUDIO:
      ivs_buf_puts(&b, fmt == IVS_BATCH_LABELSTUDIO ? (i ? ",\n  {\"data\":{" : "  {\"data\":{") : "{");
      ivs_buf_puts(&b, "\"item_id\":");
      ivs_buf_puts(&b, num);
      ivs_buf_puts(&b, ",\"prompt\":");
      ivs_json_put_string(&b, r->prompt, strlen(r->prompt));
      ivs_buf_puts(&b, ",\"classes\":");
      ivs_buf_puts(&b, r->classes);
      if (fmt == IVS_BATCH_LABELSTUDIO) {
        ivs_buf_puts(&b, ",\"choices\":[");
        const cJSON *c;
        int first = 1;
        cJSON_ArrayForEach(c, cl) {
          ivs_buf_puts(&b, first ? "{\"value\":" : ",{\"value\":");
          ivs_json_put_string(&b, c->valuestring, strlen(c->valuestring));
          ivs_buf_putc(&b, '}');
          first = 0;
        }
        ivs_buf_puts(&b, "]}}");
      } else {
        ivs_buf_puts(&b, ",\"annotators\":");
        ivs_json_put_string(&b, r->annotators, strlen(r->annotators));
        ivs_buf_puts(&b, r->answer >= 0 ? ",\"gold\":true}\n" : ",\"gold\":false}\n");
      }
      fwrite(b.data, 1, b.len, f);
      break;
    case IVS_BATCH_TOLOKA:
      /* TSV: tabs and new lines inside values are written as \t and \n */
      for (const char *cols[3] = {num, r->prompt, r->classes}, **c = cols; c < cols + 3; c++) {
        for (const char *p = *c; *p; p++) {
          if (*p == '\t') fputs("\\t", f);
          else if (*p == '\n') fputs("\\n", f);
          else if (*p == '\\') fputs("\\\\", f);
          else fputc(*p, f);
        }
        fputc('\t', f);
      }
      fputs(gold, f);
      fputc('\n', f);
      break;
    }
    cJSON_Delete(cl);
    if (ferror(f)) rc = ivs_error_set(IVS_EIO, "write error");
  }
  if (!rc && fmt == IVS_BATCH_LABELSTUDIO) {
    fputs("\n]\n", f);
    if (xml_out) rc = write_ls_config(xml_out, rows, n);
  }
  ivs_buf_release(&b);
  rows_free(rows, n);
  return rc;
}

/* ---- judgments import ---- */

typedef struct {
  ivs_store *st;
  const char *path;
  int64_t batch_id;
  ivs_import_report *rep;
  sqlite3_stmt *item, *by_name, *add_ann, *ins, *slot_has, *slot_take;
  ivs_judgment_format fmt;
  ivs_judgment_map map;
} importer;

static void reject(importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(importer *im, const char *fmt, ...) {
  im->rep->rejected++;
  if (im->rep->first_reject[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(im->rep->first_reject, sizeof im->rep->first_reject, fmt, ap);
  va_end(ap);
}

/* One judgment; `where` names its position for messages and is its source. */
static int add_judgment(importer *im, const char *item, const char *annotator, const char *label, double seconds,
                        const char *where) {
  char *end;
  long long id = strtoll(item, &end, 10);
  if (!*item || *end) {
    reject(im, "%s: item '%.60s' is not an example id", where, item);
    return 0;
  }
  sqlite3_reset(im->item);
  sqlite3_bind_int64(im->item, 1, id);
  if (sqlite3_step(im->item) != SQLITE_ROW) {
    reject(im, "%s: no example %lld in the store", where, id);
    return 0;
  }
  const char *cls = (const char *)sqlite3_column_text(im->item, 0);
  cJSON *a = cls ? cJSON_Parse(cls) : NULL;
  int ok = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, a) ok |= cJSON_IsString(c) && !strcmp(c->valuestring, label);
  cJSON_Delete(a);
  if (!ok) {
    reject(im, "%s: label '%.60s' is not one of example %lld's classes %.200s", where, label, id, cls ? cls : "(none)");
    return 0;
  }
  sqlite3_reset(im->by_name);
  text(im->by_name, 1, annotator);
  int64_t aid;
  if (sqlite3_step(im->by_name) == SQLITE_ROW) {
    aid = sqlite3_column_int64(im->by_name, 0);
  } else { /* first sight: register by external id */
    sqlite3_reset(im->add_ann);
    text(im->add_ann, 1, annotator);
    if (sqlite3_step(im->add_ann) != SQLITE_DONE) return ivs_store_fail(im->st, "cannot register an annotator");
    aid = sqlite3_last_insert_rowid(ivs_store_db(im->st));
    im->rep->new_annotators++;
  }
  if (im->batch_id) { /* open slots are filled first come, first served */
    sqlite3_reset(im->slot_has);
    sqlite3_bind_int64(im->slot_has, 1, im->batch_id);
    sqlite3_bind_int64(im->slot_has, 2, id);
    sqlite3_bind_int64(im->slot_has, 3, aid);
    if (sqlite3_step(im->slot_has) == SQLITE_ROW) {
      int assigned = sqlite3_column_int(im->slot_has, 0), open = sqlite3_column_int(im->slot_has, 1);
      int slots = sqlite3_column_int(im->slot_has, 2);
      if (!assigned && open) {
        sqlite3_reset(im->slot_take);
        sqlite3_bind_int64(im->slot_take, 1, im->batch_id);
        sqlite3_bind_int64(im->slot_take, 2, id);
        sqlite3_bind_int64(im->slot_take, 3, aid);
        if (sqlite3_step(im->slot_take) != SQLITE_DONE) return ivs_store_fail(im->st, "cannot fill a slot");
      } else if (!assigned && slots) {
        reject(im, "%s: '%s' is not assigned to example %lld in this batch and its %d slots are taken", where, annotator,
               id, slots);
        return 0;
      }
    }
  }
  sqlite3_reset(im->ins);
  sqlite3_bind_int64(im->ins, 1, id);
  sqlite3_bind_int64(im->ins, 2, aid);
  if (im->batch_id) sqlite3_bind_int64(im->ins, 3, im->batch_id);
  else sqlite3_bind_null(im->ins, 3);
  text(im->ins, 4, label);
  if (seconds >= 0) sqlite3_bind_double(im->ins, 5, seconds);
  else sqlite3_bind_null(im->ins, 5);
  text(im->ins, 6, where);
  if (sqlite3_step(im->ins) != SQLITE_DONE) return ivs_store_fail(im->st, "cannot store a judgment");
  if (sqlite3_changes(ivs_store_db(im->st))) im->rep->imported++;
  else im->rep->duplicates++;
  return 0;
}

int ivs_judgment_format_parse(const char *name, ivs_judgment_format *out) {
  static const char *const n[] = {"csv", "jsonl", "labelstudio", "labelstudio-min", "mturk-csv", "toloka", "mturk-xml"};
  for (int i = 0; i < 7; i++)
    if (!strcmp(name, n[i])) {
      *out = (ivs_judgment_format)i;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE, "unknown judgments format '%s' (labelstudio, labelstudio-min, mturk-csv, mturk-xml, "
                                   "toloka, csv, jsonl)", name);
}

/* The label in an MTurk Answer.taskAnswers cell: [{"label": " Yes"}] or
 * [{"label": {" Yes": true, " No": false}}] (a radio group). */
static int task_answer(const char *json, char *out, size_t cap) {
  cJSON *a = cJSON_Parse(json);
  const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "label");
  int ok = 0;
  if (cJSON_IsString(v)) snprintf(out, cap, "%s", v->valuestring), ok = 1;
  else if (cJSON_IsObject(v)) {
    const cJSON *c;
    cJSON_ArrayForEach(c, v) if (cJSON_IsTrue(c)) snprintf(out, cap, "%s", c->string), ok = 1;
  }
  cJSON_Delete(a);
  return ok;
}

static int on_triple(const ivs_record *rec, void *ud) {
  importer *im = ud;
  char where[300], b1[64], b2[64], b3[256] = "", b4[64];
  snprintf(where, sizeof where, "%s:%zu", im->path, rec->line);
  if (rec->error) {
    reject(im, "%s: %s", where, rec->error);
    return 0;
  }
  const ivs_field *fi, *fa, *fl, *ft, *fs = NULL; /* b3: a label taken out of a structured cell */
  const char *cancelled_status = NULL;
  switch (im->fmt) {
  case IVS_JUDG_MTURK_CSV: {
    static const char *const fixed[] = {"HITId", "AssignmentId", "WorkerId", "AssignmentStatus", "WorkTimeInSeconds"};
    for (int k = 0; k < 5; k++)
      if (!ivs_record_field(rec, fixed[k], NULL))
        return ivs_error_set(IVS_EPARSE, "%s: not an MTurk batch results file: no '%s' column", where, fixed[k]);
    fi = ivs_record_field(rec, "Input.item_id", NULL), fa = ivs_record_field(rec, "WorkerId", NULL), fl = ivs_record_field(rec, "Answer.label", NULL);
    ft = ivs_record_field(rec, "WorkTimeInSeconds", NULL), fs = ivs_record_field(rec, "AssignmentStatus", NULL);
    cancelled_status = "Rejected";
    if (!fl && (fl = ivs_record_field(rec, "Answer.taskAnswers", NULL))) {
      if (!task_answer(ivs_field_text(fl, b3, sizeof b3), b3, sizeof b3)) {
        reject(im, "%s: Answer.taskAnswers holds no label", where);
        return 0;
      }
      fl = NULL;
    }
    break;
  }
  case IVS_JUDG_TOLOKA:
    fi = ivs_record_field(rec, "INPUT:item_id", NULL), fa = ivs_record_field(rec, "ASSIGNMENT:worker_id", NULL);
    fl = ivs_record_field(rec, "OUTPUT:label", NULL), ft = NULL, fs = ivs_record_field(rec, "ASSIGNMENT:status", NULL);
    cancelled_status = "REJECTED";
    break;
  case IVS_JUDG_LABELSTUDIO_MIN:
    fi = ivs_record_field(rec, "item_id", NULL), fa = ivs_record_field(rec, "annotator", NULL), fl = ivs_record_field(rec, "label", NULL);
    ft = ivs_record_field(rec, "lead_time", NULL);
    if (fl && fl->json && cJSON_IsObject(fl->json)) { /* {"choices": [...]} */
      const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(fl->json, "choices"), 0);
      if (cJSON_IsString(c)) snprintf(b3, sizeof b3, "%s", c->valuestring), fl = NULL;
    }
    break;
  default: {
    const ivs_judgment_map *m = &im->map;
    fi = m->item ? ivs_record_field(rec, m->item, NULL) : ivs_record_field(rec, "item", "item_id");
    fa = m->annotator ? ivs_record_field(rec, m->annotator, NULL) : ivs_record_field(rec, "annotator", "worker");
    fl = ivs_record_field(rec, m->label ? m->label : "label", NULL);
    ft = m->time ? ivs_record_field(rec, m->time, NULL) : ivs_record_field(rec, "time", "seconds");
  }
  }
  const char *st = fs ? ivs_field_text(fs, b4, sizeof b4) : NULL;
  if (st && cancelled_status && !strcmp(st, cancelled_status)) {
    im->rep->cancelled++;
    return 0;
  }
  const char *item = ivs_field_text(fi, b1, sizeof b1), *ann = ivs_field_text(fa, b2, sizeof b2);
  const char *lab = fl ? ivs_field_text(fl, b3, sizeof b3) : b3[0] ? b3 : NULL;
  char tb[64];
  const char *t = ft ? ivs_field_text(ft, tb, sizeof tb) : NULL;
  if (!item || !ann || !*ann || !lab) {
    reject(im, "%s: needs an item id, an annotator and a label", where);
    return 0;
  }
  return add_judgment(im, item, ann, lab, t && *t ? atof(t) : -1, where);
}

#define MTURK_NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"

static const xmlNode *child(const xmlNode *n, const char *name) {
  for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) return c;
  return NULL;
}

static char *content(const xmlNode *n) { return n ? (char *)xmlNodeGetContent(n) : NULL; }

/* MTurk's ListAssignmentsForHIT result (XML): Assignment elements with WorkerId,
 * AssignmentStatus and Answer, whose text is a QuestionFormAnswers document
 * (answers "item_id" and "label", as FreeText or SelectionIdentifier). */
static int import_mturk_xml(importer *im, const char *data, size_t len) {
  xmlDocPtr doc;
  int rc = ivs_xml_parse_safe(im->path, data, len, 0, &doc);
  if (rc) return rc;
  xmlXPathContextPtr xc = xmlXPathNewContext(doc);
  xmlXPathObjectPtr set = xc ? xmlXPathEvalExpression(BAD_CAST "//*[local-name()='Assignment']", xc) : NULL;
  int n = set && set->nodesetval ? set->nodesetval->nodeNr : 0;
  if (!n) rc = ivs_error_set(IVS_EPARSE, "%s: no Assignment elements (expected MTurk's ListAssignmentsForHIT result)", im->path);
  for (int k = 0; k < n && !rc; k++) {
    const xmlNode *as = set->nodesetval->nodeTab[k];
    char where[300];
    snprintf(where, sizeof where, "%s:%ld", im->path, xmlGetLineNo(as));
    char *worker = content(child(as, "WorkerId")), *status = content(child(as, "AssignmentStatus"));
    char *answer = content(child(as, "Answer"));
    char *item = NULL, *label = NULL;
    if (status && !strcmp(status, "Rejected")) {
      im->rep->cancelled++;
    } else if (!worker || !answer) {
      reject(im, "%s: an Assignment without WorkerId or Answer", where);
    } else {
      xmlDocPtr inner;
      char iname[320];
      snprintf(iname, sizeof iname, "%s (Answer)", where);
      if (ivs_xml_parse_safe(iname, answer, strlen(answer), 0, &inner)) {
        reject(im, "%s", ivs_error_message());
      } else {
        const xmlNode *root = xmlDocGetRootElement(inner);
        const char *ns = root && root->ns ? (const char *)root->ns->href : "";
        if (!root || strcmp((const char *)root->name, "QuestionFormAnswers") || strcmp(ns, MTURK_NS)) {
          reject(im, "%s: the Answer is not MTurk's QuestionFormAnswers (namespace '%.120s')", where, ns);
        } else {
          for (const xmlNode *a = root->children; a; a = a->next) {
            if (a->type != XML_ELEMENT_NODE || strcmp((const char *)a->name, "Answer")) continue;
            char *q = content(child(a, "QuestionIdentifier"));
            const xmlNode *v = child(a, "FreeText");
            if (!v) v = child(a, "SelectionIdentifier");
            if (q && v && !strcmp(q, "item_id") && !item) item = content(v);
            else if (q && v && !strcmp(q, "label") && !label) label = content(v);
            xmlFree(q);
          }
          if (!item || !label) reject(im, "%s: the Answer needs item_id and label", where);
          else rc = add_judgment(im, item, worker, label, -1, where);
        }
        xmlFreeDoc(inner);
      }
    }
    xmlFree(worker), xmlFree(status), xmlFree(answer), xmlFree(item), xmlFree(label);
  }
  xmlXPathFreeObject(set);
  xmlXPathFreeContext(xc);
  xmlFreeDoc(doc);
  return rc;
}

/* Label Studio JSON_MIN: a JSON array of flat objects, one per annotation. */
static int import_labelstudio_min(importer *im, cJSON *root) {
  int rc = 0, n = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, root) {
    n++;
    ivs_field fields[64];
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, o) if (k < 64) fields[k++] = (ivs_field){it->string, NULL, 0, it, 0};
    ivs_record rec = {fields, k, (size_t)n, cJSON_IsObject(o) ? NULL : "not an object", 0};
    if ((rc = on_triple(&rec, im))) break;
  }
  return rc;
}

static int import_labelstudio(importer *im, int min, int xml) {
  ivs_buf data;
  int rc = ivs_file_read_all(im->path, (size_t)256 << 20, &data);
  if (rc) return rc;
  if (xml) {
    rc = import_mturk_xml(im, data.data, data.len);
    ivs_buf_release(&data);
    return rc;
  }
  cJSON *root = cJSON_ParseWithLength(data.data, data.len);
  ivs_buf_release(&data);
  if (!cJSON_IsArray(root)) {
    cJSON_Delete(root);
    return ivs_error_set(IVS_EPARSE, "%s: not a Label Studio export (a JSON array%s)", im->path,
                         min ? " of annotations" : " of tasks");
  }
  if (min) {
    rc = import_labelstudio_min(im, root);
    cJSON_Delete(root);
    return rc;
  }
  int t = 0;
  const cJSON *task;
  cJSON_ArrayForEach(task, root) {
    t++;
    char where[300], item[32];
    const cJSON *data_o = cJSON_GetObjectItem(task, "data");
    const cJSON *iid = cJSON_GetObjectItem(data_o, "item_id");
    const cJSON *anns = cJSON_GetObjectItem(task, "annotations");
    if (!anns) anns = cJSON_GetObjectItem(task, "completions"); /* older exports */
    if (!cJSON_IsObject(task) || !iid || !cJSON_IsArray(anns)) {
      snprintf(where, sizeof where, "%s: task %d", im->path, t);
      reject(im, "%s: needs data.item_id and an annotations list", where);
      continue;
    }
    if (cJSON_IsNumber(iid)) snprintf(item, sizeof item, "%.0f", iid->valuedouble);
    else snprintf(item, sizeof item, "%s", cJSON_IsString(iid) ? iid->valuestring : "");
    const cJSON *an;
    int k = 0;
    cJSON_ArrayForEach(an, anns) {
      k++;
      const cJSON *aid = cJSON_GetObjectItem(an, "id");
      snprintf(where, sizeof where, "%s: task %d annotation %d", im->path, t, k);
      if (cJSON_IsNumber(aid)) snprintf(where, sizeof where, "%s: task %d annotation id %.0f", im->path, t, aid->valuedouble);
      if (cJSON_IsTrue(cJSON_GetObjectItem(an, "was_cancelled"))) {
        im->rep->cancelled++;
        continue;
      }
      const cJSON *by = cJSON_GetObjectItem(an, "completed_by");
      if (cJSON_IsObject(by)) by = cJSON_GetObjectItem(by, "id");
      char who[64];
      if (cJSON_IsNumber(by)) snprintf(who, sizeof who, "%.0f", by->valuedouble);
      else if (cJSON_IsString(by)) snprintf(who, sizeof who, "%s", by->valuestring);
      else {
        reject(im, "%s: no completed_by", where);
        continue;
      }
      const char *label = NULL;
      const cJSON *res;
      cJSON_ArrayForEach(res, cJSON_GetObjectItem(an, "result")) {
        const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "value"), "choices");
        if (cJSON_IsString(cJSON_GetArrayItem(ch, 0))) label = cJSON_GetArrayItem(ch, 0)->valuestring;
      }
      if (!label) {
        reject(im, "%s: no choice in the result", where);
        continue;
      }
      const cJSON *lt = cJSON_GetObjectItem(an, "lead_time");
      if ((rc = add_judgment(im, item, who, label, cJSON_IsNumber(lt) ? lt->valuedouble : -1, where))) break;
    }
    if (rc) break;
  }
  cJSON_Delete(root);
  return rc;
}

int ivs_judgments_import(ivs_store *st, const char *path, ivs_judgment_format fmt, const char *batch,
                         const ivs_judgment_map *map, ivs_import_report *rep) {
  memset(rep, 0, sizeof *rep);
  importer im = {st, path, 0, rep, NULL, NULL, NULL, NULL, NULL, NULL, fmt, {NULL, NULL, NULL, NULL}};
  if (map) im.map = *map;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  if (batch) {
    sqlite3_stmt *s;
    if (!(rc = prep(st, &s, "SELECT id FROM batches WHERE name = ?1"))) {
      text(s, 1, batch);
      if (sqlite3_step(s) == SQLITE_ROW) im.batch_id = sqlite3_column_int64(s, 0);
      else rc = ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
      sqlite3_finalize(s);
    }
  }
  if (!rc) rc = prep(st, &im.item, "SELECT classes FROM examples WHERE id = ?1");
  if (!rc) rc = prep(st, &im.by_name, "SELECT id FROM annotators WHERE external_id = ?1 OR name = ?1 ORDER BY external_id = ?1 DESC LIMIT 1");
  if (!rc) rc = prep(st, &im.add_ann, "INSERT INTO annotators (name, external_id) VALUES (?1, ?1)");
  /* for the batch: is the annotator assigned to the item, how many open slots, how many slots */
  if (!rc) rc = prep(st, &im.slot_has, "SELECT coalesce(sum(annotator_id = ?3), 0), coalesce(sum(annotator_id IS NULL), 0),"
                                       " count(*) FROM assignments WHERE batch_id = ?1 AND example_id = ?2");
  if (!rc) rc = prep(st, &im.slot_take, "UPDATE assignments SET annotator_id = ?3 WHERE batch_id = ?1 AND example_id = ?2"
                                        " AND slot = (SELECT min(slot) FROM assignments WHERE batch_id = ?1 AND example_id = ?2"
                                        " AND annotator_id IS NULL)");
  if (!rc) rc = prep(st, &im.ins, "INSERT OR IGNORE INTO judgments (example_id, annotator_id, batch_id, label, seconds, source)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!rc) {
    if (fmt == IVS_JUDG_LABELSTUDIO || fmt == IVS_JUDG_LABELSTUDIO_MIN || fmt == IVS_JUDG_MTURK_XML) {
      rc = import_labelstudio(&im, fmt == IVS_JUDG_LABELSTUDIO_MIN, fmt == IVS_JUDG_MTURK_XML);
    } else if (fmt == IVS_JUDG_JSONL) {
      ivs_jsonl_opts o = {0, NULL, NULL, 0};
      rc = ivs_jsonl_read(path, &o, on_triple, &im);
    } else {
      size_t n = strlen(path);
      int tsv = fmt == IVS_JUDG_TOLOKA || (n > 4 && !strcmp(path + n - 4, ".tsv"));
      ivs_csv_opts o = {tsv ? '\t' : ',', 0, NULL, NULL, NULL};
      rc = ivs_csv_read(path, &o, on_triple, &im);
    }
  }
  sqlite3_finalize(im.item), sqlite3_finalize(im.by_name), sqlite3_finalize(im.add_ann), sqlite3_finalize(im.ins);
  sqlite3_finalize(im.slot_has), sqlite3_finalize(im.slot_take);
  if (rc || !rep->imported) ivs_store_rollback(st); /* nothing new: the store stays as it was */
  else rc = ivs_store_commit(st);
  return rc;
}

/* ---- ratings, final labels, adjudication ---- */

int ivs_store_ratings(ivs_store *st, const char *batch, int keep_repeats, ivs_ratings *r) {
  sqlite3_stmt *s;
  int rc;
  if (batch) { /* a misspelt batch name is an error, not an empty batch */
    if ((rc = prep(st, &s, "SELECT 1 FROM batches WHERE name = ?1"))) return rc;
    text(s, 1, batch);
    int found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!found) return ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
  }
  rc = prep(st, &s,
                "SELECT j.example_id, a.name, j.label FROM judgments j JOIN annotators a ON a.id = j.annotator_id"
                " WHERE ?1 IS NULL OR j.batch_id = (SELECT id FROM batches WHERE name = ?1) ORDER BY j.id");
  if (rc) return rc;
  text(s, 1, batch);
  if (keep_repeats) ivs_ratings_keep_repeats(r);
  char item[32];
  while (!rc && sqlite3_step(s) == SQLITE_ROW) {
    snprintf(item, sizeof item, "%lld", (long long)sqlite3_column_int64(s, 0));
    rc = ivs_ratings_add(r, item, (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2));
  }
  sqlite3_finalize(s);
  return rc ? rc : ivs_ratings_finish(r);
}

/* Sets final label `label` of example `id` and its answer_index. */
static int set_final(ivs_store *st, sqlite3_stmt *fin, sqlite3_stmt *ans, int64_t id, const char *label, double conf,
                     const char *method) {
  sqlite3_reset(fin);
  sqlite3_bind_int64(fin, 1, id);
  text(fin, 2, label);
  sqlite3_bind_double(fin, 3, conf);
  text(fin, 4, method);
  if (sqlite3_step(fin) != SQLITE_DONE) return ivs_store_fail(st, "cannot store a final label");
  sqlite3_reset(ans);
  sqlite3_bind_int64(ans, 1, id);
  text(ans, 2, label);
  if (sqlite3_step(ans) != SQLITE_DONE) return ivs_store_fail(st, "cannot set answer_index");
  return 0;
}

#define SET_FINAL_SQL                                                                                              \
  "INSERT INTO final_labels (example_id, label, confidence, method) VALUES (?1, ?2, ?3, ?4)"                     \
  " ON CONFLICT (example_id) DO UPDATE SET label = excluded.label, confidence = excluded.confidence,"          \
  " method = excluded.method, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
#define SET_ANSWER_SQL                                                                                             \
  "UPDATE examples SET answer_index = (SELECT CAST(j.key AS INTEGER) FROM json_each(examples.classes) j"          \
  " WHERE j.value = ?2) WHERE id = ?1"

int ivs_final_labels_set(ivs_store *st, const ivs_ratings *r, const size_t *labels, const double *conf,
                         const char *method, size_t *written) {
  sqlite3_stmt *skip = NULL, *del = NULL, *ins = NULL, *get = NULL, *ans = NULL;
  *written = 0;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  /* Single-row statements only: an INSERT ... SELECT or an upsert would make
   * SQLite keep a statement journal, a copy of every page it touches. */
  if ((rc = prep(st, &skip, "SELECT EXISTS (SELECT 1 FROM adjudications WHERE example_id = ?1)"
                            " OR EXISTS (SELECT 1 FROM batch_items WHERE example_id = ?1 AND gold)")) ||
      (rc = prep(st, &del, "DELETE FROM final_labels WHERE example_id = ?1")) ||
      (rc = prep(st, &ins, "INSERT INTO final_labels (example_id, label, confidence, method) VALUES (?1, ?2, ?3, ?4)")) ||
      (rc = prep(st, &get, "SELECT classes FROM examples WHERE id = ?1")) ||
      (rc = prep(st, &ans, "UPDATE examples SET answer_index = ?2 WHERE id = ?1")))
    goto done;
  text(ins, 4, method);
  char *last_classes = NULL; /* many examples share their classes: parse each list once */
  cJSON *parsed = NULL;
  for (size_t i = 0; i < ivs_ratings_items(r) && !rc; i++) {
    int64_t id = strtoll(ivs_ratings_item_name(r, i), NULL, 10);
    const char *label = ivs_ratings_label_name(r, labels[i]);
    sqlite3_reset(skip);
    sqlite3_bind_int64(skip, 1, id);
    if (sqlite3_step(skip) == SQLITE_ROW && sqlite3_column_int(skip, 0)) continue; /* gold or adjudicated */
    sqlite3_reset(del);
    sqlite3_bind_int64(del, 1, id);
    sqlite3_reset(ins);
    sqlite3_bind_int64(ins, 1, id);
    sqlite3_bind_text(ins, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_double(ins, 3, conf ? conf[i] : 1);
    if (sqlite3_step(del) != SQLITE_DONE || sqlite3_step(ins) != SQLITE_DONE) {
      rc = ivs_store_fail(st, "cannot store a final label");
      break;
    }
    (*written)++;
    /* the label's position among the example's classes is its answer_index */
    sqlite3_reset(get);
    sqlite3_bind_int64(get, 1, id);
    long idx = -1;
    const char *cls = sqlite3_step(get) == SQLITE_ROW ? (const char *)sqlite3_column_text(get, 0) : NULL;
    if (cls && (!last_classes || strcmp(cls, last_classes))) {
      free(last_classes);
      cJSON_Delete(parsed);
      last_classes = strdup(cls);
      parsed = cJSON_Parse(cls);
    }
    long k = 0;
    const cJSON *c;
    if (cls) cJSON_ArrayForEach(c, parsed) {
        if (idx < 0 && cJSON_IsString(c) && !strcmp(c->valuestring, label)) idx = k;
        k++;
      }
    sqlite3_reset(ans);
    sqlite3_bind_int64(ans, 1, id);
    if (idx >= 0) sqlite3_bind_int64(ans, 2, idx);
    else sqlite3_bind_null(ans, 2);
    if (sqlite3_step(ans) != SQLITE_DONE) rc = ivs_store_fail(st, "cannot set answer_index");
  }
  free(last_classes);
  cJSON_Delete(parsed);
done:
  sqlite3_finalize(skip), sqlite3_finalize(del), sqlite3_finalize(ins), sqlite3_finalize(get), sqlite3_finalize(ans);
  if (rc) ivs_store_rollback(st);
  else rc = ivs_store_commit(st);
  return rc;
}

int ivs_adjudicate(ivs_store *st, int64_t example, const char *label, const char *by, const char *note) {
  int64_t aid;
  int rc = ivs_store_begin(st);
  if (rc) return rc;
  sqlite3_stmt *s = NULL, *fin = NULL, *ans = NULL;
  if ((rc = annotator_id(st, by, &aid))) goto done;
  if ((rc = prep(st, &s, "SELECT classes FROM examples WHERE id = ?1"))) goto done;
  sqlite3_bind_int64(s, 1, example);
  if (sqlite3_step(s) != SQLITE_ROW) {
    rc = ivs_error_set(IVS_EINVAL, "no example %lld", (long long)example);
    goto done;
  }
  cJSON *a = cJSON_Parse((const char *)sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "null");
  int ok = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, a) ok |= cJSON_IsString(c) && !strcmp(c->valuestring, label);
  cJSON_Delete(a);
  if (!ok) {
    rc = ivs_error_set(IVS_EINVAL, "'%s' is not one of example %lld's classes", label, (long long)example);
    goto done;
  }
  sqlite3_finalize(s);
  if ((rc = prep(st, &s, "INSERT INTO adjudications (example_id, label, annotator_id, note) VALUES (?1, ?2, ?3, ?4)")))
    goto done;
  sqlite3_bind_int64(s, 1, example);
  text(s, 2, label);
  sqlite3_bind_int64(s, 3, aid);
  text(s, 4, note);
  if (sqlite3_step(s) != SQLITE_DONE) {
    rc = ivs_store_fail(st, "cannot record the adjudication");
    goto done;
  }
  if (!(rc = prep(st, &fin, SET_FINAL_SQL)) && !(rc = prep(st, &ans, SET_ANSWER_SQL)))
    rc = set_final(st, fin, ans, example, label, 1, "adjudication");
done:
  sqlite3_finalize(s), sqlite3_finalize(fin), sqlite3_finalize(ans);
  if (rc) ivs_store_rollback(st);
  else rc = ivs_store_commit(st);
  return rc;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int ivs_annotator_stats_list(ivs_store *st, const char *batch, ivs_annotator_stats_fn fn, void *ud) {
  sqlite3_stmt *s = NULL, *t = NULL;
  int rc = prep(st, &s,
                "WITH j AS (SELECT * FROM judgments WHERE ?1 IS NULL OR batch_id = (SELECT id FROM batches WHERE name = ?1))"
                " SELECT a.id, a.name, count(j.id),"
                "  sum(CASE WHEN g.gold THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN g.gold AND j.label = json_extract(e.classes, '$[' || e.answer_index || ']') THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN f.label IS NOT NULL THEN 1 ELSE 0 END),"
                "  sum(CASE WHEN f.label = j.label THEN 1 ELSE 0 END)"
                " FROM annotators a JOIN j ON j.annotator_id = a.id JOIN examples e ON e.id = j.example_id"
                " LEFT JOIN (SELECT example_id, max(gold) AS gold FROM batch_items GROUP BY example_id) g ON g.example_id = j.example_id"
                " LEFT JOIN final_labels f ON f.example_id = j.example_id AND f.method <> 'gold'"
                " GROUP BY a.id ORDER BY a.name");
  if (!rc) rc = prep(st, &t, "SELECT seconds FROM judgments WHERE annotator_id = ?1 AND seconds IS NOT NULL"
                             " AND (?2 IS NULL OR batch_id = (SELECT id FROM batches WHERE name = ?2))");
  if (rc) {
    sqlite3_finalize(s);
    return rc;
  }
  text(s, 1, batch);
  double *secs = NULL;
  size_t cap = 0;
  while (!rc && sqlite3_step(s) == SQLITE_ROW) {
    ivs_annotator_stats a = {(const char *)sqlite3_column_text(s, 1), sqlite3_column_int64(s, 2), -1,
                             sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5),
                             sqlite3_column_int64(s, 6)};
    sqlite3_reset(t);
    sqlite3_bind_int64(t, 1, sqlite3_column_int64(s, 0));
    text(t, 2, batch);
    size_t n = 0;
    while (sqlite3_step(t) == SQLITE_ROW) {
      if (n == cap) {
        cap = cap ? cap * 2 : 256;
        double *p = realloc(secs, cap * sizeof *p);
        if (!p) {
          rc = ivs_error_set(IVS_ENOMEM, "out of memory");
          break;
        }
        secs = p;
      }
      secs[n++] = sqlite3_column_double(t, 0);
    }
    if (n) {
      qsort(secs, n, sizeof *secs, cmp_dbl);
      a.median_seconds = n % 2 ? secs[n / 2] : (secs[n / 2 - 1] + secs[n / 2]) / 2;
    }
    if (!rc) rc = fn(&a, ud);
  }
  free(secs);
  sqlite3_finalize(s);
  sqlite3_finalize(t);
  return rc;
}

int ivs_store_gold(ivs_store *st, const ivs_ratings *r, long *clamp) {
  sqlite3_stmt *s;
  int rc = prep(st, &s, "SELECT DISTINCT e.id, json_extract(e.classes, '$[' || e.answer_index || ']') FROM examples e"
                        " JOIN batch_items b ON b.example_id = e.id AND b.gold WHERE e.answer_index IS NOT NULL");
  if (rc) return rc;
  for (size_t i = 0; i < ivs_ratings_items(r); i++) clamp[i] = -1;
  char name[32];
  while (sqlite3_step(s) == SQLITE_ROW) {
    snprintf(name, sizeof name, "%lld", (long long)sqlite3_column_int64(s, 0));
    long i = ivs_ratings_item_index(r, name);
    const char *answer = (const char *)sqlite3_column_text(s, 1);
    for (size_t l = 0; i >= 0 && answer && l < ivs_ratings_labels(r); l++)
      if (!strcmp(ivs_ratings_label_name(r, l), answer)) clamp[i] = (long)l;
  }
  sqlite3_finalize(s);
  return 0;
}

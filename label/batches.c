/* Batches: items (and gold items) put out for K judgments each, their
 * assignments to annotators or open slots, the export of a batch for a crowd
 * platform, and the next assignment of an annotator. */
#include <cjson/cJSON.h>
#include <csv.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/json.h"
#include "label/agreement.h"
#include "store/db.h"

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
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s, sql, 0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, tag);
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (ivs_grow((void **)out, &cap, *n + 1, sizeof **out, 256)) {
      sqlite3_finalize(s);
      return IVS_ENOMEM;
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
  if (ni) memcpy(all, items, ni * sizeof *all); /* items or gold may be NULL when none */
  if (ng) memcpy(all + ni, gold, ng * sizeof *all);
  shuffle(all, ni + ng, &seed); /* gold at random positions */
  for (size_t a = 0; a < o->n_annotators && !rc; a++) rc = ivs_annotator_id(st, o->annotators[a], &ann[a]);
  if (rc) goto done;
  shuffle(ann, o->n_annotators, &seed);
  sqlite3_stmt *s = NULL;
  if ((rc = ivs_db_prepare(st, &s, "INSERT INTO batches (name, per_item, seed) VALUES (?1, ?2, ?3)", 0, "cannot prepare"))) goto done;
  ivs_db_text(s, 1, o->name);
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
  if ((rc = ivs_db_prepare(st, &bi, "INSERT INTO batch_items (batch_id, example_id, position, gold) VALUES (?1, ?2, ?3, ?4)", 0, "cannot prepare")) ||
      (rc = ivs_db_prepare(st, &as, "INSERT INTO assignments (batch_id, example_id, slot, annotator_id) VALUES (?1, ?2, ?3, ?4)", 0, "cannot prepare"))) {
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

/* ---- export ---- */

typedef struct {
  int64_t id;
  char *prompt, *classes; /* classes: JSON array text */
  long answer;            /* gold answer or -1 */
  char *annotators;       /* comma-separated names of assigned annotators */
} batch_row;

static int batch_rows(ivs_store *st, const char *batch, batch_row **out, size_t *n) {
  sqlite3_stmt *s = NULL;
  int rc = ivs_db_prepare(st, &s,
                "SELECT e.id, e.prompt, e.classes, CASE WHEN bi.gold THEN e.answer_index END,"
                " (SELECT group_concat(a.name, ',') FROM assignments x JOIN annotators a ON a.id = x.annotator_id"
                "   WHERE x.batch_id = b.id AND x.example_id = e.id)"
                " FROM batches b JOIN batch_items bi ON bi.batch_id = b.id JOIN examples e ON e.id = bi.example_id"
                " WHERE b.name = ?1 ORDER BY bi.position", 0, "cannot prepare");
  if (rc) return rc;
  ivs_db_text(s, 1, batch);
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if ((rc = ivs_grow((void **)out, &cap, *n + 1, sizeof **out, 64))) break;
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

/* ---- the next assignment ---- */

int ivs_assignment_next(ivs_store *st, const char *batch, const char *annotator, int64_t *item) {
  sqlite3_stmt *s = NULL;
  int64_t bid = 0, aid = 0;
  *item = 0;
  int rc = ivs_db_prepare(st, &s, "SELECT id FROM batches WHERE name = ?1", 0, "cannot find the batch");
  if (rc) return rc;
  ivs_db_text(s, 1, batch);
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) bid = sqlite3_column_int64(s, 0);
  ivs_db_finalize(&s);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return ivs_store_fail(st, "cannot find the batch");
  if (!bid) return ivs_error_set(IVS_EINVAL, "no batch named '%s'", batch);
  /* as the importers find an annotator: the external id first, then the name */
  if ((rc = ivs_db_prepare(st, &s,
                           "SELECT id FROM annotators WHERE external_id = ?1 OR name = ?1 ORDER BY external_id = ?1 DESC LIMIT 1",
                           0, "cannot find the annotator")))
    return rc;
  ivs_db_text(s, 1, annotator);
  step = sqlite3_step(s);
  if (step == SQLITE_ROW) aid = sqlite3_column_int64(s, 0);
  ivs_db_finalize(&s);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return ivs_store_fail(st, "cannot find the annotator");
  if (!aid) return ivs_error_set(IVS_EINVAL, "no annotator '%s'", annotator);
  /* an item is open to the annotator when one of its K slots is theirs or
   * still open; the K slots of an item never grow, so K is respected */
  if ((rc = ivs_db_prepare(st, &s,
                           "SELECT bi.example_id FROM batch_items bi WHERE bi.batch_id = ?1"
                           " AND EXISTS (SELECT 1 FROM assignments x WHERE x.batch_id = ?1 AND x.example_id = bi.example_id"
                           "   AND (x.annotator_id = ?2 OR x.annotator_id IS NULL))"
                           " AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.example_id = bi.example_id"
                           "   AND j.annotator_id = ?2 AND j.batch_id = ?1)"
                           " ORDER BY bi.position LIMIT 1",
                           0, "cannot find the next assignment")))
    return rc;
  sqlite3_bind_int64(s, 1, bid);
  sqlite3_bind_int64(s, 2, aid);
  step = sqlite3_step(s);
  if (step == SQLITE_ROW) *item = sqlite3_column_int64(s, 0);
  else if (step != SQLITE_DONE) rc = ivs_store_fail(st, "cannot find the next assignment");
  sqlite3_finalize(s);
  return rc;
}

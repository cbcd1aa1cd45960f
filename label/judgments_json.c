/* Judgments from Label Studio: the JSON export (tasks with their
 * annotations, or completions in older files) and JSON_MIN (one flat record
 * per annotation). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "label/judgments.h"

/* Label Studio JSON_MIN: a JSON array of flat objects, one per annotation. */
static int import_labelstudio_min(ivs_importer *im, cJSON *root) {
  int rc = 0, n = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, root) {
    n++;
    ivs_field fields[64];
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, o) if (k < 64) fields[k++] = (ivs_field){it->string, NULL, 0, it, 0};
    ivs_record rec = {fields, k, (size_t)n, cJSON_IsObject(o) ? NULL : "not an object", 0};
    if ((rc = ivs_import_record(&rec, im))) break;
  }
  return rc;
}

/* Whether an annotator is known under `name`: 1, 0, or < 0 when the store failed. */
static int annotator_known(ivs_judgment_ctx *cx, const char *name) {
  sqlite3_reset(cx->by_name);
  ivs_db_text(cx->by_name, 1, name);
  int step = sqlite3_step(cx->by_name);
  sqlite3_reset(cx->by_name);
  if (step == SQLITE_ROW) return 1;
  if (step == SQLITE_DONE) return 0;
  return ivs_store_fail(cx->st, "cannot look up an annotator");
}

/* The annotator of completed_by: a user id (number or string) or an object
 * with "id" and/or "email".  With both, the id when an annotator is known
 * under it, else the email: JSON_MIN names users by email, so one person has
 * one identity in both formats.  1 with who set, 0 when there is none, < 0
 * when the store failed. */
static int annotator_of(ivs_importer *im, const cJSON *by, char *who, size_t cap) {
  const cJSON *email = NULL;
  if (cJSON_IsObject(by)) {
    email = cJSON_GetObjectItem(by, "email");
    if (!cJSON_IsString(email) || !*email->valuestring) email = NULL;
    by = cJSON_GetObjectItem(by, "id");
  }
  if (cJSON_IsNumber(by)) snprintf(who, cap, "%.0f", by->valuedouble);
  else if (cJSON_IsString(by) && *by->valuestring) snprintf(who, cap, "%s", by->valuestring);
  else if (email) return snprintf(who, cap, "%s", email->valuestring), 1;
  else return 0;
  if (email) {
    int known = annotator_known(&im->cx, who);
    if (known < 0) return known;
    if (!known) snprintf(who, cap, "%s", email->valuestring);
  }
  return 1;
}

int ivs_import_labelstudio(ivs_importer *im, int min) {
  ivs_buf data;
  int rc = ivs_file_read_all(im->path, (size_t)256 << 20, &data);
  if (rc) return rc;
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
  const ivs_judgment_map *m = &im->map;
  const char *item_key = "item_id", *match_key = NULL;
  if (m->item && strncmp(m->item, "data.", 5)) {
    cJSON_Delete(root);
    return ivs_error_set(IVS_EUSAGE, "--map item=%s: for labelstudio name a task field as data.FIELD", m->item);
  }
  if (m->match_prompt && strncmp(m->match_prompt, "data.", 5)) {
    cJSON_Delete(root);
    return ivs_error_set(IVS_EUSAGE, "--match prompt=%s: name a task field as data.FIELD", m->match_prompt);
  }
  if (m->item) item_key = m->item + 5;
  if (m->match_prompt) match_key = m->match_prompt + 5;
  sqlite3_stmt *by_prompt = NULL;
  if (match_key &&
      (rc = ivs_db_prepare(im->cx.st, &by_prompt, "SELECT id FROM examples WHERE prompt = ?1 LIMIT 2", 0, "cannot prepare"))) {
    cJSON_Delete(root);
    return rc;
  }
  int t = 0;
  const cJSON *task;
  cJSON_ArrayForEach(task, root) {
    t++;
    char where[300], item[32];
    snprintf(where, sizeof where, "%s: task %d", im->path, t);
    const cJSON *data_o = cJSON_GetObjectItem(task, "data");
    const cJSON *anns = cJSON_GetObjectItem(task, "annotations");
    if (!anns) anns = cJSON_GetObjectItem(task, "completions"); /* older exports */
    if (!cJSON_IsObject(task) || !cJSON_IsArray(anns)) {
      ivs_import_reject(im, "%s: needs an annotations list", where);
      continue;
    }
    if (match_key) { /* the task's text names the example */
      const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(data_o, match_key));
      if (!text) {
        ivs_import_reject(im, "%s: no text field data.%s to match", where, match_key);
        continue;
      }
      sqlite3_reset(by_prompt);
      ivs_db_text(by_prompt, 1, text);
      int step = sqlite3_step(by_prompt), found = 0;
      long long id = 0;
      while (step == SQLITE_ROW) {
        if (!found++) id = sqlite3_column_int64(by_prompt, 0);
        step = sqlite3_step(by_prompt);
      }
      if (step != SQLITE_DONE) {
        rc = ivs_store_fail(im->cx.st, "cannot look up a prompt");
        break;
      }
      if (found != 1) {
        ivs_import_reject(im, "%s: data.%s '%.60s' matches %s stored prompt", where, match_key, text,
                          found ? "more than one" : "no");
        continue;
      }
      snprintf(item, sizeof item, "%lld", id);
    } else {
      const cJSON *iid = cJSON_GetObjectItem(data_o, item_key);
      if (!iid) {
        ivs_import_reject(im, "%s: no data.%s (an invscale batch export has data.item_id; for another project name "
                              "the field with --map item=data.FIELD or match its text with --match prompt=data.FIELD)",
                          where, item_key);
        continue;
      }
      if (cJSON_IsNumber(iid)) snprintf(item, sizeof item, "%.0f", iid->valuedouble);
      else snprintf(item, sizeof item, "%s", cJSON_IsString(iid) ? iid->valuestring : "");
    }
    const cJSON *an;
    int k = 0;
    cJSON_ArrayForEach(an, anns) {
      k++;
      const cJSON *aid = cJSON_GetObjectItem(an, "id");
      char idb[64] = "";
      snprintf(where, sizeof where, "%s: task %d annotation %d", im->path, t, k);
      if (cJSON_IsNumber(aid)) {
        snprintf(where, sizeof where, "%s: task %d annotation id %.0f", im->path, t, aid->valuedouble);
        snprintf(idb, sizeof idb, "%.0f", aid->valuedouble);
      }
      if (cJSON_IsTrue(cJSON_GetObjectItem(an, "was_cancelled"))) {
        im->rep->cancelled++;
        continue;
      }
      char who[256];
      if ((rc = annotator_of(im, cJSON_GetObjectItem(an, m->annotator ? m->annotator : "completed_by"), who, sizeof who)) < 0) break;
      if (!rc) {
        ivs_import_reject(im, "%s: no completed_by (expected a user id number or an object with \"id\" or \"email\")", where);
        continue;
      }
      rc = 0;
      const char *label = NULL;
      const cJSON *res;
      cJSON_ArrayForEach(res, cJSON_GetObjectItem(an, "result")) {
        if (m->label && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(res, "from_name")) ? cJSON_GetStringValue(cJSON_GetObjectItem(res, "from_name")) : "", m->label)) continue;
        const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "value"), "choices");
        if (cJSON_IsString(cJSON_GetArrayItem(ch, 0))) label = cJSON_GetArrayItem(ch, 0)->valuestring;
      }
      if (!label) {
        if (m->label) ivs_import_reject(im, "%s: no choice of the control '%s' in the result", where, m->label);
        else ivs_import_reject(im, "%s: no choice in the result", where);
        continue;
      }
      const cJSON *lt = cJSON_GetObjectItem(an, m->time ? m->time : "lead_time");
      ivs_jident idn = {"labelstudio", idb, cJSON_GetStringValue(cJSON_GetObjectItem(an, "updated_at"))};
      if ((rc = ivs_import_judgment(im, item, who, label, cJSON_IsNumber(lt) ? lt->valuedouble : -1, where,
                                    idb[0] ? &idn : NULL)))
        break;
    }
    if (rc) break;
  }
  ivs_db_finalize(&by_prompt);
  cJSON_Delete(root);
  return rc;
}

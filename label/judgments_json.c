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
      ivs_import_reject(im, "%s: needs data.item_id and an annotations list", where);
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
        ivs_import_reject(im, "%s: no completed_by", where);
        continue;
      }
      const char *label = NULL;
      const cJSON *res;
      cJSON_ArrayForEach(res, cJSON_GetObjectItem(an, "result")) {
        const cJSON *ch = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "value"), "choices");
        if (cJSON_IsString(cJSON_GetArrayItem(ch, 0))) label = cJSON_GetArrayItem(ch, 0)->valuestring;
      }
      if (!label) {
        ivs_import_reject(im, "%s: no choice in the result", where);
        continue;
      }
      const cJSON *lt = cJSON_GetObjectItem(an, "lead_time");
      if ((rc = ivs_import_judgment(im, item, who, label, cJSON_IsNumber(lt) ? lt->valuedouble : -1, where))) break;
    }
    if (rc) break;
  }
  cJSON_Delete(root);
  return rc;
}

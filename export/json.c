#include "export/json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"

static int add_raw_json(cJSON *obj, const char *name, const char *text) {
  if (!text) return 0;
  cJSON *v = cJSON_Parse(text);
  if (!v) return ivs_error_set(IVS_ESTORE, "stored %s is not valid JSON", name);
  cJSON_AddItemToObject(obj, name, v);
  return 0;
}

int ivs_stored_example_json(const ivs_stored_example *ex, ivs_buf *out) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int rc = 0;
  cJSON_AddNumberToObject(o, "id", (double)ex->id);
  cJSON_AddStringToObject(o, "type", ex->type);
  cJSON_AddStringToObject(o, "prompt", ex->prompt);
  if (ex->other_prompt) cJSON_AddStringToObject(o, "other_prompt", ex->other_prompt);
  if (ex->completion) cJSON_AddStringToObject(o, "completion", ex->completion);
  if (!rc) rc = add_raw_json(o, "classes", ex->classes_json);
  if (ex->answer_index >= 0) cJSON_AddNumberToObject(o, "answer_index", (double)ex->answer_index);
  if (!rc) rc = add_raw_json(o, "metadata", ex->metadata_json ? ex->metadata_json : "{}");
  if (ex->tag) cJSON_AddStringToObject(o, "tag", ex->tag);
  if (ex->source) {
    cJSON *src = cJSON_AddObjectToObject(o, "source");
    cJSON_AddStringToObject(src, "file", ex->source);
    cJSON_AddNumberToObject(src, "line", (double)ex->line);
  }
  if (!rc) {
    char *text = ivs_json_print(o);
    if (!text) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    else rc = ivs_buf_puts(out, text);
    cJSON_free(text);
  }
  cJSON_Delete(o);
  return rc;
}

#include "engine/config.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* "'key'" or "'where.key'" for messages */
static const char *qname(char *buf, size_t n, const char *where, const char *key) {
  snprintf(buf, n, where && where[0] ? "'%s.%s'" : "'%s%s'", where && where[0] ? where : "", key);
  return buf;
}

int ivs_cfg_number(const ivs_model *m, const cJSON *obj, const char *where, const char *key, double dflt, double *out,
                   int *present) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  char q[128];
  if (present) *present = 0;
  *out = dflt;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsNumber(v)) return ivs_error_set(IVS_EINVAL, "%s: %s must be a number", m->config_path, qname(q, sizeof q, where, key));
  *out = v->valuedouble;
  if (present) *present = 1;
  return 0;
}

int ivs_cfg_bool(const ivs_model *m, const cJSON *obj, const char *key, int dflt, int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = dflt;
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsBool(v)) return ivs_error_set(IVS_EINVAL, "%s: '%s' must be true or false", m->config_path, key);
  *out = cJSON_IsTrue(v);
  return 0;
}

int ivs_cfg_choice(const ivs_model *m, const cJSON *obj, const char *where, const char *key, const char *const *allowed,
                   size_t n, const char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  char q[128], list[256] = "";
  *out = NULL;
  if (!v || cJSON_IsNull(v)) return 0;
  for (size_t k = 0; k < n && cJSON_IsString(v); k++)
    if (!strcmp(v->valuestring, allowed[k])) {
      *out = v->valuestring;
      return 0;
    }
  for (size_t k = 0, len = 0; k < n && len < sizeof list; k++)
    len += (size_t)snprintf(list + len, sizeof list - len, k ? ", %s" : "%s", allowed[k]);
  if (!cJSON_IsString(v))
    return ivs_error_set(IVS_EINVAL, "%s: %s must be a string (%s)", m->config_path, qname(q, sizeof q, where, key), list);
  return ivs_error_set(IVS_EINVAL, "%s: %s '%.64s' is not supported (%s)", m->config_path, qname(q, sizeof q, where, key),
                       v->valuestring, list);
}

int ivs_cfg_head(ivs_model *m, const cJSON *cfg, int tie_default, const char *name, const float *embed, size_t V,
                 size_t E) {
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(cfg, "tie_word_embeddings");
  int tied, rc = ivs_cfg_bool(m, cfg, "tie_word_embeddings", tie_default, &tied);
  if (rc) return rc;
  size_t shape[2] = {V, E};
  const float *head = NULL;
  if (!tied && !ivs_model_tensor(m, name))
    return ivs_error_set(IVS_EINVAL, "%s: no tensor '%s' (of shape [%zu, %zu]) for an untied head ('tie_word_embeddings' %s)",
                         m->weights_path, name, V, E, key && !cJSON_IsNull(key) ? "false" : "absent: false for this model_type");
  if (!tied) rc = ivs_model_weight(m, name, 2, shape, 0, &head);
  m->head = tied ? embed : head;
  m->tied = tied;
  return rc;
}

const char *ivs_cfg_prefix(const ivs_model *m, const char *const *prefixes, size_t n, const char *probe) {
  char name[256];
  for (size_t k = 0; k < n; k++) {
    snprintf(name, sizeof name, "%s%s", prefixes[k], probe);
    if (ivs_model_tensor(m, name)) return prefixes[k];
  }
  return prefixes[0];
}

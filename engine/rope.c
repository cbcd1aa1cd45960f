#include "engine/rope.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/config.h"

const char *ivs_rope_type_name(ivs_rope_type t) {
  return t == IVS_ROPE_LLAMA3 ? "llama3" : t == IVS_ROPE_LINEAR ? "linear" : "default";
}

void ivs_rope_release(ivs_rope_cfg *r) {
  free(r->inv_freq);
  r->inv_freq = NULL;
}

/* A scaling key that the type needs: from the object that named the type. */
static int need(const ivs_model *m, const cJSON *src, const char *where, const char *type, const char *key, double *out) {
  int present;
  int rc = ivs_cfg_number(m, src, where, key, 0, out, &present);
  if (!rc && !present)
    rc = ivs_error_set(IVS_EINVAL, "%s: '%s' rope_type %s needs '%s'", m->config_path, where, type, key);
  if (!rc && !(*out > 0 && isfinite(*out)))
    rc = ivs_error_set(IVS_EINVAL, "%s: '%s.%s' %g must be a positive number", m->config_path, where, key, *out);
  return rc;
}

int ivs_rope_read(ivs_rope_cfg *r, const ivs_model *m, const cJSON *cfg, size_t hd, const ivs_rope_spec *spec) {
  const char *cpath = m->config_path;
  memset(r, 0, sizeof *r);
  r->hd = hd, r->factor = 1;
  const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters"),
              *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
  if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
    return ivs_error_set(IVS_EINVAL, "%s: 'rope_parameters' must be an object", cpath);
  if (rs && !cJSON_IsNull(rs) && !cJSON_IsObject(rs))
    return ivs_error_set(IVS_EINVAL, "%s: 'rope_scaling' must be an object or null", cpath);
  if (!cJSON_IsObject(rp)) rp = NULL;
  if (!cJSON_IsObject(rs)) rs = NULL;
  /* the base: rope_parameters, then the architecture's legacy key, then rope_theta */
  int have = 0, rc = ivs_cfg_number(m, rp, "rope_parameters", "rope_theta", 10000.0, &r->theta, &have);
  if (!rc && !have) rc = ivs_cfg_number(m, cfg, "", spec->theta_key, 10000.0, &r->theta, &have);
  if (!rc && !have && strcmp(spec->theta_key, "rope_theta"))
    rc = ivs_cfg_number(m, cfg, "", "rope_theta", 10000.0, &r->theta, &have);
  if (rc) return rc;
  if (!(r->theta > 1 && isfinite(r->theta)))
    return ivs_error_set(IVS_EINVAL, "%s: the rope base (rope_theta) %g must be a number above 1", cpath, r->theta);
  /* the rotated share of each head */
  double pct = spec->pct_default;
  const char *pct_name = "partial_rotary_factor";
  rc = ivs_cfg_number(m, rp, "rope_parameters", "partial_rotary_factor", pct, &pct, &have);
  if (!rc && !have) rc = ivs_cfg_number(m, cfg, "", "partial_rotary_factor", pct, &pct, &have);
  if (!rc && !have && spec->pct_key) rc = ivs_cfg_number(m, cfg, "", spec->pct_key, pct, &pct, &have), pct_name = spec->pct_key;
  if (rc) return rc;
  if (!(pct > 0 && pct <= 1)) return ivs_error_set(IVS_EINVAL, "%s: '%s' %g must be in (0, 1]", cpath, pct_name, pct);
  if (pct != 1 && !spec->partial)
    return ivs_error_set(IVS_EINVAL, "%s: '%s' %g is not supported for %s (1: every dimension rotated)", cpath, pct_name,
                         pct, m->model_type);
  r->rot = (size_t)((double)hd * pct); /* int(head_dim * share), as transformers */
  if (r->rot < 2 || r->rot % 2)
    return ivs_error_set(IVS_EINVAL, "%s: '%s' %g rotates %zu of the %zu dimensions of a head: not a positive even number",
                         cpath, pct_name, pct, r->rot, hd);
  /* the type: from rope_parameters (transformers 5) or rope_scaling; "type" is its older name */
  const cJSON *src = rp ? rp : rs;
  const char *where = rp ? "rope_parameters" : "rope_scaling", *tkey = "rope_type", *type = NULL;
  static const char *const types[] = {"default", "linear", "llama3"};
  if (src && !cJSON_GetObjectItemCaseSensitive(src, "rope_type") && cJSON_GetObjectItemCaseSensitive(src, "type"))
    tkey = "type";
  rc = ivs_cfg_choice(m, src, where, tkey, types, 3, &type);
  if (!rc && rp && rs && !type) { /* an empty rope_parameters beside an older rope_scaling */
    src = rs, where = "rope_scaling";
    tkey = cJSON_GetObjectItemCaseSensitive(rs, "rope_type") || !cJSON_GetObjectItemCaseSensitive(rs, "type") ? "rope_type" : "type";
    rc = ivs_cfg_choice(m, src, where, tkey, types, 3, &type);
  }
  if (rc) return rc;
  r->type = !type || !strcmp(type, "default") ? IVS_ROPE_DEFAULT : !strcmp(type, "linear") ? IVS_ROPE_LINEAR : IVS_ROPE_LLAMA3;
  if (r->type != IVS_ROPE_DEFAULT) rc = need(m, src, where, type, "factor", &r->factor);
  if (!rc && r->type == IVS_ROPE_LLAMA3) {
    rc = need(m, src, where, type, "low_freq_factor", &r->low_freq_factor);
    if (!rc) rc = need(m, src, where, type, "high_freq_factor", &r->high_freq_factor);
    if (!rc) rc = ivs_cfg_number(m, src, where, "original_max_position_embeddings", 0, &r->original_max, &have);
    if (!rc && !have) /* transformers 5 may keep it at the top level */
      rc = ivs_cfg_number(m, cfg, "", "original_max_position_embeddings", 0, &r->original_max, &have);
    if (!rc && !have)
      rc = ivs_error_set(IVS_EINVAL, "%s: '%s' rope_type llama3 needs 'original_max_position_embeddings'", cpath, where);
    if (!rc && !(r->original_max > 0 && isfinite(r->original_max)))
      rc = ivs_error_set(IVS_EINVAL, "%s: 'original_max_position_embeddings' %g must be a positive number", cpath,
                         r->original_max);
    if (!rc && !(r->high_freq_factor > r->low_freq_factor))
      rc = ivs_error_set(IVS_EINVAL, "%s: '%s.high_freq_factor' %g must be above 'low_freq_factor' %g", cpath, where,
                         r->high_freq_factor, r->low_freq_factor);
  }
  if (rc) return rc;
  size_t half = r->rot / 2;
  if (!(r->inv_freq = malloc(half * sizeof *r->inv_freq))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int llama3 = r->type == IVS_ROPE_LLAMA3;
  double lo_wave = llama3 ? r->original_max / r->low_freq_factor : 0, hi_wave = llama3 ? r->original_max / r->high_freq_factor : 0;
  for (size_t i = 0; i < half; i++) {
    double f = pow(r->theta, -(double)(2 * i) / (double)r->rot);
    if (r->type == IVS_ROPE_LINEAR) f /= r->factor;
    if (llama3) {
      double wave = 6.283185307179586 / f; /* 2 pi / f */
      if (wave > lo_wave) f /= r->factor; /* low frequencies: scaled */
      else if (!(wave < hi_wave)) {       /* between: a smooth mix of the two */
        double s = (r->original_max / wave - r->low_freq_factor) / (r->high_freq_factor - r->low_freq_factor);
        f = (1 - s) * f / r->factor + s * f;
      }
    }
    r->inv_freq[i] = f;
  }
  return 0;
}

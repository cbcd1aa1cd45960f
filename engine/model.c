#include "engine/model.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "engine/safetensors.h"

#define MAX_LAYERS 256
#define MAX_CONFIG ((size_t)1 << 20)

typedef struct {
  const float *ln1_w, *ln1_b, *attn_w, *attn_b, *proj_w, *proj_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *fc2_w, *fc2_b;
} layer;

struct ivs_model {
  char model_type[32];
  size_t L, C, H, V, T;
  double eps;
  ivs_st_file st;
  const float *wte, *wpe, *lnf_w, *lnf_b;
  layer *layers;
  float **copies; /* owned: float32 copies of F16/BF16 or misaligned tensors */
  size_t ncopies;
  uint64_t params, converted;
  const char *dtype;
};

static int config_size(const cJSON *cfg, const char *path, const char *key, size_t lo, size_t hi, size_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
      v->valuedouble > (double)hi)
    return ivs_error_set(IVS_EINVAL, "%s: '%s' must be a whole number from %zu to %zu", path, key, lo, hi);
  *out = (size_t)v->valuedouble;
  return 0;
}

/* The tensor `name` as float32 of the expected shape (ndim entries). */
static int weight(ivs_model *m, const char *name, size_t ndim, const size_t *shape, const float **out) {
  const ivs_st_tensor *t = ivs_st_find(&m->st, name);
  char want[64] = "", got[64] = "";
  for (size_t k = 0, n = 0; k < ndim; k++) n += (size_t)snprintf(want + n, sizeof want - n, k ? ", %zu" : "%zu", shape[k]);
  if (!t) return ivs_error_set(IVS_EINVAL, "%s: no tensor '%s' (of shape [%s])", m->st.path, name, want);
  int same = t->ndim == ndim;
  for (size_t k = 0; same && k < ndim; k++) same = t->shape[k] == shape[k];
  if (!same) {
    for (size_t k = 0, n = 0; k < t->ndim && n < sizeof got; k++)
      n += (size_t)snprintf(got + n, sizeof got - n, k ? ", %llu" : "%llu", (unsigned long long)t->shape[k]);
    return ivs_error_set(IVS_EINVAL, "%s: tensor '%s' has shape [%s], the config needs [%s]", m->st.path, name, got, want);
  }
  if (!m->dtype) m->dtype = ivs_dtype_name(t->dtype);
  m->params += t->count;
  if (t->dtype == IVS_DTYPE_F32 && ((uintptr_t)t->data & 3) == 0) {
    *out = t->data; /* in place */
    return 0;
  }
  float *c = malloc(t->count * sizeof *c), **cs = c ? realloc(m->copies, (m->ncopies + 1) * sizeof *cs) : NULL;
  if (!cs) {
    free(c);
    return ivs_error_set(IVS_ENOMEM, "%s: out of memory converting '%s'", m->st.path, name);
  }
  m->copies = cs;
  m->copies[m->ncopies++] = c;
  ivs_dtype_to_f32(t->dtype, t->data, c, t->count);
  m->converted += t->count * sizeof *c;
  *out = c;
  return 0;
}

static int load_gpt2(ivs_model *m, const cJSON *cfg, const char *cpath) {
  int rc = config_size(cfg, cpath, "n_layer", 1, MAX_LAYERS, &m->L);
  if (!rc) rc = config_size(cfg, cpath, "n_embd", 1, 1 << 16, &m->C);
  if (!rc) rc = config_size(cfg, cpath, "n_head", 1, 1 << 10, &m->H);
  if (!rc) rc = config_size(cfg, cpath, "vocab_size", 1, 1 << 22, &m->V);
  if (!rc) rc = config_size(cfg, cpath, "n_positions", 1, 1 << 20, &m->T);
  if (rc) return rc;
  if (m->C % m->H) return ivs_error_set(IVS_EINVAL, "%s: n_embd %zu is not a multiple of n_head %zu", cpath, m->C, m->H);
  const cJSON *inner = cJSON_GetObjectItemCaseSensitive(cfg, "n_inner");
  if (inner && !cJSON_IsNull(inner) && !(cJSON_IsNumber(inner) && inner->valuedouble == 4.0 * (double)m->C))
    return ivs_error_set(IVS_EINVAL, "%s: 'n_inner' %g is not supported (only 4 x n_embd)", cpath, inner->valuedouble);
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "activation_function");
  if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "gelu_new")))
    return ivs_error_set(IVS_EINVAL, "%s: 'activation_function' %s is not supported (gelu_new)", cpath,
                         cJSON_IsString(act) ? act->valuestring : "(not a string)");
  static const char *const off[] = {"scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"};
  for (int k = 0; k < 3; k++)
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, off[k])))
      return ivs_error_set(IVS_EINVAL, "%s: '%s' true is not supported", cpath, off[k]);
  const cJSON *eps = cJSON_GetObjectItemCaseSensitive(cfg, "layer_norm_epsilon");
  m->eps = cJSON_IsNumber(eps) ? eps->valuedouble : 1e-5;
  if (!(m->layers = calloc(m->L, sizeof *m->layers))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t C = m->C, vc[2] = {m->V, C}, pc[2] = {m->T, C}, c1[1] = {C};
  /* checkpoints name tensors with or without the "transformer." prefix */
  const char *pre = ivs_st_find(&m->st, "transformer.wte.weight") ? "transformer." : "";
  char n[128];
#define W(field, shp, nd, fmt, ...) \
  if (!rc) snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), rc = weight(m, n, nd, shp, &field)
  W(m->wte, vc, 2, "%s", "wte.weight");
  W(m->wpe, pc, 2, "%s", "wpe.weight");
  W(m->lnf_w, c1, 1, "%s", "ln_f.weight");
  W(m->lnf_b, c1, 1, "%s", "ln_f.bias");
  size_t c3[1] = {3 * C}, c4[1] = {4 * C}, cc3[2] = {C, 3 * C}, cc[2] = {C, C}, cc4[2] = {C, 4 * C}, c4c[2] = {4 * C, C};
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &m->layers[l];
    W(y->ln1_w, c1, 1, "h.%zu.ln_1.weight", l);
    W(y->ln1_b, c1, 1, "h.%zu.ln_1.bias", l);
    W(y->attn_w, cc3, 2, "h.%zu.attn.c_attn.weight", l);
    W(y->attn_b, c3, 1, "h.%zu.attn.c_attn.bias", l);
    W(y->proj_w, cc, 2, "h.%zu.attn.c_proj.weight", l);
    W(y->proj_b, c1, 1, "h.%zu.attn.c_proj.bias", l);
    W(y->ln2_w, c1, 1, "h.%zu.ln_2.weight", l);
    W(y->ln2_b, c1, 1, "h.%zu.ln_2.bias", l);
    W(y->fc_w, cc4, 2, "h.%zu.mlp.c_fc.weight", l);
    W(y->fc_b, c4, 1, "h.%zu.mlp.c_fc.bias", l);
    W(y->fc2_w, c4c, 2, "h.%zu.mlp.c_proj.weight", l);
    W(y->fc2_b, c1, 1, "h.%zu.mlp.c_proj.bias", l);
  }
#undef W
  return rc;
}

int ivs_model_open(ivs_model **out, const char *dir) {
  *out = NULL;
  ivs_model *m = calloc(1, sizeof *m);
  if (!m) return ivs_error_set(IVS_ENOMEM, "out of memory");
  char cpath[4096], wpath[4096];
  snprintf(cpath, sizeof cpath, "%s/config.json", dir);
  snprintf(wpath, sizeof wpath, "%s/model.safetensors", dir);
  ivs_buf text;
  cJSON *cfg = NULL;
  int rc = ivs_file_read_all(cpath, MAX_CONFIG, &text);
  if (!rc) {
    cfg = cJSON_ParseWithLength(text.data, text.len);
    ivs_buf_release(&text);
    if (!cJSON_IsObject(cfg)) rc = ivs_error_set(IVS_EPARSE, "%s: not a JSON object", cpath);
  }
  const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
  if (!rc && !cJSON_IsString(mt)) rc = ivs_error_set(IVS_EINVAL, "%s: no 'model_type'", cpath);
  if (!rc) snprintf(m->model_type, sizeof m->model_type, "%s", mt->valuestring);
  if (!rc && strcmp(m->model_type, "gpt2"))
    rc = ivs_error_set(IVS_EINVAL, "%s: 'model_type' %s is not supported yet (gpt2)", cpath, mt->valuestring);
  if (!rc) rc = ivs_st_open(&m->st, wpath);
  if (!rc) rc = load_gpt2(m, cfg, cpath);
  cJSON_Delete(cfg);
  if (rc) {
    ivs_model_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

void ivs_model_free(ivs_model *m) {
  if (!m) return;
  for (size_t i = 0; i < m->ncopies; i++) free(m->copies[i]);
  free(m->copies);
  free(m->layers);
  ivs_st_close(&m->st);
  free(m);
}

void ivs_model_get_info(const ivs_model *m, ivs_model_info *info) {
  memset(info, 0, sizeof *info);
  info->model_type = m->model_type;
  info->n_layer = m->L, info->n_embd = m->C, info->n_head = m->H, info->n_vocab = m->V, info->n_ctx = m->T;
  info->params = m->params;
  info->file_bytes = m->st.map_len;
  info->converted_bytes = m->converted;
  info->dtype = m->dtype;
}

/* ---- the forward pass ---- */

static void layernorm(float *out, const float *x, const float *w, const float *b, size_t T, size_t C, double eps) {
  for (size_t t = 0; t < T; t++) {
    const float *xt = x + t * C;
    double mean = 0, var = 0;
    for (size_t i = 0; i < C; i++) mean += xt[i];
    mean /= (double)C;
    for (size_t i = 0; i < C; i++) var += (xt[i] - mean) * (xt[i] - mean);
    var /= (double)C;
    float s = (float)(1.0 / sqrt(var + eps));
    for (size_t i = 0; i < C; i++) out[t * C + i] = (float)((xt[i] - mean) * s) * w[i] + b[i];
  }
}

/* out[T x N] = in[T x K] . w[K x N] + b */
static void linear(float *out, const float *in, const float *w, const float *b, size_t T, size_t K, size_t N) {
  for (size_t t = 0; t < T; t++) memcpy(out + t * N, b, N * sizeof *out);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)N, (int)K, 1.0f, in, (int)K, w, (int)N, 1.0f, out,
              (int)N);
}

static float gelu_new(float x) {
  return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

int ivs_model_score(ivs_model *m, const int32_t *ids, size_t n, size_t n_ctx, double *lp, int32_t *argmax) {
  if (n_ctx == 0 || n_ctx >= n)
    return ivs_error_set(IVS_EINVAL, "n_ctx %zu must be at least 1 and below the length %zu", n_ctx, n);
  if (n > m->T) return ivs_error_set(IVS_EINVAL, "%zu tokens: the model's context is %zu", n, m->T);
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || (size_t)ids[i] >= m->V)
      return ivs_error_set(IVS_EINVAL, "token %zu: id %d is outside the vocabulary (0 to %zu)", i, ids[i], m->V - 1);
  size_t T = n, C = m->C, H = m->H, hd = C / H;
  float *x = malloc(T * C * sizeof *x), *h = malloc(T * C * sizeof *h), *qkv = malloc(T * 3 * C * sizeof *qkv),
        *att = malloc(T * C * sizeof *att), *fc = malloc(T * 4 * C * sizeof *fc), *sc = malloc(T * sizeof *sc),
        *logits = malloc(m->V * sizeof *logits);
  int rc = 0;
  if (!x || !h || !qkv || !att || !fc || !sc || !logits) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t t = 0; t < T; t++)
    for (size_t i = 0; i < C; i++) x[t * C + i] = m->wte[(size_t)ids[t] * C + i] + m->wpe[t * C + i];
  float scale = 1.0f / sqrtf((float)hd);
  for (size_t l = 0; l < m->L; l++) {
    const layer *y = &m->layers[l];
    layernorm(h, x, y->ln1_w, y->ln1_b, T, C, m->eps);
    linear(qkv, h, y->attn_w, y->attn_b, T, C, 3 * C);
    for (size_t hh = 0; hh < H; hh++)
      for (size_t t = 0; t < T; t++) { /* causal softmax attention of query t over keys 0..t */
        const float *q = qkv + t * 3 * C + hh * hd;
        float mx = -INFINITY;
        for (size_t s = 0; s <= t; s++) {
          const float *k = qkv + s * 3 * C + C + hh * hd;
          float d = 0;
          for (size_t i = 0; i < hd; i++) d += q[i] * k[i];
          sc[s] = d * scale;
          if (sc[s] > mx) mx = sc[s];
        }
        float sum = 0;
        for (size_t s = 0; s <= t; s++) sum += sc[s] = expf(sc[s] - mx);
        float *o = att + t * C + hh * hd;
        memset(o, 0, hd * sizeof *o);
        for (size_t s = 0; s <= t; s++) {
          const float *v = qkv + s * 3 * C + 2 * C + hh * hd;
          float p = sc[s] / sum;
          for (size_t i = 0; i < hd; i++) o[i] += p * v[i];
        }
      }
    linear(h, att, y->proj_w, y->proj_b, T, C, C);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    layernorm(h, x, y->ln2_w, y->ln2_b, T, C, m->eps);
    linear(fc, h, y->fc_w, y->fc_b, T, C, 4 * C);
    for (size_t i = 0; i < T * 4 * C; i++) fc[i] = gelu_new(fc[i]);
    linear(h, fc, y->fc2_w, y->fc2_b, T, 4 * C, C);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
  }
  layernorm(h, x, m->lnf_w, m->lnf_b, T, C, m->eps);
  /* the head (the embedding, tied) at each position; a log-softmax in double
   * where a scored token is predicted */
  for (size_t t = 0; t < T; t++) {
    if (!argmax && t + 1 < n_ctx) continue;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->V, (int)C, 1.0f, m->wte, (int)C, h + t * C, 1, 0.0f, logits, 1);
    size_t best = 0;
    for (size_t v = 1; v < m->V; v++)
      if (logits[v] > logits[best]) best = v;
    if (argmax) argmax[t] = (int32_t)best;
    if (t + 1 >= n_ctx && t + 1 < n) {
      if (!isfinite(logits[best])) {
        rc = ivs_error_set(IVS_EINVAL, "position %zu: a logit is not finite", t);
        goto done;
      }
      double mx = logits[best], sum = 0;
      for (size_t v = 0; v < m->V; v++) sum += exp((double)logits[v] - mx);
      if (!isfinite(sum)) {
        rc = ivs_error_set(IVS_EINVAL, "position %zu: a logit is not finite", t);
        goto done;
      }
      lp[t + 1 - n_ctx] = (double)logits[ids[t + 1]] - mx - log(sum);
    }
  }
done:
  free(x), free(h), free(qkv), free(att), free(fc), free(sc), free(logits);
  return rc;
}

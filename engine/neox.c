/* GPT-NeoX (Pythia): LayerNorm, q/k/v fused and interleaved per head,
 * partial rotary positions (rotary_pct / partial_rotary_factor) in the
 * rotate-half layout, exact GELU, the parallel residual or not as
 * use_parallel_residual says, an untied head (embed_out). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"
#include "engine/model_impl.h"

typedef struct {
  const float *ln1_w, *ln1_b, *qkv_w, *qkv_b, *dense_w, *dense_b, *ln2_w, *ln2_b, *up_w, *up_b, *down_w, *down_b;
} layer;

typedef struct {
  const float *embed, *lnf_w, *lnf_b;
  double eps, theta;
  size_t I, rot;
  int parallel;
  layer *layers;
} neox;

static void neox_free(void *p) {
  neox *g = p;
  if (g) free(g->layers);
  free(g);
}

static int forward(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t T, float *out) {
  const neox *g = m->arch;
  size_t C = m->C, H = m->H, hd = m->hd, I = g->I;
  float *x = malloc(T * C * sizeof *x), *h = malloc(T * C * sizeof *h), *qkv = malloc(T * 3 * C * sizeof *qkv),
        *q = malloc(T * C * sizeof *q), *k = malloc(T * C * sizeof *k), *v = malloc(T * C * sizeof *v),
        *att = malloc(T * C * sizeof *att), *mid = malloc(T * I * sizeof *mid), *a = malloc(T * C * sizeof *a);
  size_t *pos = malloc((T ? T : 1) * sizeof *pos);
  int rc = !x || !h || !qkv || !q || !k || !v || !att || !mid || !a || !pos ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) ivs_kv_positions(kv, T, pos);
  for (size_t t = 0; t < T && !rc; t++) memcpy(x + t * C, g->embed + (size_t)ids[t] * C, C * sizeof *x);
  for (size_t l = 0; l < m->L && !rc; l++) {
    const layer *y = &g->layers[l];
    ivs_layernorm(h, x, y->ln1_w, y->ln1_b, T, C, g->eps);
    ivs_linear(qkv, h, y->qkv_w, y->qkv_b, T, C, 3 * C, 1);
    for (size_t t = 0; t < T; t++) /* per head: q, k, v of hd each */
      for (size_t hh = 0; hh < H; hh++) {
        const float *src = qkv + t * 3 * C + hh * 3 * hd;
        memcpy(q + t * C + hh * hd, src, hd * sizeof *q);
        memcpy(k + t * C + hh * hd, src + hd, hd * sizeof *k);
        memcpy(v + t * C + hh * hd, src + 2 * hd, hd * sizeof *v);
      }
    ivs_rope(q, T, pos, H, hd, C, g->rot, g->theta);
    ivs_rope(k, T, pos, H, hd, C, g->rot, g->theta);
    ivs_kv_put(kv, l, k, v, C, T);
    if (!rc) rc = ivs_attention(att, q, C, kv, l, T, H, hd);
    ivs_linear(a, att, y->dense_w, y->dense_b, T, C, C, 1);
    if (!g->parallel) {
      for (size_t i = 0; i < T * C; i++) x[i] += a[i];
      ivs_layernorm(h, x, y->ln2_w, y->ln2_b, T, C, g->eps);
    } else {
      ivs_layernorm(h, x, y->ln2_w, y->ln2_b, T, C, g->eps); /* from the same x as the attention */
    }
    ivs_linear(mid, h, y->up_w, y->up_b, T, C, I, 1);
    ivs_act_gelu_erf(mid, T * I);
    ivs_linear(h, mid, y->down_w, y->down_b, T, I, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i] + (g->parallel ? a[i] : 0);
  }
  if (!rc) ivs_layernorm(out, x, g->lnf_w, g->lnf_b, T, C, g->eps);
  free(x), free(h), free(qkv), free(q), free(k), free(v), free(att), free(mid), free(a), free(pos);
  return rc;
}

int ivs_neox_load(ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  size_t I;
  int rc = ivs_model_config_size(m, cfg, "num_hidden_layers", -1, 1, 512, &m->L);
  if (!rc) rc = ivs_model_config_size(m, cfg, "hidden_size", -1, 1, 1 << 16, &m->C);
  if (!rc) rc = ivs_model_config_size(m, cfg, "num_attention_heads", -1, 1, 1 << 10, &m->H);
  if (!rc) rc = ivs_model_config_size(m, cfg, "vocab_size", -1, 1, 1 << 22, &m->V);
  if (!rc) rc = ivs_model_config_size(m, cfg, "max_position_embeddings", -1, 1, 1 << 24, &m->T);
  if (!rc) rc = ivs_model_config_size(m, cfg, "intermediate_size", (long)(4 * m->C), 1, 1 << 20, &I);
  if (rc) return rc;
  if (m->C % m->H) return ivs_error_set(IVS_EINVAL, "%s: hidden_size %zu is not a multiple of %zu heads", cpath, m->C, m->H);
  m->KV = m->H, m->hd = m->C / m->H;
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "hidden_act");
  if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "gelu")))
    return ivs_error_set(IVS_EINVAL, "%s: 'hidden_act' %s is not supported (gelu)", cpath,
                         cJSON_IsString(act) ? act->valuestring : "(not a string)");
  /* transformers 5 writes rope_parameters; hub checkpoints rotary_pct and rotary_emb_base */
  const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters");
  double pct = ivs_model_config_number(rp, "partial_rotary_factor", ivs_model_config_number(cfg, "rotary_pct", 0.25));
  double theta = ivs_model_config_number(rp, "rope_theta", ivs_model_config_number(cfg, "rotary_emb_base", 10000.0));
  const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rp, "rope_type"), *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
  if ((rt && !(cJSON_IsString(rt) && !strcmp(rt->valuestring, "default"))) || (rs && !cJSON_IsNull(rs)))
    return ivs_error_set(IVS_EINVAL, "%s: rope scaling is not supported for gpt_neox", cpath);
  if (!(pct > 0 && pct <= 1)) return ivs_error_set(IVS_EINVAL, "%s: 'rotary_pct' %g must be in (0, 1]", cpath, pct);
  neox *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    neox_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = neox_free, m->forward = forward;
  g->eps = ivs_model_config_number(cfg, "layer_norm_eps", 1e-5), g->theta = theta, g->I = I;
  g->rot = (size_t)((double)m->hd * pct) & ~(size_t)1;
  const cJSON *par = cJSON_GetObjectItemCaseSensitive(cfg, "use_parallel_residual");
  g->parallel = !par || cJSON_IsTrue(par);
  size_t C = m->C, vc[2] = {m->V, C}, c1[1] = {C}, c3[1] = {3 * C}, q2[2] = {3 * C, C}, cc[2] = {C, C}, i1[1] = {I},
         i2[2] = {I, C}, d2[2] = {C, I};
  char n[160];
#define W(field, shp, nd, ...) \
  if (!rc) snprintf(n, sizeof n, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, 0, &field)
  W(g->embed, vc, 2, "gpt_neox.embed_in.weight");
  W(g->lnf_w, c1, 1, "gpt_neox.final_layer_norm.weight");
  W(g->lnf_b, c1, 1, "gpt_neox.final_layer_norm.bias");
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
    W(y->ln1_w, c1, 1, "gpt_neox.layers.%zu.input_layernorm.weight", l);
    W(y->ln1_b, c1, 1, "gpt_neox.layers.%zu.input_layernorm.bias", l);
    W(y->qkv_w, q2, 2, "gpt_neox.layers.%zu.attention.query_key_value.weight", l);
    W(y->qkv_b, c3, 1, "gpt_neox.layers.%zu.attention.query_key_value.bias", l);
    W(y->dense_w, cc, 2, "gpt_neox.layers.%zu.attention.dense.weight", l);
    W(y->dense_b, c1, 1, "gpt_neox.layers.%zu.attention.dense.bias", l);
    W(y->ln2_w, c1, 1, "gpt_neox.layers.%zu.post_attention_layernorm.weight", l);
    W(y->ln2_b, c1, 1, "gpt_neox.layers.%zu.post_attention_layernorm.bias", l);
    W(y->up_w, i2, 2, "gpt_neox.layers.%zu.mlp.dense_h_to_4h.weight", l);
    W(y->up_b, i1, 1, "gpt_neox.layers.%zu.mlp.dense_h_to_4h.bias", l);
    W(y->down_w, d2, 2, "gpt_neox.layers.%zu.mlp.dense_4h_to_h.weight", l);
    W(y->down_b, c1, 1, "gpt_neox.layers.%zu.mlp.dense_4h_to_h.bias", l);
  }
  W(m->head, vc, 2, "embed_out.weight");
#undef W
  return rc;
}

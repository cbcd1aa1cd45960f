/* Llama and Qwen2: RMSNorm, rotary positions (rope_theta; rotate-half
 * layout), grouped-query attention, SwiGLU, q/k/v biases where the
 * checkpoint has them (Qwen2), a head tied or untied as the tensors say.
 * Linear weights are stored [out, in]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"
#include "engine/model_impl.h"

typedef struct {
  const float *ln1, *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *ln2, *gate, *up, *down;
} layer;

typedef struct {
  const float *embed, *norm;
  double eps, theta;
  size_t I; /* intermediate size */
  layer *layers;
} llama;

static void llama_free(void *p) {
  llama *g = p;
  if (g) free(g->layers);
  free(g);
}

static int forward(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t T, float *out) {
  const llama *g = m->arch;
  size_t C = m->C, qd = m->H * m->hd, kd = m->KV * m->hd, I = g->I;
  float *x = malloc(T * C * sizeof *x), *h = malloc(T * C * sizeof *h), *q = malloc(T * qd * sizeof *q),
        *k = malloc(T * kd * sizeof *k), *v = malloc(T * kd * sizeof *v), *att = malloc(T * qd * sizeof *att),
        *gt = malloc(T * I * sizeof *gt), *up = malloc(T * I * sizeof *up);
  size_t *pos = malloc((T ? T : 1) * sizeof *pos);
  int rc = !x || !h || !q || !k || !v || !att || !gt || !up || !pos ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) ivs_kv_positions(kv, T, pos);
  for (size_t t = 0; t < T && !rc; t++) memcpy(x + t * C, g->embed + (size_t)ids[t] * C, C * sizeof *x);
  for (size_t l = 0; l < m->L && !rc; l++) {
    const layer *y = &g->layers[l];
    ivs_rmsnorm(h, x, y->ln1, T, C, g->eps);
    ivs_linear(q, h, y->q_w, y->q_b, T, C, qd, 1);
    ivs_linear(k, h, y->k_w, y->k_b, T, C, kd, 1);
    ivs_linear(v, h, y->v_w, y->v_b, T, C, kd, 1);
    ivs_rope(q, T, pos, m->H, m->hd, qd, m->hd, g->theta);
    ivs_rope(k, T, pos, m->KV, m->hd, kd, m->hd, g->theta);
    ivs_kv_put(kv, l, k, v, kd, T);
    if (!rc) rc = ivs_attention(att, q, qd, kv, l, T, m->H, m->hd);
    ivs_linear(h, att, y->o_w, NULL, T, qd, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    ivs_rmsnorm(h, x, y->ln2, T, C, g->eps);
    ivs_linear(gt, h, y->gate, NULL, T, C, I, 1);
    ivs_linear(up, h, y->up, NULL, T, C, I, 1);
    ivs_act_silu_mul(gt, up, T * I);
    ivs_linear(h, gt, y->down, NULL, T, I, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
  }
  if (!rc) ivs_rmsnorm(out, x, g->norm, T, C, g->eps);
  free(x), free(h), free(q), free(k), free(v), free(att), free(gt), free(up), free(pos);
  return rc;
}

int ivs_llama_load(ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  size_t I;
  int rc = ivs_model_config_size(m, cfg, "num_hidden_layers", -1, 1, 512, &m->L);
  if (!rc) rc = ivs_model_config_size(m, cfg, "hidden_size", -1, 1, 1 << 16, &m->C);
  if (!rc) rc = ivs_model_config_size(m, cfg, "num_attention_heads", -1, 1, 1 << 10, &m->H);
  if (!rc) rc = ivs_model_config_size(m, cfg, "num_key_value_heads", (long)m->H, 1, 1 << 10, &m->KV);
  if (!rc) rc = ivs_model_config_size(m, cfg, "vocab_size", -1, 1, 1 << 22, &m->V);
  if (!rc) rc = ivs_model_config_size(m, cfg, "max_position_embeddings", -1, 1, 1 << 24, &m->T);
  if (!rc) rc = ivs_model_config_size(m, cfg, "intermediate_size", -1, 1, 1 << 20, &I);
  if (!rc && (m->C % m->H || m->H % m->KV))
    rc = ivs_error_set(IVS_EINVAL, "%s: %zu heads over %zu key/value heads and width %zu do not divide", cpath, m->H,
                       m->KV, m->C);
  if (!rc) rc = ivs_model_config_size(m, cfg, "head_dim", (long)(m->C / m->H), 2, 1 << 12, &m->hd);
  if (rc) return rc;
  if (m->hd % 2) return ivs_error_set(IVS_EINVAL, "%s: 'head_dim' %zu is odd", cpath, m->hd);
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(cfg, "hidden_act");
  if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "silu")))
    return ivs_error_set(IVS_EINVAL, "%s: 'hidden_act' %s is not supported (silu)", cpath,
                         cJSON_IsString(act) ? act->valuestring : "(not a string)");
  /* rope: transformers 5 writes rope_parameters, hub checkpoints rope_theta and rope_scaling */
  const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cfg, "rope_parameters");
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
  double theta = ivs_model_config_number(rp, "rope_theta", ivs_model_config_number(cfg, "rope_theta", 10000.0));
  const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rp ? rp : rs, rp ? "rope_type" : "rope_type");
  if (rs && !cJSON_IsNull(rs)) rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
  if (rt && !(cJSON_IsString(rt) && !strcmp(rt->valuestring, "default")))
    return ivs_error_set(IVS_EINVAL, "%s: rope_type %s is not supported yet (default)", cpath,
                         cJSON_IsString(rt) ? rt->valuestring : "(not a string)");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cfg, "use_sliding_window")))
    return ivs_error_set(IVS_EINVAL, "%s: 'use_sliding_window' true is not supported", cpath);
  llama *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    llama_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = llama_free, m->forward = forward;
  g->eps = ivs_model_config_number(cfg, "rms_norm_eps", 1e-6), g->theta = theta, g->I = I;
  size_t C = m->C, qd = m->H * m->hd, kd = m->KV * m->hd, vc[2] = {m->V, C}, c1[1] = {C}, q2[2] = {qd, C},
         k2[2] = {kd, C}, q1[1] = {qd}, k1[1] = {kd}, o2[2] = {C, qd}, i2[2] = {I, C}, d2[2] = {C, I};
  char n[160];
#define W(field, shp, nd, opt, ...) \
  if (!rc) snprintf(n, sizeof n, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, opt, &field)
  W(g->embed, vc, 2, 0, "model.embed_tokens.weight");
  W(g->norm, c1, 1, 0, "model.norm.weight");
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
    W(y->ln1, c1, 1, 0, "model.layers.%zu.input_layernorm.weight", l);
    W(y->q_w, q2, 2, 0, "model.layers.%zu.self_attn.q_proj.weight", l);
    W(y->q_b, q1, 1, 1, "model.layers.%zu.self_attn.q_proj.bias", l);
    W(y->k_w, k2, 2, 0, "model.layers.%zu.self_attn.k_proj.weight", l);
    W(y->k_b, k1, 1, 1, "model.layers.%zu.self_attn.k_proj.bias", l);
    W(y->v_w, k2, 2, 0, "model.layers.%zu.self_attn.v_proj.weight", l);
    W(y->v_b, k1, 1, 1, "model.layers.%zu.self_attn.v_proj.bias", l);
    W(y->o_w, o2, 2, 0, "model.layers.%zu.self_attn.o_proj.weight", l);
    W(y->ln2, c1, 1, 0, "model.layers.%zu.post_attention_layernorm.weight", l);
    W(y->gate, i2, 2, 0, "model.layers.%zu.mlp.gate_proj.weight", l);
    W(y->up, i2, 2, 0, "model.layers.%zu.mlp.up_proj.weight", l);
    W(y->down, d2, 2, 0, "model.layers.%zu.mlp.down_proj.weight", l);
  }
  /* the head: lm_head.weight when the checkpoint has one, else tied */
  const float *head = NULL;
  W(head, vc, 2, 1, "lm_head.weight");
#undef W
  m->head = head ? head : g->embed;
  return rc;
}

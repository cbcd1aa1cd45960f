/* Llama and Qwen2: RMSNorm, rotary positions (engine/rope.h: rope_theta,
 * rope_parameters or rope_scaling, the llama3 and linear types; rotate-half
 * layout), grouped-query attention, SwiGLU, a head tied or untied.
 * Linear weights are stored [out, in].
 *
 * config.json keys read: num_hidden_layers, hidden_size,
 * num_attention_heads, num_key_value_heads, head_dim, vocab_size,
 * max_position_embeddings, intermediate_size, hidden_act (silu), rms_norm_eps,
 * the rope keys, tie_word_embeddings; llama: attention_bias (q/k/v/o
 * biases), mlp_bias (gate/up/down biases), both deciding from the tensors
 * when absent; qwen2: q/k/v biases always, use_sliding_window,
 * sliding_window, max_window_layers and layer_types (refused when a layer
 * slides over a window shorter than the context).  pretraining_tp only splits
 * the matrix products in transformers (the same sums) and is not read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"
#include "engine/config.h"
#include "engine/model_impl.h"
#include "engine/rope.h"

typedef struct {
  const float *ln1, *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b, *ln2, *gate, *gate_b, *up, *up_b, *down, *down_b;
} layer;

typedef struct {
  const float *embed, *norm;
  double eps;
  ivs_rope_cfg rope;
  size_t I; /* intermediate size */
  layer *layers;
} llama;

static void llama_free(void *p) {
  llama *g = p;
  if (g) free(g->layers), ivs_rope_release(&g->rope);
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
    ivs_rope(q, T, pos, m->H, m->hd, qd, m->hd, g->rope.inv_freq);
    ivs_rope(k, T, pos, m->KV, m->hd, kd, m->hd, g->rope.inv_freq);
    ivs_kv_put(kv, l, k, v, kd, T);
    if (!rc) rc = ivs_attention(att, q, qd, kv, l, T, m->H, m->hd);
    ivs_linear(h, att, y->o_w, y->o_b, T, qd, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    ivs_rmsnorm(h, x, y->ln2, T, C, g->eps);
    ivs_linear(gt, h, y->gate, y->gate_b, T, C, I, 1);
    ivs_linear(up, h, y->up, y->up_b, T, C, I, 1);
    ivs_act_silu_mul(gt, up, T * I);
    ivs_linear(h, gt, y->down, y->down_b, T, I, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
  }
  if (!rc) ivs_rmsnorm(out, x, g->norm, T, C, g->eps);
  free(x), free(h), free(q), free(k), free(v), free(att), free(gt), free(up), free(pos);
  return rc;
}

/* A bias the config asks for (1: required), leaves out (0) or leaves to the
 * tensors (-1: absent key). */
static int bias_mode(const ivs_model *m, const cJSON *cfg, const char *key, int *mode) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
  int on = 0, rc = ivs_cfg_bool(m, cfg, key, 0, &on);
  *mode = !v || cJSON_IsNull(v) ? -1 : on;
  return rc;
}

/* Qwen2's sliding window: refused when a layer slides over fewer tokens than
 * the context (transformers 5: layer_types; before: use_sliding_window and
 * the layers from max_window_layers on). */
static int sliding_check(const ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  const cJSON *types = cJSON_GetObjectItemCaseSensitive(cfg, "layer_types"), *e;
  long first = -1; /* the first sliding layer */
  if (types && !cJSON_IsNull(types)) {
    if (!cJSON_IsArray(types)) return ivs_error_set(IVS_EINVAL, "%s: 'layer_types' must be a list", cpath);
    long i = 0;
    cJSON_ArrayForEach(e, types) {
      static const char *const kinds[] = {"full_attention", "sliding_attention"};
      if (!cJSON_IsString(e) || (strcmp(e->valuestring, kinds[0]) && strcmp(e->valuestring, kinds[1])))
        return ivs_error_set(IVS_EINVAL, "%s: 'layer_types'[%ld] %s is not supported (full_attention, sliding_attention)",
                             cpath, i, cJSON_IsString(e) ? e->valuestring : "(not a string)");
      if (first < 0 && !strcmp(e->valuestring, kinds[1])) first = i;
      i++;
    }
  } else {
    int on = 0;
    size_t from;
    int rc = ivs_cfg_bool(m, cfg, "use_sliding_window", 0, &on);
    if (!rc) rc = ivs_model_config_size(m, cfg, "max_window_layers", (long)m->L, 0, 1 << 20, &from);
    if (rc) return rc;
    if (on && from < m->L) first = (long)from;
  }
  if (first < 0) return 0;
  double w;
  int have, rc = ivs_cfg_number(m, cfg, "", "sliding_window", 0, &w, &have);
  if (rc || !have || w >= (double)m->T) return rc; /* no window, or one no sequence reaches */
  return ivs_error_set(IVS_EINVAL,
                       "%s: a sliding window ('sliding_window' %g, from layer %ld on) shorter than the context (%zu) is "
                       "not supported",
                       cpath, w, first, m->T);
}

int ivs_llama_load(ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  int qwen = !strcmp(m->model_type, "qwen2");
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
  static const char *const acts[] = {"silu", "swish"}; /* one function in transformers */
  const char *act;
  double eps;
  int attn_bias = 1, mlp_bias = 0;
  rc = ivs_cfg_choice(m, cfg, "", "hidden_act", acts, 2, &act);
  if (!rc) rc = ivs_cfg_number(m, cfg, "", "rms_norm_eps", 1e-6, &eps, NULL);
  if (!rc && !(eps > 0 && eps < 1)) rc = ivs_error_set(IVS_EINVAL, "%s: 'rms_norm_eps' %g must be in (0, 1)", cpath, eps);
  if (!rc && !qwen) rc = bias_mode(m, cfg, "attention_bias", &attn_bias);
  if (!rc && !qwen) rc = bias_mode(m, cfg, "mlp_bias", &mlp_bias);
  if (!rc && qwen) rc = sliding_check(m, cfg);
  if (rc) return rc;
  llama *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    llama_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = llama_free, m->forward = forward;
  g->eps = eps, g->I = I, m->F = I;
  static const ivs_rope_spec spec = {"rope_theta", NULL, 1.0, 0};
  if ((rc = ivs_rope_read(&g->rope, m, cfg, m->hd, &spec))) return rc;
  m->rope = &g->rope;
  /* q/k/v biases: qwen2 always; o too for llama's attention_bias */
  int qkv_opt = qwen ? 0 : attn_bias < 0, o_opt = attn_bias < 0, m_opt = mlp_bias < 0;
  int qkv_on = qwen || attn_bias != 0, o_on = !qwen && attn_bias != 0, m_on = mlp_bias != 0;
  static const char *const prefixes[] = {"model.", ""};
  const char *pre = ivs_cfg_prefix(m, prefixes, 2, "embed_tokens.weight");
  size_t C = m->C, qd = m->H * m->hd, kd = m->KV * m->hd, vc[2] = {m->V, C}, c1[1] = {C}, q2[2] = {qd, C},
         k2[2] = {kd, C}, q1[1] = {qd}, k1[1] = {kd}, o2[2] = {C, qd}, i2[2] = {I, C}, d2[2] = {C, I}, i1[1] = {I};
  char n[160];
#define W(on, field, shp, nd, opt, fmt, ...) \
  if (!rc && (on)) snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, opt, &field)
  W(1, g->embed, vc, 2, 0, "%s", "embed_tokens.weight");
  W(1, g->norm, c1, 1, 0, "%s", "norm.weight");
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
    W(1, y->ln1, c1, 1, 0, "layers.%zu.input_layernorm.weight", l);
    W(1, y->q_w, q2, 2, 0, "layers.%zu.self_attn.q_proj.weight", l);
    W(qkv_on, y->q_b, q1, 1, qkv_opt, "layers.%zu.self_attn.q_proj.bias", l);
    W(1, y->k_w, k2, 2, 0, "layers.%zu.self_attn.k_proj.weight", l);
    W(qkv_on, y->k_b, k1, 1, qkv_opt, "layers.%zu.self_attn.k_proj.bias", l);
    W(1, y->v_w, k2, 2, 0, "layers.%zu.self_attn.v_proj.weight", l);
    W(qkv_on, y->v_b, k1, 1, qkv_opt, "layers.%zu.self_attn.v_proj.bias", l);
    W(1, y->o_w, o2, 2, 0, "layers.%zu.self_attn.o_proj.weight", l);
    W(o_on, y->o_b, c1, 1, o_opt, "layers.%zu.self_attn.o_proj.bias", l);
    W(1, y->ln2, c1, 1, 0, "layers.%zu.post_attention_layernorm.weight", l);
    W(1, y->gate, i2, 2, 0, "layers.%zu.mlp.gate_proj.weight", l);
    W(m_on, y->gate_b, i1, 1, m_opt, "layers.%zu.mlp.gate_proj.bias", l);
    W(1, y->up, i2, 2, 0, "layers.%zu.mlp.up_proj.weight", l);
    W(m_on, y->up_b, i1, 1, m_opt, "layers.%zu.mlp.up_proj.bias", l);
    W(1, y->down, d2, 2, 0, "layers.%zu.mlp.down_proj.weight", l);
    W(m_on, y->down_b, c1, 1, m_opt, "layers.%zu.mlp.down_proj.bias", l);
  }
#undef W
  if (!rc) rc = ivs_cfg_head(m, cfg, 0, "lm_head.weight", g->embed, m->V, C);
  const layer *y0 = &g->layers[0];
  if (!rc)
    snprintf(m->notes, sizeof m->notes, "rmsnorm eps %g, silu, %zu of %zu heads for keys/values, biases%s%s%s%s, %s head",
             eps, m->KV, m->H, y0->q_b ? " q/k/v" : "", y0->o_b ? " o" : "", y0->gate_b ? " mlp" : "",
             y0->q_b || y0->o_b || y0->gate_b ? "" : " none", m->tied ? "tied" : "untied");
  return rc;
}

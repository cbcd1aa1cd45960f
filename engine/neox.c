/* GPT-NeoX (Pythia): LayerNorm, q/k/v fused and interleaved per head,
 * partial rotary positions in the rotate-half layout (engine/rope.h), exact
 * GELU, the parallel residual or not as use_parallel_residual says, an untied
 * head (embed_out) unless tie_word_embeddings says otherwise.
 *
 * config.json keys read: num_hidden_layers, hidden_size,
 * num_attention_heads, vocab_size, max_position_embeddings,
 * intermediate_size, hidden_act (gelu), layer_norm_eps,
 * use_parallel_residual, attention_bias (the q/k/v and dense biases), the rope
 * keys (rotary_pct or partial_rotary_factor, rotary_emb_base or rope_theta,
 * rope_parameters, rope_scaling), tie_word_embeddings. */
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
  const float *ln1_w, *ln1_b, *qkv_w, *qkv_b, *dense_w, *dense_b, *ln2_w, *ln2_b, *up_w, *up_b, *down_w, *down_b;
} layer;

typedef struct {
  const float *embed, *lnf_w, *lnf_b;
  double eps;
  ivs_rope_cfg rope;
  size_t I;
  int parallel;
  layer *layers;
} neox;

static void neox_free(void *p) {
  neox *g = p;
  if (g) free(g->layers), ivs_rope_release(&g->rope);
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
    ivs_rope(q, T, pos, H, hd, C, g->rope.rot, g->rope.inv_freq);
    ivs_rope(k, T, pos, H, hd, C, g->rope.rot, g->rope.inv_freq);
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
  static const char *const acts[] = {"gelu"};
  const char *act;
  double eps;
  int parallel, bias;
  rc = ivs_cfg_choice(m, cfg, "", "hidden_act", acts, 1, &act);
  if (!rc) rc = ivs_cfg_number(m, cfg, "", "layer_norm_eps", 1e-5, &eps, NULL);
  if (!rc && !(eps > 0 && eps < 1)) rc = ivs_error_set(IVS_EINVAL, "%s: 'layer_norm_eps' %g must be in (0, 1)", cpath, eps);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "use_parallel_residual", 1, &parallel);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "attention_bias", 1, &bias);
  if (rc) return rc;
  neox *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    neox_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = neox_free, m->forward = forward;
  g->eps = eps, g->I = I, g->parallel = parallel, m->F = I;
  /* transformers 5 writes rope_parameters; hub checkpoints rotary_pct and rotary_emb_base */
  static const ivs_rope_spec spec = {"rotary_emb_base", "rotary_pct", 0.25, 1};
  if ((rc = ivs_rope_read(&g->rope, m, cfg, m->hd, &spec))) return rc;
  m->rope = &g->rope;
  static const char *const prefixes[] = {"gpt_neox.", ""};
  const char *pre = ivs_cfg_prefix(m, prefixes, 2, "embed_in.weight");
  size_t C = m->C, vc[2] = {m->V, C}, c1[1] = {C}, c3[1] = {3 * C}, q2[2] = {3 * C, C}, cc[2] = {C, C}, i1[1] = {I},
         i2[2] = {I, C}, d2[2] = {C, I};
  char n[160];
#define W(on, field, shp, nd, fmt, ...) \
  if (!rc && (on)) snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, 0, &field)
  W(1, g->embed, vc, 2, "%s", "embed_in.weight");
  W(1, g->lnf_w, c1, 1, "%s", "final_layer_norm.weight");
  W(1, g->lnf_b, c1, 1, "%s", "final_layer_norm.bias");
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
    W(1, y->ln1_w, c1, 1, "layers.%zu.input_layernorm.weight", l);
    W(1, y->ln1_b, c1, 1, "layers.%zu.input_layernorm.bias", l);
    W(1, y->qkv_w, q2, 2, "layers.%zu.attention.query_key_value.weight", l);
    W(bias, y->qkv_b, c3, 1, "layers.%zu.attention.query_key_value.bias", l);
    W(1, y->dense_w, cc, 2, "layers.%zu.attention.dense.weight", l);
    W(bias, y->dense_b, c1, 1, "layers.%zu.attention.dense.bias", l);
    W(1, y->ln2_w, c1, 1, "layers.%zu.post_attention_layernorm.weight", l);
    W(1, y->ln2_b, c1, 1, "layers.%zu.post_attention_layernorm.bias", l);
    W(1, y->up_w, i2, 2, "layers.%zu.mlp.dense_h_to_4h.weight", l);
    W(1, y->up_b, i1, 1, "layers.%zu.mlp.dense_h_to_4h.bias", l);
    W(1, y->down_w, d2, 2, "layers.%zu.mlp.dense_4h_to_h.weight", l);
    W(1, y->down_b, c1, 1, "layers.%zu.mlp.dense_4h_to_h.bias", l);
  }
#undef W
  if (!rc) rc = ivs_cfg_head(m, cfg, 0, "embed_out.weight", g->embed, m->V, C);
  if (!rc)
    snprintf(m->notes, sizeof m->notes, "layernorm eps %g, gelu, %s residual, attention biases %s, %s head", eps,
             parallel ? "parallel" : "sequential", bias ? "yes" : "no", m->tied ? "tied" : "untied");
  return rc;
}

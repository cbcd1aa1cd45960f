/* OPT: learned positions offset by 2, LayerNorm before (do_layer_norm_before)
 * or after each block (OPT-350m), ReLU, q/k/v/out and fc1/fc2 with biases
 * (enable_bias), project_in/project_out when word_embed_proj_dim differs
 * from hidden_size (OPT-350m), a final LayerNorm only before-LN and without
 * _remove_final_layer_norm, a head tied to the token embedding unless
 * tie_word_embeddings says otherwise.  Its sequences start with </s> (the
 * caller's ids).
 *
 * config.json keys read: num_hidden_layers, hidden_size,
 * num_attention_heads, vocab_size, max_position_embeddings, ffn_dim,
 * word_embed_proj_dim, activation_function (relu), do_layer_norm_before,
 * _remove_final_layer_norm, enable_bias, layer_norm_elementwise_affine (true
 * only), tie_word_embeddings.  LayerNorm eps is torch's 1e-5, as in
 * transformers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"
#include "engine/config.h"
#include "engine/model_impl.h"

typedef struct {
  const float *ln1_w, *ln1_b, *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b, *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w,
      *fc2_b;
} layer;

typedef struct {
  const float *embed, *pos, *lnf_w, *lnf_b, *proj_in, *proj_out;
  size_t D, F; /* word embedding width, feed-forward width */
  int pre;     /* do_layer_norm_before */
  layer *layers;
} opt;

static void opt_free(void *p) {
  opt *g = p;
  if (g) free(g->layers);
  free(g);
}

static int forward(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t T, float *out) {
  const opt *g = m->arch;
  size_t C = m->C, D = g->D, F = g->F;
  float *e = malloc(T * D * sizeof *e), *x = malloc(T * C * sizeof *x), *h = malloc(T * C * sizeof *h),
        *q = malloc(T * C * sizeof *q), *k = malloc(T * C * sizeof *k), *v = malloc(T * C * sizeof *v),
        *att = malloc(T * C * sizeof *att), *mid = malloc(T * F * sizeof *mid);
  size_t *pos = malloc((T ? T : 1) * sizeof *pos);
  int rc = !e || !x || !h || !q || !k || !v || !att || !mid || !pos ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) ivs_kv_positions(kv, T, pos);
  for (size_t t = 0; t < T && !rc; t++) memcpy(e + t * D, g->embed + (size_t)ids[t] * D, D * sizeof *e);
  if (!rc && g->proj_in) ivs_linear(x, e, g->proj_in, NULL, T, D, C, 1);
  else if (!rc) memcpy(x, e, T * C * sizeof *x);
  for (size_t t = 0; t < T && !rc; t++)
    for (size_t i = 0; i < C; i++) x[t * C + i] += g->pos[(pos[t] + 2) * C + i]; /* OPT's positions start at 2 */
  for (size_t l = 0; l < m->L && !rc; l++) {
    const layer *y = &g->layers[l];
    if (g->pre) ivs_layernorm(h, x, y->ln1_w, y->ln1_b, T, C, 1e-5);
    else memcpy(h, x, T * C * sizeof *h);
    ivs_linear(q, h, y->q_w, y->q_b, T, C, C, 1);
    ivs_linear(k, h, y->k_w, y->k_b, T, C, C, 1);
    ivs_linear(v, h, y->v_w, y->v_b, T, C, C, 1);
    ivs_kv_put(kv, l, k, v, C, T);
    if (!rc) rc = ivs_attention(att, q, C, kv, l, T, m->H, m->hd);
    ivs_linear(h, att, y->o_w, y->o_b, T, C, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    if (!g->pre) ivs_layernorm(x, x, y->ln1_w, y->ln1_b, T, C, 1e-5);
    if (g->pre) ivs_layernorm(h, x, y->ln2_w, y->ln2_b, T, C, 1e-5);
    else memcpy(h, x, T * C * sizeof *h);
    ivs_linear(mid, h, y->fc1_w, y->fc1_b, T, C, F, 1);
    ivs_act_relu(mid, T * F);
    ivs_linear(h, mid, y->fc2_w, y->fc2_b, T, F, C, 1);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    if (!g->pre) ivs_layernorm(x, x, y->ln2_w, y->ln2_b, T, C, 1e-5);
  }
  if (!rc && g->lnf_w) ivs_layernorm(x, x, g->lnf_w, g->lnf_b, T, C, 1e-5);
  if (!rc && g->proj_out) ivs_linear(out, x, g->proj_out, NULL, T, C, D, 1);
  else if (!rc) memcpy(out, x, T * C * sizeof *out);
  free(e), free(x), free(h), free(q), free(k), free(v), free(att), free(mid), free(pos);
  return rc;
}

int ivs_opt_load(ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  size_t C, D, F, P;
  int rc = ivs_model_config_size(m, cfg, "num_hidden_layers", -1, 1, 512, &m->L);
  if (!rc) rc = ivs_model_config_size(m, cfg, "hidden_size", -1, 1, 1 << 16, &C);
  if (!rc) rc = ivs_model_config_size(m, cfg, "num_attention_heads", -1, 1, 1 << 10, &m->H);
  if (!rc) rc = ivs_model_config_size(m, cfg, "vocab_size", -1, 1, 1 << 22, &m->V);
  if (!rc) rc = ivs_model_config_size(m, cfg, "max_position_embeddings", -1, 1, 1 << 24, &P);
  if (!rc) rc = ivs_model_config_size(m, cfg, "ffn_dim", -1, 1, 1 << 20, &F);
  if (!rc) rc = ivs_model_config_size(m, cfg, "word_embed_proj_dim", (long)C, 1, 1 << 16, &D);
  if (rc) return rc;
  if (C % m->H) return ivs_error_set(IVS_EINVAL, "%s: hidden_size %zu is not a multiple of %zu heads", cpath, C, m->H);
  static const char *const acts[] = {"relu"};
  const char *act;
  int pre, remove_final, bias, affine;
  rc = ivs_cfg_choice(m, cfg, "", "activation_function", acts, 1, &act);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "do_layer_norm_before", 1, &pre);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "_remove_final_layer_norm", 0, &remove_final);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "enable_bias", 1, &bias);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "layer_norm_elementwise_affine", 1, &affine);
  if (!rc && !affine)
    rc = ivs_error_set(IVS_EINVAL, "%s: 'layer_norm_elementwise_affine' false is not supported", cpath);
  if (rc) return rc;
  m->C = C, m->KV = m->H, m->hd = C / m->H, m->T = P, m->F = F, m->pos_offset = 2;
  opt *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    opt_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = opt_free, m->forward = forward;
  g->D = D, g->F = F, g->pre = pre;
  int final_norm = pre && !remove_final; /* transformers: none after-LN */
  /* hub checkpoints saved from OPTModel name the tensors without "model." */
  static const char *const prefixes[] = {"model.decoder.", "decoder."};
  const char *p = ivs_cfg_prefix(m, prefixes, 2, "embed_tokens.weight");
  size_t vd[2] = {m->V, D}, pc[2] = {P + 2, C}, c1[1] = {C}, cc[2] = {C, C}, f1[1] = {F}, f2[2] = {F, C}, g2[2] = {C, F},
         cd[2] = {C, D}, dc[2] = {D, C};
  char n[160];
#define W(on, field, shp, nd, fmt, ...) \
  if (!rc && (on)) snprintf(n, sizeof n, "%s" fmt, p, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, 0, &field)
  W(1, g->embed, vd, 2, "%s", "embed_tokens.weight");
  W(1, g->pos, pc, 2, "%s", "embed_positions.weight");
  W(final_norm, g->lnf_w, c1, 1, "%s", "final_layer_norm.weight");
  W(final_norm, g->lnf_b, c1, 1, "%s", "final_layer_norm.bias");
  W(D != C, g->proj_in, cd, 2, "%s", "project_in.weight");
  W(D != C, g->proj_out, dc, 2, "%s", "project_out.weight");
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
    W(1, y->ln1_w, c1, 1, "layers.%zu.self_attn_layer_norm.weight", l);
    W(1, y->ln1_b, c1, 1, "layers.%zu.self_attn_layer_norm.bias", l);
    W(1, y->q_w, cc, 2, "layers.%zu.self_attn.q_proj.weight", l);
    W(bias, y->q_b, c1, 1, "layers.%zu.self_attn.q_proj.bias", l);
    W(1, y->k_w, cc, 2, "layers.%zu.self_attn.k_proj.weight", l);
    W(bias, y->k_b, c1, 1, "layers.%zu.self_attn.k_proj.bias", l);
    W(1, y->v_w, cc, 2, "layers.%zu.self_attn.v_proj.weight", l);
    W(bias, y->v_b, c1, 1, "layers.%zu.self_attn.v_proj.bias", l);
    W(1, y->o_w, cc, 2, "layers.%zu.self_attn.out_proj.weight", l);
    W(bias, y->o_b, c1, 1, "layers.%zu.self_attn.out_proj.bias", l);
    W(1, y->ln2_w, c1, 1, "layers.%zu.final_layer_norm.weight", l);
    W(1, y->ln2_b, c1, 1, "layers.%zu.final_layer_norm.bias", l);
    W(1, y->fc1_w, f2, 2, "layers.%zu.fc1.weight", l);
    W(bias, y->fc1_b, f1, 1, "layers.%zu.fc1.bias", l);
    W(1, y->fc2_w, g2, 2, "layers.%zu.fc2.weight", l);
    W(bias, y->fc2_b, c1, 1, "layers.%zu.fc2.bias", l);
  }
#undef W
  if (!rc) rc = ivs_cfg_head(m, cfg, 1, "lm_head.weight", g->embed, m->V, D);
  m->E = D; /* the head works on the word-embedding width, after project_out */
  if (!rc) {
    int k = snprintf(m->notes, sizeof m->notes, "layernorm %s each block%s, relu, biases %s", pre ? "before" : "after",
                     final_norm ? " and at the end" : "", bias ? "yes" : "no");
    if (D != C && k > 0 && (size_t)k < sizeof m->notes)
      k += snprintf(m->notes + k, sizeof m->notes - (size_t)k, ", project_in/out %zu <-> %zu", D, C);
    if (k > 0 && (size_t)k < sizeof m->notes)
      snprintf(m->notes + k, sizeof m->notes - (size_t)k, ", %s head", m->tied ? "tied" : "untied");
  }
  return rc;
}

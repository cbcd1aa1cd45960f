/* GPT-2: learned positions, pre-LayerNorm blocks, Conv1D weights stored
 * [in, out], fused q/k/v, gelu_new, a head tied to the embedding unless
 * tie_word_embeddings says otherwise.
 *
 * config.json keys read: n_layer, n_embd, n_head, vocab_size, n_positions,
 * n_inner (null or 4 x n_embd), activation_function (gelu_new or
 * gelu_pytorch_tanh, one formula), layer_norm_epsilon, scale_attn_weights
 * (true only), scale_attn_by_inverse_layer_idx and add_cross_attention (false
 * only), tie_word_embeddings.  reorder_and_upcast_attn only changes the
 * precision of half-precision runs (the same products in float32) and is not
 * read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/act.h"
#include "engine/config.h"
#include "engine/model_impl.h"

typedef struct {
  const float *ln1_w, *ln1_b, *attn_w, *attn_b, *proj_w, *proj_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *fc2_w, *fc2_b;
} layer;

typedef struct {
  const float *wte, *wpe, *lnf_w, *lnf_b;
  double eps;
  layer *layers;
} gpt2;

static void gpt2_free(void *p) {
  gpt2 *g = p;
  if (g) free(g->layers);
  free(g);
}

static int forward(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t T, float *out) {
  const gpt2 *g = m->arch;
  size_t C = m->C;
  float *x = malloc(T * C * sizeof *x), *h = malloc(T * C * sizeof *h), *qkv = malloc(T * 3 * C * sizeof *qkv),
        *att = malloc(T * C * sizeof *att), *fc = malloc(T * 4 * C * sizeof *fc);
  size_t *pos = malloc((T ? T : 1) * sizeof *pos);
  int rc = !x || !h || !qkv || !att || !fc || !pos ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) ivs_kv_positions(kv, T, pos);
  for (size_t t = 0; t < T && !rc; t++)
    for (size_t i = 0; i < C; i++) x[t * C + i] = g->wte[(size_t)ids[t] * C + i] + g->wpe[pos[t] * C + i];
  for (size_t l = 0; l < m->L && !rc; l++) {
    const layer *y = &g->layers[l];
    ivs_layernorm(h, x, y->ln1_w, y->ln1_b, T, C, g->eps);
    ivs_linear(qkv, h, y->attn_w, y->attn_b, T, C, 3 * C, 0);
    ivs_kv_put(kv, l, qkv + C, qkv + 2 * C, 3 * C, T);
    if (!rc) rc = ivs_attention(att, qkv, 3 * C, kv, l, T, m->H, m->hd);
    ivs_linear(h, att, y->proj_w, y->proj_b, T, C, C, 0);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
    ivs_layernorm(h, x, y->ln2_w, y->ln2_b, T, C, g->eps);
    ivs_linear(fc, h, y->fc_w, y->fc_b, T, C, 4 * C, 0);
    ivs_act_gelu_tanh(fc, T * 4 * C);
    ivs_linear(h, fc, y->fc2_w, y->fc2_b, T, 4 * C, C, 0);
    for (size_t i = 0; i < T * C; i++) x[i] += h[i];
  }
  if (!rc) ivs_layernorm(out, x, g->lnf_w, g->lnf_b, T, C, g->eps);
  free(x), free(h), free(qkv), free(att), free(fc), free(pos);
  return rc;
}

int ivs_gpt2_load(ivs_model *m, const cJSON *cfg) {
  const char *cpath = m->config_path;
  int rc = ivs_model_config_size(m, cfg, "n_layer", -1, 1, 256, &m->L);
  if (!rc) rc = ivs_model_config_size(m, cfg, "n_embd", -1, 1, 1 << 16, &m->C);
  if (!rc) rc = ivs_model_config_size(m, cfg, "n_head", -1, 1, 1 << 10, &m->H);
  if (!rc) rc = ivs_model_config_size(m, cfg, "vocab_size", -1, 1, 1 << 22, &m->V);
  if (!rc) rc = ivs_model_config_size(m, cfg, "n_positions", -1, 1, 1 << 20, &m->T);
  if (rc) return rc;
  if (m->C % m->H) return ivs_error_set(IVS_EINVAL, "%s: n_embd %zu is not a multiple of n_head %zu", cpath, m->C, m->H);
  m->KV = m->H, m->hd = m->C / m->H, m->F = 4 * m->C;
  const cJSON *inner = cJSON_GetObjectItemCaseSensitive(cfg, "n_inner");
  if (inner && !cJSON_IsNull(inner) && !(cJSON_IsNumber(inner) && inner->valuedouble == 4.0 * (double)m->C))
    return ivs_error_set(IVS_EINVAL, "%s: 'n_inner' %g is not supported (only 4 x n_embd)", cpath,
                         cJSON_IsNumber(inner) ? inner->valuedouble : NAN);
  static const char *const acts[] = {"gelu_new", "gelu_pytorch_tanh"};
  const char *act;
  double eps;
  int scale;
  rc = ivs_cfg_choice(m, cfg, "", "activation_function", acts, 2, &act);
  if (!rc) rc = ivs_cfg_number(m, cfg, "", "layer_norm_epsilon", 1e-5, &eps, NULL);
  if (!rc && !(eps > 0 && eps < 1)) rc = ivs_error_set(IVS_EINVAL, "%s: 'layer_norm_epsilon' %g must be in (0, 1)", cpath, eps);
  if (!rc) rc = ivs_cfg_bool(m, cfg, "scale_attn_weights", 1, &scale);
  if (!rc && !scale)
    rc = ivs_error_set(IVS_EINVAL, "%s: 'scale_attn_weights' false is not supported (scores divided by sqrt(head size))",
                       cpath);
  static const char *const off[] = {"scale_attn_by_inverse_layer_idx", "add_cross_attention"};
  for (int k = 0, on; k < 2 && !rc; k++)
    if (!(rc = ivs_cfg_bool(m, cfg, off[k], 0, &on)) && on)
      rc = ivs_error_set(IVS_EINVAL, "%s: '%s' true is not supported", cpath, off[k]);
  if (rc) return rc;
  gpt2 *g = calloc(1, sizeof *g);
  if (!g || !(g->layers = calloc(m->L, sizeof *g->layers))) {
    gpt2_free(g);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  m->arch = g, m->arch_free = gpt2_free, m->forward = forward;
  g->eps = eps;
  size_t C = m->C, vc[2] = {m->V, C}, pc[2] = {m->T, C}, c1[1] = {C};
  /* checkpoints name tensors with or without the "transformer." prefix */
  static const char *const prefixes[] = {"transformer.", ""};
  const char *pre = ivs_cfg_prefix(m, prefixes, 2, "wte.weight");
  char n[128];
#define W(field, shp, nd, fmt, ...) \
  if (!rc) snprintf(n, sizeof n, "%s" fmt, pre, __VA_ARGS__), rc = ivs_model_weight(m, n, nd, shp, 0, &field)
  W(g->wte, vc, 2, "%s", "wte.weight");
  W(g->wpe, pc, 2, "%s", "wpe.weight");
  W(g->lnf_w, c1, 1, "%s", "ln_f.weight");
  W(g->lnf_b, c1, 1, "%s", "ln_f.bias");
  size_t c3[1] = {3 * C}, c4[1] = {4 * C}, cc3[2] = {C, 3 * C}, cc[2] = {C, C}, cc4[2] = {C, 4 * C}, c4c[2] = {4 * C, C};
  for (size_t l = 0; l < m->L && !rc; l++) {
    layer *y = &g->layers[l];
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
  if (!rc) rc = ivs_cfg_head(m, cfg, 1, "lm_head.weight", g->wte, m->V, C);
  if (!rc) snprintf(m->notes, sizeof m->notes, "layernorm eps %g, gelu_new, %s head", eps, m->tied ? "tied" : "untied");
  return rc;
}

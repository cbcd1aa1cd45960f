/* Inside the engine: what every architecture's file shares (engine/model.c
 * loads and scores; gpt2.c and llama.c build the weights and run the layers). */
#ifndef IVS_ENGINE_MODEL_IMPL_H
#define IVS_ENGINE_MODEL_IMPL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"
#include "engine/safetensors.h"

struct ivs_model {
  char model_type[32];
  char config_path[4096];
  size_t L, C, H, KV, hd, V, T; /* layers, width, heads, key/value heads, head size, vocabulary, context */
  ivs_st_file *files;            /* owned: model.safetensors, or the shards of its index */
  size_t nfiles;
  char weights_path[4096];       /* for messages: the file or the index */
  float **copies;                /* owned: float32 copies of F16/BF16 or misaligned tensors */
  size_t ncopies;
  uint64_t params, converted;
  const char *dtype;
  const float *head;             /* [V x E]: the LM head (the embedding when tied) */
  size_t E;                      /* the head's input width: C, or OPT's word_embed_proj_dim */
  void *arch;                    /* owned by the architecture */
  void (*arch_free)(void *arch);
  /* Runs ids[0..n) at positions kv->len.. (their keys and values appended to
   * kv); hidden[n x E] gets their states after the final norm. */
  int (*forward)(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t n, float *hidden);
};

/* The keys and values of the tokens run so far, per layer [cap x width]. */
struct ivs_kv {
  size_t L, len, cap, width;
  float *k, *v;
};

/* Appends rows [n x width] (row stride `stride`) of keys and values for
 * layer l at positions kv->len..; the caller advances kv->len after the last layer. */
void ivs_kv_put(ivs_kv *kv, size_t l, const float *k, const float *v, size_t stride, size_t n);
float *ivs_kv_keys(const ivs_kv *kv, size_t l);
float *ivs_kv_values(const ivs_kv *kv, size_t l);

/* The tensor `name` in any of the model's files, or NULL. */
const ivs_st_tensor *ivs_model_tensor(const ivs_model *m, const char *name);
/* The tensor `name` as float32 of the given shape; NULL in *out and 0 when it
 * is missing and `optional`.  Counts its parameters. */
int ivs_model_weight(ivs_model *m, const char *name, size_t ndim, const size_t *shape, int optional, const float **out);
/* A whole number config value in [lo, hi]; `dflt` when absent and dflt >= 0. */
int ivs_model_config_size(const ivs_model *m, const cJSON *cfg, const char *key, long dflt, size_t lo, size_t hi,
                          size_t *out);
double ivs_model_config_number(const cJSON *cfg, const char *key, double dflt);

/* out[T x N] = in[T x K] . W + b, W stored [K x N] (GPT-2's Conv1D) or, with
 * out_in, [N x K] (torch's Linear); b may be NULL. */
void ivs_linear(float *out, const float *in, const float *w, const float *b, size_t T, size_t K, size_t N, int out_in);
void ivs_layernorm(float *out, const float *x, const float *w, const float *b, size_t T, size_t C, double eps);
void ivs_rmsnorm(float *out, const float *x, const float *w, size_t T, size_t C, double eps);
/* Causal attention of n queries at positions p0.. (q [n x H*hd], row stride
 * q_stride) over the keys and values of positions 0..p0+n-1 (k and v,
 * [.. x KV*hd], row stride kv_stride); heads share key/value heads in groups
 * of H / KV.  out [n x H*hd]; scratch holds p0 + n floats. */
void ivs_attention(float *out, const float *q, size_t q_stride, const float *k, const float *v, size_t kv_stride,
                   size_t n, size_t p0, size_t H, size_t KV, size_t hd, float *scratch);

/* Rotary positions on the first `rot` dimensions of each head of x[T x
 * heads*hd] (row stride `stride`): pairs (i, i + rot/2), frequencies
 * theta^(-2i/rot), row t at position p0 + t (the rotate-half layout of Llama
 * and GPT-NeoX). */
void ivs_rope(float *x, size_t T, size_t p0, size_t heads, size_t hd, size_t stride, size_t rot, double theta);

int ivs_gpt2_load(ivs_model *m, const cJSON *cfg);
int ivs_llama_load(ivs_model *m, const cJSON *cfg); /* llama, qwen2 */
int ivs_neox_load(ivs_model *m, const cJSON *cfg);  /* gpt_neox (Pythia) */
int ivs_opt_load(ivs_model *m, const cJSON *cfg);

#endif

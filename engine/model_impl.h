/* Inside the engine: what every architecture's file shares (engine/model.c
 * loads and scores; gpt2.c and llama.c build the weights and run the layers). */
#ifndef IVS_ENGINE_MODEL_IMPL_H
#define IVS_ENGINE_MODEL_IMPL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/model.h"
#include "engine/safetensors.h"

typedef struct ivs_rope_cfg ivs_rope_cfg; /* engine/rope.h */

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
  int info_only;                 /* opened by ivs_model_open_info: nothing converted, nothing runs */
  int32_t bos_id, eos_id;        /* from config.json; -1 when absent */
  int32_t eos[16];               /* the tokens that end a generation (generation_config.json, else config.json) */
  size_t n_eos;
  const float *head;             /* [V x E]: the LM head (the embedding when tied) */
  size_t E;                      /* the head's input width: C, or OPT's word_embed_proj_dim */
  int tied;                      /* the head is the token embedding */
  size_t F;                      /* the feed-forward width (for lm info) */
  const ivs_rope_cfg *rope;      /* rotary positions (owned by the architecture), or NULL: learned positions */
  size_t pos_offset;             /* learned positions: the row of position 0 (OPT: 2) */
  char notes[256];               /* the settings read that shape the forward pass, for lm info */
  void *arch;                    /* owned by the architecture */
  void (*arch_free)(void *arch);
  /* Runs ids[0..n) at positions kv->len.. (their keys and values appended to
   * kv); hidden[n x E] gets their states after the final norm. */
  int (*forward)(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t n, float *hidden);
};

/* How one row of a batch sees the cache: the row at cache row r (its
 * keys and values are stored there) sits at position `pos` and attends to
 * the cache rows k with a0 <= k < a, or s <= k <= r outside [hole_lo,
 * hole_hi).  r is kv->len + the row's index in the batch, or `at` when the
 * cache is written scattered (kv->scatter).  A plain sequence is pos = r,
 * a0 = a = s = 0 and no hole; a candidate after a prompt held in the cache
 * has a = the prompt's length and s its own first row; candidates packed
 * after a prompt in one batch skip the rows of the candidates before them
 * with the hole; a decoded token of one of many sequences sees its prompt's
 * rows [a0, a) and its own tokens from s, stored at `at`. */
typedef struct ivs_row {
  uint32_t pos, a, s, hole_lo, hole_hi, a0, at;
} ivs_row;

/* The keys and values of the tokens run so far, per layer [cap x width]. */
struct ivs_kv {
  size_t L, len, cap, width;
  float *k, *v;
  const ivs_row *rows; /* the layout of the rows being run (borrowed), or NULL: a plain sequence */
  int scatter;         /* rows[i].at is where row i's keys and values go (len is left as it is) */
};

/* A cache for `capacity` rows, which may exceed the context (rows of a
 * packed batch are not positions).  Same as ivs_kv_new otherwise. */
int ivs_kv_new_rows(ivs_kv **out, const ivs_model *m, size_t capacity);

/* The position of each of the n rows being run (after kv->len). */
void ivs_kv_positions(const ivs_kv *kv, size_t n, size_t *pos);

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

/* IVS_EINVAL, "a logit is not finite", naming the first weight that holds
 * NaN or an infinity and where (or saying that every weight is finite): for
 * the scoring paths to call where a logit is found not finite (a scan of the
 * weights, only then). */
int ivs_model_nonfinite_error(const ivs_model *m);

/* out[T x N] = in[T x K] . W + b, W stored [K x N] (GPT-2's Conv1D) or, with
 * out_in, [N x K] (torch's Linear); b may be NULL. */
void ivs_linear(float *out, const float *in, const float *w, const float *b, size_t T, size_t K, size_t N, int out_in);
void ivs_layernorm(float *out, const float *x, const float *w, const float *b, size_t T, size_t C, double eps);
void ivs_rmsnorm(float *out, const float *x, const float *w, size_t T, size_t C, double eps);
/* Attention of the n rows being run (q [n x H*hd], row stride q_stride),
 * whose keys and values layer l of kv already holds at rows kv->len.., over
 * the cache rows each may see (kv->rows, or causal); heads share key/value
 * heads in groups of H / (kv->width / hd).  out [n x H*hd].  IVS_ENOMEM. */
int ivs_attention(float *out, const float *q, size_t q_stride, const ivs_kv *kv, size_t l, size_t n, size_t H,
                  size_t hd);

/* Rotary positions on the first `rot` dimensions of each head of x[T x
 * heads*hd] (row stride `stride`): pairs (i, i + rot/2) turned by pos[t] *
 * inv_freq[i] for row t (the rotate-half layout of Llama and GPT-NeoX).
 * inv_freq: rot/2 inverse frequencies, computed once at load (engine/rope.h). */
void ivs_rope(float *x, size_t T, const size_t *pos, size_t heads, size_t hd, size_t stride, size_t rot,
              const double *inv_freq);

int ivs_gpt2_load(ivs_model *m, const cJSON *cfg);
int ivs_llama_load(ivs_model *m, const cJSON *cfg); /* llama, qwen2 */
int ivs_neox_load(ivs_model *m, const cJSON *cfg);  /* gpt_neox (Pythia) */
int ivs_opt_load(ivs_model *m, const cJSON *cfg);

#endif

/* A language model from a Hugging Face model directory (config.json and
 * model.safetensors or its shards), scored in float32 with OpenBLAS for
 * every matrix product.  model_type gpt2, gpt_neox, llama, qwen2 or opt (one
 * file each); any other is an error naming it.  F32 weights are used in
 * place from the mapping; F16 and BF16 are converted to float32 once
 * (ivs_model_info says how much that takes).  Many sequences at once, with
 * shared prefixes run once: engine/batch.h. */
#ifndef IVS_ENGINE_MODEL_H
#define IVS_ENGINE_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ivs_model ivs_model;

typedef struct ivs_model_info {
  const char *model_type;     /* borrowed from the model */
  size_t n_layer, n_embd, n_head, n_vocab, n_ctx;
  uint64_t params;            /* from the weights (a tied head counted once) */
  uint64_t file_bytes;        /* of the weights file */
  uint64_t converted_bytes;   /* float32 copies made of F16/BF16 weights */
  const char *dtype;          /* "F32", "F16" or "BF16" (of the first weight) */
  int32_t bos_id, eos_id;     /* config.json's bos_token_id and eos_token_id (the first of a list); -1: none */
  size_t n_kv_head, head_dim; /* key/value heads (grouped-query attention: fewer than n_head), their size */
  size_t n_ff;                /* the feed-forward width */
  int tied;                   /* the head is the token embedding */
  uint64_t kv_bytes_per_1000; /* the keys and values of 1000 tokens (float32) */
  /* positions: learned (rope_type NULL; the row of position 0 is
   * pos_offset) or rotary (rope_type "default", "linear" or "llama3") */
  size_t pos_offset;
  const char *rope_type;      /* static string, or NULL */
  double rope_theta, rope_factor, rope_low_freq_factor, rope_high_freq_factor, rope_original_max;
  size_t rope_dims;           /* rotated dimensions of each head */
  const char *notes;          /* borrowed from the model: the settings read that shape the forward pass */
} ivs_model_info;

/* Opens the model in `dir`.  *out is owned by the caller (ivs_model_free).
 * IVS_EIO for a missing config.json or weights file (named), IVS_EPARSE for
 * a malformed one, IVS_EINVAL for an unsupported model_type or a config value
 * (naming key and value), a missing tensor or one of the wrong shape (naming
 * the tensor and both shapes), IVS_ENOMEM. */
int ivs_model_open(ivs_model **out, const char *dir);
/* The same checks and ivs_model_get_info's answers without converting any
 * weight (fast: only the headers are read); such a model cannot run. */
int ivs_model_open_info(ivs_model **out, const char *dir);
void ivs_model_free(ivs_model *m); /* accepts NULL */
void ivs_model_get_info(const ivs_model *m, ivs_model_info *info);

/* A cache of the keys and values of a token sequence, so that continuations
 * of one prompt run without running the prompt again. */
typedef struct ivs_kv ivs_kv;
/* A cache for up to `capacity` tokens (at most the model's context); *out is
 * owned by the caller (ivs_kv_free). */
int ivs_kv_new(ivs_kv **out, const ivs_model *m, size_t capacity);
void ivs_kv_free(ivs_kv *kv); /* accepts NULL */
size_t ivs_kv_len(const ivs_kv *kv);
/* Forgets every token after the first len (len <= ivs_kv_len). */
void ivs_kv_truncate(ivs_kv *kv, size_t len);

/* Runs ids[0..n) after what kv holds and appends them to it; hidden (n rows
 * of ivs_model_hidden_size floats, may be NULL) gets each token's final
 * state.  IVS_EINVAL for an id outside the vocabulary or more tokens than the
 * cache holds. */
int ivs_model_extend(ivs_model *m, ivs_kv *kv, const int32_t *ids, size_t n, float *hidden);
size_t ivs_model_hidden_size(const ivs_model *m);
/* From one token's final state: *lp = log p(next) (a log-softmax in double
 * over the vocabulary) and *argmax the most likely next token (either may be
 * NULL).  logits: scratch of the vocabulary's size. */
int ivs_model_next(const ivs_model *m, const float *hidden, int32_t next, float *logits, double *lp, int32_t *argmax);

/* Runs ids[0..n) through the model.  For each continuation token ids[i],
 * i in [n_ctx, n), lp[i - n_ctx] gets log p(ids[i] | ids[<i]) (a
 * log-softmax over the vocabulary in double); argmax[i] (when not NULL, n
 * entries) the most likely next token after ids[<=i].  IVS_EINVAL for an id
 * outside the vocabulary, n_ctx 0 or not below n, n over the context
 * (without argmax, the context + 1: the last token is only predicted). */
int ivs_model_score(ivs_model *m, const int32_t *ids, size_t n, size_t n_ctx, double *lp, int32_t *argmax);

/* The threads of every matrix product (OpenBLAS's; the engine starts none
 * of its own), for the whole process. */
void ivs_model_set_threads(size_t n);
size_t ivs_model_threads(void);

/* OpenBLAS chooses its kernels when it is loaded; a CPU newer than its
 * tables (e.g. OpenBLAS 0.3.21 on Sapphire Rapids) gets the slowest
 * generic ones ("Prescott", 4 to 20 times slower).  Then this names the core
 * the CPU's features allow ("Cooperlake", "SkylakeX" or "Haswell"), for
 * OPENBLAS_CORETYPE in a new process; NULL when OpenBLAS chose well. */
const char *ivs_model_blas_core_hint(void);
/* The kernels OpenBLAS runs ("Cooperlake"; static), the widest the CPU allows
 * (NULL when none of the three), and whether the first are narrower than the
 * second (OPENBLAS_CORETYPE set to an older core, say). */
const char *ivs_model_blas_core(void);
const char *ivs_model_cpu_core(void);
int ivs_model_blas_narrower(void);

#endif

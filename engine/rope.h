/* Rotary positions (RoPE) as config.json describes them, read once at load
 * into a table of inverse frequencies for ivs_rope (engine/model_impl.h).
 *
 * Both spellings of the config are read: transformers 5 writes
 * `rope_parameters` {rope_type, rope_theta, partial_rotary_factor, and the
 * scaling keys}; hub checkpoints carry `rope_theta` (GPT-NeoX:
 * `rotary_emb_base`), `rotary_pct` or `partial_rotary_factor`, and
 * `rope_scaling` {rope_type or, in older configs, type, and the scaling
 * keys}.  rope_parameters wins where both give a value.
 *
 * Types: `default`; `linear` (every frequency divided by `factor`: positions
 * divided by it); `llama3` (Llama-3.1/3.2: with wavelength w = 2 pi / f of
 * each frequency f, L = original_max_position_embeddings, lo and hi the
 * low/high_freq_factor: w < L / hi keeps f, w > L / lo uses f / factor, and
 * in between s = (L / w - lo) / (hi - lo) gives (1 - s) f / factor + s f, as
 * transformers' _compute_llama3_parameters).  Any other type is an error
 * naming the key and the value. */
#ifndef IVS_ENGINE_ROPE_H
#define IVS_ENGINE_ROPE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "engine/model_impl.h"

typedef enum { IVS_ROPE_DEFAULT, IVS_ROPE_LINEAR, IVS_ROPE_LLAMA3 } ivs_rope_type;

struct ivs_rope_cfg {
  ivs_rope_type type;
  double theta;            /* the base */
  size_t rot;              /* rotated dimensions of each head (even, at most head_dim) */
  size_t hd;               /* the head's dimensions */
  double factor;           /* linear, llama3 (1 for default) */
  double low_freq_factor, high_freq_factor, original_max; /* llama3 */
  double *inv_freq;        /* owned: rot / 2 frequencies, theta^(-2i/rot) then scaled */
};

/* How an architecture spells the keys outside rope_parameters. */
typedef struct ivs_rope_spec {
  const char *theta_key;   /* the legacy key of the base: "rope_theta" or "rotary_emb_base" */
  const char *pct_key;     /* the legacy key of the rotated share ("rotary_pct"), or NULL */
  double pct_default;      /* when no key gives it: 1 (llama), 0.25 (gpt_neox) */
  int partial;             /* a share below 1 is supported (GPT-NeoX) */
} ivs_rope_spec;

/* Reads the rope settings of cfg for heads of hd dimensions into *r (the
 * caller's; release with ivs_rope_release, also after a failure).
 * IVS_EINVAL naming the key and value of an unsupported or malformed setting,
 * IVS_ENOMEM. */
int ivs_rope_read(ivs_rope_cfg *r, const ivs_model *m, const cJSON *cfg, size_t hd, const ivs_rope_spec *spec);
void ivs_rope_release(ivs_rope_cfg *r);

/* "default", "linear", "llama3". */
const char *ivs_rope_type_name(ivs_rope_type t);

#endif

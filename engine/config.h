/* Reading config.json values for the architectures' loaders: each helper is
 * strict about types (a key present with the wrong type is an error naming
 * the file and the key, never a silent default) and names key and value of
 * anything unsupported.  `obj` may be NULL (then every key is absent); `where`
 * names obj in messages ("" for the top level, "rope_scaling" for a nested
 * object). */
#ifndef IVS_ENGINE_CONFIG_H
#define IVS_ENGINE_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "engine/model_impl.h"

/* A number: *out = its value; dflt (and *present 0) when absent or null.
 * present may be NULL.  IVS_EINVAL when present and not a number. */
int ivs_cfg_number(const ivs_model *m, const cJSON *obj, const char *where, const char *key, double dflt, double *out,
                   int *present);

/* true or false; dflt when absent or null.  IVS_EINVAL otherwise. */
int ivs_cfg_bool(const ivs_model *m, const cJSON *obj, const char *key, int dflt, int *out);

/* A string that must be one of allowed[0..n); *out borrows it from obj, or
 * is NULL when absent or null.  IVS_EINVAL naming key and value otherwise
 * (and listing the values supported). */
int ivs_cfg_choice(const ivs_model *m, const cJSON *obj, const char *where, const char *key, const char *const *allowed,
                   size_t n, const char **out);

/* The LM head as transformers decides it: `tie_word_embeddings` (tie_default,
 * the model_type's default in transformers, when absent) true ties it to
 * embed, and a stored `name` is then unused (transformers ties over it);
 * false needs the tensor `name` [V x E] (an error naming it when missing,
 * where transformers would start a random head).  Sets m->head and m->tied. */
int ivs_cfg_head(ivs_model *m, const cJSON *cfg, int tie_default, const char *name, const float *embed, size_t V,
                 size_t E);

/* The prefix the checkpoint puts before its tensor names: the first of
 * prefixes[0..n) for which prefix + probe is a tensor, else prefixes[0] (so
 * that a missing tensor is named as the usual checkpoint names it).  A base
 * model saved without its head's wrapper drops the first part, e.g. OPT's
 * "decoder." for "model.decoder.". */
const char *ivs_cfg_prefix(const ivs_model *m, const char *const *prefixes, size_t n, const char *probe);

#endif

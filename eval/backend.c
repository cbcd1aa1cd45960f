/* The table of backends, keyed by the prefix of a model's spec. */
#include "eval/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/example.h"

static const ivs_backend *const rows[] = {&ivs_backend_logprobs, &ivs_backend_lmeval, &ivs_backend_openai,
                                          &ivs_backend_native, &ivs_backend_fake};

const ivs_backend *ivs_backend_find(const char *spec, const char **arg) {
  for (size_t i = 0; spec && i < sizeof rows / sizeof *rows; i++) {
    size_t n = strlen(rows[i]->prefix);
    if (!strncmp(spec, rows[i]->prefix, n)) {
      if (arg) *arg = spec + n;
      return rows[i];
    }
  }
  return NULL;
}

int ivs_eval_backend_check(const char *backend) {
  const char *arg;
  const ivs_backend *be = ivs_backend_find(backend, &arg);
  if (!be) /* fake: is for tests, not advertised */
    return ivs_error_set(IVS_EUSAGE, "the backends are logprobs:FILE, lmeval:FILE, openai:URL@ID and native:DIR");
  return be->check ? be->check(arg) : 0;
}

int ivs_backend_models_check(const ivs_eval_model *models, size_t n) {
  if (n < 2 || !models) return ivs_error_set(IVS_EUSAGE, "a scaling trend needs at least two models of different sizes");
  if (n > IVS_EVAL_MAX_MODELS) return ivs_error_set(IVS_EUSAGE, "at most %d models", IVS_EVAL_MAX_MODELS);
  for (size_t m = 0; m < n; m++) {
    const ivs_eval_model *md = &models[m];
    if (!md->name || !*md->name) return ivs_error_set(IVS_EUSAGE, "model %zu has no name", m);
    for (size_t k = 0; k < m; k++)
      if (!strcmp(models[k].name, md->name)) return ivs_error_set(IVS_EUSAGE, "model name '%s' given twice", md->name);
    if (ivs_eval_backend_check(md->backend)) {
      ivs_error_prefix("model '%s'", md->name);
      return IVS_EUSAGE;
    }
  }
  return 0;
}

/* One request per class (classification), per prompt and class (log-odds:
 * prompt c0, prompt c1, other_prompt c0, other_prompt c1) or per completion. */
int ivs_backend_requests(const ivs_eval_task *t, ivs_task_type type, ivs_backend_req **reqs, size_t *n) {
  int logodds = ivs_type_is_logodds(type);
  size_t count = type == IVS_TYPE_CLASSIFICATION ? t->offsets[t->n] : logodds ? 4 * t->n : t->n;
  ivs_backend_req *r = calloc(count ? count : 1, sizeof *r);
  if (!r) return ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t k = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (type == IVS_TYPE_SEQUENCE_PROB) {
      r[k].context = ivs_eval_task_text(t, i, 0), r[k].continuation = ivs_eval_task_text(t, i, 2);
      snprintf(r[k++].what, sizeof r->what, "example %zu, completion", i);
      continue;
    }
    for (int side = 0; side < (logodds ? 2 : 1); side++)
      for (size_t j = 0; j < t->ncls[i]; j++) {
        r[k].context = ivs_eval_task_text(t, i, (size_t)side), r[k].continuation = ivs_eval_task_text(t, i, 3 + j);
        r[k].single_token = logodds;
        snprintf(r[k++].what, sizeof r->what, "example %zu, %sclass %zu", i, side ? "other_prompt, " : "", j);
      }
  }
  *reqs = r, *n = count;
  return 0;
}

const char *ivs_gen_stop_name(ivs_gen_stop s) {
  switch (s) {
  case IVS_GEN_EOS: return "eos";
  case IVS_GEN_STOP: return "stop";
  case IVS_GEN_CONTEXT: return "context";
  default: return "length";
  }
}

void ivs_generation_release(ivs_generation *g) {
  free(g->text);
  free(g->ids);
  for (size_t k = 0; k < g->n_token_texts; k++) free(g->token_texts[k]);
  free(g->token_texts);
  memset(g, 0, sizeof *g);
}

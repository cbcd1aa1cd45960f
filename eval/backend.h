/* The backend interface: where a model's log-probabilities come from.
 *
 * A backend is one row of a table keyed by the prefix of its spec
 * ("logprobs:FILE", "lmeval:FILE", "openai:URL@ID", "native:DIR",
 * "fake:SCALE").  A run opens one state per model, asks it
 * for the log-probabilities of the task's requests and closes it.
 *
 * The values a backend returns are laid out per example in task order:
 * classification, the log-probability of each class after the prompt (example
 * i's start at task->offsets[i]); log-odds, 4 per example (prompt with class
 * 0, 1, other_prompt with class 0, 1); sequence_prob, 1 (the completion after
 * the prompt).  ivs_backend_requests makes the matching requests.
 *
 * Two ways to answer, which a backend declares in `caps`:
 *   SCORE   request by request (score): a server, an engine, the fake; it is
 *           given the texts (an engine that tokenizes does it itself);
 *   VALUES  a file of per-example values (values): logprobs: and lmeval:
 *           already hold them in the layout above, so they skip requests and
 *           may read their file ahead (preload) while the task is read.
 *   GENERATE text from prompts (generate): eval/generate.h.
 * Internal to eval/. */
#ifndef IVS_EVAL_BACKEND_H
#define IVS_EVAL_BACKEND_H

#include <stddef.h>

#include "eval/generate.h"
#include "eval/request.h"
#include "eval/task.h"
#include "invscale/eval.h"

enum { IVS_BACKEND_SCORE = 1u, IVS_BACKEND_GENERATE = 2u, IVS_BACKEND_VALUES = 4u };


typedef struct ivs_backend {
  const char *prefix; /* "openai:" */
  unsigned caps;      /* IVS_BACKEND_* */
  /* 0 when arg (the spec after the prefix) has this backend's form, else
   * IVS_EUSAGE saying the form expected. */
  int (*check)(const char *arg);
  /* A state for model `name` (borrowed for the state's life, as arg and
   * opts); *state is the backend's, freed by close. */
  int (*open)(const char *name, const char *arg, const ivs_eval_opts *opts, void **state);
  /* Optional (VALUES): work that needs no task, on a worker thread while the
   * task is read; type: the type asked for, or IVS_TYPE_AUTO.  Problems are
   * kept in the state for values to report. */
  void (*preload)(void *state, ivs_task_type type);
  /* VALUES: the task's values in the layout above, *values malloc'd (the
   * caller frees).  May run on a worker thread. */
  int (*values)(void *state, const ivs_eval_task *task, ivs_task_type type, double **values);
  /* SCORE: out[i] = log P(reqs[i].continuation | reqs[i].context), i < n.
   * Runs on the thread that called ivs_eval_run (it may report progress). */
  int (*score)(void *state, const ivs_backend_req *reqs, size_t n, double *out);
  /* GENERATE: out[i * p->samples + s] gets sample s of prompts[i] (prompts
   * borrowed, UTF-8), i < n.  On failure every out entry is released.  Runs
   * on the thread that called the run (it may report progress). */
  int (*generate)(void *state, const char *const *prompts, size_t n, const ivs_gen_params *p, ivs_generation *out);
  /* Optional: the model's parameter count, 0 when not known. */
  double (*params)(void *state);
  /* Optional, after scoring: what the result should record of how (e.g. the
   * tokenization a native model used). */
  void (*describe)(void *state, ivs_eval_model_result *res);
  void (*close)(void *state); /* accepts NULL */
} ivs_backend;

/* The row for spec's prefix and, in *arg, the rest of spec (borrowed from
 * it); NULL when no backend has that prefix. */
const ivs_backend *ivs_backend_find(const char *spec, const char **arg);

/* The models of a run: 2 to IVS_EVAL_MAX_MODELS, each named, no name
 * twice, each backend of a form this library has; IVS_EUSAGE naming the
 * model otherwise. */
int ivs_backend_models_check(const ivs_eval_model *models, size_t n);

/* The requests matching the values' layout for the task read as `type`:
 * *reqs malloc'd (the caller frees), *n of them. */
int ivs_backend_requests(const ivs_eval_task *t, ivs_task_type type, ivs_backend_req **reqs, size_t *n);

/* The rows (one file each). */
extern const ivs_backend ivs_backend_logprobs, ivs_backend_lmeval, ivs_backend_openai, ivs_backend_native,
    ivs_backend_fake;

#endif

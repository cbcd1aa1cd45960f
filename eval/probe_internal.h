/* What the pieces of a probe run share (eval/probe.c runs it,
 * eval/probe_write.c writes its files).  Internal to eval/. */
#ifndef IVS_EVAL_PROBE_INTERNAL_H
#define IVS_EVAL_PROBE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/fileio.h"
#include "eval/backend.h"
#include "eval/probe_match.h"
#include "eval/probe_metrics.h"
#include "eval/probe_prompts.h"
#include "eval/probe_spam.h"
#include "invscale/eval.h"

/* What repetition and distinct-n counted, the least exact a model needed. */
enum { IVS_PROBE_UNITS_IDS = 0, IVS_PROBE_UNITS_TEXTS, IVS_PROBE_UNITS_WORDS };

/* The metrics of one generation (NaN: not asked for, or undefined). */
typedef struct ivs_probe_gen {
  size_t tokens;        /* the backend's count, else the units counted */
  ivs_gen_stop stop;
  double seq_rep, distinct[3], compression;
  ivs_probe_loop loop;
  int has_number;
  double number;
  size_t *match;        /* owned: per pattern */
  double match_rate;    /* matches per 100 tokens */
  double spam;
  char *rules;          /* owned: comma-separated */
  uint64_t *units;      /* owned, with distinct: the tokens counted (for the model's corpus distinct-n) */
  size_t n_units;
} ivs_probe_gen;

struct cJSON;

typedef struct ivs_probe_member {
  const char *name;
  const ivs_backend *be;
  double params;
  int units_kind;
  struct cJSON *details; /* owned: stop reasons, spam rules, pattern counts, numbers (summary.json) */
  ivs_atomic_file file;  /* <model>.jsonl, written, committed when the whole run is done */
  int file_open;
} ivs_probe_member;

#define IVS_PROBE_N_METRICS 14

typedef struct ivs_probe_run_state {
  const ivs_probe_opts *o;
  ivs_eval_opts eo;             /* what the backends are opened with */
  ivs_probe_prompts prompts;
  size_t n_groups, *group_of;   /* group_of[i]: prompt i's group, (size_t)-1 for none */
  ivs_probe_patterns *patterns;
  size_t n_patterns;
  ivs_spamd *spamd;
  ivs_probe_member ms[IVS_EVAL_MAX_MODELS]; /* in the order given */
  size_t order[IVS_EVAL_MAX_MODELS];        /* by size: order[m] is the m-th smallest */
  int units_kind;
  double *values[IVS_PROBE_N_METRICS]; /* per metric: model m (given order) row of per-unit values */
  double *sorted[IVS_PROBE_N_METRICS]; /* the same rows by size */
} ivs_probe_run_state;

/* out/<model>.jsonl for model m (given order), written to its temporary
 * file; ivs_probe_files_commit renames them all once the run is done. */
int ivs_probe_write_generations(ivs_probe_run_state *st, size_t m, const ivs_generation *g, const ivs_probe_gen *pg);
int ivs_probe_files_commit(ivs_probe_run_state *st);
void ivs_probe_files_abort(ivs_probe_run_state *st);

/* Adds model m's counts to st->ms[m].details. */
int ivs_probe_model_details(ivs_probe_run_state *st, size_t m, const ivs_generation *g, const ivs_probe_gen *pg);
struct cJSON *ivs_probe_details_new(void);
void ivs_probe_details_free(struct cJSON *d);

/* The plots, the models' files and last out/summary.json, each atomically. */
int ivs_probe_summary_write(ivs_probe_run_state *st, const ivs_probe_result *r);

#endif

/* invscale eval: scoring a task on a family of models of growing size.
 *
 * A run (ivs_eval_run) reads a task file (JSON Lines or CSV), asks each
 * model's backend for the log-probabilities of the task's continuations,
 * scores every example exactly as the Inverse Scaling Prize's pipeline,
 * aggregates per model (mean, SEM, accuracy, coverage), fits the scaling
 * trend (a least-squares slope against log10(parameters) with a paired
 * bootstrap) and writes into the output folder, each file atomically
 * (written beside, fsynced, renamed):
 *
 *   <model>.csv           the prize's per-example columns, one file per model
 *   labelled_data.jsonl   the task's rows with every model's columns
 *   summary.json          the task, per-model results and the trend
 *   loss_plot.svg         the metric against parameters
 *
 * Nothing here prints, exits or looks at the terminal: progress and notes
 * reach the caller through opts->progress, failures through the return code
 * and the thread's last error (ivs_error_message()).
 */
#ifndef INVSCALE_EVAL_H
#define INVSCALE_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "invscale/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scaling trend (docs/trend.md): the least-squares slope of the metric
 * against log10(parameters), tested through the examples' own slopes with a
 * studentized (bootstrap-t) paired bootstrap, never narrower than Student's
 * t, at a 5% two-sided level: 2.5% on each side.  UNDEFINED: the trend could
 * not be computed (a model's mean metric is infinite; ivs_eval_result.why
 * says which and why). */
typedef enum ivs_verdict {
  IVS_VERDICT_UNDEFINED = 0,
  IVS_VERDICT_INVERSE,    /* worse with size: the 95% interval lies on the worse side */
  IVS_VERDICT_POSITIVE,   /* better with size */
  IVS_VERDICT_FLAT,       /* the interval contains 0 */
  IVS_VERDICT_U_SHAPED,   /* worse then better (3 models or more): the smaller half's slope is worse
                           * and the larger half's better, each at 0.5% one-sided (an
                           * intersection-union test: at most 0.5% on any linear family) */
  IVS_VERDICT_INVERTED_U  /* better then worse, the same way */
} ivs_verdict;

#define IVS_EVAL_TREND_LEVEL 0.05        /* two-sided, for inverse/positive */
#define IVS_EVAL_TREND_SHAPE_LEVEL 0.005 /* one-sided, for each half's slope of a shape */
#define IVS_EVAL_TREND_POWER 0.80        /* at which the detectable slope is stated */
#define IVS_EVAL_MAX_TRENDS 16           /* metrics in one ivs_eval_trends call */

/* "undefined", "inverse", "positive", "flat", "u-shaped" or "inverted-u"
 * (the names summary.json uses); a static string, "undefined" for a value
 * out of range. */
const char *ivs_verdict_name(ivs_verdict v);

typedef enum ivs_eval_metric {
  IVS_EVAL_METRIC_LOSS = 0, /* the mean loss (log-odds difference for log-odds tasks) */
  IVS_EVAL_METRIC_ACC       /* the mean accuracy; refused for sequence_prob tasks */
} ivs_eval_metric;

/* "loss" or "acc". */
const char *ivs_eval_metric_name(ivs_eval_metric m);

/* How a native model turns a prompt and a class into the tokens it scores.
 *   PRIZE     the prize pipeline's: prompt + class tokenized together, the
 *             last len(tokenize(class)) tokens scored, after the model's
 *             start token when it has one (OPT's </s>, Llama's <s>);
 *   LMEVAL    lm-evaluation-harness's: the context's trailing whitespace
 *             moved into the continuation, the whole string tokenized and
 *             split after len(tokenize(context)) tokens, no start token (an
 *             empty context becomes the start or end-of-text token);
 *   SEPARATE  prompt and class tokenized apart and appended (after the start
 *             token), as the shared fixtures are. */
typedef enum ivs_eval_tokenization {
  IVS_EVAL_TOKENIZATION_PRIZE = 0,
  IVS_EVAL_TOKENIZATION_LMEVAL,
  IVS_EVAL_TOKENIZATION_SEPARATE
} ivs_eval_tokenization;

/* "prize", "lmeval" or "separate"; NULL for a value out of range. */
const char *ivs_eval_tokenization_name(ivs_eval_tokenization t);

/* One model of the family. */
typedef struct ivs_eval_model {
  const char *name;    /* borrowed; names the model's files and columns; unique in a run */
  const char *backend; /* borrowed: "logprobs:FILE", "lmeval:FILE", "openai:URL@ID", "native:DIR"
                        * (see ivs_eval_backend_check) */
  double params;       /* the parameter count; 0: the backend's, else ivs_eval_known_params(name) */
} ivs_eval_model;

/* What a run reports while it works.  The pointers are borrowed for the
 * duration of the call. */
typedef enum ivs_eval_event_kind {
  IVS_EVAL_EVENT_READ,     /* reading the task: done and total bytes; subject: its path */
  IVS_EVAL_EVENT_REQUESTS, /* a server backend: done and total requests; subject: the model */
  IVS_EVAL_EVENT_STEP_END, /* the step reported by the events above is over */
  IVS_EVAL_EVENT_NOTE,     /* a line of information in text (e.g. how many answers came from the cache) */
  IVS_EVAL_EVENT_WARNING   /* a line the user should see in text (e.g. old field names that were read) */
} ivs_eval_event_kind;

typedef struct ivs_eval_event {
  ivs_eval_event_kind kind;
  const char *subject;           /* what the event is about; "" when none */
  unsigned long long done, total; /* READ and REQUESTS; total 0: unknown */
  const char *text;              /* NOTE and WARNING: the line (no newline); REQUESTS: a rate to show with
                                  * the count (e.g. "5300 tokens run/s") or ""; else "" */
} ivs_eval_event;

/* Called on the thread that called ivs_eval_run. */
typedef void (*ivs_eval_progress_fn)(const ivs_eval_event *ev, void *ud);

typedef struct ivs_eval_opts {
  const char *task_path;         /* the task file (JSON Lines or CSV, as ingest/taskfile decides) */
  ivs_task_type type;            /* IVS_TYPE_AUTO: from the task's fields */
  const ivs_eval_model *models;  /* borrowed: n_models of them, 2 to IVS_EVAL_MAX_MODELS */
  size_t n_models;
  ivs_eval_metric metric;
  int invert;                    /* score the other classes (the prize's --invert) */
  size_t n_boot;                 /* bootstrap resamples of the trend, 10 to 1000000 */
  uint64_t seed;                 /* of the bootstrap */
  const char *out_dir;           /* created when missing */
  /* server backends (openai:) */
  const char *api_key;           /* sent as a Bearer token; NULL: none */
  const char *api_key_env;       /* the variable it came from, for messages; NULL: none */
  const char *cache_dir;         /* one cache file per model id; NULL: out_dir/cache */
  int concurrency;               /* requests in flight per model, >= 1 */
  long timeout_ms;               /* per attempt */
  int retries;                   /* further attempts after a retryable failure */
  ivs_eval_progress_fn progress; /* optional */
  void *progress_ud;
  size_t top;                    /* examples of steepest rise and fall to list in the result, 0 to
                                  * IVS_EVAL_MAX_TOP (0: none) */
  /* the native engine (native:DIR) */
  ivs_eval_tokenization tokenization;
  int truncate_left;             /* a sequence over the model's context loses its oldest context
                                  * tokens (after a start token) instead of failing the run */
  size_t threads;                /* of the matrix products; 0: the cores */
  uint64_t cache_memory;         /* bytes for the keys and values of a prefix kept across examples */
} ivs_eval_opts;

#define IVS_EVAL_MAX_MODELS 64
#define IVS_EVAL_MAX_TOP 1000

#define IVS_EVAL_OPTS_INIT                                                                                       \
  {NULL, IVS_TYPE_AUTO, NULL, 0, IVS_EVAL_METRIC_LOSS, 0, 1000, 1, NULL, NULL, NULL, NULL, 8, 60000, 5, NULL, NULL, 0, \
   IVS_EVAL_TOKENIZATION_PRIZE, 0, 0, (uint64_t)256 << 20}

/* One model's results. */
typedef struct ivs_eval_model_result {
  char *name;      /* owned by the result */
  double params;   /* the count used */
  double mean;     /* of the metric; may be +inf (with --invert) */
  double sem;      /* standard error of the mean (std with ddof=0 over sqrt(n)); NaN when the mean is not finite */
  double accuracy; /* NaN for sequence_prob */
  double coverage; /* mean total probability of the classes; NaN unless classification */
  const char *tokenization; /* native models: ivs_eval_tokenization_name of the run's; else NULL */
  size_t truncated; /* native models: requests cut on the left to fit the context */
  int truncate_left; /* native models: whether cutting was allowed (opts.truncate_left) */
} ivs_eval_model_result;

/* An example that drives the trend: its slope is the least-squares slope of
 * its own metric (loss, log-odds difference or correctness) against
 * log10(parameters) over the models, as written in labelled_data.jsonl. */
typedef struct ivs_eval_example {
  size_t index;   /* in the task, from 0 */
  double slope;   /* per decade of parameters */
  char *prompt;   /* owned by the result: the example's prompt (a NUL in it as IVS_NUL) */
} ivs_eval_example;

typedef struct ivs_eval_result {
  ivs_task_type type;             /* as read */
  size_t n_examples;
  double baseline;                /* classification: the mean metric of guessing; else NaN */
  ivs_eval_model_result *models;  /* owned: n_models, sorted by parameters */
  size_t n_models;
  ivs_verdict verdict;
  double slope, lo, hi;           /* per decade of parameters, with its 95% interval (-inf/+inf
                                   * when unbounded: ivs_eval_trend); NaN when undefined */
  size_t n_boot;
  char why[600];                  /* UNDEFINED: why; else "" */
  /* per-example slopes (labelled_data.jsonl's slope_per_decade) */
  double share_rising;            /* of the examples with a finite slope, those whose metric rises
                                   * (slope > 0); NaN when none has a finite slope */
  ivs_eval_example *rising;       /* owned: the n_rising (<= opts->top) steepest rises, steepest first */
  size_t n_rising;
  ivs_eval_example *falling;      /* owned: the n_falling steepest falls (slope < 0), steepest first */
  size_t n_falling;
  /* the power of the verdict (docs/trend.md) */
  double detectable;              /* the slope per decade (in the metric's units) that this many
                                   * examples and these sizes detect 80% of the time at the 5%
                                   * level, from the variance of the examples' own slopes; +inf
                                   * when no slope can be (too few examples or resamples); NaN
                                   * when undefined */
  size_t n_verdicts;              /* verdicts tested by the run, each at its own 5% level (1; 0
                                   * when undefined) */
} ivs_eval_result;

/* Runs the evaluation that opts describes and fills *out (initialised by
 * the callee; release it with ivs_eval_result_release, also after a
 * failure).  Returns 0, or:
 *   IVS_EUSAGE  bad options: fewer than 2 models, a name twice, a backend
 *               not understood, an unknown parameter count, two models of
 *               one size, --metric acc on a sequence_prob task;
 *   IVS_EINVAL / IVS_EPARSE  a task or a backend's file that is invalid;
 *   IVS_EIO, IVS_ENOMEM, or a server backend's failure.
 * On failure no output file is left half-written (a file already committed
 * stays).  opts NULL or out NULL: IVS_EUSAGE. */
int ivs_eval_run(const ivs_eval_opts *opts, ivs_eval_result *out);

/* Frees what *r owns and leaves it empty; r NULL is a no-op. */
void ivs_eval_result_release(ivs_eval_result *r);

/* One metric's trend. */
typedef struct ivs_eval_trend {
  ivs_verdict verdict;  /* inverse, positive, flat, u-shaped or inverted-u (never undefined) */
  double slope, lo, hi; /* per decade, with its 95% interval (above); a bound is -inf/+inf
                         * when the resamples cannot place it (fewer than 39 resamples, or
                         * examples so few that resamples without variance fill a tail) */
  double detectable;    /* as ivs_eval_result.detectable */
  size_t n_boot;
  size_t n_tested;      /* the metrics tested together (each verdict at its own level) */
} ivs_eval_trend;

/* One metric of a family: M rows (the models by size) of N per-example
 * values, row-major, all finite. */
typedef struct ivs_eval_trend_metric {
  const double *values;  /* borrowed for the call */
  int higher_is_worse;   /* 1 for a loss, 0 for an accuracy */
} ivs_eval_trend_metric;

/* The trends of K metrics measured on the same N examples and M models (a
 * probe's several metrics, a task's loss and accuracy), as ivs_eval_run
 * computes its one: out[k] for metrics[k].  Each verdict keeps its own level
 * (5% two-sided, shapes 0.5% per half); nothing is corrected for the number
 * tested, which each result states (n_tested = K): among K flat metrics about
 * K x 5% non-flat verdicts are expected.  The resamples are shared (the same
 * examples drawn for every metric, one pass to draw them).
 * x: log10(parameters) of the M models, strictly ascending; M >= 2;
 * 1 <= K <= IVS_EVAL_MAX_TRENDS; n_boot resamples (0: 1000), seeded: the same
 * inputs and seed give the same results, bit for bit, whatever K.
 * Returns 0, or IVS_EINVAL (sizes not ascending, fewer than two models, no
 * examples, a non-finite value: the message names the metric, model and
 * example), IVS_ENOMEM; any NULL pointer: IVS_EUSAGE. */
int ivs_eval_trends(ivs_eval_trend *out, const double *x, size_t M, size_t N, const ivs_eval_trend_metric *metrics,
                    size_t K, size_t n_boot, uint64_t seed);

/* 0 when `backend` names a backend this library has (its prefix and the
 * form of the rest), else IVS_EUSAGE with a message saying the form expected
 * (without the model's name).  NULL: IVS_EUSAGE. */
int ivs_eval_backend_check(const char *backend);

/* The nominal parameter count of a well-known model (the prize's list and
 * today's pilot families: gpt2, ada..davinci, opt, gpt-neo, gpt-j, pythia,
 * Qwen2.5, SmolLM2), matched without case on the part after the last '/';
 * 0 when unknown or name is NULL. */
double ivs_eval_known_params(const char *name);


/* ---- generation probes (docs/probe.md) ----
 *
 * A probe run (ivs_probe_run) reads a prompt set (JSON Lines or CSV: a
 * `prompt` in every record, optional `group` and `role`), has each model
 * generate `samples` continuations of every prompt (models one at a time,
 * through their backend: native:, openai:, fake:), computes the metrics
 * asked for on every generation, and per model the mean and SEM of each
 * over the prompts (a prompt's value: the mean over its samples); then the
 * scaling verdict of each metric with ivs_eval_trends (the same test as
 * eval, resampling prompts, or groups for anchoring).  It writes into the
 * output folder, each file atomically:
 *
 *   <model>.jsonl   every generation: prompt index, sample, text, ids,
 *                   tokens, stop reason, its metrics
 *   summary.json    the options, per-model statistics and the trends
 *   <metric>.svg    each trended metric against parameters (eval's plot)
 */

/* The metrics (bits of ivs_probe_opts.metrics). */
enum {
  IVS_PROBE_REPETITION = 1u << 0,  /* seq_rep_N and the loop detector (loop, loop_period, loop_start) */
  IVS_PROBE_DISTINCT = 1u << 1,    /* distinct_1, distinct_2, distinct_3 */
  IVS_PROBE_COMPRESSION = 1u << 2, /* compression: zlib bytes over raw bytes */
  IVS_PROBE_LENGTH = 1u << 3,      /* tokens, and the share that ran to max_new_tokens */
  IVS_PROBE_SPAM = 1u << 4,        /* spam_score from SpamAssassin's spamd, and the rules that fired */
  IVS_PROBE_MATCH = 1u << 5,       /* match_per_100_tokens of the patterns in match_path */
  IVS_PROBE_NUMBER = 1u << 6       /* the first number; with groups and roles, the anchoring effect */
};

/* "repetition" ... "number" for one bit; NULL otherwise. */
const char *ivs_probe_metric_name(unsigned bit);
/* A --metric value ("repetition", "distinct", "compression", "length",
 * "spam", "number", or "match:FILE", whose FILE goes to *match_path, borrowed
 * from s) to its bit; IVS_EUSAGE listing the names.  NULL s: IVS_EUSAGE. */
int ivs_probe_metric_parse(const char *s, unsigned *bit, const char **match_path);

#define IVS_PROBE_MAX_SAMPLES 1000
#define IVS_PROBE_MAX_NEW_TOKENS 65536
#define IVS_PROBE_MAX_STOPS 16

typedef struct ivs_probe_opts {
  const char *prompts_path;     /* the prompt set */
  const ivs_eval_model *models; /* borrowed: 2 to IVS_EVAL_MAX_MODELS, of different sizes */
  size_t n_models;
  unsigned metrics;             /* IVS_PROBE_* bits, at least one */
  const char *match_path;       /* IVS_PROBE_MATCH: the pattern file (docs/probe.md) */
  size_t seq_rep_n;             /* the n of seq-rep-n, 1 to 16 */
  /* decoding (eval/generate.h): temperature, then top-k, then top-p */
  size_t samples;               /* per prompt, 1 to IVS_PROBE_MAX_SAMPLES */
  size_t max_new_tokens;        /* 1 to IVS_PROBE_MAX_NEW_TOKENS */
  int greedy;                   /* 1: the most likely token; the sampling fields are not read */
  double temperature;           /* > 0 (0 is refused: use greedy) */
  size_t top_k;                 /* 0: off */
  double top_p;                 /* in (0, 1]; 1: off */
  uint64_t seed;                /* of the sampling, and of the bootstrap */
  const char *const *stop;      /* borrowed: up to IVS_PROBE_MAX_STOPS non-empty stop strings */
  size_t n_stop;
  const char *spamd;            /* IVS_PROBE_SPAM: "HOST:PORT" of a running spamd; NULL: one is
                                 * started on 127.0.0.1 for the run (network tests off) */
  size_t n_boot;                /* bootstrap resamples, 10 to 1000000 */
  const char *out_dir;          /* created when missing */
  /* the backends' options, as an eval run's: api_key, api_key_env, cache_dir
   * (NULL: out_dir/cache), concurrency, timeout_ms, retries, threads,
   * cache_memory, tokenization; progress and progress_ud are this run's
   * (below); its task, model, metric and output fields are not read */
  ivs_eval_opts backend;
  ivs_eval_progress_fn progress; /* optional: READ is not sent; REQUESTS per model (subject: the
                                  * model, or "<model> spam" while spamd scores), STEP_END, NOTE,
                                  * WARNING */
  void *progress_ud;
} ivs_probe_opts;

#define IVS_PROBE_OPTS_INIT                                                                                       \
  {.seq_rep_n = 4, .samples = 5, .max_new_tokens = 128, .greedy = 0, .temperature = 1.0, .top_k = 0, .top_p = 1.0, \
   .seed = 1, .n_boot = 1000, .backend = IVS_EVAL_OPTS_INIT}

/* One statistic of one model over the prompts (or groups). */
typedef struct ivs_probe_stat {
  double mean, sem; /* over the n values present; NaN when n is 0 (summary.json: null) */
  size_t n;         /* prompts (groups) with a value */
  size_t missing;   /* prompts (groups) without one (no number parsed, a text too short for an n-gram) */
} ivs_probe_stat;

/* One metric's results. */
typedef struct ivs_probe_metric {
  char name[40];         /* "seq_rep_4", "loop", "distinct_2", "compression", "tokens", "stopped_at_limit",
                          * "spam_score", "match_per_100_tokens", "number_missing", "anchoring_effect",
                          * "pull_low", "pull_high" */
  unsigned family;       /* its IVS_PROBE_* bit */
  int higher_is_worse;   /* how the verdict reads (docs/probe.md) */
  int over_groups;       /* its values are per group (anchoring), not per prompt */
  ivs_probe_stat *models; /* owned: n_models, in the result's model order */
  /* the trend over the units (prompts or groups) that have a value for every model */
  ivs_verdict verdict;   /* UNDEFINED when no unit has */
  double slope, lo, hi, detectable; /* as ivs_eval_trend; NaN when undefined */
  size_t n_boot, n_units, n_dropped; /* units used and left out for a missing value */
} ivs_probe_metric;

typedef struct ivs_probe_result {
  size_t n_prompts, n_groups, samples;
  char **model_names;  /* owned: n_models, sorted by parameters */
  double *params;      /* owned: n_models */
  const char **units;  /* owned array of static strings: what each model's tokens were counted in
                        * ("ids", "token_texts" or "words") */
  size_t n_models;
  ivs_probe_metric *metrics; /* owned */
  size_t n_metrics;
  size_t n_verdicts;   /* verdicts tested, each at its own 5% level */
} ivs_probe_result;

/* Runs the probe that opts describes and fills *out (initialised by the
 * callee; release it with ivs_probe_result_release, also after a failure).
 * Returns 0, or:
 *   IVS_EUSAGE  bad options (fewer than 2 models, a name twice, a backend
 *               that does not generate, an option out of range: when
 *               sampling top_p outside (0, 1] or a temperature not above 0;
 *               samples or max_new_tokens 0; an unknown size, two models of
 *               one size), SpamAssassin not installed (the message names the
 *               packages), a malformed spamd address;
 *   IVS_EINVAL / IVS_EPARSE  a prompt set that is invalid (no `prompt`, a bad
 *               role, a group missing a role with the number metric), an
 *               invalid pattern (file:line and PCRE2's message);
 *   IVS_EIO, IVS_ENOMEM, or a backend's or spamd's failure.
 * On failure no output file is left half-written.  NULL opts or out:
 * IVS_EUSAGE. */
int ivs_probe_run(const ivs_probe_opts *opts, ivs_probe_result *out);

/* Frees what *r owns and leaves it empty; NULL is a no-op. */
void ivs_probe_result_release(ivs_probe_result *r);

#ifdef __cplusplus
}
#endif
#endif

/* A probe run (include/invscale/eval.h): prompts -> each model's
 * generations -> per-generation metrics -> per-prompt values -> per-model
 * statistics -> trends -> <model>.jsonl, summary.json and plots.
 *
 * Models run one at a time (a model is opened, generates every sample of
 * every prompt, is closed); only the per-prompt values of the metrics are
 * kept across models, so memory holds one model's generations at a time. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/hash.h"
#include "eval/backend.h"
#include "eval/probe_internal.h"
#include "eval/probe_match.h"
#include "eval/probe_metrics.h"
#include "eval/probe_prompts.h"
#include "eval/probe_spam.h"
#include "invscale/eval.h"

static const struct {
  unsigned bit;
  const char *name;
} families[] = {{IVS_PROBE_REPETITION, "repetition"}, {IVS_PROBE_DISTINCT, "distinct"},
                {IVS_PROBE_COMPRESSION, "compression"}, {IVS_PROBE_LENGTH, "length"},
                {IVS_PROBE_SPAM, "spam"},             {IVS_PROBE_MATCH, "match"},
                {IVS_PROBE_NUMBER, "number"}};
#define N_FAMILIES (sizeof families / sizeof *families)

const char *ivs_probe_metric_name(unsigned bit) {
  for (size_t k = 0; k < N_FAMILIES; k++)
    if (families[k].bit == bit) return families[k].name;
  return NULL;
}

int ivs_probe_metric_parse(const char *s, unsigned *bit, const char **match_path) {
  if (!s || !bit) return ivs_error_set(IVS_EUSAGE, "no metric");
  if (!strncmp(s, "match:", 6)) {
    if (!s[6]) return ivs_error_set(IVS_EUSAGE, "--metric match:FILE needs the pattern file");
    if (match_path) *match_path = s + 6;
    *bit = IVS_PROBE_MATCH;
    return 0;
  }
  for (size_t k = 0; k < N_FAMILIES; k++)
    if (families[k].bit != IVS_PROBE_MATCH && !strcmp(s, families[k].name)) {
      *bit = families[k].bit;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE,
                       "--metric: repetition, distinct, compression, length, spam, match:FILE or number, got '%s'", s);
}

/* ---- the metrics' table ---- */

/* Per-prompt metrics, in the order summary.json lists them. */
enum {
  M_SEQ_REP, M_LOOP, M_DIST1, M_DIST2, M_DIST3, M_COMPRESSION, M_TOKENS, M_AT_LIMIT, M_SPAM, M_MATCH,
  M_NUMBER_MISSING, M_PROMPT_METRICS,
  /* per group */
  M_ANCHOR = M_PROMPT_METRICS, M_PULL_LOW, M_PULL_HIGH, M_ALL
};

static const struct {
  unsigned family;
  const char *name; /* seq_rep gets its n */
  int higher_is_worse;
} metric_def[M_ALL] = {
    [M_SEQ_REP] = {IVS_PROBE_REPETITION, "seq_rep", 1},
    [M_LOOP] = {IVS_PROBE_REPETITION, "loop", 1},
    [M_DIST1] = {IVS_PROBE_DISTINCT, "distinct_1", 0},
    [M_DIST2] = {IVS_PROBE_DISTINCT, "distinct_2", 0},
    [M_DIST3] = {IVS_PROBE_DISTINCT, "distinct_3", 0},
    [M_COMPRESSION] = {IVS_PROBE_COMPRESSION, "compression", 0},
    [M_TOKENS] = {IVS_PROBE_LENGTH, "tokens", 1},
    [M_AT_LIMIT] = {IVS_PROBE_LENGTH, "stopped_at_limit", 1},
    [M_SPAM] = {IVS_PROBE_SPAM, "spam_score", 1},
    [M_MATCH] = {IVS_PROBE_MATCH, "match_per_100_tokens", 1},
    [M_NUMBER_MISSING] = {IVS_PROBE_NUMBER, "number_missing", 1},
    [M_ANCHOR] = {IVS_PROBE_NUMBER, "anchoring_effect", 1},
    [M_PULL_LOW] = {IVS_PROBE_NUMBER, "pull_low", 1},
    [M_PULL_HIGH] = {IVS_PROBE_NUMBER, "pull_high", 1},
};

_Static_assert(M_ALL == IVS_PROBE_N_METRICS, "the run state holds every metric");

/* ---- checks ---- */

static int check_opts(const ivs_probe_opts *o) {
  if (!o->prompts_path || !o->out_dir) return ivs_error_set(IVS_EUSAGE, "a probe needs a prompt set and an output folder");
  if (!o->metrics || (o->metrics & ~(unsigned)((1u << N_FAMILIES) - 1)))
    return ivs_error_set(IVS_EUSAGE, "no metric asked for (--metric)");
  if ((o->metrics & IVS_PROBE_MATCH) && !o->match_path)
    return ivs_error_set(IVS_EUSAGE, "the match metric needs a pattern file (match:FILE)");
  if (o->seq_rep_n < 1 || o->seq_rep_n > 16) return ivs_error_set(IVS_EUSAGE, "seq-rep n from 1 to 16, got %zu", o->seq_rep_n);
  if (o->samples < 1 || o->samples > IVS_PROBE_MAX_SAMPLES)
    return ivs_error_set(IVS_EUSAGE, "--samples: from 1 to %d, got %zu", IVS_PROBE_MAX_SAMPLES, o->samples);
  if (o->max_new_tokens < 1 || o->max_new_tokens > IVS_PROBE_MAX_NEW_TOKENS)
    return ivs_error_set(IVS_EUSAGE, "--max-new-tokens: from 1 to %d, got %zu", IVS_PROBE_MAX_NEW_TOKENS, o->max_new_tokens);
  if (!o->greedy) {
    if (!(o->temperature > 0) || !isfinite(o->temperature))
      return ivs_error_set(IVS_EUSAGE, "--temperature: above 0 when sampling (for the most likely token, --greedy), got %g",
                           o->temperature);
    if (!(o->top_p > 0 && o->top_p <= 1)) return ivs_error_set(IVS_EUSAGE, "--top-p: in (0, 1], got %g", o->top_p);
  }
  if (o->n_stop > IVS_PROBE_MAX_STOPS) return ivs_error_set(IVS_EUSAGE, "at most %d stop strings", IVS_PROBE_MAX_STOPS);
  for (size_t k = 0; k < o->n_stop; k++)
    if (!o->stop || !o->stop[k] || !*o->stop[k]) return ivs_error_set(IVS_EUSAGE, "--stop: an empty stop string");
  if (o->n_boot < 10 || o->n_boot > 1000000)
    return ivs_error_set(IVS_EUSAGE, "a number of resamples from 10 to 1000000, got %zu", o->n_boot);
  int rc = ivs_backend_models_check(o->models, o->n_models);
  if (rc) return rc;
  for (size_t m = 0; m < o->n_models; m++) {
    const ivs_eval_model *md = &o->models[m];
    const char *arg;
    const ivs_backend *be = ivs_backend_find(md->backend, &arg);
    if (!(be->caps & IVS_BACKEND_GENERATE) || !be->generate)
      return ivs_error_set(IVS_EUSAGE, "model '%s': the %.*s backend does not generate text (probes need openai:, native: or fake:)",
                           md->name, (int)(strlen(be->prefix) - 1), be->prefix);
  }
  return 0;
}

/* Groups: every group has a control, a low and a high prompt. */
static int check_groups(const ivs_probe_prompts *p, const char *path, size_t *n_groups, size_t **group_of) {
  *n_groups = 0, *group_of = NULL;
  if (!p->has_group) return 0;
  size_t *g = malloc(p->n * sizeof *g), *first = malloc(p->n * sizeof *first);
  unsigned *roles = calloc(p->n, sizeof *roles);
  if (!g || !first || !roles) {
    free(g), free(first), free(roles);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  /* groups numbered by first appearance (a hash of the name, confirmed) */
  size_t cap = 16;
  while (cap < p->n * 2) cap *= 2;
  size_t *slot = malloc(cap * sizeof *slot);
  if (!slot) {
    free(g), free(first), free(roles);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  for (size_t j = 0; j < cap; j++) slot[j] = (size_t)-1;
  size_t G = 0;
  for (size_t i = 0; i < p->n; i++) {
    if (!p->group[i]) {
      g[i] = (size_t)-1;
      continue;
    }
    size_t j = (size_t)ivs_hash_bytes(7, p->group[i], strlen(p->group[i])) & (cap - 1);
    while (slot[j] != (size_t)-1 && strcmp(p->group[first[slot[j]]], p->group[i])) j = (j + 1) & (cap - 1);
    if (slot[j] == (size_t)-1) slot[j] = G, first[G] = i, G++;
    g[i] = slot[j];
    roles[g[i]] |= 1u << p->role[i];
  }
  free(slot);
  int rc = 0;
  if (p->has_role)
    for (size_t k = 0; k < G && !rc; k++) {
      static const ivs_probe_role need[3] = {IVS_PROBE_ROLE_CONTROL, IVS_PROBE_ROLE_LOW, IVS_PROBE_ROLE_HIGH};
      for (int r = 0; r < 3 && !rc; r++)
        if (!(roles[k] & (1u << need[r])))
          rc = ivs_error_set(IVS_EINVAL, "%s:%zu: group '%.60s' has no '%s' prompt: the anchoring probe needs a control, a "
                                         "low and a high prompt in every group",
                             path, p->line[first[k]], p->group[first[k]], ivs_probe_role_name(need[r]));
      if (!rc && (roles[k] & 1u))
        rc = ivs_error_set(IVS_EINVAL, "%s:%zu: group '%.60s' has a prompt without a role", path, p->line[first[k]],
                           p->group[first[k]]);
    }
  free(first), free(roles);
  if (rc) {
    free(g);
    return rc;
  }
  *n_groups = G, *group_of = g;
  return 0;
}

/* ---- one model ---- */

static void emit(const ivs_probe_opts *o, ivs_eval_event_kind kind, const char *subject, unsigned long long done,
                 unsigned long long total, const char *text) {
  if (!o->progress) return;
  ivs_eval_event ev = {kind, subject ? subject : "", done, total, text ? text : ""};
  o->progress(&ev, o->progress_ud);
}

/* The units repetition and distinct-n count over, and which they are. */
static int units_of(const ivs_generation *g, uint64_t **u, size_t *n, int *kind) {
  if (g->ids) {
    *kind = IVS_PROBE_UNITS_IDS;
    if (!(*u = malloc((g->n_ids ? g->n_ids : 1) * sizeof **u))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t k = 0; k < g->n_ids; k++) (*u)[k] = (uint64_t)(uint32_t)g->ids[k];
    *n = g->n_ids;
    return 0;
  }
  if (g->token_texts) {
    *kind = IVS_PROBE_UNITS_TEXTS;
    if (!(*u = malloc((g->n_token_texts ? g->n_token_texts : 1) * sizeof **u)))
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t k = 0; k < g->n_token_texts; k++)
      (*u)[k] = ivs_probe_text_unit(g->token_texts[k], strlen(g->token_texts[k]));
    *n = g->n_token_texts;
    return 0;
  }
  *kind = IVS_PROBE_UNITS_WORDS;
  return ivs_probe_word_units(g->text, strlen(g->text), u, n);
}

static double mean_of(const double *v, size_t n) {
  double s = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) s += v[i], k++;
  return k ? s / (double)k : NAN;
}

/* The metrics of one generation. */
static int measure(ivs_probe_run_state *st, const ivs_generation *g, ivs_probe_gen *pm) {
  const ivs_probe_opts *o = st->o;
  uint64_t *u = NULL;
  size_t nu = 0;
  int kind, rc = units_of(g, &u, &nu, &kind);
  if (rc) return rc;
  if (kind > st->units_kind) st->units_kind = kind;
  size_t len = strlen(g->text);
  pm->tokens = g->n_tokens ? g->n_tokens : nu;
  pm->stop = g->stop;
  pm->seq_rep = pm->compression = pm->number = pm->match_rate = pm->spam = NAN;
  for (int k = 0; k < 3; k++) pm->distinct[k] = NAN;
  if (o->metrics & IVS_PROBE_REPETITION) {
    pm->seq_rep = ivs_probe_seq_rep(u, nu, o->seq_rep_n);
    if (ivs_probe_metrics_failed()) rc = IVS_ENOMEM;
    ivs_probe_loop_find(u, nu, IVS_PROBE_LOOP_MAX_PERIOD, IVS_PROBE_LOOP_MIN_REPEATS, &pm->loop);
  }
  for (int k = 0; k < 3 && !rc && (o->metrics & IVS_PROBE_DISTINCT); k++) {
    pm->distinct[k] = ivs_probe_distinct(u, nu, (size_t)k + 1);
    if (ivs_probe_metrics_failed()) rc = IVS_ENOMEM;
  }
  if (!rc && (o->metrics & IVS_PROBE_DISTINCT)) pm->units = u, pm->n_units = nu, u = NULL;
  free(u);
  if (!rc && (o->metrics & IVS_PROBE_COMPRESSION)) rc = ivs_probe_compression(g->text, len, &pm->compression);
  if (!rc && (o->metrics & IVS_PROBE_NUMBER)) pm->has_number = ivs_probe_number(g->text, len, &pm->number);
  if (!rc && (o->metrics & IVS_PROBE_MATCH)) {
    rc = ivs_probe_patterns_match(st->patterns, g->text, len, pm->match);
    size_t total = 0;
    for (size_t k = 0; k < st->n_patterns; k++) total += pm->match[k];
    pm->match_rate = pm->tokens ? 100.0 * (double)total / (double)pm->tokens : NAN;
  }
  return rc; /* spam: spam_scores, afterwards */
}

/* ---- spam: two checks in flight (spamd runs two children) ---- */

#define SPAM_WORKERS 2

typedef struct {
  ivs_spamd *spamd;
  const ivs_generation *g;
  ivs_probe_gen *pg;
  size_t n;
  atomic_size_t next, done;
  atomic_int stop;
  int rc;
  char err[1024];
} spam_pool;

/* One worker's share: 1 when it stopped for an error (kept in the pool by
 * the first to fail). */
static int spam_some(spam_pool *p, int one) {
  size_t k;
  while (!atomic_load(&p->stop) && (k = atomic_fetch_add(&p->next, 1)) < p->n) {
    int rc = ivs_spamd_check(p->spamd, p->g[k].text, strlen(p->g[k].text), &p->pg[k].spam, &p->pg[k].rules);
    if (rc) {
      if (!atomic_exchange(&p->stop, 1)) p->rc = rc, snprintf(p->err, sizeof p->err, "%s", ivs_error_message());
      return 1;
    }
    atomic_fetch_add(&p->done, 1);
    if (one) return 0;
  }
  return 0;
}

static void *spam_worker(void *arg) {
  spam_some(arg, 0);
  return NULL;
}

static int spam_scores(ivs_probe_run_state *st, const ivs_generation *g, ivs_probe_gen *pg, size_t n, const char *subject) {
  spam_pool p = {.spamd = st->spamd, .g = g, .pg = pg, .n = n};
  atomic_init(&p.next, 0), atomic_init(&p.done, 0), atomic_init(&p.stop, 0);
  pthread_t th[SPAM_WORKERS - 1];
  int started[SPAM_WORKERS - 1] = {0};
  for (int t = 0; t < SPAM_WORKERS - 1; t++) started[t] = pthread_create(&th[t], NULL, spam_worker, &p) == 0;
  /* this thread checks too, and reports the progress of all */
  while (atomic_load(&p.next) < n && !atomic_load(&p.stop)) {
    spam_some(&p, 1);
    emit(st->o, IVS_EVAL_EVENT_REQUESTS, subject, atomic_load(&p.done), n, NULL);
  }
  for (int t = 0; t < SPAM_WORKERS - 1; t++)
    if (started[t]) pthread_join(th[t], NULL);
  emit(st->o, IVS_EVAL_EVENT_REQUESTS, subject, atomic_load(&p.done), n, NULL);
  emit(st->o, IVS_EVAL_EVENT_STEP_END, subject, 0, 0, NULL);
  return p.rc ? ivs_error_set(p.rc, "%s", p.err) : 0;
}

/* The per-prompt values of model column m from its generations. */
static int prompt_values(ivs_probe_run_state *st, size_t m, const ivs_probe_gen *pg) {
  size_t S = st->o->samples, N = st->prompts.n;
  double v[IVS_PROBE_MAX_SAMPLES];
  for (size_t i = 0; i < N; i++) {
    const ivs_probe_gen *g = pg + i * S;
#define COLUMN(metric, expr)                                                                                          \
  do {                                                                                                                \
    if (!st->values[metric]) break; /* not asked for */                                                               \
    for (size_t s = 0; s < S; s++) v[s] = (expr);                                                                     \
    st->values[metric][m * N + i] = mean_of(v, S);                                                                    \
  } while (0)
    COLUMN(M_SEQ_REP, g[s].seq_rep);
    COLUMN(M_LOOP, (double)g[s].loop.found);
    COLUMN(M_DIST1, g[s].distinct[0]);
    COLUMN(M_DIST2, g[s].distinct[1]);
    COLUMN(M_DIST3, g[s].distinct[2]);
    COLUMN(M_COMPRESSION, g[s].compression);
    COLUMN(M_TOKENS, (double)g[s].tokens);
    COLUMN(M_AT_LIMIT, g[s].stop == IVS_GEN_LENGTH ? 1.0 : 0.0);
    COLUMN(M_SPAM, g[s].spam);
    COLUMN(M_MATCH, g[s].match_rate);
    COLUMN(M_NUMBER_MISSING, g[s].has_number ? 0.0 : 1.0);
#undef COLUMN
  }
  if (!st->n_groups || !st->prompts.has_role || !st->values[M_ANCHOR]) return 0;
  /* anchoring: per group, the mean number under each role over every sample of its prompts */
  size_t G = st->n_groups;
  double *sum = calloc(G * 4, sizeof *sum), *cnt = calloc(G * 4, sizeof *cnt);
  if (!sum || !cnt) {
    free(sum), free(cnt);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < N; i++) {
    size_t gi = st->group_of[i];
    if (gi == (size_t)-1) continue;
    for (size_t s = 0; s < S; s++)
      if (pg[i * S + s].has_number) sum[gi * 4 + st->prompts.role[i]] += pg[i * S + s].number, cnt[gi * 4 + st->prompts.role[i]]++;
  }
  for (size_t k = 0; k < G; k++) {
    double e = NAN, pl = NAN, ph = NAN;
    if (cnt[k * 4 + 1] > 0 && cnt[k * 4 + 2] > 0 && cnt[k * 4 + 3] > 0 &&
        ivs_probe_anchoring(sum[k * 4 + 1] / cnt[k * 4 + 1], sum[k * 4 + 2] / cnt[k * 4 + 2],
                            sum[k * 4 + 3] / cnt[k * 4 + 3], &e, &pl, &ph) != 0)
      e = pl = ph = NAN;
    st->values[M_ANCHOR][m * G + k] = e;
    st->values[M_PULL_LOW][m * G + k] = pl;
    st->values[M_PULL_HIGH][m * G + k] = ph;
  }
  free(sum), free(cnt);
  return 0;
}

static void release_gens(ivs_generation *g, ivs_probe_gen *pg, size_t n) {
  for (size_t k = 0; k < n; k++) {
    if (g) ivs_generation_release(&g[k]);
    if (pg) free(pg[k].rules), free(pg[k].match), free(pg[k].units);
  }
  free(g), free(pg);
}

static int run_model(ivs_probe_run_state *st, size_t m) {
  const ivs_probe_opts *o = st->o;
  ivs_probe_member *mb = &st->ms[m];
  const char *arg;
  mb->be = ivs_backend_find(o->models[m].backend, &arg);
  void *state = NULL;
  int rc = mb->be->open(mb->name, arg, &st->eo, &state);
  if (rc) return rc;
  mb->params = o->models[m].params;
  if (!(mb->params > 0) && mb->be->params) mb->params = mb->be->params(state);
  if (!(mb->params > 0)) mb->params = ivs_eval_known_params(mb->name);
  if (!(mb->params > 0)) {
    mb->be->close(state);
    return ivs_error_set(IVS_EUSAGE, "model '%s': unknown parameter count; give it with --params %s=N", mb->name, mb->name);
  }
  for (size_t k = 0; k < m; k++)
    if (st->ms[k].params == mb->params) {
      mb->be->close(state);
      return ivs_error_set(IVS_EUSAGE, "models '%s' and '%s' have the same parameter count (%g): a trend needs different sizes",
                           st->ms[k].name, mb->name, mb->params);
    }
  size_t N = st->prompts.n, S = o->samples, NS = N * S;
  ivs_generation *gens = calloc(NS, sizeof *gens);
  ivs_probe_gen *pg = calloc(NS, sizeof *pg);
  if (!gens || !pg) {
    mb->be->close(state);
    release_gens(gens, pg, 0);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  ivs_gen_params gp = {.samples = S, .max_new_tokens = o->max_new_tokens, .greedy = o->greedy,
                       .temperature = o->temperature, .top_k = o->top_k, .top_p = o->top_p, .seed = o->seed,
                       .stop = o->stop, .n_stop = o->n_stop};
  rc = mb->be->generate(state, (const char *const *)st->prompts.prompt, N, &gp, gens);
  emit(o, IVS_EVAL_EVENT_STEP_END, mb->name, 0, 0, NULL);
  mb->be->close(state);
  if (rc) {
    ivs_error_prefix("model '%s'", mb->name);
    release_gens(gens, pg, NS);
    return rc;
  }
  st->units_kind = 0;
  char subject[300];
  snprintf(subject, sizeof subject, "%s spam", mb->name);
  for (size_t k = 0; k < NS && !rc; k++) {
    if (st->n_patterns && !(pg[k].match = calloc(st->n_patterns, sizeof *pg[k].match)))
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    if (!rc) rc = measure(st, &gens[k], &pg[k]);
  }
  if (!rc && (o->metrics & IVS_PROBE_SPAM)) rc = spam_scores(st, gens, pg, NS, subject);
  mb->units_kind = st->units_kind;
  if (!rc) rc = prompt_values(st, m, pg);
  if (!rc) rc = ivs_probe_write_generations(st, m, gens, pg);
  if (!rc) rc = ivs_probe_model_details(st, m, gens, pg);
  if (rc) ivs_error_prefix("model '%s'", mb->name);
  release_gens(gens, pg, NS);
  return rc;
}

/* ---- the statistics and the trends ---- */

static void stat_of(const double *v, size_t n, ivs_probe_stat *s) {
  double sum = 0, ss = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) sum += v[i], k++;
  s->n = k, s->missing = n - k;
  if (!k) {
    s->mean = s->sem = NAN;
    return;
  }
  s->mean = sum / (double)k;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) ss += (v[i] - s->mean) * (v[i] - s->mean);
  s->sem = sqrt(ss / (double)k) / sqrt((double)k); /* ddof = 0, as eval's */
}

/* Which metrics this run reports. */
static int metric_used(const ivs_probe_run_state *st, int k) {
  if (!(st->o->metrics & metric_def[k].family)) return 0;
  if (k >= M_PROMPT_METRICS) return st->n_groups > 0 && st->prompts.has_role;
  return 1;
}

/* The trends: metrics whose units with a value for every model are the same
 * go through one ivs_eval_trends call (shared resamples). */
static int trends(ivs_probe_run_state *st, ivs_probe_result *r, const int *idx, size_t K) {
  size_t M = r->n_models;
  double x[IVS_EVAL_MAX_MODELS];
  for (size_t m = 0; m < M; m++) x[m] = log10(r->params[m]);
  unsigned char **mask = calloc(K, sizeof *mask);
  int *done = calloc(K, sizeof *done), rc = 0;
  if (!mask || !done) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t a = 0; a < K && !rc; a++) {
    int k = idx[a];
    size_t U = k >= M_PROMPT_METRICS ? st->n_groups : st->prompts.n;
    if (!(mask[a] = malloc(U))) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      break;
    }
    size_t used = 0;
    for (size_t i = 0; i < U; i++) {
      int ok = 1;
      for (size_t m = 0; m < M; m++) ok &= !isnan(st->sorted[k][m * U + i]);
      mask[a][i] = (unsigned char)ok;
      used += ok;
    }
    r->metrics[a].n_units = used, r->metrics[a].n_dropped = U - used;
    if (!used) done[a] = 1; /* undefined */
  }
  for (size_t a = 0; a < K && !rc; a++) {
    if (done[a]) continue;
    int ka = idx[a];
    size_t U = ka >= M_PROMPT_METRICS ? st->n_groups : st->prompts.n, used = r->metrics[a].n_units;
    size_t members[IVS_EVAL_MAX_TRENDS], nm = 0;
    for (size_t b = a; b < K && nm < IVS_EVAL_MAX_TRENDS; b++) {
      int kb = idx[b];
      if (done[b] || (kb >= M_PROMPT_METRICS) != (ka >= M_PROMPT_METRICS) || memcmp(mask[a], mask[b], U)) continue;
      members[nm++] = b;
    }
    double *vals = malloc(nm * M * used * sizeof *vals);
    if (!vals) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      break;
    }
    ivs_eval_trend_metric tm[IVS_EVAL_MAX_TRENDS];
    ivs_eval_trend tr[IVS_EVAL_MAX_TRENDS];
    for (size_t j = 0; j < nm; j++) {
      int k = idx[members[j]];
      double *dst = vals + j * M * used;
      for (size_t m = 0; m < M; m++)
        for (size_t i = 0, c = 0; i < U; i++)
          if (mask[a][i]) dst[m * used + c++] = st->sorted[k][m * U + i];
      tm[j] = (ivs_eval_trend_metric){.values = dst, .higher_is_worse = metric_def[k].higher_is_worse};
    }
    rc = ivs_eval_trends(tr, x, M, used, tm, nm, st->o->n_boot, st->o->seed);
    free(vals);
    for (size_t j = 0; j < nm && !rc; j++) {
      ivs_probe_metric *pm = &r->metrics[members[j]];
      pm->verdict = tr[j].verdict, pm->slope = tr[j].slope, pm->lo = tr[j].lo, pm->hi = tr[j].hi;
      pm->detectable = tr[j].detectable, pm->n_boot = tr[j].n_boot;
      done[members[j]] = 1;
    }
  }
  for (size_t a = 0; mask && a < K; a++) free(mask[a]);
  free(mask), free(done);
  return rc;
}

static int fill_result(ivs_probe_run_state *st, ivs_probe_result *r) {
  size_t M = st->o->n_models, order[IVS_EVAL_MAX_MODELS];
  for (size_t m = 0; m < M; m++) order[m] = m;
  for (size_t a = 1; a < M; a++)
    for (size_t b = a; b > 0 && st->ms[order[b]].params < st->ms[order[b - 1]].params; b--) {
      size_t t = order[b];
      order[b] = order[b - 1], order[b - 1] = t;
    }
  memcpy(st->order, order, sizeof order);
  r->model_names = calloc(M, sizeof *r->model_names);
  r->params = calloc(M, sizeof *r->params);
  r->units = calloc(M, sizeof *r->units);
  if (!r->model_names || !r->params || !r->units) return ivs_error_set(IVS_ENOMEM, "out of memory");
  r->n_models = M;
  static const char *const unit_names[] = {"ids", "token_texts", "words"};
  for (size_t m = 0; m < M; m++) {
    const ivs_probe_member *mb = &st->ms[order[m]];
    if (!(r->model_names[m] = strdup(mb->name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    r->params[m] = mb->params;
    r->units[m] = unit_names[mb->units_kind];
  }
  int idx[M_ALL];
  size_t K = 0;
  for (int k = 0; k < M_ALL; k++)
    if (metric_used(st, k)) idx[K++] = k;
  if (!(r->metrics = calloc(K ? K : 1, sizeof *r->metrics))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  r->n_metrics = K;
  for (size_t a = 0; a < K; a++) {
    int k = idx[a];
    ivs_probe_metric *pm = &r->metrics[a];
    if (k == M_SEQ_REP) snprintf(pm->name, sizeof pm->name, "seq_rep_%zu", st->o->seq_rep_n);
    else snprintf(pm->name, sizeof pm->name, "%s", metric_def[k].name);
    pm->family = metric_def[k].family;
    pm->higher_is_worse = metric_def[k].higher_is_worse;
    pm->over_groups = k >= M_PROMPT_METRICS;
    pm->verdict = IVS_VERDICT_UNDEFINED;
    pm->slope = pm->lo = pm->hi = pm->detectable = NAN;
    size_t U = pm->over_groups ? st->n_groups : st->prompts.n;
    /* the values in size order */
    if (!(st->sorted[k] = malloc(M * U * sizeof(double))) || !(pm->models = calloc(M, sizeof *pm->models)))
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    for (size_t m = 0; m < M; m++) {
      memcpy(st->sorted[k] + m * U, st->values[k] + order[m] * U, U * sizeof(double));
      stat_of(st->sorted[k] + m * U, U, &pm->models[m]);
    }
  }
  int rc = trends(st, r, idx, K);
  for (size_t a = 0; a < K; a++) r->n_verdicts += r->metrics[a].verdict != IVS_VERDICT_UNDEFINED;
  return rc;
}

void ivs_probe_result_release(ivs_probe_result *r) {
  if (!r) return;
  for (size_t m = 0; r->model_names && m < r->n_models; m++) free(r->model_names[m]);
  free(r->model_names), free(r->params), free((void *)r->units);
  for (size_t k = 0; r->metrics && k < r->n_metrics; k++) free(r->metrics[k].models);
  free(r->metrics);
  memset(r, 0, sizeof *r);
}

int ivs_probe_run(const ivs_probe_opts *opts, ivs_probe_result *out) {
  if (!out) return ivs_error_set(IVS_EUSAGE, "ivs_probe_run: no result to fill");
  memset(out, 0, sizeof *out);
  if (!opts) return ivs_error_set(IVS_EUSAGE, "ivs_probe_run: no options");
  int rc = check_opts(opts);
  if (rc) return rc;
  ivs_probe_run_state st;
  memset(&st, 0, sizeof st);
  st.o = opts;
  st.eo = opts->backend;
  st.eo.progress = opts->progress, st.eo.progress_ud = opts->progress_ud;
  st.eo.out_dir = opts->out_dir;
  char cache_default[4200];
  if (mkdir(opts->out_dir, 0777) != 0 && errno != EEXIST)
    return ivs_error_set(IVS_EIO, "%s: cannot create: %s", opts->out_dir, strerror(errno));
  if (!st.eo.cache_dir) {
    snprintf(cache_default, sizeof cache_default, "%s/cache", opts->out_dir);
    st.eo.cache_dir = cache_default;
  }
  size_t M = opts->n_models;
  if ((rc = ivs_probe_prompts_read(opts->prompts_path, &st.prompts))) goto done;
  if ((rc = check_groups(&st.prompts, opts->prompts_path, &st.n_groups, &st.group_of))) goto done;
  if ((opts->metrics & IVS_PROBE_NUMBER) && st.prompts.has_group && !st.prompts.has_role)
    emit(opts, IVS_EVAL_EVENT_WARNING, opts->prompts_path, 0, 0,
         "the prompt set has groups but no roles: no anchoring effect is computed (roles: control, low, high)");
  if (opts->metrics & IVS_PROBE_MATCH) {
    if ((rc = ivs_probe_patterns_load(opts->match_path, &st.patterns))) goto done;
    st.n_patterns = ivs_probe_patterns_count(st.patterns);
  }
  if ((opts->metrics & IVS_PROBE_SPAM) && (rc = ivs_spamd_open(opts->spamd, &st.spamd))) goto done;
  size_t N = st.prompts.n, G = st.n_groups;
  for (int k = 0; k < M_ALL; k++) {
    if (!metric_used(&st, k)) continue;
    size_t U = k >= M_PROMPT_METRICS ? G : N;
    if (!(st.values[k] = malloc(M * U * sizeof(double)))) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      goto done;
    }
  }
  for (size_t m = 0; m < M; m++) {
    st.ms[m].name = opts->models[m].name;
    if (!(st.ms[m].details = ivs_probe_details_new())) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      goto done;
    }
  }
  for (size_t m = 0; m < M && !rc; m++) rc = run_model(&st, m);
  if (rc) goto done;
  out->n_prompts = N, out->n_groups = G, out->samples = opts->samples;
  if ((rc = fill_result(&st, out))) goto done;
  rc = ivs_probe_summary_write(&st, out);
done:
  if (rc) ivs_probe_result_release(out);
  ivs_probe_files_abort(&st); /* what a failed run wrote is not kept */
  for (int k = 0; k < M_ALL; k++) free(st.values[k]), free(st.sorted[k]);
  for (size_t m = 0; m < M; m++) ivs_probe_details_free(st.ms[m].details);
  ivs_spamd_close(st.spamd);
  ivs_probe_patterns_free(st.patterns);
  ivs_probe_prompts_release(&st.prompts);
  free(st.group_of);
  return rc;
}

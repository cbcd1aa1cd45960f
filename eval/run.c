/* A run: task -> backends -> scores -> aggregation -> trend -> tables,
 * summary and plot (include/invscale/eval.h).
 *
 * Where the time goes on a million examples: reading the task and the
 * logprobs: files (done at once: the files are read ahead on a second
 * thread while the task is), scoring (two threads, a model each), writing
 * the tables (two threads formatting chunks) and the bootstrap of the trend
 * (run while the tables' files are committed, which is mostly waiting on the
 * disk). */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/json_arena.h"
#include "core/mem.h"
#include "eval/aggregate.h"
#include "eval/backend.h"
#include "eval/examples.h"
#include "eval/score.h"
#include "eval/summary.h"
#include "eval/tables.h"
#include "eval/task.h"
#include "eval/trend.h"
#include "invscale/eval.h"

/* One model of the run. */
typedef struct {
  const char *name;
  double params;
  const ivs_backend *be;
  void *state;
  double *values;            /* from the backend, laid out as eval/backend.h says */
  ivs_score *score;          /* per example */
  ivs_eval_model_result res; /* mean, sem, accuracy, coverage (res.name unused) */
  int rc;                    /* of its work on a worker thread, with the message */
  char err[1024];
} member;

const char *ivs_eval_metric_name(ivs_eval_metric m) { return m == IVS_EVAL_METRIC_ACC ? "acc" : "loss"; }

/* Models handed out one at a time to the threads working on them. */
typedef struct {
  member *ms;
  size_t M, next;
  pthread_mutex_t mu;
} model_queue;

static member *queue_take(model_queue *q) {
  pthread_mutex_lock(&q->mu);
  member *m = q->next < q->M ? &q->ms[q->next++] : NULL;
  pthread_mutex_unlock(&q->mu);
  return m;
}

typedef struct {
  model_queue q;
  ivs_task_type type; /* asked for, or AUTO */
} preload_pool;

/* Backends' work that needs no task (reading logprobs: files), while the
 * task is read. */
static void *preload_worker(void *arg) {
  preload_pool *p = arg;
  member *m;
  while ((m = queue_take(&p->q)))
    if (m->be->preload) m->be->preload(m->state, p->type);
  return NULL;
}

typedef struct {
  model_queue q;
  const ivs_eval_task *t;
  ivs_task_type type;
  int invert, acc;
} score_pool;

/* A model's values (unless a request backend gave them), its scores and
 * their aggregates. */
static int score_model(member *m, const score_pool *p) {
  const ivs_eval_task *t = p->t;
  if (!m->values && m->be->values(m->state, t, p->type, &m->values)) return ivs_error_code();
  if (!(m->score = calloc(t->n ? t->n : 1, sizeof *m->score))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_mem_hint_huge(m->score, t->n * sizeof *m->score);
  ivs_score_task(p->type, m->values, t->offsets, t->ncls, t->answer, t->n, p->invert, m->score);
  ivs_eval_aggregate(m->score, t->n, p->type, p->acc, &m->res);
  return 0;
}

/* Takes models off the pool until none is left; errors stay with the model
 * (the last error is per thread). */
static void *score_worker(void *arg) {
  score_pool *p = arg;
  member *m;
  while ((m = queue_take(&p->q)))
    if ((m->rc = score_model(m, p))) snprintf(m->err, sizeof m->err, "%s", ivs_error_message());
  return NULL;
}

typedef struct {
  const member *ms; /* sorted by size */
  size_t M, N;
  int acc;
  size_t nboot;
  uint64_t seed;
  ivs_trend tr;
  int rc;
  char err[1024];
  pthread_t th;
  int started;
} trend_job;

/* The slope of the metric against log10(params), with its bootstrap. */
static void *trend_thread(void *arg) {
  trend_job *j = arg;
  size_t N = j->N;
  double *x = malloc(j->M * sizeof *x), *met = malloc(j->M * N * sizeof *met);
  if (!x || !met) j->rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  ivs_mem_hint_huge(met, j->M * N * sizeof *met);
  for (size_t m = 0; m < j->M && !j->rc; m++) {
    x[m] = log10(j->ms[m].params);
    for (size_t i = 0; i < N; i++) met[m * N + i] = j->acc ? j->ms[m].score[i].correct : j->ms[m].score[i].loss;
  }
  if (!j->rc) j->rc = ivs_trend_fit(x, j->M, met, N, !j->acc, j->nboot, j->seed, &j->tr);
  if (j->rc) snprintf(j->err, sizeof j->err, "%s", ivs_error_message());
  free(x), free(met);
  return NULL;
}

static void trend_start(void *arg) {
  trend_job *j = arg;
  j->started = pthread_create(&j->th, NULL, trend_thread, j) == 0;
}

static void emit(const ivs_eval_opts *o, ivs_eval_event_kind kind, const char *subject, unsigned long long done,
                 unsigned long long total) {
  if (!o->progress) return;
  ivs_eval_event ev = {kind, subject, done, total, ""};
  o->progress(&ev, o->progress_ud);
}

static void warning(const ivs_eval_opts *o, const char *text) {
  if (!o->progress) return;
  ivs_eval_event ev = {IVS_EVAL_EVENT_WARNING, o->task_path, 0, 0, text};
  o->progress(&ev, o->progress_ud);
}

/* Older field names read as today's, as `invscale ingest` warns them. */
static void task_notes(const ivs_eval_opts *o, const ivs_eval_task *t) {
  char line[1200];
  for (int k = 0; k < IVS_OLD_NAMES; k++)
    if (t->ctx.old_name_rows[k]) {
      snprintf(line, sizeof line, "%s: the old field name '%s' was read as '%s' in %zu records", o->task_path,
               ivs_old_names[k].name, ivs_task_field_names[ivs_old_names[k].field], t->ctx.old_name_rows[k]);
      warning(o, line);
    }
}

static void on_read(unsigned long long done, unsigned long long total, void *ud) {
  const ivs_eval_opts *o = ud;
  emit(o, IVS_EVAL_EVENT_READ, o->task_path, done, total);
}

/* What needs no file: the options themselves. */
static int check_opts(const ivs_eval_opts *o) {
  if (!o->task_path || !o->out_dir) return ivs_error_set(IVS_EUSAGE, "a run needs a task file and an output folder");
  if (o->n_boot < 10 || o->n_boot > 1000000)
    return ivs_error_set(IVS_EUSAGE, "a number of resamples from 10 to 1000000, got %zu", o->n_boot);
  if (o->top > IVS_EVAL_MAX_TOP) return ivs_error_set(IVS_EUSAGE, "at most %d examples of each kind, got %zu", IVS_EVAL_MAX_TOP, o->top);
  if (o->metric != IVS_EVAL_METRIC_LOSS && o->metric != IVS_EVAL_METRIC_ACC)
    return ivs_error_set(IVS_EUSAGE, "unknown metric %d", (int)o->metric);
  return ivs_backend_models_check(o->models, o->n_models);
}

void ivs_eval_result_release(ivs_eval_result *r) {
  if (!r) return;
  for (size_t m = 0; m < r->n_models; m++) free(r->models[m].name);
  free(r->models);
  ivs_eval_examples_release(r);
  memset(r, 0, sizeof *r);
  r->baseline = r->slope = r->lo = r->hi = r->share_rising = r->detectable = NAN;
}

/* The result handed to the caller: models by size, names copied. */
static int fill_result(ivs_eval_result *out, const member *ms, size_t M) {
  if (!(out->models = calloc(M, sizeof *out->models))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t m = 0; m < M; m++) {
    out->models[m] = ms[m].res;
    out->models[m].params = ms[m].params;
    if (ms[m].be->describe) ms[m].be->describe(ms[m].state, &out->models[m]);
    if (!(out->models[m].name = strdup(ms[m].name))) {
      out->n_models = m;
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    }
  }
  out->n_models = M;
  return 0;
}

int ivs_eval_run(const ivs_eval_opts *opts, ivs_eval_result *out) {
  if (!out) return ivs_error_set(IVS_EUSAGE, "ivs_eval_run: no result to fill");
  memset(out, 0, sizeof *out);
  ivs_eval_result_release(out);
  if (!opts) return ivs_error_set(IVS_EUSAGE, "ivs_eval_run: no options");
  int rc = check_opts(opts);
  if (rc) return rc;
  ivs_eval_opts o = *opts; /* with the default cache folder */
  char cache_default[4200];
  if (!o.cache_dir) {
    if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST)
      return ivs_error_set(IVS_EIO, "%s: cannot create: %s", o.out_dir, strerror(errno));
    snprintf(cache_default, sizeof cache_default, "%s/cache", o.out_dir);
    o.cache_dir = cache_default;
  }
  size_t M = o.n_models;
  member ms[IVS_EVAL_MAX_MODELS];
  memset(ms, 0, sizeof ms);
  ivs_eval_task t;
  ivs_eval_task_init(&t, o.type);
  ivs_backend_req *reqs = NULL;
  size_t nreqs = 0;
  double *slope = NULL;
  for (size_t m = 0; m < M && !rc; m++) {
    const char *arg;
    ms[m].name = o.models[m].name;
    ms[m].be = ivs_backend_find(o.models[m].backend, &arg);
    if ((rc = ms[m].be->open(ms[m].name, arg, &o, &ms[m].state))) ms[m].be = NULL;
  }
  if (rc) goto done;
  /* Large blocks (the task, log-probabilities, scores) straight from mmap:
   * realloc then moves pages instead of copying them, and they get huge
   * pages (ivs_mem_hint_huge).  Setting the threshold also stops glibc from
   * raising it after a large free, which sends such blocks to the heap. */
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  ivs_json_arena_begin(); /* cJSON's allocator hooks go in before any thread parses */
  ivs_json_arena_end();
  preload_pool pre = {{ms, M, 0, PTHREAD_MUTEX_INITIALIZER}, o.type};
  pthread_t preloader;
  int preloading = pthread_create(&preloader, NULL, preload_worker, &pre) == 0;
  rc = ivs_eval_task_read(&t, o.task_path, on_read, &o);
  emit(&o, IVS_EVAL_EVENT_STEP_END, o.task_path, 0, 0);
  preload_worker(&pre); /* help with what is left, then wait */
  if (preloading) pthread_join(preloader, NULL);
  if (rc) goto done;
  task_notes(&o, &t);
  ivs_task_type type = t.ctx.type;
  int acc = o.metric == IVS_EVAL_METRIC_ACC;
  if (acc && type == IVS_TYPE_SEQUENCE_PROB) {
    rc = ivs_error_set(IVS_EUSAGE, "sequence_prob tasks have no accuracy; use --metric loss");
    goto done;
  }
  for (size_t m = 0; m < M; m++) {
    ms[m].params = o.models[m].params;
    if (!(ms[m].params > 0) && ms[m].be->params) ms[m].params = ms[m].be->params(ms[m].state);
    if (!(ms[m].params > 0)) ms[m].params = ivs_eval_known_params(ms[m].name);
    if (!(ms[m].params > 0)) {
      rc = ivs_error_set(IVS_EUSAGE, "model '%s': unknown parameter count; give it with --params %s=N", ms[m].name,
                         ms[m].name);
      goto done;
    }
  }
  /* backends that score requests first, one after the other (a server runs
   * its requests concurrently), then reading files and scoring on two
   * threads */
  for (size_t m = 0; m < M; m++) {
    if (ms[m].be->values) continue;
    if (!reqs && (rc = ivs_backend_requests(&t, type, &reqs, &nreqs))) goto done;
    if (!(ms[m].values = calloc(nreqs ? nreqs : 1, sizeof *ms[m].values))) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      goto done;
    }
    if ((rc = ms[m].be->score(ms[m].state, reqs, nreqs, ms[m].values))) goto done;
  }
  score_pool pool = {{ms, M, 0, PTHREAD_MUTEX_INITIALIZER}, &t, type, o.invert, acc};
  pthread_t helper;
  int helped = M > 1 && pthread_create(&helper, NULL, score_worker, &pool) == 0;
  score_worker(&pool);
  if (helped) pthread_join(helper, NULL);
  for (size_t m = 0; m < M; m++)
    if (ms[m].rc) {
      rc = ivs_error_set(ms[m].rc, "%s", ms[m].err);
      goto done;
    }
  /* models by size */
  for (size_t a = 1; a < M; a++)
    for (size_t b = a; b > 0 && ms[b].params < ms[b - 1].params; b--) {
      member tmp = ms[b];
      ms[b] = ms[b - 1];
      ms[b - 1] = tmp;
    }
  out->type = type, out->n_examples = t.n;
  out->baseline = ivs_eval_baseline(t.ncls, t.n, type, acc);
  for (size_t m = 1; m < M; m++)
    if (ms[m].params == ms[m - 1].params) {
      rc = ivs_error_set(IVS_EUSAGE, "models '%s' and '%s' have the same parameter count (%g): a trend needs different sizes",
                         ms[m - 1].name, ms[m].name, ms[m].params);
      goto done;
    }
  if ((rc = fill_result(out, ms, M))) goto done;
  const ivs_score *scores[IVS_EVAL_MAX_MODELS];
  const char *names[IVS_EVAL_MAX_MODELS];
  double x[IVS_EVAL_MAX_MODELS];
  for (size_t m = 0; m < M; m++) scores[m] = ms[m].score, names[m] = ms[m].name, x[m] = log10(ms[m].params);
  if (!(slope = malloc(t.n * sizeof *slope))) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  int undefined = ivs_eval_why_undefined(out->models, scores, M, t.n, ivs_eval_metric_name(o.metric), o.invert,
                                         out->why, sizeof out->why);
  /* the trend (a bootstrap) computed while the tables' files are committed */
  trend_job tj;
  memset(&tj, 0, sizeof tj);
  tj.ms = ms, tj.M = M, tj.N = t.n, tj.acc = acc, tj.nboot = o.n_boot, tj.seed = o.seed;
  if (mkdir(o.out_dir, 0777) != 0 && errno != EEXIST)
    rc = ivs_error_set(IVS_EIO, "%s: cannot create: %s", o.out_dir, strerror(errno));
  else rc = ivs_eval_tables_write(o.out_dir, &t, type, names, scores, x, M, acc, slope, undefined ? NULL : trend_start, &tj);
  if (tj.started) pthread_join(tj.th, NULL);
  else if (!rc && !undefined) trend_thread(&tj);
  if (rc) goto done;
  if (tj.rc) {
    rc = ivs_error_set(tj.rc, "%s", tj.err);
    goto done;
  }
  if (undefined) out->verdict = IVS_VERDICT_UNDEFINED, out->slope = out->lo = out->hi = NAN, out->n_boot = 0;
  else out->verdict = tj.tr.verdict, out->slope = tj.tr.slope, out->lo = tj.tr.lo, out->hi = tj.tr.hi, out->n_boot = tj.tr.n_boot;
  out->detectable = undefined ? NAN : tj.tr.detectable, out->n_verdicts = undefined ? 0 : tj.tr.n_tested;
  if ((rc = ivs_eval_examples_pick(slope, &t, o.top, out))) goto done;
  rc = ivs_eval_summary_write(o.out_dir, out, o.metric, o.invert, o.task_path);
done:
  for (size_t m = 0; m < M; m++) {
    free(ms[m].values), free(ms[m].score);
    if (ms[m].be) ms[m].be->close(ms[m].state);
  }
  free(reqs), free(slope);
  ivs_eval_task_release(&t);
  return rc;
}

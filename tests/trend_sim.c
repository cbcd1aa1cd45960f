/* The trend test's calibration and power, by simulation (docs/trend.md).
 *
 *   trend_sim [--sims N] [--boot B] [--seed S] [--threads T]   the study
 *   trend_sim --check                                          the suite's test
 *
 * Families as the Inverse Scaling Prize's tasks look: every example has its
 * own difficulty shared by all models (the paired design) and each model its
 * own noise, with real families' sizes (2, 3, 4, 5 and 8 models).
 *   - flat: classification with 2 to 4 classes; example i's class logits
 *     u_ik (its answer's raised by a difficulty d_i ~ N(0.5, 1.5)), model
 *     m's logits u_ik + 0.8 e_mik, e ~ N(0, 1): the loss -log softmax[answer]
 *     (skewed, as real losses) and the correctness of the argmax.  No
 *     model's size enters: every non-flat verdict is a false claim.
 *   - linear, slope b per decade: the flat losses + b (x_m - mean x); the
 *     accuracy correct ~ Bernoulli(p_i + b (x_m - mean x)), p_i ~ U(0.25,
 *     0.75) (b small enough to stay in [0.01, 0.99]).  Exactly linear: every
 *     u-shaped or inverted-u verdict is a false claim.
 *   - power: linear families at the slope the flat families' own data say
 *     is detected 80% of the time (the mean of ivs_eval_result.detectable
 *     over the same settings without slope); the share found is the power.
 *
 * --check runs a few settings with 400 simulations each and fails when a
 * share leaves the interval that a test at its level stays in with
 * probability 0.999 (binomial tails, split over all the checks). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/hash.h"
#include "eval/trend.h"
#include "invscale/eval.h"

/* ---- families ---- */

typedef struct {
  const char *label;
  size_t M;
  const char *names[8];
} ladder;

static const ladder ladders[] = {
    {"gpt2, gpt2-xl", 2, {"gpt2", "gpt2-xl"}},
    {"gpt-neo 125M-2.7B", 3, {"gpt-neo-125M", "gpt-neo-1.3B", "gpt-neo-2.7B"}},
    {"ada-davinci", 4, {"ada", "babbage", "curie", "davinci"}},
    {"Qwen2.5 0.5B-14B", 5, {"Qwen2.5-0.5B", "Qwen2.5-1.5B", "Qwen2.5-3B", "Qwen2.5-7B", "Qwen2.5-14B"}},
    {"pythia 70m-12b", 8,
     {"pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b", "pythia-6.9b", "pythia-12b"}},
};

static const ladder *ladder_of(size_t M) {
  for (size_t k = 0; k < sizeof ladders / sizeof *ladders; k++)
    if (ladders[k].M == M) return &ladders[k];
  return NULL;
}

typedef enum { LOSS, ACC, SKEWED } metric_kind;

typedef struct {
  size_t M, N;
  metric_kind metric;
  double slope; /* per decade, in the worse direction (loss up, accuracy down); 0: flat */
} setting;

static double uniform(uint64_t *s) { return (double)(ivs_splitmix(s) >> 11) * 0x1.0p-53; }

static double normal(uint64_t *s) { /* Box-Muller, one of the pair */
  double u = uniform(s), v = uniform(s);
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* One family's metric: M rows of N values into y (x: log10 params). */
static void simulate(const setting *st, const double *x, uint64_t seed, double *y) {
  size_t M = st->M, N = st->N;
  double mx = 0;
  for (size_t m = 0; m < M; m++) mx += x[m] / (double)M;
  uint64_t s = seed;
  for (size_t i = 0; i < N; i++) {
    if (st->metric == SKEWED) { /* flat in the mean, the largest model's noise skewed */
      double d = 3 * normal(&s);
      for (size_t m = 0; m < M; m++) y[m * N + i] = d + (m + 1 == M ? 5 * (-log1p(-uniform(&s)) - 1) : normal(&s));
      continue;
    }
    if (st->metric == ACC && st->slope != 0) {
      double p = 0.25 + 0.5 * uniform(&s);
      for (size_t m = 0; m < M; m++) y[m * N + i] = uniform(&s) < p - st->slope * (x[m] - mx) ? 1 : 0;
      continue;
    }
    size_t K = 2 + (size_t)(uniform(&s) * 3), ans = (size_t)(uniform(&s) * (double)K);
    double u[4];
    for (size_t k = 0; k < K; k++) u[k] = normal(&s);
    u[ans] += 0.5 + 1.5 * normal(&s);
    for (size_t m = 0; m < M; m++) {
      double l[4], top = -INFINITY, lse = 0;
      size_t arg = 0;
      for (size_t k = 0; k < K; k++) {
        l[k] = u[k] + 0.8 * normal(&s);
        if (l[k] > top) top = l[k], arg = k;
      }
      for (size_t k = 0; k < K; k++) lse += exp(l[k] - top);
      double loss = top + log(lse) - l[ans];
      y[m * N + i] = st->metric == ACC ? (arg == ans) : loss + st->slope * (x[m] - mx);
    }
  }
}

/* ---- running settings ---- */

typedef struct {
  size_t inverse, positive, shape, sims;
  double detectable; /* mean, over the runs where it is finite */
  size_t n_detectable;
} tally;

typedef struct {
  const setting *st;
  const double *x;
  size_t sims, boot, next;
  uint64_t seed;
  pthread_mutex_t mu;
  tally t;
  int rc;
} work;

static void *worker(void *arg) {
  work *w = arg;
  size_t M = w->st->M, N = w->st->N;
  double *y = malloc(M * N * sizeof *y);
  tally t = {0};
  for (;;) {
    pthread_mutex_lock(&w->mu);
    size_t k = w->next < w->sims ? w->next++ : SIZE_MAX;
    pthread_mutex_unlock(&w->mu);
    if (k == SIZE_MAX || !y) break;
    uint64_t h = ivs_hash_mix(ivs_hash_mix(ivs_hash_mix(w->seed, M * 1000003 + N), (uint64_t)w->st->metric),
                              ivs_hash_mix(k, (uint64_t)llround(w->st->slope * 1e9)));
    simulate(w->st, w->x, h, y);
    ivs_trend tr;
    if (ivs_trend_fit(w->x, M, y, N, w->st->metric != ACC, w->boot, h ^ 0x5bd1e995, &tr)) {
      pthread_mutex_lock(&w->mu);
      w->rc = 1;
      pthread_mutex_unlock(&w->mu);
      break;
    }
    t.sims++;
    t.inverse += tr.verdict == IVS_VERDICT_INVERSE, t.positive += tr.verdict == IVS_VERDICT_POSITIVE;
    t.shape += tr.verdict == IVS_VERDICT_U_SHAPED || tr.verdict == IVS_VERDICT_INVERTED_U;
    if (isfinite(tr.detectable)) t.detectable += tr.detectable, t.n_detectable++;
  }
  pthread_mutex_lock(&w->mu);
  w->t.sims += t.sims, w->t.inverse += t.inverse, w->t.positive += t.positive, w->t.shape += t.shape;
  w->t.detectable += t.detectable, w->t.n_detectable += t.n_detectable;
  if (!y) w->rc = 1;
  pthread_mutex_unlock(&w->mu);
  free(y);
  return NULL;
}

static int run_setting(const setting *st, size_t sims, size_t boot, uint64_t seed, int threads, tally *out) {
  const ladder *ld = ladder_of(st->M);
  double x[8];
  for (size_t m = 0; m < st->M; m++) x[m] = log10(ivs_eval_known_params(ld->names[m]));
  work w = {st, x, sims, boot, 0, seed, PTHREAD_MUTEX_INITIALIZER, {0}, 0};
  pthread_t th[16];
  int n = 0;
  for (int k = 1; k < threads && k < 16; k++)
    if (pthread_create(&th[n], NULL, worker, &w) == 0) n++;
  worker(&w);
  for (int k = 0; k < n; k++) pthread_join(th[k], NULL);
  if (w.rc) fprintf(stderr, "trend_sim: %s\n", ivs_error_message());
  *out = w.t;
  if (out->n_detectable) out->detectable /= (double)out->n_detectable;
  return w.rc;
}

static double pct(size_t k, size_t n) { return n ? 100.0 * (double)k / (double)n : NAN; }

static const char *metric_name(metric_kind k) { return k == LOSS ? "loss" : k == ACC ? "accuracy" : "skewed"; }

/* The slope at which a setting's own data state 80% power: the mean
 * detectable slope over flat families of its design (for accuracy, the
 * Bernoulli design of the linear families, at a slope of 0+). */
static int detectable_of(const setting *st, size_t sims, size_t boot, uint64_t seed, int threads, double *out) {
  setting flat = *st;
  flat.slope = st->metric == ACC ? 1e-300 : 0; /* the Bernoulli design, without a slope to speak of */
  tally t;
  if (run_setting(&flat, sims, boot, seed ^ 0xdeadbeef, threads, &t)) return 1;
  *out = t.detectable;
  return 0;
}

/* ---- binomial bounds for --check ---- */

static double binom_logpmf(size_t k, size_t n, double p) {
  return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) + (double)k * log(p) +
         (double)(n - k) * log1p(-p);
}

/* The smallest lo and largest hi with P(X < lo) <= e and P(X > hi) <= e. */
static void binom_bounds(size_t n, double p, double e, size_t *lo, size_t *hi) {
  double c = 0;
  *lo = 0;
  for (size_t k = 0; k <= n; k++) {
    double next = c + exp(binom_logpmf(k, n, p));
    if (next > e) break;
    c = next, *lo = k + 1;
  }
  c = 0, *hi = n;
  for (size_t k = n + 1; k-- > 0;) {
    double next = c + exp(binom_logpmf(k, n, p));
    if (next > e) break;
    c = next, *hi = k - 1;
  }
}

typedef struct {
  const char *what;
  size_t count, n;
  double p;
  int two_sided;
} check;

static int check_mode(int threads) {
  enum { SIMS = 400, BOOT = 399 }; /* (BOOT + 1) x 2.5% = 10: the bootstrap's own tails exact */
  const uint64_t seed = 20240601;
  setting flats[] = {{2, 100, ACC, 0}, {4, 300, LOSS, 0}, {5, 300, ACC, 0}, {8, 300, LOSS, 0}};
  setting lines[] = {{3, 300, LOSS, 0.3}, {8, 300, ACC, 0.05}};
  check cs[32];
  size_t nc = 0, inv_all = 0, pos_all = 0, n_all = 0;
  char labels[32][160];
  clock_t t0 = clock();
  for (size_t k = 0; k < sizeof flats / sizeof *flats; k++) {
    tally t;
    if (run_setting(&flats[k], SIMS, BOOT, seed, threads, &t)) return 1;
    snprintf(labels[nc], sizeof labels[nc], "flat %zu sizes, %zu examples, %s: inverse", flats[k].M, flats[k].N,
             metric_name(flats[k].metric));
    cs[nc] = (check){labels[nc], t.inverse, t.sims, 0.025, 1}, nc++;
    snprintf(labels[nc], sizeof labels[nc], "flat %zu sizes, %zu examples, %s: positive", flats[k].M, flats[k].N,
             metric_name(flats[k].metric));
    cs[nc] = (check){labels[nc], t.positive, t.sims, 0.025, 1}, nc++;
    snprintf(labels[nc], sizeof labels[nc], "flat %zu sizes, %zu examples, %s: shapes", flats[k].M, flats[k].N,
             metric_name(flats[k].metric));
    if (flats[k].M >= 3) cs[nc] = (check){labels[nc], t.shape, t.sims, 0.01, 0}, nc++;
    inv_all += t.inverse, pos_all += t.positive, n_all += t.sims;
  }
  cs[nc++] = (check){"flat, all settings: inverse", inv_all, n_all, 0.025, 1};
  cs[nc++] = (check){"flat, all settings: positive", pos_all, n_all, 0.025, 1};
  for (size_t k = 0; k < sizeof lines / sizeof *lines; k++) {
    tally t;
    if (run_setting(&lines[k], SIMS, BOOT, seed, threads, &t)) return 1;
    snprintf(labels[nc], sizeof labels[nc], "linear %zu sizes, %zu examples, %s, slope %g: shapes", lines[k].M,
             lines[k].N, metric_name(lines[k].metric), lines[k].slope);
    cs[nc] = (check){labels[nc], t.shape, t.sims, 0.01, 0}, nc++;
  }
  /* the power: at its own detectable slope a family is found 80% of the time */
  setting pw = {4, 300, LOSS, 0};
  double delta;
  if (detectable_of(&pw, SIMS, BOOT, seed, threads, &delta)) return 1;
  pw.slope = delta;
  tally t;
  if (run_setting(&pw, SIMS, BOOT, seed, threads, &t)) return 1;
  snprintf(labels[nc], sizeof labels[nc], "power, 4 sizes, 300 examples, loss, slope %.4f: found", delta);
  cs[nc] = (check){labels[nc], t.inverse, t.sims, IVS_EVAL_TREND_POWER, 1}, nc++;
  /* a correct test passes every check with probability >= 0.999 (Bonferroni over the tails) */
  size_t tails = 0;
  for (size_t k = 0; k < nc; k++) tails += cs[k].two_sided ? 2 : 1;
  int failed = 0;
  for (size_t k = 0; k < nc; k++) {
    size_t lo, hi;
    binom_bounds(cs[k].n, cs[k].p, 0.001 / (double)tails, &lo, &hi);
    if (!cs[k].two_sided) lo = 0;
    int ok = cs[k].count >= lo && cs[k].count <= hi;
    printf("%-4s %-66s %4zu of %4zu (%5.2f%%; allowed %zu to %zu at %g%%)\n", ok ? "ok" : "FAIL", cs[k].what, cs[k].count,
           cs[k].n, pct(cs[k].count, cs[k].n), lo, hi, 100 * cs[k].p);
    failed |= !ok;
  }
  printf("%s in %.1f s of processor time\n", failed ? "FAILED" : "passed", (double)(clock() - t0) / CLOCKS_PER_SEC);
  return failed;
}

/* ---- the study ---- */

static int study(size_t sims, size_t boot, uint64_t seed, int threads) {
  static const size_t sizes[] = {2, 3, 4, 5, 8}, ns[] = {100, 300, 1000, 3000};
  printf("## Flat families (no size effect): %zu simulations per row, %zu resamples each\n\n", sims, boot);
  printf("| sizes | family | metric | examples | inverse %% | positive %% | u-shaped + inverted-u %% | non-flat %% |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  fflush(stdout);
  for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
    for (int mk = 0; mk < 2; mk++)
      for (size_t b = 0; b < sizeof ns / sizeof *ns; b++) {
        setting st = {sizes[a], ns[b], (metric_kind)mk, 0};
        tally t;
        if (run_setting(&st, sims, boot, seed, threads, &t)) return 1;
        char shape[32];
        if (st.M >= 3) snprintf(shape, sizeof shape, "%.2f", pct(t.shape, t.sims));
        else snprintf(shape, sizeof shape, "- (2 sizes)");
        printf("| %zu | %s | %s | %zu | %.2f | %.2f | %s | %.2f |\n", st.M, ladder_of(st.M)->label, metric_name(st.metric),
               st.N, pct(t.inverse, t.sims), pct(t.positive, t.sims), shape, pct(t.inverse + t.positive + t.shape, t.sims));
        fflush(stdout);
      }
  /* beyond the design: flat in the mean, not in the distribution */
  printf("\n## Flat in the mean, skewed: the largest model's noise 5 (Exp(1) - 1), the others N(0, 1), shared N(0, 9) "
         "difficulty; %zu simulations per row\n\n", sims);
  printf("| sizes | examples | inverse %% | positive %% | u-shaped + inverted-u %% |\n|---|---|---|---|---|\n");
  static const size_t ssizes[] = {2, 4, 8}, sns[] = {100, 300, 1000};
  for (size_t a = 0; a < sizeof ssizes / sizeof *ssizes; a++)
    for (size_t b = 0; b < sizeof sns / sizeof *sns; b++) {
      setting st = {ssizes[a], sns[b], SKEWED, 0};
      tally t;
      if (run_setting(&st, sims, boot, seed, threads, &t)) return 1;
      char shape[32];
      if (st.M >= 3) snprintf(shape, sizeof shape, "%.2f", pct(t.shape, t.sims));
      else snprintf(shape, sizeof shape, "- (2 sizes)");
      printf("| %zu | %zu | %.2f | %.2f | %s |\n", st.M, st.N, pct(t.inverse, t.sims), pct(t.positive, t.sims), shape);
      fflush(stdout);
    }
  /* linear families: shapes are false claims; slopes as multiples of the detectable one */
  static const double mult[] = {0.5, 1, 2, 4, 8};
  printf("\n## Linear families, 300 examples: %zu simulations per row; slope in multiples of the detectable slope\n\n", sims);
  printf("| sizes | metric | slope per decade | x detectable | inverse %% | u-shaped + inverted-u %% |\n|---|---|---|---|---|---|\n");
  for (size_t a = 1; a < sizeof sizes / sizeof *sizes; a++)
    for (int mk = 0; mk < 2; mk++) {
      setting st = {sizes[a], 300, (metric_kind)mk, 0};
      double delta;
      if (detectable_of(&st, sims, boot, seed, threads, &delta)) return 1;
      const ladder *ld = ladder_of(st.M);
      double span = log10(ivs_eval_known_params(ld->names[st.M - 1])) - log10(ivs_eval_known_params(ld->names[0]));
      for (size_t k = 0; k < sizeof mult / sizeof *mult; k++) {
        st.slope = mult[k] * delta;
        if (st.metric == ACC && st.slope * span / 2 > 0.24) continue; /* the probabilities would leave [0.01, 0.99] */
        tally t;
        if (run_setting(&st, sims, boot, seed, threads, &t)) return 1;
        printf("| %zu | %s | %.4f | %g | %.2f | %.2f |\n", st.M, metric_name(st.metric), st.slope, mult[k],
               pct(t.inverse, t.sims), pct(t.shape, t.sims));
        fflush(stdout);
      }
    }
  /* power: at the detectable slope, found about 80% of the time */
  printf("\n## Power: families at their own detectable slope (the mean over %zu flat ones): %zu simulations per row\n\n", sims,
         sims);
  printf("| sizes | metric | examples | detectable slope per decade | found (inverse) %% |\n|---|---|---|---|---|\n");
  static const size_t psizes[] = {2, 4, 8}, pns[] = {100, 1000};
  for (size_t a = 0; a < sizeof psizes / sizeof *psizes; a++)
    for (int mk = 0; mk < 2; mk++)
      for (size_t b = 0; b < sizeof pns / sizeof *pns; b++) {
        setting st = {psizes[a], pns[b], (metric_kind)mk, 0};
        double delta;
        if (detectable_of(&st, sims, boot, seed, threads, &delta)) return 1;
        st.slope = delta;
        tally t;
        if (run_setting(&st, sims, boot, seed, threads, &t)) return 1;
        printf("| %zu | %s | %zu | %.4f | %.2f |\n", st.M, metric_name(st.metric), st.N, delta, pct(t.inverse, t.sims));
        fflush(stdout);
      }
  return 0;
}

int main(int argc, char **argv) {
  size_t sims = 2000, boot = 1000;
  uint64_t seed = 1;
  int threads = 2, check = 0;
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--check")) check = 1;
    else if (!strcmp(argv[k], "--sims") && k + 1 < argc) sims = strtoul(argv[++k], NULL, 10);
    else if (!strcmp(argv[k], "--boot") && k + 1 < argc) boot = strtoul(argv[++k], NULL, 10);
    else if (!strcmp(argv[k], "--seed") && k + 1 < argc) seed = strtoull(argv[++k], NULL, 10);
    else if (!strcmp(argv[k], "--threads") && k + 1 < argc) threads = atoi(argv[++k]);
    else {
      fprintf(stderr, "usage: trend_sim [--sims N (2000)] [--boot B (1000)] [--seed S] [--threads T (2)] | --check\n");
      return 2;
    }
  }
  if (threads < 1) threads = 1;
  if (check) return check_mode(threads);
  time_t t0 = time(NULL);
  int rc = study(sims, boot, seed, threads);
  printf("\n(trend_sim --sims %zu --boot %zu --seed %llu: %.0f s on %d threads)\n", sims, boot, (unsigned long long)seed,
         difftime(time(NULL), t0), threads);
  return rc;
}

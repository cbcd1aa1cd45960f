/* A probe run's files: <model>.jsonl, summary.json and the plots, each
 * through the atomic writer (core/fileio.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dtoa.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/json.h"
#include "core/json_arena.h"
#include "eval/plot.h"
#include "eval/probe_internal.h"

/* ---- <model>.jsonl ---- */

static int put_num(ivs_buf *b, double v) {
  if (!isfinite(v)) return ivs_buf_puts(b, "null");
  if (v == 0) v = 0; /* -0 (spamd's "-0.0") as 0 */
  char tmp[IVS_DTOA_SIZE];
  ivs_dtoa(v, tmp);
  return ivs_buf_puts(b, tmp);
}

static int put_key(ivs_buf *b, const char *key) {
  int rc = ivs_buf_puts(b, ",\"");
  if (!rc) rc = ivs_buf_puts(b, key);
  if (!rc) rc = ivs_buf_puts(b, "\":");
  return rc;
}

static int put_size(ivs_buf *b, size_t v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%zu", v);
  return ivs_buf_puts(b, tmp);
}

static int line_of(const ivs_probe_run_state *st, size_t i, size_t s, const ivs_generation *g, const ivs_probe_gen *p,
                   ivs_buf *b) {
  const ivs_probe_opts *o = st->o;
  const ivs_probe_prompts *pr = &st->prompts;
  int rc = ivs_buf_puts(b, "{\"prompt_index\":");
  if (!rc) rc = put_size(b, i);
  if (!rc && !(rc = put_key(b, "sample"))) rc = put_size(b, s);
  if (!rc && pr->group[i] && !(rc = put_key(b, "group"))) rc = ivs_json_put_text(b, pr->group[i], strlen(pr->group[i]));
  if (!rc && pr->role[i] && !(rc = put_key(b, "role")))
    rc = ivs_json_put_text(b, ivs_probe_role_name(pr->role[i]), strlen(ivs_probe_role_name(pr->role[i])));
  if (!rc && !(rc = put_key(b, "text"))) rc = ivs_json_put_text(b, g->text, strlen(g->text));
  if (!rc && !(rc = put_key(b, "ids"))) {
    if (!g->ids) rc = ivs_buf_puts(b, "null");
    else {
      rc = ivs_buf_putc(b, '[');
      for (size_t k = 0; k < g->n_ids && !rc; k++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%s%d", k ? "," : "", (int)g->ids[k]);
        rc = ivs_buf_puts(b, tmp);
      }
      if (!rc) rc = ivs_buf_putc(b, ']');
    }
  }
  if (!rc && g->token_texts && !g->ids && !(rc = put_key(b, "token_texts")))
    rc = ivs_json_put_text_array(b, g->token_texts, g->n_token_texts);
  if (!rc && !(rc = put_key(b, "tokens"))) rc = put_size(b, p->tokens);
  if (!rc && !(rc = put_key(b, "stop_reason"))) {
    const char *sr = ivs_gen_stop_name(g->stop);
    rc = ivs_json_put_text(b, sr, strlen(sr));
  }
  if (!rc) rc = ivs_buf_puts(b, ",\"metrics\":{");
  int first = 1;
#define KEY(name) (rc ? rc : (rc = ivs_buf_puts(b, first ? "\"" name "\":" : ",\"" name "\":"), first = 0, rc))
  if (!rc && (o->metrics & IVS_PROBE_REPETITION)) {
    char key[48];
    snprintf(key, sizeof key, "%s\"seq_rep_%zu\":", first ? "" : ",", o->seq_rep_n);
    first = 0;
    if (!(rc = ivs_buf_puts(b, key))) rc = put_num(b, p->seq_rep);
    if (!KEY("loop")) {
      if (!p->loop.found) rc = ivs_buf_puts(b, "null");
      else {
        char tmp[128];
        snprintf(tmp, sizeof tmp, "{\"period\":%zu,\"start\":%zu,\"repeats\":%zu}", p->loop.period, p->loop.start,
                 p->loop.repeats);
        rc = ivs_buf_puts(b, tmp);
      }
    }
  }
  if (!rc && (o->metrics & IVS_PROBE_DISTINCT)) {
    if (!KEY("distinct_1")) rc = put_num(b, p->distinct[0]);
    if (!KEY("distinct_2")) rc = put_num(b, p->distinct[1]);
    if (!KEY("distinct_3")) rc = put_num(b, p->distinct[2]);
  }
  if (!rc && (o->metrics & IVS_PROBE_COMPRESSION) && !KEY("compression")) rc = put_num(b, p->compression);
  if (!rc && (o->metrics & IVS_PROBE_SPAM) && !KEY("spam")) {
    if (!(rc = ivs_buf_puts(b, "{\"score\":")) && !(rc = put_num(b, p->spam)) && !(rc = ivs_buf_puts(b, ",\"rules\":["))) {
      const char *r = p->rules ? p->rules : "";
      for (int k = 0; *r && !rc; k++) {
        const char *c = strchr(r, ',');
        size_t n = c ? (size_t)(c - r) : strlen(r);
        if (k) rc = ivs_buf_putc(b, ',');
        if (!rc) rc = ivs_json_put_text(b, r, n);
        r += n + (c != NULL);
      }
      if (!rc) rc = ivs_buf_puts(b, "]}");
    }
  }
  if (!rc && (o->metrics & IVS_PROBE_MATCH) && !KEY("match")) {
    if (!(rc = ivs_buf_puts(b, "{\"per_100_tokens\":")) && !(rc = put_num(b, p->match_rate)) &&
        !(rc = ivs_buf_puts(b, ",\"counts\":{"))) {
      for (size_t k = 0; k < st->n_patterns && !rc; k++) {
        const char *name = ivs_probe_patterns_name(st->patterns, k);
        if (k) rc = ivs_buf_putc(b, ',');
        if (!rc) rc = ivs_json_put_text(b, name, strlen(name));
        if (!rc) rc = ivs_buf_putc(b, ':');
        if (!rc) rc = put_size(b, p->match[k]);
      }
      if (!rc) rc = ivs_buf_puts(b, "}}");
    }
  }
  if (!rc && (o->metrics & IVS_PROBE_NUMBER) && !KEY("number")) rc = put_num(b, p->has_number ? p->number : NAN);
  if (!rc && (o->metrics & IVS_PROBE_LENGTH)) {
    if (!KEY("tokens")) rc = put_size(b, p->tokens);
    if (!KEY("stopped_at_limit")) rc = ivs_buf_puts(b, p->stop == IVS_GEN_LENGTH ? "true" : "false");
  }
#undef KEY
  if (!rc) rc = ivs_buf_puts(b, "}}\n");
  return rc;
}

static int model_path(const ivs_probe_run_state *st, const char *name, const char *ext, char *path, size_t cap) {
  if ((size_t)snprintf(path, cap, "%s/%s%s", st->o->out_dir, name, ext) >= cap)
    return ivs_error_set(IVS_EUSAGE, "%s: output path too long", st->o->out_dir);
  return 0;
}

int ivs_probe_write_generations(ivs_probe_run_state *st, size_t m, const ivs_generation *g, const ivs_probe_gen *pg) {
  char path[4300];
  int rc = model_path(st, st->ms[m].name, ".jsonl", path, sizeof path);
  if (rc) return rc;
  ivs_atomic_file *af = &st->ms[m].file;
  if ((rc = ivs_atomic_open(af, path))) return rc;
  st->ms[m].file_open = 1;
  ivs_buf b = IVS_BUF_INIT;
  size_t S = st->o->samples;
  for (size_t i = 0; i < st->prompts.n && !rc; i++)
    for (size_t s = 0; s < S && !rc; s++) {
      ivs_buf_clear(&b);
      rc = line_of(st, i, s, &g[i * S + s], &pg[i * S + s], &b);
      if (!rc && fwrite(b.data, 1, b.len, af->f) != b.len)
        rc = ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
  if (!rc && fflush(af->f) != 0) rc = ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(errno));
  ivs_buf_release(&b);
  return rc;
}

int ivs_probe_files_commit(ivs_probe_run_state *st) {
  int rc = 0;
  for (size_t m = 0; m < st->o->n_models && !rc; m++)
    if (st->ms[m].file_open) {
      st->ms[m].file_open = 0;
      rc = ivs_atomic_commit(&st->ms[m].file);
    }
  return rc;
}

void ivs_probe_files_abort(ivs_probe_run_state *st) {
  for (size_t m = 0; m < st->o->n_models; m++)
    if (st->ms[m].file_open) {
      st->ms[m].file_open = 0;
      ivs_atomic_abort(&st->ms[m].file);
    }
}

/* ---- per-model details ---- */

cJSON *ivs_probe_details_new(void) { return cJSON_CreateObject(); }
void ivs_probe_details_free(cJSON *d) { cJSON_Delete(d); }

static void count_in(cJSON *obj, const char *key, size_t key_len, double by) {
  char name[256];
  snprintf(name, sizeof name, "%.*s", (int)(key_len < 255 ? key_len : 255), key);
  cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (c) cJSON_SetNumberValue(c, c->valuedouble + by);
  else cJSON_AddNumberToObject(obj, name, by);
}

int ivs_probe_model_details(ivs_probe_run_state *st, size_t m, const ivs_generation *g, const ivs_probe_gen *pg) {
  const ivs_probe_opts *o = st->o;
  cJSON *d = st->ms[m].details;
  size_t NS = st->prompts.n * o->samples;
  ivs_json_oom_reset();
  cJSON_AddNumberToObject(d, "generations", (double)NS);
  cJSON *stops = cJSON_AddObjectToObject(d, "stop_reasons");
  static const ivs_gen_stop all[4] = {IVS_GEN_LENGTH, IVS_GEN_EOS, IVS_GEN_STOP, IVS_GEN_CONTEXT};
  for (int k = 0; k < 4; k++) cJSON_AddNumberToObject(stops, ivs_gen_stop_name(all[k]), 0);
  for (size_t k = 0; k < NS; k++) count_in(stops, ivs_gen_stop_name(g[k].stop), strlen(ivs_gen_stop_name(g[k].stop)), 1);
  if (o->metrics & IVS_PROBE_SPAM) {
    /* how many generations each rule fired on */
    cJSON *rules = cJSON_AddObjectToObject(d, "spam_rules");
    for (size_t k = 0; k < NS; k++)
      for (const char *r = pg[k].rules ? pg[k].rules : ""; *r;) {
        const char *c = strchr(r, ',');
        size_t n = c ? (size_t)(c - r) : strlen(r);
        if (n) count_in(rules, r, n, 1);
        r += n + (c != NULL);
      }
  }
  if (o->metrics & IVS_PROBE_MATCH) {
    cJSON *mc = cJSON_AddObjectToObject(d, "match_counts");
    for (size_t p = 0; p < st->n_patterns; p++) {
      double total = 0;
      for (size_t k = 0; k < NS; k++) total += (double)pg[k].match[p];
      cJSON_AddNumberToObject(mc, ivs_probe_patterns_name(st->patterns, p), total);
    }
  }
  if (o->metrics & IVS_PROBE_DISTINCT) {
    /* Li et al.'s distinct-n: over all of the model's generations */
    const uint64_t **u = malloc((NS ? NS : 1) * sizeof *u);
    size_t *n = malloc((NS ? NS : 1) * sizeof *n);
    if (!u || !n) {
      free(u), free(n);
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < NS; k++) u[k] = pg[k].units, n[k] = pg[k].n_units;
    cJSON *dc = cJSON_AddObjectToObject(d, "distinct_corpus");
    int failed = 0;
    for (size_t order = 1; order <= 3 && !failed; order++) {
      double v = ivs_probe_distinct_corpus(u, n, NS, order);
      failed = ivs_probe_metrics_failed();
      char key[24];
      snprintf(key, sizeof key, "distinct_%zu", order);
      if (isfinite(v)) cJSON_AddNumberToObject(dc, key, v);
      else cJSON_AddNullToObject(dc, key);
    }
    free(u), free(n);
    if (failed) return IVS_ENOMEM;
  }
  if (o->metrics & IVS_PROBE_NUMBER) {
    size_t found = 0;
    for (size_t k = 0; k < NS; k++) found += pg[k].has_number != 0;
    cJSON_AddNumberToObject(d, "numbers_found", (double)found);
    cJSON_AddNumberToObject(d, "numbers_missing", (double)(NS - found));
  }
  return ivs_json_oom() ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
}

/* ---- summary.json and the plots ---- */

static void push(cJSON *array, cJSON *item) {
  if (!cJSON_AddItemToArray(array, item)) cJSON_Delete(item);
}

static void add_num(cJSON *o, const char *k, double v) {
  if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
  else cJSON_AddNullToObject(o, k);
}

static cJSON *summary_json(const ivs_probe_run_state *st, const ivs_probe_result *r) {
  const ivs_probe_opts *o = st->o;
  cJSON *sum = cJSON_CreateObject();
  cJSON_AddStringToObject(sum, "prompts", o->prompts_path);
  cJSON_AddNumberToObject(sum, "n_prompts", (double)r->n_prompts);
  cJSON_AddNumberToObject(sum, "n_groups", (double)r->n_groups);
  cJSON_AddNumberToObject(sum, "samples", (double)r->samples);
  cJSON *dec = cJSON_AddObjectToObject(sum, "decoding");
  cJSON_AddBoolToObject(dec, "greedy", o->greedy);
  cJSON_AddNumberToObject(dec, "max_new_tokens", (double)o->max_new_tokens);
  if (!o->greedy) {
    cJSON_AddNumberToObject(dec, "temperature", o->temperature);
    cJSON_AddNumberToObject(dec, "top_k", (double)o->top_k);
    cJSON_AddNumberToObject(dec, "top_p", o->top_p);
  }
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed); /* as text: a 64-bit seed is not a double */
  cJSON_AddStringToObject(dec, "seed", seed);
  cJSON *stops = cJSON_AddArrayToObject(dec, "stop");
  for (size_t k = 0; k < o->n_stop; k++) push(stops, cJSON_CreateString(o->stop[k]));
  cJSON *met = cJSON_AddArrayToObject(sum, "metrics_asked");
  for (unsigned bit = 1; bit <= IVS_PROBE_NUMBER; bit <<= 1)
    if (o->metrics & bit) push(met, cJSON_CreateString(ivs_probe_metric_name(bit)));
  if (o->metrics & IVS_PROBE_REPETITION) cJSON_AddNumberToObject(sum, "seq_rep_n", (double)o->seq_rep_n);
  if (o->metrics & IVS_PROBE_MATCH) {
    cJSON *mj = cJSON_AddObjectToObject(sum, "match");
    cJSON_AddStringToObject(mj, "file", o->match_path);
    cJSON *pats = cJSON_AddArrayToObject(mj, "patterns");
    for (size_t k = 0; k < st->n_patterns; k++) push(pats, cJSON_CreateString(ivs_probe_patterns_name(st->patterns, k)));
  }
  if (o->metrics & IVS_PROBE_SPAM) {
    cJSON *sj = cJSON_AddObjectToObject(sum, "spamd");
    cJSON_AddStringToObject(sj, "address", ivs_spamd_address(st->spamd));
    cJSON_AddBoolToObject(sj, "started", ivs_spamd_started(st->spamd));
  }
  cJSON *models = cJSON_AddArrayToObject(sum, "models");
  for (size_t m = 0; m < r->n_models; m++) {
    const ivs_probe_member *mb = &st->ms[st->order[m]];
    cJSON *mo = cJSON_CreateObject();
    cJSON_AddStringToObject(mo, "name", r->model_names[m]);
    cJSON_AddNumberToObject(mo, "params", r->params[m]);
    cJSON_AddStringToObject(mo, "token_units", r->units[m]);
    for (cJSON *c = mb->details ? mb->details->child : NULL; c; c = c->next) push(mo, cJSON_Duplicate(c, 1)); /* keeps the key */
    push(models, mo);
  }
  cJSON *mets = cJSON_AddArrayToObject(sum, "metrics");
  for (size_t k = 0; k < r->n_metrics; k++) {
    const ivs_probe_metric *pm = &r->metrics[k];
    cJSON *mj = cJSON_CreateObject();
    cJSON_AddStringToObject(mj, "name", pm->name);
    cJSON_AddStringToObject(mj, "family", ivs_probe_metric_name(pm->family));
    cJSON_AddStringToObject(mj, "over", pm->over_groups ? "groups" : "prompts");
    cJSON_AddBoolToObject(mj, "higher_is_worse", pm->higher_is_worse);
    cJSON *ms = cJSON_AddArrayToObject(mj, "models");
    for (size_t m = 0; m < r->n_models; m++) {
      cJSON *x = cJSON_CreateObject();
      cJSON_AddStringToObject(x, "name", r->model_names[m]);
      add_num(x, "mean", pm->models[m].mean);
      add_num(x, "sem", pm->models[m].sem);
      cJSON_AddNumberToObject(x, "n", (double)pm->models[m].n);
      cJSON_AddNumberToObject(x, "missing", (double)pm->models[m].missing);
      push(ms, x);
    }
    cJSON *tj = cJSON_AddObjectToObject(mj, "trend");
    cJSON_AddStringToObject(tj, "verdict", ivs_verdict_name(pm->verdict));
    add_num(tj, "slope_per_decade", pm->slope);
    cJSON *ci = cJSON_AddArrayToObject(tj, "ci95");
    push(ci, isfinite(pm->lo) ? cJSON_CreateNumber(pm->lo) : cJSON_CreateNull());
    push(ci, isfinite(pm->hi) ? cJSON_CreateNumber(pm->hi) : cJSON_CreateNull());
    cJSON_AddNumberToObject(tj, "n_boot", (double)pm->n_boot);
    cJSON_AddNumberToObject(tj, "level", IVS_EVAL_TREND_LEVEL);
    add_num(tj, "detectable_slope_per_decade", pm->detectable);
    cJSON_AddNumberToObject(tj, "power", IVS_EVAL_TREND_POWER);
    cJSON_AddNumberToObject(tj, "units_used", (double)pm->n_units);
    cJSON_AddNumberToObject(tj, "units_dropped", (double)pm->n_dropped);
    if (pm->verdict == IVS_VERDICT_UNDEFINED)
      cJSON_AddStringToObject(tj, "why", "no prompt (group) has a value for every model");
    push(mets, mj);
  }
  cJSON_AddNumberToObject(sum, "verdicts_tested", (double)r->n_verdicts);
  return sum;
}

static int write_text(const char *path, const char *text) {
  ivs_atomic_file af;
  int rc = ivs_atomic_open(&af, path);
  if (rc) return rc;
  if (fputs(text, af.f) < 0 || fputc('\n', af.f) == EOF) {
    rc = ivs_error_set(IVS_EIO, "%s: cannot write: %s", path, strerror(errno));
    ivs_atomic_abort(&af);
    return rc;
  }
  return ivs_atomic_commit(&af);
}

static int plot_metric(const ivs_probe_run_state *st, const ivs_probe_result *r, const ivs_probe_metric *pm) {
  ivs_plot_model pmod[IVS_EVAL_MAX_MODELS];
  for (size_t m = 0; m < r->n_models; m++)
    pmod[m] = (ivs_plot_model){.name = r->model_names[m], .params = r->params[m], .mean = pm->models[m].mean,
                               .sem = pm->models[m].sem};
  char subtitle[400], title[600], path[4300];
  if (pm->verdict == IVS_VERDICT_UNDEFINED) snprintf(subtitle, sizeof subtitle, "undefined trend: no %s has a value for every model", pm->over_groups ? "group" : "prompt");
  else
    snprintf(subtitle, sizeof subtitle, "%s: %s %s %.3g per 10x parameters (95%% CI %.3g to %.3g), %zu %s",
             ivs_verdict_name(pm->verdict), pm->name, pm->slope >= 0 ? "rises" : "falls", fabs(pm->slope), pm->lo, pm->hi,
             pm->n_units, pm->over_groups ? "groups" : "prompts");
  const char *base = strrchr(st->o->prompts_path, '/');
  snprintf(title, sizeof title, "%s: %s", base ? base + 1 : st->o->prompts_path, pm->name);
  int rc = model_path(st, pm->name, ".svg", path, sizeof path);
  if (rc) return rc;
  ivs_plot plot = {.title = title, .subtitle = subtitle, .ylabel = pm->name, .models = pmod, .n = r->n_models,
                   .baseline = NAN, .log_y = 0};
  return ivs_plot_svg(path, &plot);
}

int ivs_probe_summary_write(ivs_probe_run_state *st, const ivs_probe_result *r) {
  ivs_json_oom_reset();
  cJSON *sum = summary_json(st, r);
  char *text = sum ? cJSON_Print(sum) : NULL;
  cJSON_Delete(sum);
  if (text && ivs_json_oom()) cJSON_free(text), text = NULL;
  if (!text) return ivs_error_set(IVS_ENOMEM, "out of memory");
  int rc = 0;
  for (size_t k = 0; k < r->n_metrics && !rc; k++) rc = plot_metric(st, r, &r->metrics[k]);
  if (!rc) rc = ivs_probe_files_commit(st);
  char path[4300];
  if (!rc) rc = model_path(st, "summary", ".json", path, sizeof path);
  if (!rc) rc = write_text(path, text); /* last: a summary says the run is complete */
  cJSON_free(text);
  return rc;
}

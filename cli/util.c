#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"
#include "core/json.h"
#include "core/parse.h"

int report_error(void) {
  fprintf(stderr, "invscale: error: %s\n", ivs_error_message());
  return ivs_error_code() == IVS_EUSAGE ? EXIT_USAGE : EXIT_FAIL;
}

int usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "invscale %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n(see 'invscale %s --help')\n", cmd);
  return EXIT_USAGE;
}

int usage_from_error(const char *cmd) { return usage_error(cmd, "%s", ivs_error_message()); }

void warn(const char *fmt, ...) {
  va_list ap;
  fputs("invscale: warning: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

const char *store_path(const char *db) {
  if (db && *db) return db;
  const char *env = getenv("INVSCALE_DB");
  return env && *env ? env : "invscale.db";
}

int finish_stdout(int code) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "invscale: error: writing to standard output failed\n");
    return EXIT_FAIL;
  }
  return code;
}

static int progress_shown;
static struct timespec progress_last, progress_start;

static double seconds_between(struct timespec a, struct timespec b) {
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* One progress line on a terminal, at most four times a second: percent,
 * amount, rate and the time left.  bytes: amounts in MB, else counted in
 * `unit`. */
static void progress_show(unsigned long long done, unsigned long long total, const char *label, int bytes,
                          const char *unit, const char *extra) {
  if (!isatty(STDERR_FILENO)) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (!progress_shown) progress_start = now;
  else if (seconds_between(progress_last, now) < 0.25) return;
  progress_last = now;
  progress_shown = 1;
  double t = seconds_between(progress_start, now), d = bytes ? (double)done / 1048576 : (double)done;
  double all = bytes ? (double)total / 1048576 : (double)total, rate = t > 0 ? d / t : 0;
  fprintf(stderr, "\r\033[K%s: ", label);
  if (total) fprintf(stderr, "%3.0f%% (%.0f of %.0f %s", 100.0 * (double)done / (double)total, d, all, unit);
  else fprintf(stderr, "%.0f %s (", d, unit);
  if (rate > 0) fprintf(stderr, ", %.0f %s/s", rate, bytes ? "MB" : unit);
  if (rate > 0 && total && done < total) fprintf(stderr, ", about %.0f s left", (all - d) / rate);
  if (extra && *extra) fprintf(stderr, ", %s", extra);
  fputc(')', stderr);
}

void progress_update(unsigned long long done, unsigned long long total, void *label) {
  progress_show(done, total, label, 1, "MB", NULL);
}

void progress_count(unsigned long long done, unsigned long long total, const char *label, const char *unit) {
  progress_show(done, total, label, 0, unit, NULL);
}

void progress_count_extra(unsigned long long done, unsigned long long total, const char *label, const char *unit,
                          const char *extra) {
  progress_show(done, total, label, 0, unit, extra);
}

void progress_done(void) {
  if (progress_shown) fputs("\r\033[K", stderr);
  progress_shown = 0;
}

void json_string(FILE *f, const char *s) {
  ivs_buf b = IVS_BUF_INIT; /* the same escaping as every JSON invscale writes */
  if (ivs_json_put_text(&b, s, strlen(s)) == 0) fwrite(b.data, 1, b.len, f);
  ivs_buf_release(&b);
}

void eval_event(const ivs_eval_event *ev, void *ud) {
  (void)ud;
  switch (ev->kind) {
  case IVS_EVAL_EVENT_READ: progress_update(ev->done, ev->total, (void *)ev->subject); break;
  case IVS_EVAL_EVENT_REQUESTS: progress_count_extra(ev->done, ev->total, ev->subject, "requests", ev->text); break;
  case IVS_EVAL_EVENT_STEP_END: progress_done(); break;
  case IVS_EVAL_EVENT_NOTE:
    if (isatty(STDERR_FILENO)) fprintf(stderr, "%s\n", ev->text);
    break;
  case IVS_EVAL_EVENT_WARNING: progress_done(), warn("%s", ev->text); break;
  }
}

int model_option(const char *cmd, char *arg, model_args *ma) {
  char *eq = strchr(arg, '=');
  if (!eq || eq == arg) return usage_error(cmd, "--model: expected NAME=BACKEND:ARG, got '%s'", arg);
  if (ma->n == IVS_EVAL_MAX_MODELS) return usage_error(cmd, "at most %d models", IVS_EVAL_MAX_MODELS);
  *eq = '\0';
  for (size_t j = 0; j < ma->n; j++)
    if (!strcmp(ma->models[j].name, arg)) return usage_error(cmd, "model name '%s' given twice", arg);
  if (ivs_eval_backend_check(eq + 1)) return usage_error(cmd, "--model %s=%s: %s", arg, eq + 1, ivs_error_message());
  ma->models[ma->n].name = arg, ma->models[ma->n].backend = eq + 1, ma->models[ma->n].params = 0;
  ma->n++;
  return 0;
}

int params_option(const char *cmd, char *arg, model_args *ma) {
  char *eq = strchr(arg, '=');
  if (!eq || eq == arg || ma->np == IVS_EVAL_MAX_MODELS)
    return usage_error(cmd, "--params: expected NAME=N, got '%s'", arg);
  *eq = '\0';
  ma->pnames[ma->np] = arg;
  if (ivs_parse_double("--params", eq + 1, 1, 1e16, &ma->pvals[ma->np]) || !(ma->pvals[ma->np] < 1e16))
    return usage_error(cmd, "--params %s=%s: a parameter count is a number such as 124e6", arg, eq + 1);
  ma->np++;
  return 0;
}

void params_apply(model_args *ma) {
  for (size_t m = 0; m < ma->n; m++) /* the last --params of a name counts */
    for (size_t j = 0; j < ma->np; j++)
      if (!strcmp(ma->pnames[j], ma->models[m].name)) ma->models[m].params = ma->pvals[j];
}

int api_key_option(const char *cmd, const char *key_env, ivs_eval_opts *o) {
  const char *env = key_env ? key_env : "OPENAI_API_KEY", *key = getenv(env);
  if (key_env && (!key || !*key)) return usage_error(cmd, "--api-key-env %s: that variable is not set", key_env);
  if (key && *key) o->api_key = key, o->api_key_env = env;
  return 0;
}

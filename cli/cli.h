/* Shared pieces of the command line: exit codes, the command signature,
 * messages, progress and the store location. */
#ifndef IVS_CLI_H
#define IVS_CLI_H

#include <stdio.h>

#include "store/store.h"

/* Exit statuses (documented in docs/invscale.md). */
enum {
  EXIT_OK = 0,
  EXIT_FAIL = 1,    /* the command failed; nothing was changed */
  EXIT_USAGE = 2,   /* bad command line */
  EXIT_PARTIAL = 3  /* import done, but some records were invalid and skipped */
};

typedef int (*cmd_fn)(int argc, char **argv, const char *db);

int cmd_init(int argc, char **argv, const char *db);
int cmd_ingest(int argc, char **argv, const char *db);
int cmd_examples(int argc, char **argv, const char *db);
int cmd_info(int argc, char **argv, const char *db);
int cmd_validate(int argc, char **argv, const char *db);
int cmd_export(int argc, char **argv, const char *db);
int cmd_meta(int argc, char **argv, const char *db);
int cmd_package(int argc, char **argv, const char *db);
int cmd_agreement(int argc, char **argv, const char *db);
int cmd_eval(int argc, char **argv, const char *db);
int cmd_probe(int argc, char **argv, const char *db);
int cmd_lm(int argc, char **argv, const char *db);
int cmd_annotator(int argc, char **argv, const char *db);
int cmd_batch(int argc, char **argv, const char *db);
int cmd_judgments(int argc, char **argv, const char *db);
int cmd_adjudicate(int argc, char **argv, const char *db);
int cmd_disagreements(int argc, char **argv, const char *db);
int cmd_aggregate(int argc, char **argv, const char *db);
int cmd_serve(int argc, char **argv, const char *db);

/* "invscale: error: <msg>" on stderr; returns EXIT_FAIL (or EXIT_USAGE for
 * IVS_EUSAGE). */
int report_error(void);
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* usage_error with the last error's message (a value core/parse.h refused). */
int usage_from_error(const char *cmd);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Store path: --db, else $INVSCALE_DB, else ./invscale.db. */
const char *store_path(const char *db);

/* Flushes stdout and checks it; returns code or EXIT_FAIL on a write error. */
int finish_stdout(int code);

/* Progress on stderr, only when it is a terminal. */
void progress_update(unsigned long long done, unsigned long long total, void *label);
/* The same for a count of things (requests, examples), named by unit. */
void progress_count(unsigned long long done, unsigned long long total, const char *label, const char *unit);
/* The same with a note after the rate (e.g. "5300 tokens/s"); extra may be NULL. */
void progress_count_extra(unsigned long long done, unsigned long long total, const char *label, const char *unit,
                          const char *extra);
void progress_done(void);

/* Writes s as a JSON string (with quotes) to f. */
void json_string(FILE *f, const char *s);

/* ---- what eval and probe share ---- */
#include "invscale/eval.h"

/* A run's events: progress on a terminal only, notes too (how a run went,
 * not its result), warnings always. */
void eval_event(const ivs_eval_event *ev, void *ud);

/* The models and parameter counts of the command line. */
typedef struct model_args {
  ivs_eval_model models[IVS_EVAL_MAX_MODELS];
  size_t n;
  const char *pnames[IVS_EVAL_MAX_MODELS];
  double pvals[IVS_EVAL_MAX_MODELS];
  size_t np;
} model_args;

/* --model NAME=BACKEND:ARG (arg is modified: the '=' becomes a NUL) and
 * --params NAME=N; a usage error (printed, EXIT_USAGE) or 0. */
int model_option(const char *cmd, char *arg, model_args *ma);
int params_option(const char *cmd, char *arg, model_args *ma);
/* Gives each model the last --params of its name. */
void params_apply(model_args *ma);
/* The server's key: from --api-key-env VAR (key_env; an unset variable is a
 * usage error) or OPENAI_API_KEY when set, into o. */
int api_key_option(const char *cmd, const char *key_env, ivs_eval_opts *o);

#endif

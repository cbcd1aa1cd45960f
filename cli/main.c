/* invscale: build, label, check and score Inverse Scaling Prize datasets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/model.h"

static const struct {
  const char *name;
  cmd_fn fn;
  const char *summary;
} commands[] = {
    {"init", cmd_init, "create a project store (./invscale.db, --db PATH or $INVSCALE_DB)"},
    {"ingest", cmd_ingest, "import examples from csv, jsonl, text, template, xml or html files"},
    {"examples", cmd_examples, "list stored examples (examples list)"},
    {"info", cmd_info, "schema version and example counts by type, tag and source"},
    {"validate", cmd_validate, "check CSV or JSONL task files against the prize's rules"},
    {"export", cmd_export, "write one task type's examples as a prize task file (JSONL or CSV)"},
    {"meta", cmd_meta, "set, get or list the datasheet fields (meta set name \"Memo trap\")"},
    {"package", cmd_package, "write the submission zip: CSV parts, JSONL and datasheet.md"},
    {"annotator", cmd_annotator, "add or list annotators"},
    {"batch", cmd_batch, "create an annotation batch, or export one for a platform"},
    {"judgments", cmd_judgments, "import judgments (Label Studio, CSV, JSONL)"},
    {"disagreements", cmd_disagreements, "items whose judgments disagree most, for review"},
    {"adjudicate", cmd_adjudicate, "set an item's final label by hand, keeping the history"},
    {"lm", cmd_lm, "the native engine on a model directory: lm info DIR, lm score DIR < seqs.jsonl"},
    {"eval", cmd_eval, "score a task on a model family and give the scaling-trend verdict"},
    {"probe", cmd_probe, "generate on a model family and give each text metric's scaling-trend verdict"},
    {"agreement", cmd_agreement, "inter-annotator agreement of judgments (alpha, kappas, per label and annotator)"},
    {"aggregate", cmd_aggregate, "final labels from judgments by majority vote or Dawid-Skene"},
    {"serve", cmd_serve, "the annotation server: a batch in the browser (serve --batch B, serve links B)"},
};

static int usage(FILE *f, int code) {
  fprintf(f, "usage: invscale [--db PATH] <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'invscale <command> --help' describes a command.\n");
  return code;
}

/* OpenBLAS picks its kernels when it is loaded: when it fell back to its
 * generic ones on a CPU newer than its tables, the engine's commands run
 * again with the core the CPU allows (OPENBLAS_CORETYPE, which a user may
 * also set).  If that cannot be done they go on as they are. */
static void blas_reexec(char **argv) {
  if (getenv("OPENBLAS_CORETYPE")) return;
  const char *core = ivs_model_blas_core_hint();
  if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");
}

int main(int argc, char **argv) {
  const char *db = NULL;
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--db") && i + 1 < argc) {
      db = argv[i + 1];
      i += 2;
    } else if (!strncmp(argv[i], "--db=", 5)) {
      db = argv[i++] + 5;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      return usage(stdout, EXIT_OK);
    } else if (!strcmp(argv[i], "--version")) {
      printf("invscale 0.1.0\n");
      return finish_stdout(EXIT_OK);
    } else {
      fprintf(stderr, "invscale: unknown option '%s'\n", argv[i]);
      return usage(stderr, EXIT_USAGE);
    }
  }
  if (i >= argc) return usage(stderr, EXIT_USAGE);
  for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
    if (!strcmp(argv[i], commands[k].name)) {
      if (!strcmp(argv[i], "lm") || !strcmp(argv[i], "eval") || !strcmp(argv[i], "probe")) blas_reexec(argv);
      return commands[k].fn(argc - i, argv + i, db);
    }
  fprintf(stderr, "invscale: '%s' is not a command\n", argv[i]);
  return usage(stderr, EXIT_USAGE);
}

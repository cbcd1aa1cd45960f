/* invscale validate FILE...: the prize's rules on CSV or JSONL task files. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/parse.h"
#include "core/error.h"
#include "export/validate.h"
#include "tokenizer/tokenizer.h"

static const char help[] =
    "usage: invscale validate FILE... [--type T] [--min-examples N] [--format text|json]\n"
    "                        [--tokenizer PATH [--max-tokens N] [--threads N]]\n\n"
    "Checks CSV or JSON Lines task files against every rule of the Inverse Scaling Prize format\n"
    "(see docs/invscale.md for the rule ids).  No project store is needed.\n\n"
    "  --type T           the task type (default: inferred from the first record, and said)\n"
    "  --min-examples N   the fewest examples accepted (default 300, the prize's minimum)\n"
    "  --max-line-size N  longest JSONL line / CSV field in bytes (default 16777216)\n"
    "  --format json      one JSON object per file\n"
    "  --tokenizer PATH   a Hugging Face model folder or its tokenizer.json: also warn about classes\n"
    "                     that merge with the prompt's last tokens, log-odds classes of more than\n"
    "                     one token, classes with the same first token, and long inputs\n"
    "  --max-tokens N     prompt + class longer than N tokens is warned about (default 1023, the\n"
    "                     prize's limit for GPT-2)\n"
    "  --threads N        threads that tokenize (default: one per core)\n\n"
    "Exit status: 0 every file valid, 1 some file invalid, 2 usage error or unreadable file.\n";

#define TEXT_PER_RULE 20  /* diagnostics printed per rule in text mode */
#define JSON_MAX 10000    /* diagnostics kept per file in JSON mode */

typedef struct {
  const char *path;
  int json;
  /* text mode: how many of each rule were printed / suppressed */
  const char *rules[64];
  size_t printed[64], suppressed[64];
  size_t nrules;
  /* json mode */
  ivs_vdiag *kept;
  size_t nkept, dropped;
} out_state;

static int on_diag(const ivs_vdiag *d, void *ud) {
  out_state *o = ud;
  if (o->json) {
    if (o->nkept < JSON_MAX) o->kept[o->nkept++] = *d;
    else o->dropped++;
    return 0;
  }
  size_t r = 0;
  while (r < o->nrules && strcmp(o->rules[r], d->rule)) r++;
  if (r == o->nrules && r < 64) o->rules[o->nrules++] = d->rule;
  if (r < 64 && o->printed[r] >= TEXT_PER_RULE) {
    o->suppressed[r]++;
    return 0;
  }
  if (r < 64) o->printed[r]++;
  printf("%s:", o->path);
  if (d->line) printf("%zu:", d->line);
  if (d->line && d->column) printf("%zu:", d->column);
  printf(" %s [%s]%s%s: %s\n", d->is_error ? "error" : "warning", d->rule, d->field[0] ? " " : "", d->field,
         d->message);
  return 0;
}

static void print_hist(const char *label, const size_t *h) {
  printf("  %s:", label);
  int any = 0;
  for (int i = 0; i < IVS_STAT_BUCKETS; i++)
    if (h[i]) {
      printf("%s %d%s: %zu", any ? "," : "", i, i == IVS_STAT_BUCKETS - 1 ? "+" : "", h[i]);
      any = 1;
    }
  printf("%s\n", any ? "" : " none");
}

static void json_hist(const char *name, const size_t *h) {
  printf(",\"%s\":{", name);
  int any = 0;
  for (int i = 0; i < IVS_STAT_BUCKETS; i++)
    if (h[i]) {
      printf("%s\"%d%s\":%zu", any ? "," : "", i, i == IVS_STAT_BUCKETS - 1 ? "+" : "", h[i]);
      any = 1;
    }
  printf("}");
}

static void json_diags(const out_state *o, int errors) {
  int first = 1;
  printf("[");
  for (size_t i = 0; i < o->nkept; i++) {
    const ivs_vdiag *d = &o->kept[i];
    if (d->is_error != errors) continue;
    printf("%s{\"line\":%zu,", first ? "" : ",", d->line);
    if (d->column) printf("\"column\":%zu,", d->column);
    printf("\"field\":");
    json_string(stdout, d->field);
    printf(",\"rule\":\"%s\",\"message\":", d->rule);
    json_string(stdout, d->message);
    printf("}");
    first = 0;
  }
  printf("]");
}

int cmd_validate(int argc, char **argv, const char *db) {
  (void)db;
  enum { O_TYPE = 256, O_MIN, O_MAXL, O_FORMAT, O_TOK, O_MAXT, O_THREADS, O_HELP };
  static const struct option opts[] = {{"type", required_argument, 0, O_TYPE},
                                       {"min-examples", required_argument, 0, O_MIN},
                                       {"max-line-size", required_argument, 0, O_MAXL},
                                       {"format", required_argument, 0, O_FORMAT},
                                       {"tokenizer", required_argument, 0, O_TOK},
                                       {"max-tokens", required_argument, 0, O_MAXT},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"help", no_argument, 0, O_HELP},
                                       {0, 0, 0, 0}};
  ivs_validate_file_opts vo = IVS_VALIDATE_FILE_OPTS_INIT;
  vo.on_diag = on_diag, vo.one_pass = getenv("INVSCALE_ONE_PASS") != NULL;
  static const char *const forms[] = {"text", "json"};
  int json = 0, c;
  const char *tok_path = NULL;
  size_t threads = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case O_TYPE:
      if (ivs_type_parse(optarg, &vo.type)) return report_error();
      break;
    case O_MIN:
      if (ivs_parse_size("--min-examples", optarg, 0, SIZE_MAX, &vo.min_examples)) return usage_from_error("validate");
      break;
    case O_MAXL:
      if (ivs_parse_size("--max-line-size", optarg, 64, (size_t)1 << 30, &vo.max_line)) return usage_from_error("validate");
      break;
    case O_FORMAT:
      if (ivs_parse_enum("--format", optarg, forms, 2, &json)) return usage_error("validate", "--format: text or json");
      break;
    case O_TOK: tok_path = optarg; break;
    case O_MAXT:
      if (ivs_parse_size("--max-tokens", optarg, 1, (size_t)1 << 30, &vo.max_tokens)) return usage_from_error("validate");
      break;
    case O_THREADS:
      if (ivs_parse_size("--threads", optarg, 1, 64, &threads)) return usage_from_error("validate");
      break;
    case O_HELP:
    case 'h': fputs(help, stdout); return finish_stdout(EXIT_OK);
    default: return usage_error("validate", "unknown option");
    }
  }
  if (optind >= argc) return usage_error("validate", "expected one or more files");
  if (!tok_path && (vo.max_tokens || threads)) return usage_error("validate", "--max-tokens and --threads need --tokenizer");
  ivs_tokenizer *tok = NULL;
  if (tok_path && ivs_tokenizer_load(&tok, tok_path)) {
    fprintf(stderr, "invscale: error: --tokenizer: %s\n", ivs_error_message());
    return EXIT_USAGE;
  }
  vo.tokenizer = tok, vo.threads = (unsigned)threads;
  int code = EXIT_OK;
  for (int i = optind; i < argc; i++) {
    out_state o;
    memset(&o, 0, sizeof o);
    o.path = argv[i];
    o.json = json;
    if (json && !(o.kept = malloc(JSON_MAX * sizeof *o.kept))) {
      ivs_tokenizer_free(tok);
      return report_error();
    }
    vo.ud = &o;
    ivs_validate_stats st;
    ivs_file_kind kind;
    int rc = ivs_validate_file(argv[i], &vo, &st, &kind);
    if (rc) {
      fprintf(stderr, "invscale: error: %s\n", ivs_error_message());
      if (json) {
        printf("{\"file\":");
        json_string(stdout, argv[i]);
        printf(",\"valid\":false,\"readable\":false,\"message\":");
        json_string(stdout, ivs_error_message());
        printf("}\n");
      }
      free(o.kept);
      code = EXIT_USAGE;
      continue;
    }
    int valid = st.errors == 0;
    if (!valid && code == EXIT_OK) code = EXIT_FAIL;
    if (json) {
      printf("{\"file\":");
      json_string(stdout, argv[i]);
      printf(",\"format\":\"%s\",\"type\":\"%s\",\"type_inferred\":%s,\"valid\":%s,\"examples\":%zu,\"errors\":",
             kind == IVS_FILE_CSV ? "csv" : "jsonl", ivs_type_name(st.type), st.type_inferred ? "true" : "false",
             valid ? "true" : "false", st.examples);
      json_diags(&o, 1);
      printf(",\"warnings\":");
      json_diags(&o, 0);
      printf(",\"stats\":{\"errors\":%zu,\"warnings\":%zu,\"diagnostics_left_out\":%zu", st.errors, st.warnings,
             o.dropped);
      json_hist("class_counts", st.class_counts);
      json_hist("answer_index", st.answer_counts);
      printf(",\"prompt_chars\":{\"p50\":%zu,\"p90\":%zu,\"p99\":%zu,\"max\":%zu}", st.prompt_p50, st.prompt_p90,
             st.prompt_p99, st.prompt_max);
      if (st.tokenized)
        printf(",\"longest_input_tokens\":{\"p50\":%zu,\"p90\":%zu,\"p99\":%zu,\"max\":%zu}", st.tokens_p50,
               st.tokens_p90, st.tokens_p99, st.tokens_max);
      printf("}}\n");
    } else {
      for (size_t r = 0; r < o.nrules; r++)
        if (o.suppressed[r]) printf("%s: ... and %zu more [%s]\n", argv[i], o.suppressed[r], o.rules[r]);
      printf("%s: %s, %s%s: %zu examples, %zu errors, %zu warnings: %s\n", argv[i],
             kind == IVS_FILE_CSV ? "csv" : "jsonl", ivs_type_name(st.type),
             st.type_inferred ? " (inferred from the fields)" : "", st.examples, st.errors, st.warnings,
             valid ? "VALID" : "INVALID");
      print_hist("classes per example", st.class_counts);
      print_hist("answer_index", st.answer_counts);
      printf("  prompt length in characters: p50 %zu, p90 %zu, p99 %zu, max %zu\n", st.prompt_p50, st.prompt_p90,
             st.prompt_p99, st.prompt_max);
      if (st.tokenized)
        printf("  longest prompt + %s in tokens: p50 %zu, p90 %zu, p99 %zu, max %zu\n",
               st.type == IVS_TYPE_SEQUENCE_PROB ? "completion" : "class", st.tokens_p50, st.tokens_p90, st.tokens_p99,
               st.tokens_max);
    }
    free(o.kept);
  }
  ivs_tokenizer_free(tok);
  return finish_stdout(code);
}

/* invscale lm generate DIR [decoding options] < prompts.jsonl: text from a
 * model directory through the native engine, as the native: backend of
 * `probe` generates it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/gen_opts.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/parse.h"
#include "eval/backend.h"
#include "ingest/reader.h"

int lm_generate(int argc, char **argv);

/* The prompts of stdin: one {"prompt": "..."} per line. */
static int read_prompts(char ***out, size_t *n) {
  ivs_reader rd;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno, cap = 0;
  char **ps = NULL;
  *n = 0;
  int rc = ivs_reader_open(&rd, "-");
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "prompt");
    if (!cJSON_IsString(p)) rc = ivs_error_set(IVS_EINVAL, "stdin:%zu: expected {\"prompt\": \"...\"}", lineno);
    if (!rc && *n == cap) {
      char **g = realloc(ps, (cap = cap * 2 + 64) * sizeof *g);
      if (!g) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      else ps = g;
    }
    if (!rc && !(ps[*n] = strdup(p->valuestring))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    if (!rc) (*n)++;
    cJSON_Delete(o);
  }
  ivs_reader_close(&rd);
  ivs_buf_release(&line);
  *out = ps;
  return rc < 0 ? rc : 0;
}

int lm_generate(int argc, char **argv) {
  static const char usage[] = "expected 'lm generate DIR [--max-new-tokens N] [--greedy | --temperature T [--top-k K] "
                              "[--top-p P] [--seed S]] [--samples N] [--stop STR] [--threads N]'";
  if (argc < 3) return usage_error("lm", "%s", usage);
  gen_opts g;
  gen_opts_init(&g, 0);
  ivs_eval_opts eo = IVS_EVAL_OPTS_INIT;
  int code = 0;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--greedy")) gen_opts_take(&g, "lm", "greedy", NULL, &code);
    else if (!strcmp(a, "--truncate-left")) eo.truncate_left = 1;
    else if (!strncmp(a, "--", 2) && i + 1 < argc && !strcmp(a, "--threads")) {
      if (ivs_parse_size("--threads", argv[++i], 1, 1024, &eo.threads)) return usage_from_error("lm");
    } else if (!strncmp(a, "--", 2) && i + 1 < argc) {
      int t = gen_opts_take(&g, "lm", a + 2, argv[i + 1], &code);
      if (t < 0) return code;
      if (!t) return usage_error("lm", "unknown option %s; %s", a, usage);
      i++;
    } else return usage_error("lm", "%s", usage);
  }
  if ((code = gen_opts_finish(&g, "lm"))) return code;
  char **prompts = NULL;
  size_t n = 0;
  if (read_prompts(&prompts, &n)) {
    for (size_t i = 0; i < n; i++) free(prompts[i]);
    free(prompts);
    return report_error();
  }
  eo.progress = eval_event;
  void *state = NULL;
  size_t total = n * g.p.samples;
  ivs_generation *out = calloc(total ? total : 1, sizeof *out);
  int rc = out ? ivs_backend_native.open(argv[2], argv[2], &eo, &state) : ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!rc && n) rc = ivs_backend_native.generate(state, (const char *const *)prompts, n, &g.p, out);
  ivs_backend_native.close(state);
  ivs_buf b;
  ivs_buf_init(&b, 0);
  for (size_t k = 0; k < total && !rc; k++) {
    const ivs_generation *q = &out[k];
    ivs_buf_clear(&b);
    char head[96];
    snprintf(head, sizeof head, "{\"index\":%zu,\"sample\":%zu,\"text\":", k / g.p.samples, k % g.p.samples);
    rc = ivs_buf_puts(&b, head);
    if (!rc) rc = ivs_json_put_text(&b, q->text, strlen(q->text));
    if (!rc) rc = ivs_buf_puts(&b, ",\"ids\":[");
    for (size_t i = 0; i < q->n_ids && !rc; i++) {
      char num[16];
      snprintf(num, sizeof num, i ? ",%d" : "%d", q->ids[i]);
      rc = ivs_buf_puts(&b, num);
    }
    if (!rc) rc = ivs_buf_puts(&b, "],\"stop_reason\":\"");
    if (!rc) rc = ivs_buf_puts(&b, ivs_gen_stop_name(q->stop));
    if (!rc) rc = ivs_buf_puts(&b, "\"}\n");
    if (!rc) fwrite(b.data, 1, b.len, stdout);
  }
  ivs_buf_release(&b);
  for (size_t k = 0; k < total; k++) ivs_generation_release(&out[k]);
  for (size_t i = 0; i < n; i++) free(prompts[i]);
  free(prompts), free(out);
  return rc ? report_error() : finish_stdout(EXIT_OK);
}

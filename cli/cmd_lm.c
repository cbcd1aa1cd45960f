/* invscale lm info DIR | lm score DIR < seqs.jsonl: the native engine on its own. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/gen_opts.h"
#include "core/dtoa.h"
#include "core/error.h"
#include "core/json.h"
#include "core/parse.h"
#include "engine/model.h"
#include "tokenizer/tokenizer.h"
#include "ingest/reader.h"

int lm_generate(int argc, char **argv);

static const char help[] =
    "usage: invscale lm info DIR [--format text|json]\n"
    "       invscale lm score DIR [--no-argmax] < seqs.jsonl\n"
    "       invscale lm tokenize DIR|tokenizer.json [--special | --decode] < texts.jsonl\n"
    "       invscale lm generate DIR [decoding options] [--threads N] [--truncate-left] < prompts.jsonl\n\n"
    "A Hugging Face model directory (config.json, model.safetensors) run by invscale's own engine\n"
    "in float32 (model_type gpt2, gpt_neox, llama, qwen2 or opt).\n"
    "  info    architecture, sizes, positions (learned, or rotary with its rope settings), the settings\n"
    "          read, dtype, parameters, bytes to load (weights mapped + float32 copies of F16/BF16), the\n"
    "          keys and values of 1000 tokens, the tokenizer (type, vocabulary, tokens put first)\n"
    "  score   reads {\"ids\": [...], \"n_ctx\": K} per line and writes {\"continuation_logprobs\": [...],\n"
    "          \"sum_logprob\", \"greedy\" (every continuation token the most likely one), \"argmax\": [...]}\n"
    "          (--no-argmax: the head runs only where a continuation token is predicted; no argmax)\n"
    "  tokenize  {\"text\": ...} -> {\"ids\": [...]} exactly as Hugging Face tokenizers encodes it (no special\n"
    "          tokens added; --special: with the post-processor's, e.g. a BOS, as add_special_tokens=True);\n"
    "          --decode: {\"ids\": [...]} -> {\"text\": ...}\n"
    "  generate  {\"prompt\": ...} -> {\"index\", \"sample\", \"text\", \"ids\", \"stop_reason\"} per generation\n"
    "          (length, eos: generation_config.json's or config.json's end token, stop, context); the prompt\n"
    "          encoded with the post-processor's start token; all prompts decoded together, --samples per\n"
    "          prompt sharing its keys and values; --truncate-left: a prompt over the context keeps its newest\n"
    "          tokens (and room to generate) instead of failing\n"
    GEN_OPTS_HELP;

static void put_double(double v) {
  char b[IVS_DTOA_SIZE];
  int n = ivs_dtoa(v, b);
  fwrite(b, 1, (size_t)n, stdout);
}

/* A setting for text: up to 10 significant digits, no trailing zeros. */
static const char *num(char *b, size_t n, double v) {
  snprintf(b, n, "%.10g", v);
  return b;
}

static void json_key_num(const char *key, double v) {
  printf(",\"%s\":", key);
  put_double(v);
}

/* lm info: the model's settings, sizes and memory, and its tokenizer (the
 * directory's tokenizer.json, when there is one). */
static int info(ivs_model *m, const char *dir, int json) {
  ivs_model_info i;
  ivs_model_get_info(m, &i);
  char tpath[4200], err[512] = "", a[32], b[32], c[32], d[32];
  snprintf(tpath, sizeof tpath, "%s/tokenizer.json", dir);
  ivs_tokenizer *tok = NULL;
  int have_tok = access(tpath, F_OK) == 0;
  if (have_tok && ivs_tokenizer_load(&tok, tpath)) snprintf(err, sizeof err, "%s", ivs_error_message());
  const int32_t *pre = NULL;
  size_t npre = 0;
  if (tok) ivs_tokenizer_special_prefix(tok, &pre, &npre);
  unsigned long long load = (unsigned long long)(i.file_bytes + i.converted_bytes);
  const char *cpu = ivs_model_cpu_core();
  if (json) {
    printf("{\"model_type\":");
    json_string(stdout, i.model_type);
    printf(",\"layers\":%zu,\"width\":%zu,\"heads\":%zu,\"kv_heads\":%zu,\"head_size\":%zu,\"ff_width\":%zu,"
           "\"vocabulary\":%zu,\"context\":%zu,\"positions\":{",
           i.n_layer, i.n_embd, i.n_head, i.n_kv_head, i.head_dim, i.n_ff, i.n_vocab, i.n_ctx);
    if (!i.rope_type) printf("\"type\":\"learned\",\"offset\":%zu}", i.pos_offset);
    else {
      printf("\"type\":\"rotary\",\"rope_type\":\"%s\",\"dims\":%zu", i.rope_type, i.rope_dims);
      json_key_num("theta", i.rope_theta);
      if (strcmp(i.rope_type, "default")) json_key_num("factor", i.rope_factor);
      if (!strcmp(i.rope_type, "llama3")) {
        json_key_num("low_freq_factor", i.rope_low_freq_factor);
        json_key_num("high_freq_factor", i.rope_high_freq_factor);
        json_key_num("original_max_position_embeddings", i.rope_original_max);
      }
      putchar('}');
    }
    printf(",\"tied_head\":%s,\"settings\":", i.tied ? "true" : "false");
    json_string(stdout, i.notes);
    printf(",\"parameters\":%llu,\"dtype\":\"%s\",\"weights_bytes\":%llu,\"converted_bytes\":%llu,\"load_bytes\":%llu,"
           "\"kv_bytes_per_1000_tokens\":%llu,\"blas\":{\"core\":",
           (unsigned long long)i.params, i.dtype, (unsigned long long)i.file_bytes,
           (unsigned long long)i.converted_bytes, load, (unsigned long long)i.kv_bytes_per_1000);
    json_string(stdout, ivs_model_blas_core());
    printf(",\"cpu_allows\":");
    if (cpu) json_string(stdout, cpu);
    else printf("null");
    printf(",\"threads\":%zu},\"tokenizer\":", ivs_model_threads());
    if (!have_tok) printf("null");
    else if (!tok) {
      printf("{\"error\":");
      json_string(stdout, err);
      putchar('}');
    } else {
      printf("{\"type\":\"BPE\",\"vocabulary\":%zu,\"prefix\":[", ivs_tokenizer_vocab_size(tok));
      for (size_t k = 0; k < npre; k++) printf(k ? ",%d" : "%d", pre[k]);
      printf("]}");
    }
    printf("}\n");
  } else {
    printf("model_type  %s\nlayers      %zu\nwidth       %zu\nheads       %zu\nkv heads    %zu\nhead size   %zu\n"
           "ff width    %zu\nvocabulary  %zu\ncontext     %zu\n",
           i.model_type, i.n_layer, i.n_embd, i.n_head, i.n_kv_head, i.head_dim, i.n_ff, i.n_vocab, i.n_ctx);
    if (!i.rope_type) printf("positions   learned (offset %zu)\n", i.pos_offset);
    else {
      printf("positions   rotary %s, theta %s", i.rope_type, num(a, sizeof a, i.rope_theta));
      if (!strcmp(i.rope_type, "linear")) printf(", factor %s", num(b, sizeof b, i.rope_factor));
      if (!strcmp(i.rope_type, "llama3"))
        printf(", factor %s, low_freq_factor %s, high_freq_factor %s, original_max_position_embeddings %s",
               num(b, sizeof b, i.rope_factor), num(c, sizeof c, i.rope_low_freq_factor),
               num(d, sizeof d, i.rope_high_freq_factor), num(a, sizeof a, i.rope_original_max));
      printf(", %zu of %zu dimensions per head\n", i.rope_dims, i.head_dim);
    }
    printf("settings    %s\n", i.notes);
    printf("parameters  %llu\ndtype       %s\nweights     %llu bytes (mapped%s)\n", (unsigned long long)i.params, i.dtype,
           (unsigned long long)i.file_bytes, i.converted_bytes ? "" : ", used in place");
    if (i.converted_bytes) printf("converted   %llu bytes of float32 copies\n", (unsigned long long)i.converted_bytes);
    printf("to load     %llu bytes (weights mapped + float32 copies)\n", load);
    printf("kv cache    %llu bytes per 1000 tokens\n", (unsigned long long)i.kv_bytes_per_1000);
    printf("compute     OpenBLAS %s kernels, %zu threads", ivs_model_blas_core(), ivs_model_threads());
    if (ivs_model_blas_narrower() && getenv("OPENBLAS_CORETYPE"))
      printf(" (set by OPENBLAS_CORETYPE=%s; this CPU allows %s, which multiply faster)", getenv("OPENBLAS_CORETYPE"), cpu);
    else if (ivs_model_blas_narrower()) printf(" (this CPU allows %s, which multiply faster)", cpu);
    putchar('\n');
    if (!have_tok) printf("tokenizer   none (no tokenizer.json)\n");
    else if (!tok) printf("tokenizer   not usable: %s\n", err);
    else {
      printf("tokenizer   BPE, vocabulary %zu", ivs_tokenizer_vocab_size(tok));
      for (size_t k = 0; k < npre; k++) {
        const char *t = ivs_tokenizer_id_to_token(tok, pre[k], NULL);
        printf(k ? ", %s (%d)" : ", puts %s (%d)", t ? t : "?", pre[k]);
      }
      printf(npre ? " first\n" : "\n");
    }
  }
  ivs_tokenizer_free(tok);
  return finish_stdout(EXIT_OK);
}

/* One input line: ids and n_ctx. */
static int read_seq(const char *line, size_t len, size_t lineno, int32_t **ids, size_t *n, size_t *n_ctx) {
  cJSON *o = cJSON_ParseWithLength(line, len);
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "ids"), *k = cJSON_GetObjectItemCaseSensitive(o, "n_ctx"), *v;
  int rc = 0;
  if (!cJSON_IsArray(a) || !cJSON_IsNumber(k) || k->valuedouble < 0 || k->valuedouble != (double)(size_t)k->valuedouble)
    rc = ivs_error_set(IVS_EINVAL, "stdin:%zu: expected {\"ids\": [...], \"n_ctx\": K}", lineno);
  *n = rc ? 0 : (size_t)cJSON_GetArraySize(a);
  if (!rc && !(*ids = malloc((*n ? *n : 1) * sizeof **ids))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  size_t i = 0;
  cJSON_ArrayForEach(v, a) {
    if (rc) break;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int32_t)v->valuedouble)
      rc = ivs_error_set(IVS_EINVAL, "stdin:%zu: ids[%zu] is not a token id", lineno, i);
    else (*ids)[i++] = (int32_t)v->valuedouble;
  }
  if (!rc) *n_ctx = (size_t)k->valuedouble;
  cJSON_Delete(o);
  return rc;
}

static int score(ivs_model *m, int want_argmax) {
  ivs_reader rd;
  ivs_buf line;
  ivs_buf_init(&line, (size_t)16 << 20);
  size_t lineno;
  int rc = ivs_reader_open(&rd, "-");
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    int32_t *ids = NULL, *am = NULL;
    double *lp = NULL;
    size_t n = 0, k = 0;
    rc = read_seq(line.data, line.len, lineno, &ids, &n, &k);
    if (!rc && (!(am = malloc((n ? n : 1) * sizeof *am)) || !(lp = malloc((n ? n : 1) * sizeof *lp))))
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    if (!rc && (rc = ivs_model_score(m, ids, n, k, lp, want_argmax ? am : NULL))) ivs_error_prefix("stdin:%zu", lineno);
    if (!rc) {
      double sum = 0;
      int greedy = 1;
      fputs("{\"continuation_logprobs\":[", stdout);
      for (size_t i = k; i < n; i++) {
        if (i > k) putchar(',');
        put_double(lp[i - k]);
        sum += lp[i - k];
        if (want_argmax) greedy &= am[i - 1] == ids[i];
      }
      fputs("],\"sum_logprob\":", stdout);
      put_double(sum);
      if (want_argmax) {
        printf(",\"greedy\":%s,\"argmax\":[", greedy ? "true" : "false");
        for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", am[i]);
        putchar(']');
      }
      fputs("}\n", stdout);
    }
    free(ids), free(am), free(lp);
  }
  ivs_reader_close(&rd);
  ivs_buf_release(&line);
  return rc < 0 ? report_error() : finish_stdout(EXIT_OK);
}

/* Appends {"ids":[...]}\n without printf: this loop is the tokenizer benchmark's. */
static int put_ids(ivs_buf *out, const int32_t *ids, size_t n) {
  if (ivs_buf_reserve(out, 16 + 12 * n)) return IVS_ENOMEM;
  char *o = out->data + out->len;
  memcpy(o, "{\"ids\":[", 8), o += 8;
  for (size_t i = 0; i < n; i++) {
    if (i) *o++ = ',';
    uint32_t v = (uint32_t)ids[i];
    char d[10];
    int k = 0;
    do d[k++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (k) *o++ = d[--k];
  }
  memcpy(o, "]}\n", 3), o += 3;
  out->len = (size_t)(o - out->data);
  return 0;
}

static int tokenize(const char *path, int decode, int special) {
  ivs_tokenizer *tok;
  if (ivs_tokenizer_load(&tok, path)) return report_error();
  ivs_reader rd;
  ivs_buf line, out;
  ivs_buf_init(&line, (size_t)64 << 20);
  ivs_buf_init(&out, 0);
  size_t lineno;
  int rc = ivs_reader_open(&rd, "-");
  while (!rc && (rc = ivs_reader_line(&rd, &line, &lineno)) == 1) {
    rc = 0;
    if (!line.len) continue;
    cJSON *o = cJSON_ParseWithLength(line.data, line.len);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, decode ? "ids" : "text"), *v;
    if (!decode) {
      int32_t *ids = NULL;
      size_t n = 0;
      if (!cJSON_IsString(f)) rc = ivs_error_set(IVS_EINVAL, "stdin:%zu: expected {\"text\": \"...\"}", lineno);
      else if ((rc = (special ? ivs_tokenizer_encode_special : ivs_tokenizer_encode)(tok, f->valuestring,
                                                                                     strlen(f->valuestring), &ids, &n)))
        ivs_error_prefix("stdin:%zu", lineno);
      if (!rc) rc = put_ids(&out, ids, n);
      free(ids);
    } else {
      size_t n = cJSON_IsArray(f) ? (size_t)cJSON_GetArraySize(f) : 0, i = 0, len;
      int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
      char *text = NULL;
      if (!cJSON_IsArray(f)) rc = ivs_error_set(IVS_EINVAL, "stdin:%zu: expected {\"ids\": [...]}", lineno);
      else if (!ids) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      cJSON_ArrayForEach(v, f) if (!rc && ids) ids[i++] = cJSON_IsNumber(v) ? (int32_t)v->valuedouble : -1;
      if (!rc && (rc = ivs_tokenizer_decode(tok, ids, n, 0, &text, &len))) ivs_error_prefix("stdin:%zu", lineno);
      if (!rc && !(rc = ivs_buf_puts(&out, "{\"text\":")) && !(rc = ivs_json_put_text(&out, text, len)))
        rc = ivs_buf_puts(&out, "}\n");
      free(ids), free(text);
    }
    cJSON_Delete(o);
    if (out.len >= ((size_t)1 << 16) || rc) fwrite(out.data, 1, out.len, stdout), ivs_buf_clear(&out);
  }
  if (out.len) fwrite(out.data, 1, out.len, stdout);
  ivs_reader_close(&rd);
  ivs_buf_release(&line), ivs_buf_release(&out);
  ivs_tokenizer_free(tok);
  return rc < 0 ? report_error() : finish_stdout(EXIT_OK);
}

int cmd_lm(int argc, char **argv, const char *db) {
  (void)db;
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) return fputs(help, stdout), finish_stdout(EXIT_OK);
  if (argc >= 2 && !strcmp(argv[1], "generate")) return lm_generate(argc, argv);
  if (argc >= 3 && !strcmp(argv[1], "tokenize")) {
    int decode = 0, special = 0;
    for (int i = 3; i < argc; i++) {
      if (!strcmp(argv[i], "--decode")) decode = 1;
      else if (!strcmp(argv[i], "--special")) special = 1;
      else return usage_error("lm", "expected 'lm tokenize DIR|tokenizer.json [--special | --decode]'");
    }
    if (decode && special) return usage_error("lm", "--special adds tokens when encoding; it does not go with --decode");
    return tokenize(argv[2], decode, special);
  }
  int no_argmax = argc == 4 && !strcmp(argv[1], "score") && !strcmp(argv[3], "--no-argmax"), json = 0;
  static const char *const forms[] = {"text", "json"};
  int is_info = argc >= 3 && !strcmp(argv[1], "info");
  if (is_info && argc == 5 && !strcmp(argv[3], "--format") && ivs_parse_enum("--format", argv[4], forms, 2, &json))
    return usage_from_error("lm");
  if (is_info ? argc != 3 && !(argc == 5 && !strcmp(argv[3], "--format"))
              : (argc != 3 && !no_argmax) || strcmp(argv[1], "score"))
    return usage_error("lm", "expected 'lm info DIR [--format text|json]' or 'lm score DIR [--no-argmax]'");
  ivs_model *m;
  if (ivs_model_open(&m, argv[2])) return report_error();
  int code = is_info ? info(m, argv[2], json) : score(m, !no_argmax);
  ivs_model_free(m);
  return code;
}

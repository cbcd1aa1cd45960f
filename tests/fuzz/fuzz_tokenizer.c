/* libFuzzer: tokenizer.json loading and encoding arbitrary bytes.
 *
 * The first byte chooses.  Below 0x80, the rest is text for one of four
 * tokenizers loaded once: GPT-2 (IVS_FUZZ_TOKENIZER names a tokenizer.json,
 * else the shared fixture beside the source tree; the text must come back
 * byte for byte) and three small ones built here that reach the other
 * components (Llama-2's normalizer, byte fallback, fused unk and decoders;
 * the Unicode normalizers, Split behaviours, Metaspace, added-token flags;
 * the splitting pre-tokenizers, unk without fallback, no decoder).  The
 * valid UTF-8 prefix must encode, with and without special tokens, every id
 * must have a token and decoding must succeed.  From 0x80 on, the rest is a
 * tokenizer.json: it loads or fails with an error, and what loads encodes and
 * decodes a few strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/tokenizer.h"

#define NTOK 4
static ivs_tokenizer *toks[NTOK];

/* A byte-level alphabet vocabulary (the 256 byte characters), as JSON members. */
static size_t put_byte_vocab(char *o, size_t at, size_t cap, int first_id) {
  int id = first_id, next = 256;
  for (int b = 0; b < 256; b++) {
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    int cp = printable ? b : next++;
    char u[8];
    if (cp < 0x80) {
      if (cp == '"' || cp == '\\') snprintf(u, sizeof u, "\\%c", cp);
      else snprintf(u, sizeof u, "%c", cp);
    } else {
      snprintf(u, sizeof u, "%c%c", 0xC0 | (cp >> 6), 0x80 | (cp & 0x3F));
    }
    at += (size_t)snprintf(o + at, cap - at, "%s\"%s\":%d", b ? "," : "", u, id++);
  }
  return at;
}

static ivs_tokenizer *build(int which) {
  static char json[65536];
  size_t at = 0, cap = sizeof json;
  if (which == 1) { /* Llama-2 style */
    at += (size_t)snprintf(json, cap,
                           "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"normalized\":false},"
                           "{\"id\":1,\"content\":\"<s>\",\"special\":true,\"normalized\":false},"
                           "{\"id\":2,\"content\":\"</s>\",\"special\":true,\"normalized\":false}],"
                           "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\xE2\x96\x81\"},"
                           "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\xE2\x96\x81\"}]},"
                           "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},"
                           "{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1]}}},"
                           "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\xE2\x96\x81\"},"
                           "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \","
                           "\"start\":1,\"stop\":0}]},"
                           "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{"
                           "\"<unk>\":0,\"<s>\":1,\"</s>\":2");
    for (int b = 0; b < 256; b++) at += (size_t)snprintf(json + at, cap - at, ",\"<0x%02X>\":%d", b, 3 + b);
    at += (size_t)snprintf(json + at, cap - at,
                           ",\"\xE2\x96\x81\":259,\"a\":260,\"b\":261,\"e\":262,\"\xE2\x96\x81" "a\":263,\"ab\":264,\"\xE2\x96\x81" "ab\":265,"
                           "\"\xE6\x97\xA5\":266},\"merges\":[\"a b\",\"\xE2\x96\x81 a\",\"\xE2\x96\x81 ab\"]}}");
  } else if (which == 2) { /* normalizers, Split, Metaspace, added-token flags over a byte-level vocabulary */
    at += (size_t)snprintf(json, cap, "{\"model\":{\"type\":\"BPE\",\"vocab\":{");
    at = put_byte_vocab(json, at, cap, 0);
    at += (size_t)snprintf(json + at, cap - at,
                           ",\"ab\":256,\"\xC4\xA0" "a\":257},\"merges\":[\"a b\",\"\xC4\xA0 a\"]},"
                           "\"added_tokens\":[{\"id\":258,\"content\":\"<m>\",\"lstrip\":true,\"rstrip\":true,\"special\":true,\"normalized\":false},"
                           "{\"id\":259,\"content\":\"Word\",\"single_word\":true,\"normalized\":true},"
                           "{\"id\":260,\"content\":\"  \",\"normalized\":false}],"
                           "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKD\"},{\"type\":\"Lowercase\"},"
                           "{\"type\":\"StripAccents\"},{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":false},"
                           "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s{2,}\"},\"content\":\" \"},{\"type\":\"NFC\"}]},"
                           "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                           "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t)|\\\\p{N}{1,3}|a*\"},\"behavior\":\"MergedWithNext\",\"invert\":true},"
                           "{\"type\":\"Split\",\"pattern\":{\"String\":\"x\"},\"behavior\":\"Contiguous\"},"
                           "{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\",\"prepend_scheme\":\"first\",\"split\":true},"
                           "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":true}]},"
                           "\"post_processor\":{\"type\":\"RobertaProcessing\",\"cls\":[\"<m>\",258],\"sep\":[\"ab\",256]},"
                           "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteLevel\"},{\"type\":\"Metaspace\",\"replacement\":\"\xE2\x96\x81\"}]}}");
  } else { /* the splitting pre-tokenizers; unk without fallback; no decoder */
    at += (size_t)snprintf(json, cap,
                           "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"?\",\"vocab\":{\"?\":0,\"a\":1,\"b\":2,\"ab\":3,\"1\":4,\".\":5},"
                           "\"merges\":[[\"a\",\"b\"]]},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                           "{\"type\":\"Whitespace\"},{\"type\":\"Digits\",\"individual_digits\":true},{\"type\":\"Punctuation\"},"
                           "{\"type\":\"BertPreTokenizer\"},{\"type\":\"CharDelimiterSplit\",\"delimiter\":\"b\"},"
                           "{\"type\":\"WhitespaceSplit\"}]},\"normalizer\":{\"type\":\"NFKC\"}}");
  }
  if (at >= cap) abort();
  ivs_tokenizer *t;
  if (ivs_tokenizer_parse(&t, json, at, "built-in")) {
    fprintf(stderr, "%s\n", ivs_error_message());
    abort();
  }
  return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *path = getenv("IVS_FUZZ_TOKENIZER");
  char buf[4096];
  if (!path) {
    const char *src = __FILE__, *slash = strrchr(src, '/');
    snprintf(buf, sizeof buf, "%.*s/../../../shared/fixtures/hf-reference/tokenizers/gpt2.json",
             (int)(slash ? slash - src : 1), slash ? src : ".");
    path = buf;
  }
  if (ivs_tokenizer_load(&toks[0], path)) abort();
  for (int k = 1; k < NTOK; k++) toks[k] = build(k);
  return 0;
}

/* Encodes and decodes; returns the decoded text (the caller frees) or NULL
 * when encoding failed with an error (allowed only for loaded files). */
static char *round_trip(const ivs_tokenizer *t, const char *s, size_t n, size_t *len, int strict) {
  int32_t *ids;
  size_t nid;
  for (int special = 0; special < 2; special++) {
    int rc = (special ? ivs_tokenizer_encode_special : ivs_tokenizer_encode)(t, s, n, &ids, &nid);
    if (rc) {
      if (strict) abort();
      return NULL;
    }
    for (size_t i = 0; i < nid; i++)
      if (!ivs_tokenizer_id_to_token(t, ids[i], NULL)) abort();
    if (special) break;
    free(ids);
  }
  char *text;
  if (ivs_tokenizer_decode(t, ids, nid, 0, &text, len)) abort();
  free(ids);
  return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  const char *rest = (const char *)data + 1;
  size_t n = size - 1;
  if (data[0] < 0x80) {
    int k = data[0] % NTOK;
    n = ivs_utf8_valid_prefix((const unsigned char *)rest, n, 0);
    size_t len;
    char *text = round_trip(toks[k], rest, n, &len, 1);
    if (k == 0 && (len != n || memcmp(text, rest, n))) abort(); /* byte-level BPE gives the text back */
    free(text);
    return 0;
  }
  ivs_tokenizer *t;
  if (ivs_tokenizer_parse(&t, rest, n, "input")) {
    if (!ivs_error_message()[0]) abort(); /* a failure always says why */
    return 0;
  }
  static const char *const texts[] = {"", "Hello world", " <s> a  b\t\n123 'S", "\xE6\x97\xA5\xE6\x9C\xAC \xC3\xA9 e\xCC\x81"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    size_t len;
    free(round_trip(t, texts[i], strlen(texts[i]), &len, 0));
  }
  ivs_tokenizer_free(t);
  return 0;
}

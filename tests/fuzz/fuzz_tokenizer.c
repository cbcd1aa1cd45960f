/* libFuzzer: the GPT-2 tokenizer (loaded once; IVS_FUZZ_TOKENIZER names a
 * tokenizer.json, else the shared fixture beside the source tree).  The
 * valid UTF-8 prefix of the input must encode, every id must have a token,
 * and decoding must give the text back byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "tokenizer/tokenizer.h"

static ivs_tokenizer *tok;

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
  if (ivs_tokenizer_load(&tok, path)) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n = ivs_utf8_valid_prefix(data, size, 0);
  int32_t *ids;
  size_t nid;
  if (ivs_tokenizer_encode(tok, (const char *)data, n, &ids, &nid)) abort();
  for (size_t i = 0; i < nid; i++)
    if (!ivs_tokenizer_id_to_token(tok, ids[i], NULL)) abort();
  char *text;
  size_t len;
  if (ivs_tokenizer_decode(tok, ids, nid, 0, &text, &len)) abort();
  if (len != n || memcmp(text, data, n)) abort();
  free(text);
  free(ids);
  return 0;
}

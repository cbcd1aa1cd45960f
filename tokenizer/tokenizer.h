/* Hugging Face tokenizer.json: byte-level BPE tokenizers (GPT-2 style, and
 * the Llama-3 / Qwen2 Split regex variant), encoded exactly as the Rust
 * `tokenizers` library encodes them.
 *
 * Supported components: added tokens (special, single_word, lstrip, rstrip,
 * normalized); normalizer null, NFC or a Sequence of NFC; pre-tokenizers
 * ByteLevel (add_prefix_space, use_regex), Split (pattern String or Regex,
 * every behavior, invert) and Sequence; model BPE (merges as "a b" strings or
 * [a, b] pairs, ignore_merges, unk_token, fuse_unk, byte_fallback); post
 * processors null, ByteLevel, TemplateProcessing and Sequence of those;
 * decoder ByteLevel or null.  Anything else is refused at load with
 * IVS_EINVAL naming the component and its type.
 *
 * A loaded tokenizer is immutable: every call below may run on several
 * threads at once. */
#ifndef IVS_ENGINE_TOKENIZER_H
#define IVS_ENGINE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define IVS_TOK_MAX_FILE ((size_t)256 << 20) /* tokenizer.json bytes */
#define IVS_TOK_MAX_VOCAB ((size_t)1 << 22)  /* highest id + 1 */
#define IVS_TOK_MAX_MERGES ((size_t)1 << 22)
#define IVS_TOK_MAX_TEXT ((size_t)1 << 30)   /* bytes per encode call */

typedef struct ivs_tokenizer ivs_tokenizer;

/* Loads `path`: a tokenizer.json file, or a directory holding one.  On
 * success *out is the caller's (ivs_tokenizer_free).  IVS_EIO for a file that
 * cannot be read, IVS_EPARSE for invalid JSON, IVS_EINVAL for an unsupported
 * or inconsistent component, IVS_ELIMIT past the limits above; the message
 * names the file and the component.  *out is NULL after a failure. */
int ivs_tokenizer_load(ivs_tokenizer **out, const char *path);

/* Frees everything; accepts NULL. */
void ivs_tokenizer_free(ivs_tokenizer *tok);

/* Encodes len bytes of UTF-8 text as HF's encode(text,
 * add_special_tokens=False) does (the post-processor is not applied: see
 * ivs_tokenizer_special_prefix).  *ids (malloc'd, the caller frees; may be
 * NULL when *n is 0) receives *n ids.  IVS_EINVAL for text that is not valid
 * UTF-8, IVS_ELIMIT past IVS_TOK_MAX_TEXT, IVS_ENOMEM. */
int ivs_tokenizer_encode(const ivs_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n);

/* Decodes n ids into UTF-8 text as HF's decode does (the decoder applied,
 * invalid byte sequences replaced by U+FFFD); special added tokens are left
 * out when skip_special is non-zero.  *text (malloc'd, NUL-terminated, the
 * caller frees) holds *len bytes.  IVS_EINVAL for an id without a token. */
int ivs_tokenizer_decode(const ivs_tokenizer *tok, const int32_t *ids, size_t n, int skip_special, char **text,
                         size_t *len);

/* The highest id + 1 (model vocabulary and added tokens). */
size_t ivs_tokenizer_vocab_size(const ivs_tokenizer *tok);

/* The token string of id (as in tokenizer.json, e.g. "Ġworld"), borrowed
 * from tok, or NULL for an id without a token.  *len receives its length
 * when len is not NULL. */
const char *ivs_tokenizer_id_to_token(const ivs_tokenizer *tok, int32_t id, size_t *len);

/* The id of a token string (model vocabulary or added token), or -1. */
int32_t ivs_tokenizer_token_to_id(const ivs_tokenizer *tok, const char *token, size_t len);

/* The ids the post-processor puts before (prefix) and after (suffix) a single
 * sequence: e.g. a BOS for Llama-style TemplateProcessing.  Borrowed from
 * tok; *n is 0 when there are none (post_processor null or ByteLevel). */
void ivs_tokenizer_special_prefix(const ivs_tokenizer *tok, const int32_t **ids, size_t *n);
void ivs_tokenizer_special_suffix(const ivs_tokenizer *tok, const int32_t **ids, size_t *n);

#endif

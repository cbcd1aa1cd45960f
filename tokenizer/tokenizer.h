/* Hugging Face tokenizer.json, encoded and decoded exactly as the Rust
 * `tokenizers` library (0.22) does.
 *
 * Supported, and nothing else:
 *   model          BPE: vocab, merges as "a b" strings or [a, b] pairs (a pair
 *                  given twice takes its last rank), ignore_merges, unk_token,
 *                  fuse_unk, byte_fallback; dropout null or 0, no
 *                  continuing_subword_prefix or end_of_word_suffix
 *   added_tokens   every flag: special, single_word, lstrip, rstrip,
 *                  normalized (matched after the normalizer, in the token's
 *                  normalized form); the ids must be those HF gives them
 *   normalizer     null, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents,
 *                  Replace (String or Regex), Prepend, ByteLevel, Sequence
 *   pre_tokenizer  null, ByteLevel (add_prefix_space, use_regex), Split
 *                  (String or Regex, every behavior, invert), Metaspace
 *                  (replacement, prepend_scheme always/first/never or the older
 *                  add_prefix_space, split), Digits, Whitespace,
 *                  WhitespaceSplit, Punctuation, CharDelimiterSplit,
 *                  BertPreTokenizer, Sequence
 *   post_processor null, ByteLevel, TemplateProcessing (single), RobertaProcessing,
 *                  BertProcessing, Sequence
 *   decoder        null (tokens joined with spaces), ByteLevel, Metaspace,
 *                  Replace, ByteFallback, Fuse, Strip, Sequence
 *   truncation, padding: null
 * Regexes are Oniguruma's (HF's engine) run through PCRE2 with JIT; the
 * Unicode tables are PCRE2's and utf8proc's.  Anything else (Unigram,
 * WordPiece, WordLevel, BertNormalizer, Precompiled, UnicodeScripts, ...) is
 * refused at load with IVS_EINVAL naming the component and its type.
 * Stricter than HF, on purpose: added-token ids that HF would renumber, an id
 * given to two vocabulary entries and a regex PCRE2 cannot compile are load
 * errors; an unk_token missing from the vocabulary is an encode error when a
 * character needs it; decoding an id without a token is an error (HF drops
 * it).  Known gaps: inside a character class \S, \W and \H are PCRE2's, not
 * Oniguruma's (no known tokenizer writes them), and characters assigned after
 * Unicode 14 may be classed differently.
 *
 * A loaded tokenizer is immutable: every call below may run on several
 * threads at once.  Encoding keeps a workspace and a word cache per thread
 * (freed when the thread ends). */
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

/* The same from len bytes of tokenizer.json in memory (borrowed for the call);
 * `name` stands for the file in error messages. */
int ivs_tokenizer_parse(ivs_tokenizer **out, const char *json, size_t len, const char *name);

/* Frees everything; accepts NULL. */
void ivs_tokenizer_free(ivs_tokenizer *tok);

/* Encodes len bytes of UTF-8 text as HF's encode(text,
 * add_special_tokens=False) does (the post-processor is not applied: see
 * ivs_tokenizer_special_prefix).  *ids (malloc'd, the caller frees; may be
 * NULL when *n is 0) receives *n ids.  IVS_EINVAL for text that is not valid
 * UTF-8, IVS_ELIMIT past IVS_TOK_MAX_TEXT, IVS_ENOMEM. */
int ivs_tokenizer_encode(const ivs_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n);

/* As ivs_tokenizer_encode, with the post-processor's special tokens around the
 * ids (HF's encode(text, add_special_tokens=True): e.g. Llama's BOS). */
int ivs_tokenizer_encode_special(const ivs_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n);

/* Decodes n ids into UTF-8 text as HF's decode does (the decoder applied,
 * invalid byte sequences replaced by U+FFFD); special added tokens are left
 * out when skip_special is non-zero.  *text (malloc'd, NUL-terminated, the
 * caller frees) holds *len bytes.  IVS_EINVAL for an id without a token
 * (HF skips those silently). */
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

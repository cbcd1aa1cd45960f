/* The tokenizer module's own declarations, shared by its files and nothing
 * else: the loaded structures (one section per component) and the encode
 * pipeline's working state.
 *
 *   load.c        tokenizer.json -> ivs_tokenizer, the post-processor, lookups
 *   bpe.c         the BPE model: vocabulary, merges, one word at a time
 *   added.c       added tokens: the trie and the split around them
 *   normalize.c   normalizers
 *   pretokenize.c pre-tokenizers and the delimiter behaviours
 *   regex.c       Oniguruma-compatible patterns through PCRE2 (JIT)
 *   unicode.c     character classes as Rust and Oniguruma define them
 *   encode.c      the pipeline, the per-thread workspace and word cache
 *   decode.c      decoders
 */
#ifndef IVS_TOKENIZER_INTERNAL_H
#define IVS_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tokenizer/tokenizer.h"

#define TK_NO_TOKEN UINT32_MAX
#define TK_MAX_STEPS 32    /* normalizers, pre-tokenizers or decoders, Sequences flattened */
#define TK_MAX_SPECIAL 16  /* ids a post-processor adds on either side */
#define TK_MAX_DEPTH 8     /* nested Sequences */

/* ---- text: unicode.c ---- */

/* The code point at s (n > 0 bytes of valid UTF-8); *adv gets its length. */
int32_t tk_next(const char *s, size_t n, size_t *adv);
/* The last code point of s[0..n) (n > 0); *start gets its offset. */
int32_t tk_prev(const char *s, size_t n, size_t *start);
int tk_is_space(int32_t c);      /* White_Space (Rust char::is_whitespace, Oniguruma \s) */
int tk_is_rust_word(int32_t c);  /* Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control */
int tk_is_numeric(int32_t c);    /* Rust char::is_numeric: Nd, Nl, No */
int tk_is_punct(int32_t c);      /* ASCII punctuation or a P* category */
int tk_is_mark(int32_t c);       /* a combining mark: Mn, Mc, Me */
/* Appends the Rust char::to_lowercase of c. */
int tk_put_lower(ivs_buf *b, int32_t c);

/* ---- regex.c ---- */

/* Compiles an Oniguruma pattern (as tokenizer.json's Regex) for PCRE2, or a
 * literal; `what` names the component in the error. */
int tk_regex_compile(pcre2_code **out, const char *pat, size_t n, int literal, const char *path, const char *what);

typedef struct { uint32_t a, b; int m; } tk_seg; /* [a, b) of a piece; m: a match */

typedef struct {
  tk_seg *v;
  size_t n, cap;
  pcre2_match_data *md;
} tk_segs;

/* Fills s with s[0..n) cut by re as HF's Pattern::find_matches does
 * (Oniguruma's iteration: an empty match right after a match is skipped). */
int tk_regex_segments(const pcre2_code *re, const char *s, size_t n, tk_segs *out);
/* The same for a predicate on code points: every character it accepts is a
 * match of its own. */
int tk_char_segments(int (*pred)(int32_t c, uint32_t arg), uint32_t arg, const char *s, size_t n, tk_segs *out);
/* Folds the segments as SplitDelimiterBehavior does; leaves the pieces to keep
 * (m = 0) in order. */
enum { TK_REMOVED, TK_ISOLATED, TK_MERGED_PREV, TK_MERGED_NEXT, TK_CONTIGUOUS };
void tk_segs_behave(tk_segs *s, int behavior, int invert);

/* ---- the working state of one encode: encode.c ---- */

typedef struct {
  uint32_t off, len; /* into the arena */
  int32_t added;     /* an added token's id, or -1 */
  uint8_t first;     /* starts at offset 0 of the original text (Metaspace "first") */
} tk_piece;

typedef struct tk_work {
  ivs_buf arena;         /* every version of the text */
  ivs_buf tmp, tmp2;     /* scratch for one step */
  tk_piece *p, *q;       /* the current pieces and the next step's */
  size_t np, nq, capp, capq;
  tk_segs segs;
  struct tk_cache *cache;
} tk_work;

/* Appends a piece to the next list (nothing when len is 0). */
int tk_emit(tk_work *w, size_t off, size_t len, int32_t added, int first);
/* The next list becomes the current one. */
void tk_swap(tk_work *w);

/* ---- normalizers: normalize.c ---- */

enum { N_NFC, N_NFD, N_NFKC, N_NFKD, N_LOWERCASE, N_STRIP, N_STRIP_ACCENTS, N_REPLACE, N_PREPEND, N_BYTELEVEL };
typedef struct {
  int type;
  int left, right;  /* Strip */
  pcre2_code *re;   /* Replace */
  char *content;    /* Replace's content, Prepend's prefix */
  size_t content_len;
} tk_norm;

int tk_normalizer_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth);
/* Normalizes s[0..n) into out (cleared first) through every normalizer. */
int tk_normalize_str(const ivs_tokenizer *t, const char *s, size_t n, ivs_buf *out, ivs_buf *tmp);
/* Normalizes every piece that is not an added token. */
int tk_normalize(const ivs_tokenizer *t, tk_work *w);

/* ---- pre-tokenizers: pretokenize.c ---- */

enum { P_BYTELEVEL, P_SPLIT, P_METASPACE, P_DIGITS, P_WHITESPACE, P_WHITESPACE_SPLIT, P_PUNCTUATION, P_CHAR_DELIMITER,
       P_BERT };
enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };
typedef struct {
  int type;
  int behavior, invert;            /* Split, Punctuation */
  int add_prefix_space, use_regex; /* ByteLevel */
  int prepend, split;              /* Metaspace */
  uint32_t ch;                     /* Metaspace's replacement, CharDelimiterSplit's delimiter */
  char rep[4];                     /* Metaspace's replacement in UTF-8 */
  uint8_t rep_len;
  int individual;                  /* Digits */
  pcre2_code *re;                  /* Split's pattern, ByteLevel's GPT-2 regex */
} tk_pre;

int tk_pretokenizer_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth);
int tk_pretokenize(const ivs_tokenizer *t, tk_work *w);

/* ---- the BPE model: bpe.c ---- */

typedef struct { uint64_t key; uint32_t rank; int32_t id; } tk_merge; /* key 0: empty */

typedef struct {
  int32_t *vmap; /* vocabulary hash: ids, -1 empty */
  size_t vmask, nvocab;
  tk_merge *mmap;
  size_t mmask;
  int32_t unk;     /* -1: none; -2: named but not in the vocabulary */
  char *unk_name;
  int fuse_unk, byte_fallback, ignore_merges;
  int32_t byte_tok[256]; /* <0xXX> ids, -1 */
  int32_t char_tok[128]; /* ids of the one-byte characters, -1 */
} tk_bpe;

int tk_bpe_load(ivs_tokenizer *t, const cJSON *model, const char *path);
void tk_bpe_release(tk_bpe *m);
int32_t tk_vocab_get(const ivs_tokenizer *t, const char *s, size_t n);
/* Appends the ids of one pre-tokenized word to out. */
int tk_bpe_word(const ivs_tokenizer *t, const char *w, size_t n, int32_t **out, size_t *nout, size_t *cap);

/* ---- added tokens: added.c ---- */

typedef struct {
  char *content;   /* as in the file */
  char *match;     /* what is looked for: content, or its normalized form */
  size_t len, match_len;
  int32_t id;
  uint8_t single_word, lstrip, rstrip, normalized, special;
} tk_added;

typedef struct { int32_t child, next, token; uint8_t byte; } tk_node; /* first-child / next-sibling */

typedef struct {
  tk_node *node;
  size_t n, cap;
  int32_t root[256]; /* the root's children by byte, -1 */
} tk_trie;

int tk_added_load(ivs_tokenizer *t, const cJSON *list, const char *path);
/* After the normalizer is loaded: the normalized forms and both tries. */
int tk_added_build(ivs_tokenizer *t, const char *path);
void tk_added_release(ivs_tokenizer *t);
/* Splits every piece around the added tokens of one pass (normalized or not). */
int tk_added_split(const ivs_tokenizer *t, tk_work *w, int normalized);
/* The added token spelled exactly s[0..n), or NULL. */
const tk_added *tk_added_exact(const ivs_tokenizer *t, const char *s, size_t n);

/* ---- decoders: decode.c ---- */

enum { D_BYTELEVEL, D_METASPACE, D_REPLACE, D_BYTE_FALLBACK, D_FUSE, D_STRIP };
typedef struct {
  int type;
  uint32_t ch;      /* Metaspace's replacement, Strip's content */
  int prepend;      /* Metaspace */
  size_t start, stop; /* Strip */
  pcre2_code *re;   /* Replace */
  char *content;
  size_t content_len;
} tk_dec;

int tk_decoder_load(ivs_tokenizer *t, const cJSON *j, const char *path, int depth);

/* ---- the loaded tokenizer ---- */

typedef struct { uint32_t off, len; } tk_span;

struct ivs_tokenizer {
  uint64_t serial;     /* tells one load from another for the per-thread cache */
  ivs_buf pool;        /* token strings */
  tk_span *tok;        /* by id; off TK_NO_TOKEN = none */
  size_t ntok;
  tk_bpe bpe;
  tk_added *added;
  size_t nadded;
  int32_t *amap;       /* added tokens by content: indexes into added, -1 empty */
  size_t amask;
  tk_trie trie[2];     /* [0] matched on the original text, [1] on the normalized */
  uint8_t *is_special; /* by id */
  tk_norm norm[TK_MAX_STEPS];
  size_t nnorm;
  tk_pre pre[TK_MAX_STEPS];
  size_t npre;
  tk_dec dec[TK_MAX_STEPS];
  size_t ndec;
  int has_decoder;
  int32_t prefix[TK_MAX_SPECIAL], suffix[TK_MAX_SPECIAL];
  size_t nprefix, nsuffix;
  uint32_t byte_cp[256]; /* byte -> code point of the byte-level alphabet */
  int16_t cp_byte[324];  /* code point -> byte, -1 (the alphabet ends at U+0143) */
};

/* JSON helpers of load.c for the component loaders. */
int tk_fail(int code, const char *path, const char *what);
int tk_bool(const cJSON *o, const char *name, int dflt);
const char *tk_type(const cJSON *o);
/* A one-character string field, as a code point; -1 when absent or longer. */
int32_t tk_char_field(const cJSON *o, const char *name);
/* Replace's {"pattern": {"String"|"Regex"}, "content"} into *re and a copy of content. */
int tk_replace_load(const cJSON *j, pcre2_code **re, char **content, size_t *content_len, const char *path,
                    const char *what);
/* Every match of re in s[0..n) replaced by content, into out (cleared first). */
int tk_replace_all(const pcre2_code *re, const char *content, size_t content_len, const char *s, size_t n, ivs_buf *out,
                   pcre2_match_data **md);

#endif

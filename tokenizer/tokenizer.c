/* tokenizer.json: loading, the encode pipeline (added tokens, normalizer,
 * pre-tokenizers, BPE) and decoding.  See tokenizer.h for what is supported. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/tokenizer.h"

#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/utf8.h"

#define NO_TOKEN UINT32_MAX
#define MAX_PRE 16
#define MAX_SPECIAL 16

static const char GPT2_RE[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

typedef struct { uint32_t off, len; } span;
typedef struct { uint64_t key; uint32_t rank; int32_t id; } merge_ent; /* key 0 = empty */
typedef struct {
  char *content;
  size_t len;
  int32_t id;
  int single_word, lstrip, rstrip, normalized, special;
} added_tok;

enum { PRE_BYTELEVEL, PRE_SPLIT };
enum { B_REMOVED, B_ISOLATED, B_PREV, B_NEXT, B_CONTIG };
typedef struct {
  int type;
  int add_prefix_space, use_regex; /* ByteLevel */
  int behavior, invert;            /* Split */
  pcre2_code *re;                  /* Split's pattern, or ByteLevel's GPT-2 regex */
} pretok;

struct ivs_tokenizer {
  ivs_buf pool;  /* token strings */
  span *tok;     /* by id; off NO_TOKEN = none */
  size_t ntok;
  int32_t *vmap; /* vocab hash: model ids, -1 empty */
  size_t vmask;
  merge_ent *mmap;
  size_t mmask;
  added_tok *added;
  size_t nadded;
  unsigned char *is_added; /* by id: 1 added, 2 special */
  uint8_t first[2][32];     /* first bytes of the added tokens of each pass (bit sets) */
  int nfc;
  pretok pre[MAX_PRE];
  size_t npre;
  int32_t unk;
  int fuse_unk, byte_fallback, ignore_merges;
  int32_t byte_tok[256];
  int32_t prefix[MAX_SPECIAL], suffix[MAX_SPECIAL];
  size_t nprefix, nsuffix;
  int dec_bytelevel;
  uint32_t byte_cp[256]; /* byte -> code point of the byte-level alphabet */
  int16_t cp_byte[512];  /* code point -> byte, -1 */
};

/* ---- hashing ---- */

static uint64_t hstr(const char *s, size_t n) { return ivs_hash_bytes(0x1234567, s, n); }

static int32_t vocab_get(const ivs_tokenizer *t, const char *s, size_t n) {
  if (!t->vmap) return -1;
  for (size_t i = hstr(s, n) & t->vmask;; i = (i + 1) & t->vmask) {
    int32_t id = t->vmap[i];
    if (id < 0) return -1;
    const span *sp = &t->tok[id];
    if (sp->len == n && memcmp(t->pool.data + sp->off, s, n) == 0) return id;
  }
}

static void vocab_put(ivs_tokenizer *t, int32_t id) {
  const span *sp = &t->tok[id];
  for (size_t i = hstr(t->pool.data + sp->off, sp->len) & t->vmask;; i = (i + 1) & t->vmask)
    if (t->vmap[i] < 0) {
      t->vmap[i] = id;
      return;
    }
}

static uint64_t mkey(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static const merge_ent *merge_get(const ivs_tokenizer *t, int32_t a, int32_t b) {
  uint64_t k = mkey(a, b);
  for (size_t i = ivs_hash_mix(0, k) & t->mmask;; i = (i + 1) & t->mmask) {
    if (t->mmap[i].key == k) return &t->mmap[i];
    if (t->mmap[i].key == 0) return NULL;
  }
}

/* ---- UTF-8 and character classes ---- */

static size_t u8len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

static int32_t u8dec(const char *s, size_t n, size_t *adv) {
  utf8proc_int32_t c;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
  *adv = k > 0 ? (size_t)k : 1;
  return k > 0 ? c : -1;
}

/* Rust's char::is_whitespace (the White_Space property). */
static int is_ws(int32_t c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Rust's is_alphanumeric() || '_' (letters and numbers, by category). */
static int is_word(int32_t c) {
  if (c == '_') return 1;
  utf8proc_category_t k = utf8proc_category(c);
  return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
         (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static int32_t last_char(const char *s, size_t n) {
  if (!n) return -1;
  size_t i = n - 1;
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
  size_t adv;
  return u8dec(s + i, n - i, &adv);
}

/* ---- loading ---- */

static int fail(int code, const char *path, const char *what) {
  return ivs_error_set(code, "%s: %s", path, what);
}

static int pool_add(ivs_tokenizer *t, const char *s, size_t n, span *out) {
  if (t->pool.len + n >= UINT32_MAX) return ivs_error_set(IVS_ELIMIT, "token strings over 4 GiB");
  out->off = (uint32_t)t->pool.len;
  out->len = (uint32_t)n;
  return ivs_buf_append(&t->pool, s, n);
}

static int set_token(ivs_tokenizer *t, int32_t id, const char *s, size_t n) {
  if ((size_t)id >= t->ntok) {
    size_t cap = t->ntok;
    if (ivs_grow((void **)&t->tok, &cap, (size_t)id + 1, sizeof *t->tok, 1024)) return IVS_ENOMEM;
    for (size_t i = t->ntok; i < cap; i++) t->tok[i].off = NO_TOKEN, t->tok[i].len = 0;
    t->ntok = (size_t)id + 1;
  }
  return pool_add(t, s, n, &t->tok[id]);
}

static int bool_field(const cJSON *o, const char *name, int dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
  return dflt;
}

static int compile_re(pcre2_code **out, const char *pat, size_t n, int literal, const char *path, const char *what) {
  int err;
  PCRE2_SIZE at;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
  *out = pcre2_compile((PCRE2_SPTR)pat, n, opts, &err, &at, NULL);
  if (!*out) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return ivs_error_set(IVS_EINVAL, "%s: %s: regex does not compile at offset %zu: %s", path, what, (size_t)at,
                         (const char *)msg);
  }
  pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if JIT is unavailable */
  return 0;
}

static int load_pretok(ivs_tokenizer *t, const cJSON *p, const char *path) {
  if (!p || cJSON_IsNull(p)) return 0;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (!cJSON_IsString(type)) return fail(IVS_EINVAL, path, "pre_tokenizer: missing 'type'");
  const char *ty = type->valuestring;
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"), *e;
    if (!cJSON_IsArray(l)) return fail(IVS_EINVAL, path, "pre_tokenizer: Sequence without 'pretokenizers'");
    cJSON_ArrayForEach(e, l) {
      int rc = load_pretok(t, e, path);
      if (rc) return rc;
    }
    return 0;
  }
  if (t->npre == MAX_PRE) return fail(IVS_ELIMIT, path, "pre_tokenizer: more than 16 in a Sequence");
  pretok *q = &t->pre[t->npre];
  memset(q, 0, sizeof *q);
  if (strcmp(ty, "ByteLevel") == 0) {
    q->type = PRE_BYTELEVEL;
    q->behavior = B_ISOLATED;
    q->add_prefix_space = bool_field(p, "add_prefix_space", 1);
    q->use_regex = bool_field(p, "use_regex", 1);
    if (q->use_regex) {
      int rc = compile_re(&q->re, GPT2_RE, sizeof GPT2_RE - 1, 0, path, "pre_tokenizer ByteLevel");
      if (rc) return rc;
    }
  } else if (strcmp(ty, "Split") == 0) {
    q->type = PRE_SPLIT;
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex"), *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
    const cJSON *beh = cJSON_GetObjectItemCaseSensitive(p, "behavior");
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    q->behavior = -1;
    for (int i = 0; i < 5 && cJSON_IsString(beh); i++)
      if (strcmp(beh->valuestring, names[i]) == 0) q->behavior = i;
    if (q->behavior < 0) return fail(IVS_EINVAL, path, "pre_tokenizer Split: unknown 'behavior'");
    q->invert = bool_field(p, "invert", 0);
    const cJSON *s = cJSON_IsString(rx) ? rx : str;
    if (!cJSON_IsString(s)) return fail(IVS_EINVAL, path, "pre_tokenizer Split: 'pattern' is neither Regex nor String");
    int rc = compile_re(&q->re, s->valuestring, strlen(s->valuestring), s == str, path, "pre_tokenizer Split");
    if (rc) return rc;
  } else {
    return ivs_error_set(IVS_EINVAL, "%s: pre_tokenizer type '%s' is not supported", path, ty);
  }
  t->npre++;
  return 0;
}

static int load_normalizer(ivs_tokenizer *t, const cJSON *p, const char *path) {
  if (!p || cJSON_IsNull(p)) return 0;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (!cJSON_IsString(type)) return fail(IVS_EINVAL, path, "normalizer: missing 'type'");
  if (strcmp(type->valuestring, "NFC") == 0) {
    t->nfc = 1;
    return 0;
  }
  if (strcmp(type->valuestring, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "normalizers"), *e;
    cJSON_ArrayForEach(e, l) {
      int rc = load_normalizer(t, e, path);
      if (rc) return rc;
    }
    return 0;
  }
  return ivs_error_set(IVS_EINVAL, "%s: normalizer type '%s' is not supported", path, type->valuestring);
}

static int template_ids(ivs_tokenizer *t, const cJSON *pp, const char *path) {
  const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single"), *e;
  const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
  int seen_seq = 0;
  cJSON_ArrayForEach(e, single) {
    if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
      seen_seq = 1;
      continue;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "id");
    const cJSON *sp = cJSON_IsString(name) ? cJSON_GetObjectItemCaseSensitive(specials, name->valuestring) : NULL;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(sp, "ids"), *id;
    if (!cJSON_IsArray(ids)) return fail(IVS_EINVAL, path, "post_processor TemplateProcessing: unknown special token");
    cJSON_ArrayForEach(id, ids) {
      size_t *n = seen_seq ? &t->nsuffix : &t->nprefix;
      int32_t *a = seen_seq ? t->suffix : t->prefix;
      if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= (double)IVS_TOK_MAX_VOCAB)
        return fail(IVS_EINVAL, path, "post_processor TemplateProcessing: bad id");
      if (*n == MAX_SPECIAL) return fail(IVS_ELIMIT, path, "post_processor TemplateProcessing: too many special tokens");
      a[(*n)++] = (int32_t)id->valuedouble;
    }
  }
  return 0;
}

static int load_post(ivs_tokenizer *t, const cJSON *p, const char *path) {
  if (!p || cJSON_IsNull(p)) return 0;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (!cJSON_IsString(type)) return fail(IVS_EINVAL, path, "post_processor: missing 'type'");
  const char *ty = type->valuestring;
  if (strcmp(ty, "ByteLevel") == 0) return 0;
  if (strcmp(ty, "TemplateProcessing") == 0) return template_ids(t, p, path);
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "processors"), *e;
    cJSON_ArrayForEach(e, l) {
      int rc = load_post(t, e, path);
      if (rc) return rc;
    }
    return 0;
  }
  return ivs_error_set(IVS_EINVAL, "%s: post_processor type '%s' is not supported", path, ty);
}

static int load_decoder(ivs_tokenizer *t, const cJSON *p, const char *path) {
  if (!p || cJSON_IsNull(p)) return 0;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
  if (cJSON_IsString(type) && strcmp(type->valuestring, "ByteLevel") == 0) {
    t->dec_bytelevel = 1;
    return 0;
  }
  return ivs_error_set(IVS_EINVAL, "%s: decoder type '%s' is not supported", path,
                       cJSON_IsString(type) ? type->valuestring : "?");
}

static int load_model(ivs_tokenizer *t, const cJSON *m, const char *path) {
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "type");
  if (!cJSON_IsString(type)) return fail(IVS_EINVAL, path, "model: missing 'type'");
  if (strcmp(type->valuestring, "BPE") != 0)
    return ivs_error_set(IVS_EINVAL, "%s: model type '%s' is not supported", path, type->valuestring);
  const cJSON *v;
  v = cJSON_GetObjectItemCaseSensitive(m, "dropout");
  if (cJSON_IsNumber(v) && v->valuedouble > 0) return fail(IVS_EINVAL, path, "model BPE: dropout is not supported");
  v = cJSON_GetObjectItemCaseSensitive(m, "continuing_subword_prefix");
  if (cJSON_IsString(v) && v->valuestring[0])
    return fail(IVS_EINVAL, path, "model BPE: continuing_subword_prefix is not supported");
  v = cJSON_GetObjectItemCaseSensitive(m, "end_of_word_suffix");
  if (cJSON_IsString(v) && v->valuestring[0])
    return fail(IVS_EINVAL, path, "model BPE: end_of_word_suffix is not supported");
  t->fuse_unk = bool_field(m, "fuse_unk", 0);
  t->byte_fallback = bool_field(m, "byte_fallback", 0);
  t->ignore_merges = bool_field(m, "ignore_merges", 0);

  const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab"), *e;
  if (!cJSON_IsObject(vocab)) return fail(IVS_EINVAL, path, "model BPE: 'vocab' is not an object");
  size_t nv = 0;
  cJSON_ArrayForEach(e, vocab) {
    if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= (double)IVS_TOK_MAX_VOCAB ||
        e->valuedouble != (double)(int32_t)e->valuedouble)
      return ivs_error_set(IVS_EINVAL, "%s: model BPE: vocab entry '%s' has a bad id", path, e->string);
    int rc = set_token(t, (int32_t)e->valuedouble, e->string, strlen(e->string));
    if (rc) return rc;
    nv++;
  }
  size_t cap = 16;
  while (cap < 2 * nv) cap *= 2;
  t->vmap = malloc(cap * sizeof *t->vmap);
  if (!t->vmap) return ivs_error_set(IVS_ENOMEM, "out of memory");
  memset(t->vmap, 0xFF, cap * sizeof *t->vmap);
  t->vmask = cap - 1;
  for (size_t id = 0; id < t->ntok; id++)
    if (t->tok[id].off != NO_TOKEN) {
      const span *sp = &t->tok[id];
      if (vocab_get(t, t->pool.data + sp->off, sp->len) < 0) vocab_put(t, (int32_t)id);
    }

  const cJSON *merges = cJSON_GetObjectItemCaseSensitive(m, "merges");
  size_t nm = (size_t)cJSON_GetArraySize(merges);
  if (merges && !cJSON_IsArray(merges)) return fail(IVS_EINVAL, path, "model BPE: 'merges' is not an array");
  if (nm > IVS_TOK_MAX_MERGES) return fail(IVS_ELIMIT, path, "model BPE: too many merges");
  cap = 16;
  while (cap < 2 * nm) cap *= 2;
  t->mmap = calloc(cap, sizeof *t->mmap);
  if (!t->mmap) return ivs_error_set(IVS_ENOMEM, "out of memory");
  t->mmask = cap - 1;
  ivs_buf cat = IVS_BUF_INIT;
  uint32_t rank = 0;
  int rc = 0;
  cJSON_ArrayForEach(e, merges) {
    const char *a, *b;
    size_t na, nb;
    if (cJSON_IsString(e)) {
      const char *sp = strchr(e->valuestring, ' ');
      if (!sp || strchr(sp + 1, ' ')) {
        rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u '%s' is not two tokens", path, rank, e->valuestring);
        break;
      }
      a = e->valuestring, na = (size_t)(sp - a), b = sp + 1, nb = strlen(b);
    } else if (cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) && cJSON_IsString(e->child->next)) {
      a = e->child->valuestring, na = strlen(a), b = e->child->next->valuestring, nb = strlen(b);
    } else {
      rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u is neither \"a b\" nor [a, b]", path, rank);
      break;
    }
    int32_t ia = vocab_get(t, a, na), ib = vocab_get(t, b, nb);
    ivs_buf_clear(&cat);
    if ((rc = ivs_buf_append(&cat, a, na)) || (rc = ivs_buf_append(&cat, b, nb))) break;
    int32_t in = vocab_get(t, cat.data, cat.len);
    if (ia < 0 || ib < 0 || in < 0) {
      rc = ivs_error_set(IVS_EINVAL, "%s: model BPE: merge %u '%.*s' '%.*s' names a token not in the vocab", path, rank,
                         (int)na, a, (int)nb, b);
      break;
    }
    uint64_t k = mkey(ia, ib);
    size_t i = ivs_hash_mix(0, k) & t->mmask;
    while (t->mmap[i].key && t->mmap[i].key != k) i = (i + 1) & t->mmask;
    if (!t->mmap[i].key) t->mmap[i] = (merge_ent){k, rank, in}; /* the first (lowest) rank of a pair wins */
    rank++;
  }
  ivs_buf_release(&cat);
  if (rc) return rc;

  t->unk = -1;
  v = cJSON_GetObjectItemCaseSensitive(m, "unk_token");
  if (cJSON_IsString(v)) t->unk = vocab_get(t, v->valuestring, strlen(v->valuestring));
  for (int b = 0; b < 256; b++) {
    char name[8];
    static const char hex[] = "0123456789ABCDEF";
    memcpy(name, "<0x", 3), name[3] = hex[b >> 4], name[4] = hex[b & 15], name[5] = '>';
    t->byte_tok[b] = vocab_get(t, name, 6);
  }
  return 0;
}

static int load_added(ivs_tokenizer *t, const cJSON *l, const char *path) {
  const cJSON *e;
  size_t n = (size_t)cJSON_GetArraySize(l);
  if (n > IVS_TOK_MAX_VOCAB) return fail(IVS_ELIMIT, path, "added_tokens: too many");
  if (!n) return 0;
  t->added = calloc(n, sizeof *t->added);
  if (!t->added) return ivs_error_set(IVS_ENOMEM, "out of memory");
  cJSON_ArrayForEach(e, l) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id"), *c = cJSON_GetObjectItemCaseSensitive(e, "content");
    if (!cJSON_IsNumber(id) || !cJSON_IsString(c) || id->valuedouble < 0 || id->valuedouble >= (double)IVS_TOK_MAX_VOCAB ||
        !c->valuestring[0])
      return fail(IVS_EINVAL, path, "added_tokens: an entry without a valid 'id' and 'content'");
    added_tok *a = &t->added[t->nadded++];
    a->id = (int32_t)id->valuedouble;
    a->len = strlen(c->valuestring);
    if (!(a->content = strdup(c->valuestring))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    a->single_word = bool_field(e, "single_word", 0);
    a->lstrip = bool_field(e, "lstrip", 0);
    a->rstrip = bool_field(e, "rstrip", 0);
    a->special = bool_field(e, "special", 0);
    a->normalized = bool_field(e, "normalized", !a->special);
    if ((size_t)a->id >= t->ntok || t->tok[a->id].off == NO_TOKEN) {
      int rc = set_token(t, a->id, a->content, a->len);
      if (rc) return rc;
    }
  }
  t->is_added = calloc(t->ntok, 1);
  if (!t->is_added) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->nadded; i++) {
    const added_tok *a = &t->added[i];
    unsigned char c = (unsigned char)a->content[0];
    t->is_added[a->id] = (unsigned char)(1 + a->special);
    t->first[a->normalized][c >> 3] |= (uint8_t)(1u << (c & 7));
  }
  return 0;
}

static void byte_alphabet(ivs_tokenizer *t) {
  uint32_t next = 256;
  for (int i = 0; i < 512; i++) t->cp_byte[i] = -1;
  for (int b = 0; b < 256; b++) {
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t->byte_cp[b] = printable ? (uint32_t)b : next++;
    t->cp_byte[t->byte_cp[b]] = (int16_t)b;
  }
}

int ivs_tokenizer_load(ivs_tokenizer **out, const char *path) {
  *out = NULL;
  ivs_buf file = IVS_BUF_INIT, p = IVS_BUF_INIT;
  cJSON *root = NULL;
  ivs_tokenizer *t = NULL;
  struct stat st;
  int rc = ivs_buf_puts(&p, path);
  if (!rc && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = ivs_buf_puts(&p, "/tokenizer.json");
  if (rc) goto done;
  path = p.data;
  if ((rc = ivs_file_read_all(path, IVS_TOK_MAX_FILE, &file))) goto done;
  const char *end = NULL;
  root = cJSON_ParseWithLengthOpts(file.data, file.len, &end, 0);
  if (!root) {
    rc = ivs_error_set(IVS_EPARSE, "%s: invalid JSON near byte %zu", path, end ? (size_t)(end - file.data) : (size_t)0);
    goto done;
  }
  if (!cJSON_IsObject(root)) {
    rc = fail(IVS_EPARSE, path, "not a JSON object");
    goto done;
  }
  t = calloc(1, sizeof *t);
  if (!t) {
    rc = ivs_error_set(IVS_ENOMEM, "out of memory");
    goto done;
  }
  ivs_buf_init(&t->pool, 0);
  byte_alphabet(t);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
  if (!cJSON_IsObject(m)) {
    rc = fail(IVS_EINVAL, path, "model: missing");
    goto done;
  }
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
  const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
  if ((tr && !cJSON_IsNull(tr)) || (pad && !cJSON_IsNull(pad))) {
    rc = fail(IVS_EINVAL, path, "truncation and padding are not supported");
    goto done;
  }
  if ((rc = load_model(t, m, path)) || (rc = load_added(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), path)) ||
      (rc = load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path)) ||
      (rc = load_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), path)) ||
      (rc = load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), path)) ||
      (rc = load_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), path)))
    goto done;
  for (size_t i = 0; i < t->nprefix + t->nsuffix; i++) {
    int32_t id = i < t->nprefix ? t->prefix[i] : t->suffix[i - t->nprefix];
    if ((size_t)id >= t->ntok || t->tok[id].off == NO_TOKEN) {
      rc = fail(IVS_EINVAL, path, "post_processor: a special token id has no token");
      goto done;
    }
  }
  *out = t;
  t = NULL;
done:
  if (rc == IVS_ENOMEM) ivs_error_set(IVS_ENOMEM, "%s: out of memory", path);
  cJSON_Delete(root);
  ivs_buf_release(&file);
  ivs_buf_release(&p);
  ivs_tokenizer_free(t);
  return rc;
}

void ivs_tokenizer_free(ivs_tokenizer *t) {
  if (!t) return;
  ivs_buf_release(&t->pool);
  free(t->tok);
  free(t->vmap);
  free(t->mmap);
  for (size_t i = 0; i < t->nadded; i++) free(t->added[i].content);
  free(t->added);
  free(t->is_added);
  for (size_t i = 0; i < t->npre; i++) pcre2_code_free(t->pre[i].re);
  free(t);
}

size_t ivs_tokenizer_vocab_size(const ivs_tokenizer *t) { return t->ntok; }

const char *ivs_tokenizer_id_to_token(const ivs_tokenizer *t, int32_t id, size_t *len) {
  if (id < 0 || (size_t)id >= t->ntok || t->tok[id].off == NO_TOKEN) return NULL;
  if (len) *len = t->tok[id].len;
  return t->pool.data + t->tok[id].off;
}

int32_t ivs_tokenizer_token_to_id(const ivs_tokenizer *t, const char *s, size_t n) {
  for (size_t i = 0; i < t->nadded; i++)
    if (t->added[i].len == n && memcmp(t->added[i].content, s, n) == 0) return t->added[i].id;
  return vocab_get(t, s, n);
}

void ivs_tokenizer_special_prefix(const ivs_tokenizer *t, const int32_t **ids, size_t *n) {
  *ids = t->prefix;
  *n = t->nprefix;
}

void ivs_tokenizer_special_suffix(const ivs_tokenizer *t, const int32_t **ids, size_t *n) {
  *ids = t->suffix;
  *n = t->nsuffix;
}

/* ---- encoding ---- */

typedef struct { size_t off, len; int32_t added; } piece; /* into the arena; added id or -1 */
typedef struct {
  ivs_buf arena;
  piece *p, *q; /* current and next lists */
  size_t np, nq, capp, capq;
  pcre2_match_data *md;
} work;

static int emit(work *w, size_t off, size_t len, int32_t added) {
  if (!len) return 0;
  if (ivs_grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q, 64)) return IVS_ENOMEM;
  w->q[w->nq++] = (piece){off, len, added};
  return 0;
}

static void swap_lists(work *w) {
  piece *p = w->p;
  size_t c = w->capp;
  w->p = w->q, w->capp = w->capq, w->np = w->nq;
  w->q = p, w->capq = c, w->nq = 0;
}

/* Leftmost-longest match of the added tokens of this pass in s[from..n). */
static const added_tok *added_find(const ivs_tokenizer *t, int normalized, const char *s, size_t n, size_t from,
                                   size_t *at) {
  const uint8_t *first = t->first[normalized];
  for (size_t i = from; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(first[c >> 3] & (1u << (c & 7)))) continue;
    const added_tok *best = NULL;
    for (size_t k = 0; k < t->nadded; k++) {
      const added_tok *a = &t->added[k];
      if (a->normalized != normalized || a->content[0] != s[i] || a->len > n - i) continue;
      if (memcmp(a->content, s + i, a->len) == 0 && (!best || a->len > best->len)) best = a;
    }
    if (best) {
      *at = i;
      return best;
    }
  }
  return NULL;
}

static int split_added(const ivs_tokenizer *t, work *w, int normalized) {
  int rc = 0;
  for (size_t k = 0; k < w->np && !rc; k++) {
    piece pc = w->p[k];
    if (pc.added >= 0) {
      rc = emit(w, pc.off, pc.len, pc.added);
      continue;
    }
    size_t from = 0, start_off = 0, at;
    const added_tok *a;
    while (!rc && (a = added_find(t, normalized, w->arena.data + pc.off, pc.len, from, &at))) {
      const char *s = w->arena.data + pc.off;
      size_t start = at, stop = at + a->len, adv;
      from = stop;
      if (a->single_word) {
        int32_t before = last_char(s, start), after = stop < pc.len ? u8dec(s + stop, pc.len - stop, &adv) : -1;
        if ((before >= 0 && is_word(before)) || (after >= 0 && is_word(after))) continue;
      }
      if (start < start_off) continue;
      if (a->lstrip) {
        size_t ns = start;
        while (ns > 0) {
          size_t i = ns - 1;
          while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
          if (!is_ws(u8dec(s + i, ns - i, &adv))) break;
          ns = i;
        }
        start = ns > start_off ? ns : start_off;
      }
      if (a->rstrip)
        while (stop < pc.len && is_ws(u8dec(s + stop, pc.len - stop, &adv))) stop += adv;
      if ((rc = emit(w, pc.off + start_off, start - start_off, -1))) break;
      if (w->capq <= w->nq && ivs_grow((void **)&w->q, &w->capq, w->nq + 1, sizeof *w->q, 64)) return IVS_ENOMEM;
      w->q[w->nq++] = (piece){pc.off + start, stop - start, a->id};
      start_off = stop;
      if (from < stop) from = stop;
    }
    if (!rc) rc = emit(w, pc.off + start_off, pc.len - start_off, -1);
  }
  swap_lists(w);
  return rc;
}

static int normalize(work *w) {
  for (size_t k = 0; k < w->np; k++) {
    piece *pc = &w->p[k];
    if (pc->added >= 0) continue;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)w->arena.data + pc->off, (utf8proc_ssize_t)pc->len,
                                      &dst, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) return ivs_error_set(IVS_EINVAL, "NFC normalization failed: %s", utf8proc_errmsg(n));
    size_t off = w->arena.len;
    int rc = ivs_buf_append(&w->arena, dst, (size_t)n);
    free(dst);
    if (rc) return rc;
    pc->off = off, pc->len = (size_t)n;
  }
  return 0;
}

typedef struct { size_t a, b; int m; } seg;

static int regex_split(work *w, const pretok *q, piece pc) {
  seg *v = NULL;
  size_t nv = 0, cap = 0, prev = 0, pos = 0;
  int rc = 0;
  if (!w->md || pcre2_get_ovector_count(w->md) < 1) {
    pcre2_match_data_free(w->md);
    if (!(w->md = pcre2_match_data_create(4, NULL))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  const char *s = w->arena.data + pc.off;
  while (pos <= pc.len) {
    int r = pcre2_match(q->re, (PCRE2_SPTR)s, pc.len, pos, PCRE2_NO_UTF_CHECK, w->md, NULL);
    if (r == PCRE2_ERROR_NOMATCH) break;
    if (r < 0) {
      rc = ivs_error_set(IVS_ERROR, "pre_tokenizer regex failed (pcre2 error %d)", r);
      goto out;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
    size_t a = ov[0], b = ov[1];
    if (ivs_grow((void **)&v, &cap, nv + 2, sizeof *v, 32)) {
      rc = IVS_ENOMEM;
      goto out;
    }
    if (prev != a) v[nv++] = (seg){prev, a, 0};
    v[nv++] = (seg){a, b, 1};
    prev = b;
    pos = b > a ? b : b + (b < pc.len ? u8len((unsigned char)s[b]) : 1);
  }
  if (prev != pc.len) {
    if (ivs_grow((void **)&v, &cap, nv + 1, sizeof *v, 32)) {
      rc = IVS_ENOMEM;
      goto out;
    }
    v[nv++] = (seg){prev, pc.len, 0};
  }
  if (q->invert)
    for (size_t i = 0; i < nv; i++) v[i].m = !v[i].m;
  /* the delimiter behaviours, as HF's SplitDelimiterBehavior folds them */
  size_t no = 0;
  int pm = 0;
  switch (q->behavior) {
  case B_REMOVED:
    for (size_t i = 0; i < nv; i++)
      if (!v[i].m) v[no++] = v[i];
    break;
  case B_ISOLATED: no = nv; break;
  case B_PREV:
    for (size_t i = 0; i < nv; i++) {
      if (v[i].m && !pm && no) v[no - 1].b = v[i].b;
      else v[no++] = v[i];
      pm = v[i].m;
    }
    break;
  case B_CONTIG:
    for (size_t i = 0; i < nv; i++) {
      if (v[i].m == pm && no) v[no - 1].b = v[i].b;
      else v[no++] = v[i];
      pm = v[i].m;
    }
    break;
  case B_NEXT: {
    size_t k = nv; /* fold from the right into the tail of v */
    for (size_t i = nv; i-- > 0;) {
      if (v[i].m && !pm && k < nv) v[k].a = v[i].a;
      else v[--k] = v[i];
      pm = v[i].m;
    }
    memmove(v, v + k, (nv - k) * sizeof *v);
    no = nv - k;
    break;
  }
  }
  for (size_t i = 0; i < no && !rc; i++) rc = emit(w, pc.off + v[i].a, v[i].b - v[i].a, -1);
out:
  free(v);
  return rc;
}

static int byte_map(const ivs_tokenizer *t, work *w, piece pc) {
  size_t off = w->arena.len;
  int rc = ivs_buf_reserve(&w->arena, 2 * pc.len);
  for (size_t i = 0; i < pc.len && !rc; i++) rc = ivs_buf_put_utf8(&w->arena, t->byte_cp[(unsigned char)w->arena.data[pc.off + i]]);
  return rc ? rc : emit(w, off, w->arena.len - off, -1);
}

static int pre_tokenize(const ivs_tokenizer *t, work *w) {
  for (size_t s = 0; s < t->npre; s++) {
    const pretok *q = &t->pre[s];
    int rc = 0;
    for (size_t k = 0; k < w->np && !rc; k++) {
      piece pc = w->p[k];
      if (pc.added >= 0) {
        rc = emit(w, pc.off, pc.len, pc.added);
        continue;
      }
      if (q->type == PRE_SPLIT) {
        rc = regex_split(w, q, pc);
        continue;
      }
      if (q->add_prefix_space && w->arena.data[pc.off] != ' ') {
        size_t off = w->arena.len;
        if ((rc = ivs_buf_putc(&w->arena, ' ')) || (rc = ivs_buf_append(&w->arena, w->arena.data + pc.off, pc.len))) break;
        pc.off = off, pc.len++;
      }
      size_t from = w->nq;
      if (q->use_regex) rc = regex_split(w, q, pc);
      else rc = emit(w, pc.off, pc.len, -1);
      for (size_t i = from; i < w->nq && !rc; i++) {
        piece sub = w->q[i];
        size_t keep = w->nq;
        if ((rc = byte_map(t, w, sub))) break;
        w->q[i] = w->q[keep];
        w->nq = keep;
      }
    }
    swap_lists(w);
    if (rc) return rc;
  }
  return 0;
}

typedef struct { int32_t id; int prev, next; uint32_t len; } sym;
typedef struct { uint32_t rank; int pos; int32_t left, right, id; } hent;

static int hless(const hent *x, const hent *y) { return x->rank < y->rank || (x->rank == y->rank && x->pos < y->pos); }

static int heap_push(hent **h, size_t *n, size_t *cap, hent e) {
  if (ivs_grow((void **)h, cap, *n + 1, sizeof **h, 32)) return IVS_ENOMEM;
  size_t i = (*n)++;
  while (i > 0 && hless(&e, &(*h)[(i - 1) / 2])) (*h)[i] = (*h)[(i - 1) / 2], i = (i - 1) / 2;
  (*h)[i] = e;
  return 0;
}

static hent heap_pop(hent *h, size_t *n) {
  hent top = h[0], last = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && hless(&h[c + 1], &h[c])) c++;
    if (!hless(&h[c], &last)) break;
    h[i] = h[c], i = c;
  }
  if (*n) h[i] = last;
  return top;
}

static int push_pair(const ivs_tokenizer *t, const sym *s, int pos, hent **h, size_t *nh, size_t *ch) {
  if (pos < 0 || s[pos].next < 0) return 0;
  const merge_ent *m = merge_get(t, s[pos].id, s[s[pos].next].id);
  if (!m) return 0;
  return heap_push(h, nh, ch, (hent){m->rank, pos, s[pos].id, s[s[pos].next].id, m->id});
}

/* BPE on one pre-tokenized word, ids appended to *out. */
static int bpe_word(const ivs_tokenizer *t, const char *w, size_t n, int32_t **out, size_t *nout, size_t *cap) {
  if (t->ignore_merges) {
    int32_t id = vocab_get(t, w, n);
    if (id >= 0) {
      if (ivs_grow((void **)out, cap, *nout + 1, sizeof **out, 256)) return IVS_ENOMEM;
      (*out)[(*nout)++] = id;
      return 0;
    }
  }
  sym small[64];
  sym *s = n < 64 ? small : malloc((n + 1) * sizeof *s);
  hent *h = NULL;
  size_t ns = 0, nh = 0, ch = 0;
  int rc = 0, last_unk = 0;
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < n;) {
    size_t cl = u8len((unsigned char)w[i]);
    if (cl > n - i) cl = n - i;
    int32_t id = vocab_get(t, w + i, cl);
    if (id >= 0) {
      s[ns++] = (sym){id, 0, 0, (uint32_t)cl}, last_unk = 0;
    } else {
      int done = 0;
      if (t->byte_fallback) {
        done = 1;
        for (size_t b = 0; b < cl; b++) done &= t->byte_tok[(unsigned char)w[i + b]] >= 0;
        for (size_t b = 0; done && b < cl; b++) s[ns++] = (sym){t->byte_tok[(unsigned char)w[i + b]], 0, 0, 1};
        if (done) last_unk = 0;
      }
      if (!done && t->unk >= 0) {
        if (t->fuse_unk && last_unk) s[ns - 1].len += (uint32_t)cl;
        else s[ns++] = (sym){t->unk, 0, 0, (uint32_t)cl};
        last_unk = 1;
      }
    }
    i += cl;
  }
  for (size_t i = 0; i < ns; i++) s[i].prev = (int)i - 1, s[i].next = i + 1 < ns ? (int)i + 1 : -1;
  for (size_t i = 0; i + 1 < ns && !rc; i++) rc = push_pair(t, s, (int)i, &h, &nh, &ch);
  while (!rc && nh) {
    hent e = heap_pop(h, &nh);
    sym *l = &s[e.pos];
    if (!l->len || l->next < 0 || l->id != e.left || s[l->next].id != e.right) continue;
    sym *r = &s[l->next];
    l->id = e.id;
    l->len += r->len;
    r->len = 0;
    l->next = r->next;
    if (r->next >= 0) s[r->next].prev = e.pos;
    if ((rc = push_pair(t, s, l->prev, &h, &nh, &ch))) break;
    rc = push_pair(t, s, e.pos, &h, &nh, &ch);
  }
  for (int i = ns ? 0 : -1; !rc && i >= 0; i = s[i].next) {
    if (ivs_grow((void **)out, cap, *nout + 1, sizeof **out, 256)) {
      rc = IVS_ENOMEM;
      break;
    }
    (*out)[(*nout)++] = s[i].id;
  }
  if (s != small) free(s);
  free(h);
  return rc;
}

/* A per-call cache of the words already encoded: word -> its ids in the
 * output (per call, so that encoding stays free of shared mutable state). */
#define CACHE_BITS 12
#define CACHE_MAX_WORD 48
typedef struct { uint64_t h; size_t off, len, at, n; } cache_ent;

int ivs_tokenizer_encode(const ivs_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  if (len > IVS_TOK_MAX_TEXT) return ivs_error_set(IVS_ELIMIT, "text of %zu bytes is over the encode limit", len);
  size_t ok = ivs_utf8_valid_prefix((const unsigned char *)text, len, 0);
  if (ok != len) return ivs_error_set(IVS_EINVAL, "text is not valid UTF-8 at byte %zu", ok);
  if (!len) return 0;
  work w;
  memset(&w, 0, sizeof w);
  ivs_buf_init(&w.arena, 0);
  int32_t *out = NULL;
  size_t nout = 0, cap = 0;
  int rc = ivs_buf_append(&w.arena, text, len);
  if (!rc) rc = emit(&w, 0, len, -1);
  if (!rc) swap_lists(&w);
  if (!rc && t->nadded) rc = split_added(t, &w, 0);
  if (!rc && t->nfc) rc = normalize(&w);
  if (!rc && t->nadded) rc = split_added(t, &w, 1);
  if (!rc) rc = pre_tokenize(t, &w);
  cache_ent *cache = w.np > 64 ? calloc((size_t)1 << CACHE_BITS, sizeof *cache) : NULL;
  for (size_t k = 0; k < w.np && !rc; k++) {
    const piece *pc = &w.p[k];
    if (pc->added >= 0) {
      if (ivs_grow((void **)&out, &cap, nout + 1, sizeof *out, 256)) rc = IVS_ENOMEM;
      else out[nout++] = pc->added;
      continue;
    }
    const char *word = w.arena.data + pc->off;
    cache_ent *ce = NULL;
    uint64_t h = 0;
    if (cache && pc->len <= CACHE_MAX_WORD) {
      h = hstr(word, pc->len) | 1;
      ce = &cache[h >> (64 - CACHE_BITS)];
      if (ce->h == h && ce->len == pc->len && memcmp(w.arena.data + ce->off, word, pc->len) == 0) {
        if (ivs_grow((void **)&out, &cap, nout + ce->n, sizeof *out, 256)) {
          rc = IVS_ENOMEM;
          break;
        }
        memmove(out + nout, out + ce->at, ce->n * sizeof *out);
        nout += ce->n;
        continue;
      }
    }
    size_t at = nout;
    rc = bpe_word(t, word, pc->len, &out, &nout, &cap);
    if (ce) *ce = (cache_ent){h, pc->off, pc->len, at, nout - at};
  }
  free(cache);
  ivs_buf_release(&w.arena);
  free(w.p);
  free(w.q);
  pcre2_match_data_free(w.md);
  if (rc) {
    free(out);
    return rc;
  }
  *ids = out;
  *n = nout;
  return 0;
}

/* ---- decoding ---- */

/* Appends s with invalid UTF-8 replaced by U+FFFD, one per maximal subpart
 * (as Rust's String::from_utf8_lossy). */
static int put_lossy(ivs_buf *b, const unsigned char *s, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n && !rc;) {
    unsigned char c = s[i];
    size_t need = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      rc = ivs_buf_putc(b, (char)c), i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    size_t k = 1;
    while (need && k <= need && i + k < n && s[i + k] >= (k == 1 ? lo : 0x80) && s[i + k] <= (k == 1 ? hi : 0xBF)) k++;
    if (need && k == need + 1) rc = ivs_buf_append(b, s + i, k);
    else rc = ivs_buf_append(b, "\xEF\xBF\xBD", 3);
    i += k;
  }
  return rc;
}

int ivs_tokenizer_decode(const ivs_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **text,
                         size_t *len) {
  *text = NULL;
  *len = 0;
  ivs_buf raw = IVS_BUF_INIT, outb = IVS_BUF_INIT;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    size_t tl;
    const char *tk = ivs_tokenizer_id_to_token(t, ids[i], &tl);
    if (!tk) {
      rc = ivs_error_set(IVS_EINVAL, "id %d has no token", (int)ids[i]);
      break;
    }
    if (skip_special && t->is_added && t->is_added[ids[i]] == 2) continue;
    size_t mark = raw.len, adv;
    int mapped = t->dec_bytelevel;
    for (size_t j = 0; mapped && j < tl && !rc; j += adv) {
      int32_t c = u8dec(tk + j, tl - j, &adv);
      if (c < 0 || c >= 512 || t->cp_byte[c] < 0) mapped = 0;
      else rc = ivs_buf_putc(&raw, (char)t->cp_byte[c]);
    }
    if (!mapped && !rc) {
      raw.len = mark;
      rc = ivs_buf_append(&raw, tk, tl);
    }
  }
  if (!rc) rc = put_lossy(&outb, (const unsigned char *)(raw.data ? raw.data : ""), raw.len);
  if (!rc && !outb.data) rc = ivs_buf_putc(&outb, 0), outb.len = 0;
  ivs_buf_release(&raw);
  if (rc) {
    ivs_buf_release(&outb);
    return rc;
  }
  *text = ivs_buf_detach(&outb, len);
  return 0;
}

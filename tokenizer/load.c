/* tokenizer.json read into an ivs_tokenizer: the top level, the
 * post-processor, the byte-level alphabet, the lookups and freeing.  Each
 * component's own fields are read by its file (bpe.c, added.c, normalize.c,
 * pretokenize.c, decode.c). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/utf8.h"
#include "tokenizer/internal.h"

/* ---- JSON helpers for the component loaders ---- */

int tk_fail(int code, const char *path, const char *what) { return ivs_error_set(code, "%s: %s", path, what); }

int tk_bool(const cJSON *o, const char *name, int dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

const char *tk_type(const cJSON *o) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "type");
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

int32_t tk_char_field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!cJSON_IsString(v) || !v->valuestring[0]) return -1;
  size_t n = strlen(v->valuestring), adv;
  if (ivs_utf8_valid_prefix((const unsigned char *)v->valuestring, n, 0) != n) return -1;
  int32_t c = tk_next(v->valuestring, n, &adv);
  return adv == n ? c : -1;
}

int tk_replace_load(const cJSON *j, pcre2_code **re, char **content, size_t *content_len, const char *path,
                    const char *what) {
  const cJSON *pat = cJSON_GetObjectItemCaseSensitive(j, "pattern"), *c = cJSON_GetObjectItemCaseSensitive(j, "content");
  const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex"), *str = cJSON_GetObjectItemCaseSensitive(pat, "String");
  const cJSON *s = cJSON_IsString(rx) ? rx : str;
  if (!cJSON_IsString(s) || !cJSON_IsString(c))
    return ivs_error_set(IVS_EINVAL, "%s: %s: needs a 'pattern' (String or Regex) and a 'content'", path, what);
  *content_len = strlen(c->valuestring);
  if (!(*content = strdup(c->valuestring))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  return tk_regex_compile(re, s->valuestring, strlen(s->valuestring), s == str, path, what);
}

/* ---- the post-processor: the ids it puts around a single sequence ---- */

static int add_special(ivs_tokenizer *t, int after, int32_t id, const char *path) {
  size_t *n = after ? &t->nsuffix : &t->nprefix;
  if (*n == TK_MAX_SPECIAL) return tk_fail(IVS_ELIMIT, path, "post_processor: more than 16 special tokens on a side");
  (after ? t->suffix : t->prefix)[(*n)++] = id;
  return 0;
}

static int id_value(const cJSON *v, int32_t *id) {
  if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= (double)IVS_TOK_MAX_VOCAB ||
      v->valuedouble != (double)(int32_t)v->valuedouble)
    return -1;
  *id = (int32_t)v->valuedouble;
  return 0;
}

static int template_ids(ivs_tokenizer *t, const cJSON *pp, const char *path, int32_t *pre, size_t *npre, int32_t *suf,
                        size_t *nsuf) {
  const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single"), *e;
  const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
  if (!cJSON_IsArray(single)) return tk_fail(IVS_EINVAL, path, "post_processor TemplateProcessing: 'single' is not a list");
  int seen_seq = 0;
  cJSON_ArrayForEach(e, single) {
    if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
      if (seen_seq++) return tk_fail(IVS_EINVAL, path, "post_processor TemplateProcessing: 'single' has two sequences");
      continue;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "id");
    const cJSON *sp = cJSON_IsString(name) ? cJSON_GetObjectItemCaseSensitive(specials, name->valuestring) : NULL;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(sp, "ids"), *v;
    if (!cJSON_IsArray(ids)) return tk_fail(IVS_EINVAL, path, "post_processor TemplateProcessing: unknown special token");
    cJSON_ArrayForEach(v, ids) {
      int32_t id;
      if (id_value(v, &id)) return tk_fail(IVS_EINVAL, path, "post_processor TemplateProcessing: bad id");
      size_t *n = seen_seq ? nsuf : npre;
      if (*n == TK_MAX_SPECIAL) return tk_fail(IVS_ELIMIT, path, "post_processor: more than 16 special tokens on a side");
      (seen_seq ? suf : pre)[(*n)++] = id;
    }
  }
  if (!seen_seq) return tk_fail(IVS_EINVAL, path, "post_processor TemplateProcessing: 'single' has no sequence");
  (void)t;
  return 0;
}

/* RobertaProcessing and BertProcessing: {"cls": [token, id], "sep": [token, id]}. */
static int pair_id(const cJSON *pp, const char *name, int32_t *id) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(pp, name);
  return cJSON_GetArraySize(v) == 2 && cJSON_IsString(v->child) ? id_value(v->child->next, id) : -1;
}

static int load_post(ivs_tokenizer *t, const cJSON *p, const char *path, int depth) {
  if (!p || cJSON_IsNull(p)) return 0;
  const char *ty = tk_type(p);
  if (!ty) return tk_fail(IVS_EINVAL, path, "post_processor: missing 'type'");
  if (strcmp(ty, "ByteLevel") == 0) return 0; /* offsets only */
  if (strcmp(ty, "Sequence") == 0) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "processors"), *e;
    if (!cJSON_IsArray(l)) return tk_fail(IVS_EINVAL, path, "post_processor Sequence: 'processors' is not an array");
    if (depth >= TK_MAX_DEPTH) return tk_fail(IVS_ELIMIT, path, "post_processor: Sequences nested too deep");
    cJSON_ArrayForEach(e, l) {
      int rc = load_post(t, e, path, depth + 1);
      if (rc) return rc;
    }
    return 0;
  }
  /* each one wraps what the ones before it made */
  int32_t pre[TK_MAX_SPECIAL], suf[TK_MAX_SPECIAL];
  size_t npre = 0, nsuf = 0;
  int rc = 0;
  if (strcmp(ty, "TemplateProcessing") == 0) {
    rc = template_ids(t, p, path, pre, &npre, suf, &nsuf);
  } else if (strcmp(ty, "RobertaProcessing") == 0 || strcmp(ty, "BertProcessing") == 0) {
    if (pair_id(p, "cls", &pre[0]) || pair_id(p, "sep", &suf[0]))
      return ivs_error_set(IVS_EINVAL, "%s: post_processor %s: 'cls' and 'sep' must be [token, id]", path, ty);
    npre = nsuf = 1;
  } else {
    return ivs_error_set(IVS_EINVAL, "%s: post_processor type '%s' is not supported", path, ty);
  }
  if (rc) return rc;
  if (t->nprefix + npre > TK_MAX_SPECIAL || t->nsuffix + nsuf > TK_MAX_SPECIAL)
    return tk_fail(IVS_ELIMIT, path, "post_processor: more than 16 special tokens on a side");
  memmove(t->prefix + npre, t->prefix, t->nprefix * sizeof *t->prefix);
  memcpy(t->prefix, pre, npre * sizeof *pre);
  t->nprefix += npre;
  for (size_t i = 0; i < nsuf && !rc; i++) rc = add_special(t, 1, suf[i], path);
  return rc;
}

/* ---- the whole file ---- */

static void byte_alphabet(ivs_tokenizer *t) {
  uint32_t next = 256;
  for (int i = 0; i < 324; i++) t->cp_byte[i] = -1;
  for (int b = 0; b < 256; b++) {
    int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t->byte_cp[b] = printable ? (uint32_t)b : next++;
    t->cp_byte[t->byte_cp[b]] = (int16_t)b;
  }
}

static atomic_uint_fast64_t serials = 1;

/* Builds a tokenizer from a parsed tokenizer.json; `path` names it in errors. */
static int from_json(ivs_tokenizer **out, const cJSON *root, const char *path) {
  ivs_tokenizer *t = NULL;
  int rc = 0;
  if (!cJSON_IsObject(root)) return tk_fail(IVS_EPARSE, path, "not a JSON object");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
  if (!cJSON_IsObject(m)) return tk_fail(IVS_EINVAL, path, "model: missing");
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
  const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
  if ((tr && !cJSON_IsNull(tr)) || (pad && !cJSON_IsNull(pad)))
    return tk_fail(IVS_EINVAL, path, "truncation and padding are not supported");
  if (!(t = calloc(1, sizeof *t))) return ivs_error_set(IVS_ENOMEM, "%s: out of memory", path);
  t->serial = atomic_fetch_add(&serials, 1);
  ivs_buf_init(&t->pool, 0);
  byte_alphabet(t);
  if ((rc = tk_bpe_load(t, m, path)) || (rc = tk_added_load(t, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), path)) ||
      (rc = tk_normalizer_load(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, 0)) ||
      (rc = tk_added_build(t, path)) ||
      (rc = tk_pretokenizer_load(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), path, 0)) ||
      (rc = load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), path, 0)) ||
      (rc = tk_decoder_load(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), path, 0)))
    goto done;
  for (size_t i = 0; i < t->nprefix + t->nsuffix; i++) {
    int32_t id = i < t->nprefix ? t->prefix[i] : t->suffix[i - t->nprefix];
    if ((size_t)id >= t->ntok || t->tok[id].off == TK_NO_TOKEN) {
      rc = ivs_error_set(IVS_EINVAL, "%s: post_processor: special token id %d has no token", path, (int)id);
      goto done;
    }
  }
  *out = t;
  t = NULL;
done:
  if (rc == IVS_ENOMEM) ivs_error_set(IVS_ENOMEM, "%s: out of memory", path);
  ivs_tokenizer_free(t);
  return rc;
}

int ivs_tokenizer_parse(ivs_tokenizer **out, const char *json, size_t len, const char *name) {
  *out = NULL;
  if (len > IVS_TOK_MAX_FILE) return ivs_error_set(IVS_ELIMIT, "%s: over %zu bytes", name, IVS_TOK_MAX_FILE);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  if (!root) return ivs_error_set(IVS_EPARSE, "%s: invalid JSON near byte %zu", name, end ? (size_t)(end - json) : (size_t)0);
  int rc = from_json(out, root, name);
  cJSON_Delete(root);
  return rc;
}

int ivs_tokenizer_load(ivs_tokenizer **out, const char *path) {
  *out = NULL;
  ivs_buf file = IVS_BUF_INIT, p = IVS_BUF_INIT;
  struct stat st;
  int rc = ivs_buf_puts(&p, path);
  if (!rc && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) rc = ivs_buf_puts(&p, "/tokenizer.json");
  if (!rc) rc = ivs_file_read_all(p.data, IVS_TOK_MAX_FILE, &file);
  if (!rc) rc = ivs_tokenizer_parse(out, file.data ? file.data : "", file.len, p.data);
  ivs_buf_release(&file);
  ivs_buf_release(&p);
  return rc;
}

void ivs_tokenizer_free(ivs_tokenizer *t) {
  if (!t) return;
  ivs_buf_release(&t->pool);
  free(t->tok);
  tk_bpe_release(&t->bpe);
  tk_added_release(t);
  for (size_t i = 0; i < t->nnorm; i++) pcre2_code_free(t->norm[i].re), free(t->norm[i].content);
  for (size_t i = 0; i < t->npre; i++) pcre2_code_free(t->pre[i].re);
  for (size_t i = 0; i < t->ndec; i++) pcre2_code_free(t->dec[i].re), free(t->dec[i].content);
  free(t);
}

size_t ivs_tokenizer_vocab_size(const ivs_tokenizer *t) { return t->ntok; }

const char *ivs_tokenizer_id_to_token(const ivs_tokenizer *t, int32_t id, size_t *len) {
  if (id < 0 || (size_t)id >= t->ntok || t->tok[id].off == TK_NO_TOKEN) return NULL;
  if (len) *len = t->tok[id].len;
  return t->pool.data + t->tok[id].off;
}

int32_t ivs_tokenizer_token_to_id(const ivs_tokenizer *t, const char *s, size_t n) {
  const tk_added *a = tk_added_exact(t, s, n);
  return a ? a->id : tk_vocab_get(t, s, n);
}

void ivs_tokenizer_special_prefix(const ivs_tokenizer *t, const int32_t **ids, size_t *n) {
  *ids = t->prefix;
  *n = t->nprefix;
}

void ivs_tokenizer_special_suffix(const ivs_tokenizer *t, const int32_t **ids, size_t *n) {
  *ids = t->suffix;
  *n = t->nsuffix;
}

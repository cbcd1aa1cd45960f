#include "export/rules.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/hash.h"
#include "core/mem.h"
#include "export/tokqueue.h"

static uint64_t hash_str(uint64_t h, const char *s) { return ivs_hash_bytes(h, s, strlen(s)); }
#include "core/utf8.h"

/* ---- hash tables: 64-bit key -> first line and answer ---- */

typedef struct {
  uint64_t h;
  uint64_t extra; /* prompts table: hash of the first occurrence's classes */
  uint32_t line;
  int32_t answer;
} slot;

typedef struct {
  slot *s;
  size_t cap, n;
} table;

/* Slot arrays come from mmap (zeroed) with transparent huge pages asked
 * for: a million prompts make a 48 MB table read at random, where 4 KiB
 * pages cost a TLB miss and a page fault per access. */
static slot *slots_new(size_t cap) {
  size_t bytes = cap * sizeof(slot);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  ivs_mem_hint_huge(p, bytes);
  return p;
}

static void slots_free(slot *s, size_t cap) {
  if (s) munmap(s, cap * sizeof(slot));
}

/* Finds or inserts h; returns the slot and sets *found. NULL on OOM. */
static slot *table_get(table *t, uint64_t h, int *found) {
  if (!h) h = 1;
  if ((t->n + 1) * 2 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    slot *s = slots_new(cap);
    if (!s) return NULL;
    for (size_t i = 0; i < t->cap; i++)
      if (t->s[i].h) {
        size_t j = t->s[i].h & (cap - 1);
        while (s[j].h) j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
      }
    slots_free(t->s, t->cap);
    t->s = s;
    t->cap = cap;
  }
  size_t j = h & (t->cap - 1);
  while (t->s[j].h && t->s[j].h != h) j = (j + 1) & (t->cap - 1);
  *found = t->s[j].h == h;
  if (!*found) {
    t->s[j].h = h;
    t->n++;
  }
  return &t->s[j];
}

/* ---- lengths for percentiles: a count per length below LEN_HIST, longer
 * ones listed ---- */

#define LEN_HIST 65536

typedef struct {
  size_t *hist, n;
  uint32_t *longs;
  size_t nlong, caplong;
} lengths;

static int lengths_add(lengths *l, size_t x) {
  if (!l->hist && !(l->hist = calloc(LEN_HIST, sizeof *l->hist))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  if (x < LEN_HIST) {
    l->hist[x]++;
  } else {
    if (ivs_grow((void **)&l->longs, &l->caplong, l->nlong + 1, sizeof *l->longs, 64)) return IVS_ENOMEM;
    l->longs[l->nlong++] = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
  }
  l->n++;
  return 0;
}

static void lengths_release(lengths *l) {
  free(l->hist);
  free(l->longs);
}

/* ---- the validator ---- */

struct ivs_validator {
  ivs_validate_opts o;
  ivs_validate_stats st;
  int type_known;
  table dups, prompts;
  lengths lens; /* prompt lengths in characters */
  /* with a tokenizer: its rules on worker threads, every diagnostic through
   * it (to keep the order); the longest prompt + class in tokens */
  ivs_tokqueue *tq;
  lengths toks;
};

static int deliver(const ivs_vdiag *d, void *ud);
static void on_tokens(size_t n, void *ud) {
  ivs_validator *v = ud;
  (void)lengths_add(&v->toks, n); /* out of memory: that example is left out of the percentiles */
}

int ivs_validator_new(ivs_validator **out, const ivs_validate_opts *opts) {
  ivs_validator *v = calloc(1, sizeof *v);
  if (!v) return ivs_error_set(IVS_ENOMEM, "out of memory");
  v->o = *opts;
  v->st.type = opts->type;
  if (opts->expected) { /* size the prompt table once instead of doubling it twenty times */
    size_t cap = 1024, want = opts->expected < ((size_t)1 << 24) ? opts->expected : ((size_t)1 << 24);
    while (cap < want * 2) cap *= 2;
    v->prompts.s = slots_new(cap);
    v->prompts.cap = v->prompts.s ? cap : 0;
  }
  v->type_known = opts->type != IVS_TYPE_AUTO;
  if (opts->tokenizer) {
    ivs_tokrules tr = {opts->tokenizer, opts->max_tokens, 0};
    int rc = ivs_tokqueue_new(&v->tq, &tr, opts->threads, deliver, on_tokens, v);
    if (rc) {
      ivs_validator_free(v);
      return rc;
    }
    v->st.tokenized = 1;
  }
  *out = v;
  return 0;
}

void ivs_validator_free(ivs_validator *v) {
  if (!v) return;
  slots_free(v->dups.s, v->dups.cap);
  slots_free(v->prompts.s, v->prompts.cap);
  ivs_tokqueue_free(v->tq);
  lengths_release(&v->lens);
  lengths_release(&v->toks);
  free(v);
}

const ivs_validate_stats *ivs_validator_stats(const ivs_validator *v) { return &v->st; }

static int emit(ivs_validator *v, int is_error, size_t line, size_t column, const char *rule, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int emit(ivs_validator *v, int is_error, size_t line, size_t column, const char *rule, const char *field,
                const char *fmt, ...) {
  ivs_vdiag d;
  d.is_error = is_error;
  d.line = line;
  d.column = column;
  d.rule = rule;
  snprintf(d.field, sizeof d.field, "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d.message, sizeof d.message, fmt, ap);
  va_end(ap);
  ivs_nul_visible(d.message);
  if (v->tq) return ivs_tokqueue_diag(v->tq, &d);
  return deliver(&d, v);
}

/* Counts d and hands it to the caller. */
static int deliver(const ivs_vdiag *d, void *ud) {
  ivs_validator *v = ud;
  if (d->is_error) v->st.errors++;
  else v->st.warnings++;
  return v->o.on_diag ? v->o.on_diag(d, v->o.ud) : 0;
}

/* Hands an example that passed the rules the tokenizer needs (non-empty
 * prompts and classes) to the tokenizer rules. */
static int tokenize_example(ivs_validator *v, size_t line, const char *prompt, size_t pcol, const char *other,
                            const char *oname, size_t ocol, const char *const *classes, size_t ncl, size_t ccol) {
  ivs_tok_example ex = {.type = v->st.type, .line = line, .classes = classes, .nclasses = ncl, .classes_column = ccol};
  ex.prompt[0] = prompt, ex.prompt_len[0] = strlen(prompt), ex.prompt_column[0] = pcol, ex.prompt_field[0] = "prompt";
  if (other && *other)
    ex.prompt[1] = other, ex.prompt_len[1] = strlen(other), ex.prompt_column[1] = ocol, ex.prompt_field[1] = oname;
  return ivs_tokqueue_example(v->tq, &ex);
}

int ivs_validator_report(ivs_validator *v, int is_error, size_t line, size_t column, const char *rule,
                         const char *field, const char *message) {
  return emit(v, is_error, line, column, rule, field, "%s", message);
}

/* End of the JSON string whose opening quote is at s[i]: the index of its
 * closing quote, or n.  memchr jumps over the text between quotes. */
static size_t string_end(const char *s, size_t n, size_t i) {
  size_t j = i + 1;
  for (;;) {
    const char *q = memchr(s + j, '"', n - j);
    if (!q) return n;
    j = (size_t)(q - s);
    size_t b = 0;
    while (j - b > i + 1 && s[j - 1 - b] == '\\') b++;
    if (b % 2 == 0) return j;
    j++;
  }
}

const char *ivs_json_member_raw(const char *s, size_t n, const char *key, size_t *len) {
  size_t klen = strlen(key), i = 0;
  int depth = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      size_t end = string_end(s, n, i), start = i + 1;
      i = end + 1;
      if (depth != 1 || end >= n) continue;
      size_t j = i;
      while (j < n && isspace((unsigned char)s[j])) j++;
      if (j >= n || s[j] != ':') continue; /* a value, not a key */
      if (end - start != klen || memcmp(s + start, key, klen)) continue;
      j++;
      while (j < n && isspace((unsigned char)s[j])) j++;
      size_t k = j;
      int d = 0;
      for (; k < n; k++) {
        if (s[k] == '"') k = string_end(s, n, k);
        else if (s[k] == '{' || s[k] == '[') d++;
        else if (s[k] == '}' || s[k] == ']') {
          if (d == 0) break;
          d--;
        } else if (s[k] == ',' && d == 0) break;
      }
      if (k > n) k = n;
      while (k > j && isspace((unsigned char)s[k - 1])) k--;
      *len = k - j;
      return s + j;
    }
    if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') depth--;
    i++;
  }
  return NULL;
}

/* The fields the rules look at, found once per record. */
enum { K_PROMPT, K_OTHER, K_BIASED, K_COMPLETION, K_CLASSES, K_ANSWER, K_FILLED, K_ANSWER_IX, K_ANSWER_IDX, K_COUNT };
static const char *const known[K_COUNT] = {"prompt",  "other_prompt",    "biased_prompt", "completion", "classes",
                                           "answer_index", "filled_template", "answer_ix",     "answer_idx"};

typedef struct {
  const ivs_field *raw[K_COUNT];     /* present */
  const ivs_field *present[K_COUNT]; /* present and neither null nor an empty cell */
} fields;

static void index_fields(const ivs_record *rec, fields *fs) {
  memset(fs, 0, sizeof *fs);
  for (size_t i = 0; i < rec->n; i++) {
    const ivs_field *f = &rec->fields[i];
    for (int k = 0; k < K_COUNT; k++)
      if (f->name[0] == known[k][0] && !strcmp(f->name, known[k])) {
        if (!fs->raw[k]) {
          fs->raw[k] = f;
          if (!(f->json ? cJSON_IsNull(f->json) : f->len == 0)) fs->present[k] = f;
        }
        break;
      }
  }
}

/* The family a record's fields point to (log-odds types count as one). */
static ivs_task_type implied(const fields *fs) {
  if (fs->present[K_OTHER] || fs->present[K_BIASED]) return IVS_TYPE_LOGODDS;
  if (fs->present[K_COMPLETION]) return IVS_TYPE_SEQUENCE_PROB;
  return IVS_TYPE_CLASSIFICATION;
}

static ivs_task_type family(ivs_task_type t) { return t == IVS_TYPE_ABSOLUTE_LOGODDS ? IVS_TYPE_LOGODDS : t; }

/* The string value of a field; NULL (with an error) when it is not a string. */
static const char *string_of(ivs_validator *v, const ivs_record *rec, const ivs_field *f, const char *name) {
  if (!f->json) return f->str;
  if (cJSON_IsString(f->json)) return f->json->valuestring;
  emit(v, 1, rec->line, f->column, "field-type", name, "%s must be a string", name);
  return NULL;
}

static int has_trailing_space(const char *s) {
  size_t n = strlen(s);
  return n && strchr(" \t\r\n\f\v", s[n - 1]) != NULL;
}

/* Lower-cased, trimmed copy for the similar-classes check. */
static void fold(const char *s, char *out, size_t cap) {
  while (*s && isspace((unsigned char)*s)) s++;
  size_t n = 0;
  for (; *s && n + 1 < cap; s++) out[n++] = (char)tolower((unsigned char)*s);
  while (n && isspace((unsigned char)out[n - 1])) n--;
  out[n] = '\0';
}

int ivs_validator_record(ivs_validator *v, const ivs_record *rec, const char *raw, size_t raw_len) {
  size_t line = rec->line;
  int rc = 0;
  if (rec->error) {
    const char *rule = strstr(rec->error, "duplicate key")   ? "duplicate-key"
                       : strstr(rec->error, "JSON object") ? "not-object"
                       : strstr(rec->error, "fields as in") ? "required-field"
                                                             : "json";
    return emit(v, 1, line, rec->error_column, rule, "", "%s", rec->error);
  }
  v->st.examples++;
  fields fs;
  index_fields(rec, &fs);
  if (!v->type_known) {
    v->st.type = implied(&fs); /* logodds, sequence_prob or classification */
    v->st.type_inferred = 1;
    v->type_known = 1;
  }
  ivs_task_type type = v->st.type, mine = implied(&fs);
  if (family(mine) != family(type))
    emit(v, 1, line, 0, "mixed-types", "", "fields of a %s example in a %s file", ivs_type_name(mine),
         ivs_type_name(type));
  int logodds = family(type) == IVS_TYPE_LOGODDS;

  /* prompt (the prize pipeline's own files call it filled_template) */
  if (!fs.raw[K_PROMPT] && fs.raw[K_FILLED]) {
    fs.raw[K_PROMPT] = fs.raw[K_FILLED], fs.present[K_PROMPT] = fs.present[K_FILLED];
    emit(v, 0, line, fs.raw[K_FILLED]->column, "old-name", "filled_template",
         "old field name 'filled_template': write 'prompt'");
  }
  const ivs_field *fp = fs.present[K_PROMPT];
  const char *prompt = NULL;
  if (!fp) {
    const ivs_field *e = fs.raw[K_PROMPT];
    if (e && !e->json) emit(v, 1, line, e->column, "empty", "prompt", "empty prompt");
    else emit(v, 1, line, 0, "required-field", "prompt", "missing field 'prompt'");
  } else if ((prompt = string_of(v, rec, fp, "prompt"))) {
    if (!*prompt) emit(v, 1, line, fp->column, "empty", "prompt", "empty prompt");
    else if (has_trailing_space(prompt))
      emit(v, 1, line, fp->column, "trailing-whitespace", "prompt",
           "prompt ends in whitespace (the prize's API scoring fails with 'did not start on a token boundary')");
  }
  uint64_t hp = 0;
  if (prompt) {
    /* the prompt table is large and read at random: start loading the slot
     * now, so that the checks in between hide the cache miss */
    hp = hash_str(11, prompt);
    if (v->prompts.cap) __builtin_prefetch(&v->prompts.s[(hp ? hp : 1) & (v->prompts.cap - 1)]);
    if (lengths_add(&v->lens, ivs_utf8_count(prompt, strlen(prompt)))) return IVS_ENOMEM;
  }

  /* sequence_prob: completion */
  if (type == IVS_TYPE_SEQUENCE_PROB) {
    const ivs_field *fc = fs.present[K_COMPLETION];
    const char *c = NULL;
    if (!fc) emit(v, 1, line, 0, "required-field", "completion", "missing or empty field 'completion'");
    else if ((c = string_of(v, rec, fc, "completion"))) {
      if (!*c) emit(v, 1, line, fc->column, "empty", "completion", "empty completion");
      else if (c[0] != ' ')
        emit(v, 0, line, fc->column, "leading-space", "completion", "completion does not start with a space");
    }
    if (prompt && c) { /* duplicates: same prompt and completion */
      int found;
      slot *s = table_get(&v->dups, hash_str(hash_str(7, prompt), c), &found);
      if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
      if (found) emit(v, 0, line, 0, "duplicate", "", "same prompt and completion as line %u", s->line);
      else s->line = (uint32_t)line;
    }
    if (v->tq && prompt && *prompt && c && *c)
      return tokenize_example(v, line, prompt, fp->column, NULL, NULL, 0, &c, 1, fc->column);
    return 0;
  }

  /* other_prompt */
  const char *o = NULL, *oname = "other_prompt";
  size_t ocol = 0;
  if (logodds) {
    const ivs_field *fo = fs.present[K_OTHER];
    const char *name = "other_prompt";
    if (!fo && (fo = fs.present[K_BIASED])) {
      name = "biased_prompt";
      emit(v, 0, line, fo->column, "old-name", name, "old field name 'biased_prompt': write 'other_prompt'");
    }
    oname = name;
    ocol = fo ? fo->column : 0;
    if (!fo) emit(v, 1, line, 0, "required-field", "other_prompt", "missing or empty field 'other_prompt'");
    else if ((o = string_of(v, rec, fo, name)) && !*o)
      emit(v, 1, line, fo->column, "empty", name, "empty %s", name);
    else if (o && has_trailing_space(o))
      emit(v, 1, line, fo->column, "trailing-whitespace", name, "%s ends in whitespace", name);
  }

  /* classes */
  const ivs_field *fk = fs.present[K_CLASSES];
  ivs_strlist cl = {0};
  int classes_ok = 0;
  /* the classes: pointers to cJSON's own strings (no copies), or cl's for a Python literal */
  const char *shown[64], **heap = NULL;
  const char *const *items = NULL;
  size_t ncl = 0;
  if (!fk) {
    emit(v, 1, line, 0, "required-field", "classes", "missing or empty field 'classes'");
  } else if (fk->json && cJSON_IsArray(fk->json)) {
    size_t n = (size_t)cJSON_GetArraySize(fk->json);
    const cJSON *it;
    if (n > IVS_MAX_CLASSES) {
      emit(v, 1, line, fk->column, "classes", "classes", "more than %d classes", IVS_MAX_CLASSES);
    } else if (n > 64 && !(heap = malloc(n * sizeof *heap))) {
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    } else {
      const char **ptrs = heap ? heap : shown;
      classes_ok = 1;
      cJSON_ArrayForEach(it, fk->json) {
        if (!cJSON_IsString(it)) {
          emit(v, 1, line, fk->column, "field-type", "classes", "classes must be strings");
          classes_ok = 0;
          break;
        }
        ptrs[ncl++] = it->valuestring;
      }
      items = ptrs;
    }
  } else if (fk->json && !cJSON_IsString(fk->json)) {
    emit(v, 1, line, fk->column, "field-type", "classes", "classes must be a list of strings or a string holding one");
  } else {
    const char *text = fk->json ? fk->json->valuestring : fk->str;
    size_t at;
    if (ivs_pylist_parse(text, strlen(text), &cl, &at) == 0) {
      classes_ok = 1;
    } else {
      char snip[48];
      snprintf(snip, sizeof snip, "%.40s", text + at);
      emit(v, 1, line, fk->column, "classes", "classes", "%s at character %zu: %s", ivs_error_message(),
           ivs_utf8_count(text, at) + 1, snip);
    }
  }
  if (classes_ok && !items) items = (const char *const *)cl.items, ncl = cl.n;
  int empty = 0;
  if (classes_ok) {
    if (logodds && ncl != 2)
      emit(v, 1, line, fk->column, "classes", "classes", "log-odds tasks need exactly 2 classes, found %zu", ncl);
    else if (ncl < 2)
      emit(v, 1, line, fk->column, "classes", "classes", "at least 2 classes are needed, found %zu", ncl);
    int nospace = -1, similar = -1;
    for (size_t i = 0; i < ncl; i++) {
      if (!items[i][0]) empty = 1;
      else if (items[i][0] != ' ' && nospace < 0) nospace = (int)i;
    }
    if (empty) emit(v, 1, line, fk->column, "classes", "classes", "a class is an empty string");
    if (nospace >= 0)
      emit(v, 0, line, fk->column, "leading-space", "classes", "class %d ('%.40s') does not start with a space",
           nospace, items[nospace]);
    if (ncl <= 16) {
      char folded[16][128];
      for (size_t i = 0; i < ncl; i++) fold(items[i], folded[i], sizeof folded[i]);
      for (size_t i = 0; i < ncl && similar < 0; i++)
        for (size_t j = i + 1; j < ncl && similar < 0; j++)
          if (!strcmp(folded[i], folded[j]))
            similar = (int)j, emit(v, 0, line, fk->column, "similar-classes", "classes",
                                   "classes %zu and %zu differ only in case or surrounding whitespace", i, j);
    }
    v->st.class_counts[ncl < IVS_STAT_BUCKETS - 1 ? ncl : IVS_STAT_BUCKETS - 1]++;
  }

  /* answer_index (answer_ix in the prize pipeline's files, answer_idx in others) */
  const char *answer_key = "answer_index";
  for (int k = K_ANSWER_IX; k <= K_ANSWER_IDX && !fs.raw[K_ANSWER]; k++)
    if (fs.raw[k]) {
      fs.raw[K_ANSWER] = fs.raw[k], fs.present[K_ANSWER] = fs.present[k], answer_key = known[k];
      emit(v, 0, line, fs.raw[k]->column, "old-name", known[k], "old field name '%s': write 'answer_index'", known[k]);
    }
  const ivs_field *fa = fs.present[K_ANSWER];
  long answer = -1;
  int have_answer = 0;
  if (!fa) {
    emit(v, 1, line, 0, "required-field", "answer_index", "missing or empty field 'answer_index'");
  } else if (fa->json) {
    size_t rl = 0;
    const char *tok = raw ? ivs_json_member_raw(raw, raw_len, answer_key, &rl) : NULL;
    if (!cJSON_IsNumber(fa->json))
      emit(v, 1, line, fa->column, "field-type", "answer_index", "answer_index must be a JSON integer, not %s",
           cJSON_IsString(fa->json) ? "a string" : "another type");
    else if ((tok && (memchr(tok, '.', rl) || memchr(tok, 'e', rl) || memchr(tok, 'E', rl))) ||
             fa->json->valuedouble != floor(fa->json->valuedouble))
      emit(v, 1, line, fa->column, "field-type", "answer_index", "answer_index must be an integer, got %.*s",
           (int)(tok ? rl : 3), tok ? tok : "a fraction");
    else if (fabs(fa->json->valuedouble) > 1e15)
      emit(v, 1, line, fa->column, "answer-index", "answer_index", "answer_index %.0f out of range",
           fa->json->valuedouble);
    else
      answer = (long)fa->json->valuedouble, have_answer = 1;
  } else {
    char *end;
    long x = strtol(fa->str, &end, 10);
    if (*end || end == fa->str || fa->str[0] == '+' || isspace((unsigned char)fa->str[0]))
      emit(v, 1, line, fa->column, "answer-index", "answer_index", "answer_index must be an integer, got '%.40s'",
           fa->str);
    else
      answer = x, have_answer = 1;
  }
  if (have_answer) {
    if (answer < 0 || (classes_ok && (size_t)answer >= ncl))
      emit(v, 1, line, fa->column, "answer-index", "answer_index", "answer_index %ld out of range for %zu classes", answer,
           classes_ok ? ncl : 0);
    else
      v->st.answer_counts[answer < IVS_STAT_BUCKETS - 1 ? answer : IVS_STAT_BUCKETS - 1]++;
  }

  /* Duplicates and conflicting answers.  One lookup by prompt for every
   * record; only a prompt seen before goes on to the (prompt, classes) table,
   * which therefore stays small. */
  if (prompt && classes_ok) {
    uint64_t hc = 5;
    for (size_t i = 0; i < ncl; i++) hc = hash_str(hc, items[i]);
    /* the answer as text: the same prompt may list its classes in another order */
    int32_t ah = have_answer && answer >= 0 && (size_t)answer < ncl
                     ? (int32_t)(hash_str(3, items[answer]) & 0x7FFFFFFF)
                     : -1;
    int found;
    slot *s = table_get(&v->prompts, hp, &found);
    if (!s) {
      rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      goto done;
    }
    if (!found) {
      s->line = (uint32_t)line;
      s->answer = ah;
      s->extra = hc;
    } else {
      uint32_t first = s->line;
      if (ah >= 0 && s->answer >= 0 && s->answer != ah)
        emit(v, 0, line, 0, "conflicting-answers", "answer_index", "same prompt as line %u with another answer", first);
      if (s->extra == hc) {
        emit(v, 0, line, 0, "duplicate", "", "same prompt and classes as line %u", first);
      } else {
        slot *d = table_get(&v->dups, ivs_hash_mix(hp, hc), &found);
        if (!d) {
          rc = ivs_error_set(IVS_ENOMEM, "out of memory");
          goto done;
        }
        if (found) emit(v, 0, line, 0, "duplicate", "", "same prompt and classes as line %u", d->line);
        else d->line = (uint32_t)line;
      }
    }
  }
  if (v->tq && prompt && *prompt && classes_ok && ncl && !empty)
    rc = tokenize_example(v, line, prompt, fp->column, o, oname, ocol, items, ncl, fk->column);
done:
  ivs_strlist_release(&cl);
  free(heap);
  return rc;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int table_has(const table *t, uint64_t h) {
  if (!t->cap) return 0;
  size_t j = h & (t->cap - 1);
  while (t->s[j].h && t->s[j].h != h) j = (j + 1) & (t->cap - 1);
  return t->s[j].h == h;
}

static int shares_keys(const table *a, const table *b) {
  if (!a->cap) return 0;
  for (size_t i = 0; i < b->cap; i++) {
    /* a's slots are read at random: ask for the ones needed a little later */
    if (i + 16 < b->cap && b->s[i + 16].h) __builtin_prefetch(&a->s[b->s[i + 16].h & (a->cap - 1)]);
    if (b->s[i].h && table_has(a, b->s[i].h)) return 1;
  }
  return 0;
}

int ivs_validator_absorb(ivs_validator *first, const ivs_validator *second) {
  if (second->st.errors || second->st.warnings || shares_keys(&first->prompts, &second->prompts) ||
      shares_keys(&first->dups, &second->dups))
    return 0;
  lengths *a = &first->lens;
  const lengths *b = &second->lens;
  if (ivs_grow((void **)&a->longs, &a->caplong, b->nlong + a->nlong, sizeof *a->longs, 64)) return 0;
  if (b->hist && !a->hist && !(a->hist = calloc(LEN_HIST, sizeof *a->hist))) return 0;
  for (size_t i = 0; b->hist && i < LEN_HIST; i++) a->hist[i] += b->hist[i];
  if (b->nlong) memcpy(a->longs + a->nlong, b->longs, b->nlong * sizeof *b->longs);
  a->nlong += b->nlong;
  a->n += b->n;
  first->st.examples += second->st.examples;
  for (size_t i = 0; i < IVS_STAT_BUCKETS; i++) {
    first->st.class_counts[i] += second->st.class_counts[i];
    first->st.answer_counts[i] += second->st.answer_counts[i];
  }
  return 1;
}

/* The k-th smallest length (0-based); longs must be sorted. */
static size_t nth_len(const lengths *l, size_t k) {
  for (size_t len = 0; len < LEN_HIST; len++) {
    if (k < l->hist[len]) return len;
    k -= l->hist[len];
  }
  return l->longs[k];
}

/* p50, p90, p99 and max. */
static void percentiles(lengths *l, size_t out[4]) {
  if (!l->n) return;
  if (l->nlong) qsort(l->longs, l->nlong, sizeof *l->longs, cmp_u32);
  out[0] = nth_len(l, (l->n - 1) * 50 / 100);
  out[1] = nth_len(l, (l->n - 1) * 90 / 100);
  out[2] = nth_len(l, (l->n - 1) * 99 / 100);
  out[3] = nth_len(l, l->n - 1);
}

int ivs_validator_finish(ivs_validator *v) {
  if (v->tq) { /* everything in order; the file-level rules then go straight out */
    int rc = ivs_tokqueue_flush(v->tq);
    ivs_tokqueue_free(v->tq);
    v->tq = NULL;
    if (rc) return rc;
  }
  size_t n = v->st.examples;
  if (n < v->o.min_examples)
    emit(v, 1, 0, 0, "min-examples", "", "%zu examples; the prize needs at least %zu", n, v->o.min_examples);
  else if (n < 1000 && v->o.min_examples >= 300)
    emit(v, 0, 0, 0, "few-examples", "", "%zu examples; about 1000 are recommended", n);
  size_t labelled = 0, top = 0, top_i = 0;
  for (size_t i = 0; i < IVS_STAT_BUCKETS; i++) {
    labelled += v->st.answer_counts[i];
    if (v->st.answer_counts[i] > top) top = v->st.answer_counts[i], top_i = i;
  }
  if (labelled >= 10 && top == labelled)
    emit(v, 0, 0, 0, "answer-balance", "answer_index",
         "answer_index is %zu in every example: a model can score by position alone", top_i);
  else if (labelled >= 20 && (double)top > 0.8 * (double)labelled)
    emit(v, 0, 0, 0, "answer-balance", "answer_index", "answer_index is %zu in %.0f%% of the examples", top_i,
         100.0 * (double)top / (double)labelled);
  size_t p[4] = {0, 0, 0, 0};
  percentiles(&v->lens, p);
  v->st.prompt_p50 = p[0], v->st.prompt_p90 = p[1], v->st.prompt_p99 = p[2], v->st.prompt_max = p[3];
  if (v->st.tokenized) {
    size_t t[4] = {0, 0, 0, 0};
    percentiles(&v->toks, t);
    v->st.tokens_p50 = t[0], v->st.tokens_p90 = t[1], v->st.tokens_p99 = t[2], v->st.tokens_max = t[3];
  }
  return 0;
}

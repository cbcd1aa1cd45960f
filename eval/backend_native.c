/* The native:DIR backend: a Hugging Face model directory scored by
 * invscale's own engine (engine/, tokenizer/).  The model is loaded when its
 * turn to score comes and freed after, so a family is never in memory at
 * once.  Its requests are tokenized as opts->tokenization says, grouped by
 * their shared context (one example's classes) and scored together
 * (engine/batch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/utf8.h"
#include "engine/batch.h"
#include "engine/generate.h"
#include "engine/model.h"
#include "eval/backend.h"
#include "tokenizer/tokenizer.h"

typedef struct {
  const char *name, *dir;
  const ivs_eval_opts *opts;
  double params;
  size_t truncated;
  struct timespec start; /* of the scoring or generating, for the progress's tokens/s */
} native_state;

const char *ivs_eval_tokenization_name(ivs_eval_tokenization t) {
  static const char *const names[] = {"prize", "lmeval", "separate"};
  return (unsigned)t < 3 ? names[t] : NULL;
}

static int check_native(const char *arg) {
  return *arg ? 0 : ivs_error_set(IVS_EUSAGE, "expected native:DIR (a Hugging Face model directory)");
}

static int open_native(const char *name, const char *arg, const ivs_eval_opts *opts, void **state) {
  struct stat sb;
  if (stat(arg, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return ivs_error_set(IVS_EIO, "model '%s': %s is not a model directory", name, arg);
  if (!ivs_eval_tokenization_name(opts->tokenization))
    return ivs_error_set(IVS_EUSAGE, "unknown tokenization %d", (int)opts->tokenization);
  native_state *s = calloc(1, sizeof *s);
  if (!s) return ivs_error_set(IVS_ENOMEM, "out of memory");
  s->name = name, s->dir = arg, s->opts = opts;
  *state = s;
  return 0;
}

/* The parameter count from the weights' headers (nothing converted). */
static double params_native(void *state) {
  native_state *s = state;
  if (s->params > 0) return s->params;
  ivs_model *m;
  if (ivs_model_open_info(&m, s->dir)) return 0; /* the error comes again, in full, when it scores */
  ivs_model_info info;
  ivs_model_get_info(m, &info);
  s->params = (double)info.params;
  ivs_model_free(m);
  return s->params;
}

static void event(const native_state *s, ivs_eval_event_kind kind, size_t done, size_t total, const char *text) {
  if (!s->opts->progress) return;
  ivs_eval_event ev = {kind, s->name, done, total, text};
  s->opts->progress(&ev, s->opts->progress_ud);
}

/* Progress: done of total, and the tokens run (or generated) per second. */
static void progress(native_state *s, size_t done, size_t total, size_t tokens, const char *what) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double sec = (double)(now.tv_sec - s->start.tv_sec) + (double)(now.tv_nsec - s->start.tv_nsec) / 1e9;
  char text[64] = "";
  if (sec > 0) snprintf(text, sizeof text, "%.0f tokens %s/s", (double)tokens / sec, what);
  event(s, IVS_EVAL_EVENT_REQUESTS, done, total, text);
}

static void on_batch(size_t done, size_t total, size_t tokens, void *ud) { progress(ud, done, total, tokens, "run"); }

/* The ids of a request, grown in one buffer (offsets, since it moves). */
typedef struct {
  int32_t *ids;
  size_t len, cap;
} id_buf;

static int put_ids(id_buf *b, const int32_t *ids, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = (b->len + n) * 2 + 1024;
    int32_t *p = realloc(b->ids, cap * sizeof *p);
    if (!p) return ivs_error_set(IVS_ENOMEM, "out of memory");
    b->ids = p, b->cap = cap;
  }
  if (n) memcpy(b->ids + b->len, ids, n * sizeof *ids);
  b->len += n;
  return 0;
}

/* Tokenizes a + b (task text: a NUL is stored as C0 80) into *ids. */
static int encode2(const ivs_tokenizer *tok, const char *a, size_t na, const char *b, size_t nb, char **scratch,
                   size_t *scap, int32_t **ids, size_t *n) {
  if (na + nb + 1 > *scap) {
    char *p = realloc(*scratch, na + nb + 1);
    if (!p) return ivs_error_set(IVS_ENOMEM, "out of memory");
    *scratch = p, *scap = na + nb + 1;
  }
  size_t k = 0;
  const char *parts[2] = {a, b};
  size_t lens[2] = {na, nb};
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < lens[p]; i++) {
      if ((unsigned char)parts[p][i] == 0xC0 && i + 1 < lens[p] && (unsigned char)parts[p][i + 1] == 0x80) {
        (*scratch)[k++] = '\0';
        i++;
      } else (*scratch)[k++] = parts[p][i];
    }
  *ids = NULL, *n = 0;
  return ivs_tokenizer_encode(tok, *scratch, k, ids, n);
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

typedef struct {
  const ivs_tokenizer *tok;
  ivs_eval_tokenization how;
  const int32_t *start; /* the start token(s) put before every sequence (prize, separate) */
  size_t nstart;
  int32_t empty_ctx;    /* lmeval: the token standing for an empty context */
  char *scratch;
  size_t scap;
} encoder;

/* One request's sequence appended to b; *n_ctx: where its scored tokens begin. */
static int encode_req(encoder *e, const ivs_backend_req *r, id_buf *b, size_t *n, size_t *n_ctx) {
  const char *ctx = r->context, *cont = r->continuation;
  size_t nc = strlen(ctx), nq = strlen(cont), base = b->len;
  int32_t *ids = NULL, *ids2 = NULL;
  size_t n1 = 0, n2 = 0, scored;
  int rc = 0;
  if (e->how == IVS_EVAL_TOKENIZATION_LMEVAL) {
    size_t sp = nc;
    while (sp > 0 && is_space((unsigned char)ctx[sp - 1])) sp--;
    /* the context without its trailing whitespace; the continuation with it */
    if (sp == 0) {
      rc = encode2(e->tok, ctx, nc, cont, nq, &e->scratch, &e->scap, &ids, &n1);
      if (!rc && e->empty_ctx < 0)
        rc = ivs_error_set(IVS_EINVAL, "%s: the context is empty and the model has no start or end-of-text token", r->what);
      if (!rc) rc = put_ids(b, &e->empty_ctx, 1);
      if (!rc) rc = put_ids(b, ids, n1);
      scored = n1;
    } else {
      rc = encode2(e->tok, ctx, nc, cont, nq, &e->scratch, &e->scap, &ids, &n1);
      if (!rc) rc = encode2(e->tok, ctx, sp, "", 0, &e->scratch, &e->scap, &ids2, &n2);
      if (!rc) rc = put_ids(b, ids, n1);
      scored = n1 > n2 ? n1 - n2 : 0;
    }
  } else {
    rc = put_ids(b, e->start, e->nstart);
    if (e->how == IVS_EVAL_TOKENIZATION_PRIZE) {
      if (!rc) rc = encode2(e->tok, ctx, nc, cont, nq, &e->scratch, &e->scap, &ids, &n1);
      if (!rc) rc = encode2(e->tok, cont, nq, "", 0, &e->scratch, &e->scap, &ids2, &n2);
      if (!rc) rc = put_ids(b, ids, n1);
    } else {
      if (!rc) rc = encode2(e->tok, ctx, nc, "", 0, &e->scratch, &e->scap, &ids, &n1);
      if (!rc) rc = encode2(e->tok, cont, nq, "", 0, &e->scratch, &e->scap, &ids2, &n2);
      if (!rc) rc = put_ids(b, ids, n1);
      if (!rc) rc = put_ids(b, ids2, n2);
    }
    scored = n2;
  }
  free(ids), free(ids2);
  if (rc) {
    ivs_error_prefix("%s", r->what);
    return rc;
  }
  *n = b->len - base;
  if (scored == 0) return ivs_error_set(IVS_EINVAL, "%s: the continuation has no tokens", r->what);
  if (scored >= *n)
    return ivs_error_set(IVS_EINVAL, "%s: nothing comes before the %zu scored tokens (an empty prompt and no start token)",
                         r->what, scored);
  if (r->single_token && scored != 1)
    return ivs_error_set(IVS_EINVAL, "%s: the class is %zu tokens; log-odds classes must be one token each", r->what,
                         scored);
  *n_ctx = *n - scored;
  return 0;
}

/* A sequence longer than the context: an error, or (truncate_left) its
 * oldest context tokens after the start tokens dropped. */
static int fit(native_state *s, const ivs_backend_req *r, size_t T, size_t keep, int32_t *ids, size_t *n, size_t *n_ctx) {
  if (*n <= T + 1) return 0; /* the last token is predicted, not read */
  size_t drop = *n - (T + 1);
  if (!s->opts->truncate_left)
    return ivs_error_set(IVS_EINVAL, "%s: %zu tokens (%zu of context, %zu scored): the model's context is %zu; shorten "
                         "it or use --truncate left", r->what, *n, *n_ctx, *n - *n_ctx, T);
  if (*n_ctx < keep + drop + 1)
    return ivs_error_set(IVS_EINVAL, "%s: %zu scored tokens leave no room for context in the model's %zu", r->what,
                         *n - *n_ctx, T);
  memmove(ids + keep, ids + keep + drop, (*n - keep - drop) * sizeof *ids);
  *n -= drop, *n_ctx -= drop;
  s->truncated++;
  return 0;
}

static int score_native(void *state, const ivs_backend_req *reqs, size_t n, double *out) {
  native_state *s = state;
  const ivs_eval_opts *o = s->opts;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  s->start = t0;
  ivs_tokenizer *tok = NULL;
  ivs_model *m = NULL;
  ivs_lm_req *lr = calloc(n ? n : 1, sizeof *lr);
  size_t *off = malloc((n ? n : 1) * sizeof *off);
  id_buf b = {NULL, 0, 0};
  encoder e;
  memset(&e, 0, sizeof e);
  int rc = !lr || !off ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) rc = ivs_tokenizer_load(&tok, s->dir);
  if (!rc) rc = ivs_model_open(&m, s->dir);
  ivs_model_info info;
  if (!rc) {
    ivs_model_get_info(m, &info);
    ivs_model_set_threads(o->threads ? o->threads : (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    e.tok = tok, e.how = o->tokenization;
    ivs_tokenizer_special_prefix(tok, &e.start, &e.nstart);
    /* OPT's tokenizer puts </s> first in Python, not always in tokenizer.json */
    if (!e.nstart && !strcmp(info.model_type, "opt") && info.bos_id >= 0) e.start = &info.bos_id, e.nstart = 1;
    e.empty_ctx = info.bos_id >= 0 ? info.bos_id : info.eos_id;
  }
  s->truncated = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    size_t len = 0, n_ctx = 0;
    off[i] = b.len;
    rc = encode_req(&e, &reqs[i], &b, &len, &n_ctx);
    if (!rc) rc = fit(s, &reqs[i], info.n_ctx, e.how == IVS_EVAL_TOKENIZATION_LMEVAL ? 0 : e.nstart, b.ids + off[i], &len,
                      &n_ctx);
    if (!rc) b.len = off[i] + len;
    for (size_t k = 0; !rc && k < len; k++)
      if (b.ids[off[i] + k] < 0 || (size_t)b.ids[off[i] + k] >= info.n_vocab)
        rc = ivs_error_set(IVS_EINVAL, "%s: token id %d is outside the model's vocabulary of %zu (tokenizer.json and "
                           "config.json disagree)", reqs[i].what, b.ids[off[i] + k], info.n_vocab);
    /* one group per run of requests with the same context (an example's classes) */
    lr[i] = (ivs_lm_req){NULL, len, n_ctx, i > 0 && reqs[i].context == reqs[i - 1].context ? lr[i - 1].group : i};
  }
  for (size_t i = 0; i < n && !rc; i++) lr[i].ids = b.ids + off[i];
  ivs_batch_stats st;
  ivs_batch_opts bo = {0, (size_t)o->cache_memory, on_batch, s};
  if (!rc) {
    rc = ivs_model_score_batch(m, lr, n, &bo, out, &st);
    size_t i;
    if (rc && sscanf(ivs_error_message(), "request %zu", &i) == 1 && i < n) {
      const char *rest = strchr(ivs_error_message(), ':');
      char msg[600];
      snprintf(msg, sizeof msg, "%s", rest ? rest + 2 : "");
      ivs_error_set(rc, "%s: %s", reqs[i].what, msg);
    }
  }
  event(s, IVS_EVAL_EVENT_STEP_END, 0, 0, "");
  if (!rc) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char note[400];
    snprintf(note, sizeof note,
             "%s: %zu requests, %zu tokens (%zu run, %zu from a kept prefix) in %.2f s: %.0f tokens/s, %zu threads", s->name,
             n, st.tokens, st.run, st.kept, sec, sec > 0 ? (double)st.tokens / sec : 0.0, ivs_model_threads());
    event(s, IVS_EVAL_EVENT_NOTE, 0, 0, note);
    if (s->truncated) {
      snprintf(note, sizeof note, "model '%s': %zu of %zu requests were cut on the left to fit the context of %zu tokens",
               s->name, s->truncated, n, info.n_ctx);
      event(s, IVS_EVAL_EVENT_WARNING, 0, 0, note);
    }
  } else ivs_error_prefix("model '%s'", s->name);
  ivs_model_free(m);
  ivs_tokenizer_free(tok);
  free(lr), free(off), free(b.ids), free(e.scratch);
  return rc;
}

/* ---- generation ---- */

typedef struct {
  const ivs_tokenizer *tok;
  const ivs_gen_params *p;
  size_t *cut; /* per sequence: where its first stop string starts in its text, or SIZE_MAX */
  native_state *s;
  size_t total;
} gen_ctx;

/* Ends a sequence when its text so far holds a stop string. */
static int on_token(size_t seq, const int32_t *ids, size_t n, void *ud) {
  gen_ctx *g = ud;
  if (!g->p->n_stop) return 0;
  char *text;
  size_t len;
  int rc = ivs_tokenizer_decode(g->tok, ids, n, 1, &text, &len);
  if (rc) return rc;
  size_t first = SIZE_MAX;
  for (size_t k = 0; k < g->p->n_stop; k++) {
    const char *hit = *g->p->stop[k] ? strstr(text, g->p->stop[k]) : NULL;
    if (hit && (size_t)(hit - text) < first) first = (size_t)(hit - text);
  }
  free(text);
  if (first == SIZE_MAX) return 0;
  g->cut[seq] = first;
  return 1;
}

static void on_step(size_t done, size_t total, size_t tokens, void *ud) {
  gen_ctx *g = ud;
  progress(g->s, done, total, tokens, "generated");
}

static int generate_native(void *state, const char *const *prompts, size_t n, const ivs_gen_params *p,
                           ivs_generation *out) {
  native_state *s = state;
  const ivs_eval_opts *o = s->opts;
  size_t total = n * p->samples;
  memset(out, 0, total * sizeof *out);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  s->start = t0;
  ivs_tokenizer *tok = NULL;
  ivs_model *m = NULL;
  ivs_decode_req *dr = calloc(n ? n : 1, sizeof *dr);
  ivs_decoded *dec = calloc(total ? total : 1, sizeof *dec);
  size_t *off = malloc((n ? n : 1) * sizeof *off), *cut = malloc((total ? total : 1) * sizeof *cut);
  id_buf b = {NULL, 0, 0};
  int rc = !dr || !dec || !off || !cut ? ivs_error_set(IVS_ENOMEM, "out of memory") : 0;
  if (!rc) rc = ivs_tokenizer_load(&tok, s->dir);
  if (!rc) rc = ivs_model_open(&m, s->dir);
  ivs_model_info info;
  const int32_t *start = NULL;
  size_t nstart = 0;
  if (!rc) {
    ivs_model_get_info(m, &info);
    ivs_model_set_threads(o->threads ? o->threads : (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    ivs_tokenizer_special_prefix(tok, &start, &nstart);
    if (!nstart && !strcmp(info.model_type, "opt") && info.bos_id >= 0) start = &info.bos_id, nstart = 1;
  }
  int32_t empty = -1;
  if (!rc) empty = info.bos_id >= 0 ? info.bos_id : info.eos_id;
  s->truncated = 0;
  char *scratch = NULL;
  size_t scap = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    int32_t *ids = NULL;
    size_t k = 0;
    off[i] = b.len;
    rc = put_ids(&b, start, nstart);
    if (!rc) rc = encode2(tok, prompts[i], strlen(prompts[i]), "", 0, &scratch, &scap, &ids, &k);
    if (!rc) rc = put_ids(&b, ids, k);
    free(ids);
    if (!rc && b.len == off[i]) {
      if (empty < 0) rc = ivs_error_set(IVS_EINVAL, "prompt %zu: empty, and the model has no start or end-of-text token", i);
      else rc = put_ids(&b, &empty, 1);
    }
    size_t len = b.len - off[i], room = p->max_new_tokens < info.n_ctx / 2 ? p->max_new_tokens : info.n_ctx / 2;
    if (!rc && len > info.n_ctx) {
      if (!o->truncate_left)
        rc = ivs_error_set(IVS_EINVAL, "prompt %zu: %zu tokens: the model's context is %zu; shorten it or use --truncate left",
                           i, len, info.n_ctx);
      else {
        /* keep the start tokens and the newest, with room to generate */
        size_t keep = info.n_ctx - room, drop = len - keep;
        memmove(b.ids + off[i] + nstart, b.ids + off[i] + nstart + drop, (len - nstart - drop) * sizeof *b.ids);
        b.len -= drop;
        s->truncated++;
      }
    }
    for (size_t j = off[i]; !rc && j < b.len; j++)
      if (b.ids[j] < 0 || (size_t)b.ids[j] >= info.n_vocab)
        rc = ivs_error_set(IVS_EINVAL, "prompt %zu: token id %d is outside the model's vocabulary of %zu", i, b.ids[j],
                           info.n_vocab);
    if (!rc) dr[i] = (ivs_decode_req){NULL, b.len - off[i], p->samples, i};
  }
  free(scratch);
  for (size_t i = 0; i < n && !rc; i++) dr[i].ids = b.ids + off[i];
  for (size_t k = 0; k < total && cut; k++) cut[k] = SIZE_MAX;
  gen_ctx g = {tok, p, cut, s, total};
  int32_t eos[16];
  size_t n_eos = m ? ivs_model_eos(m, eos, 16) : 0;
  ivs_decode_opts d = {.sampler = {.greedy = p->greedy, .temperature = p->temperature, .top_k = p->top_k, .top_p = p->top_p},
                       .max_new = p->max_new_tokens, .seed = p->seed, .eos = eos, .n_eos = n_eos,
                       .on_token = on_token, .progress = on_step, .ud = &g};
  size_t tokens = 0;
  if (!rc) rc = ivs_model_generate(m, dr, n, &d, dec);
  for (size_t k = 0; k < total && !rc; k++) {
    ivs_generation *q = &out[k];
    size_t len;
    rc = ivs_tokenizer_decode(tok, dec[k].ids, dec[k].n, 1, &q->text, &len);
    if (!rc && cut[k] != SIZE_MAX && cut[k] <= len) q->text[cut[k]] = '\0';
    q->ids = dec[k].ids, q->n_ids = q->n_tokens = dec[k].n, dec[k].ids = NULL;
    q->stop = dec[k].stop == IVS_DECODE_EOS ? IVS_GEN_EOS : dec[k].stop == IVS_DECODE_STOP ? IVS_GEN_STOP
              : dec[k].stop == IVS_DECODE_CONTEXT ? IVS_GEN_CONTEXT : IVS_GEN_LENGTH;
    tokens += q->n_tokens;
  }
  event(s, IVS_EVAL_EVENT_STEP_END, 0, 0, "");
  if (!rc) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char note[400];
    snprintf(note, sizeof note, "%s: %zu prompts x %zu samples, %zu tokens generated in %.2f s: %.0f tokens/s, %zu threads",
             s->name, n, p->samples, tokens, sec, sec > 0 ? (double)tokens / sec : 0.0, ivs_model_threads());
    event(s, IVS_EVAL_EVENT_NOTE, 0, 0, note);
    if (s->truncated) {
      snprintf(note, sizeof note, "model '%s': %zu of %zu prompts were cut on the left to fit the context of %zu tokens",
               s->name, s->truncated, n, info.n_ctx);
      event(s, IVS_EVAL_EVENT_WARNING, 0, 0, note);
    }
  } else {
    ivs_error_prefix("model '%s'", s->name);
    for (size_t k = 0; k < total; k++) ivs_generation_release(&out[k]);
  }
  for (size_t k = 0; k < total && dec; k++) ivs_decoded_release(&dec[k]);
  ivs_model_free(m);
  ivs_tokenizer_free(tok);
  free(dr), free(dec), free(off), free(cut), free(b.ids);
  return rc;
}

static void describe_native(void *state, ivs_eval_model_result *res) {
  native_state *s = state;
  res->tokenization = ivs_eval_tokenization_name(s->opts->tokenization);
  res->truncated = s->truncated;
  res->truncate_left = s->opts->truncate_left;
}

static void close_native(void *state) { free(state); }

const ivs_backend ivs_backend_native = {.prefix = "native:", .caps = IVS_BACKEND_SCORE | IVS_BACKEND_GENERATE,
                                        .check = check_native, .open = open_native, .score = score_native,
                                        .generate = generate_native, .params = params_native,
                                        .describe = describe_native, .close = close_native};

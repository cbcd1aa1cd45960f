/* Decoding many sequences together (engine/generate.h).
 *
 * A chunk of prompts runs at once: their tokens fill cache rows [0, P), each
 * prompt seeing its own rows only; each sequence (a prompt's sample) then has
 * a region of its own after them for the tokens it feeds back.  A step runs
 * one row per sequence still going, each seeing its prompt's rows and its
 * own region (a scattered batch, engine/model_impl.h). */
#include "engine/generate.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "engine/model_impl.h"

enum { DEFAULT_BATCH = 256, PREFILL_ROWS = 512, HEAD_ROWS = 64 };

void ivs_decoded_release(ivs_decoded *d) {
  free(d->ids);
  memset(d, 0, sizeof *d);
}

size_t ivs_model_eos(const ivs_model *m, int32_t *out, size_t max) {
  size_t n = m->n_eos < max ? m->n_eos : max;
  memcpy(out, m->eos, n * sizeof *out);
  return n;
}

typedef struct {
  size_t req, sample, out; /* its prompt, which sample, its index in out */
  size_t prompt_row;       /* its prompt's first cache row */
  size_t region;           /* its first cache row */
  size_t room;             /* tokens it may feed back: min(max_new - 1, context - prompt) */
  int done;
} seq;

static int check(const ivs_model *m, const ivs_decode_req *reqs, size_t n, const ivs_decode_opts *o) {
  if (m->info_only) return ivs_error_set(IVS_EINVAL, "%s: opened for its description only", m->weights_path);
  if (!o->max_new) return ivs_error_set(IVS_EINVAL, "max new tokens: must be at least 1");
  int rc = ivs_sampler_check(&o->sampler);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) {
    const ivs_decode_req *r = &reqs[i];
    if (!r->samples) return ivs_error_set(IVS_EINVAL, "prompt %zu: samples must be at least 1", i);
    if (!r->n) return ivs_error_set(IVS_EINVAL, "prompt %zu: no tokens", i);
    if (r->n > m->T)
      return ivs_error_set(IVS_EINVAL, "prompt %zu: %zu tokens: the model's context is %zu", i, r->n, m->T);
    for (size_t k = 0; k < r->n; k++)
      if (r->ids[k] < 0 || (size_t)r->ids[k] >= m->V)
        return ivs_error_set(IVS_EINVAL, "prompt %zu: token %zu: id %d is outside the vocabulary (0 to %zu)", i, k,
                             r->ids[k], m->V - 1);
  }
  return 0;
}

static size_t room_of(const ivs_model *m, const ivs_decode_opts *o, size_t len) {
  size_t feed = o->max_new - 1, left = m->T - len;
  return feed < left ? feed : left;
}

/* The logits of rows[0..n) of hidden (E wide) into logits [n x V]. */
static void head(const ivs_model *m, const float *hidden, size_t n, float *logits) {
  for (size_t r0 = 0; r0 < n; r0 += HEAD_ROWS) {
    size_t c = n - r0 < HEAD_ROWS ? n - r0 : HEAD_ROWS;
    if (c == 1) { /* the head read once, unpacked */
      cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->V, (int)m->E, 1.0f, m->head, (int)m->E, hidden + r0 * m->E, 1, 0.0f,
                  logits + r0 * m->V, 1);
      continue;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c, (int)m->V, (int)m->E, 1.0f, hidden + r0 * m->E,
                (int)m->E, m->head, (int)m->E, 0.0f, logits + r0 * m->V, (int)m->V);
  }
}

typedef struct {
  ivs_model *m;
  const ivs_decode_req *reqs;
  const ivs_decode_opts *o;
  ivs_decoded *out;
  ivs_sample_scratch *sc;
  size_t total, done, tokens;
} run;

/* Sequence q's next token from its logits row; ends it when it should. */
static int take(run *R, seq *q, const float *z) {
  const ivs_decode_opts *o = R->o;
  ivs_decoded *d = &R->out[q->out];
  const ivs_decode_req *r = &R->reqs[q->req];
  double u = o->sampler.greedy ? 0 : ivs_sample_uniform(o->seed, r->stream, q->sample, d->n);
  int32_t t = ivs_sample_pick(z, R->m->V, &o->sampler, u, R->sc);
  if (t < 0) {
    int rc = ivs_model_nonfinite_error(R->m);
    ivs_error_prefix("prompt %zu", q->req);
    return rc;
  }
  for (size_t k = 0; k < o->n_eos; k++)
    if (t == o->eos[k]) {
      d->stop = IVS_DECODE_EOS, q->done = 1;
      return 0;
    }
  d->ids[d->n++] = t;
  R->tokens++;
  if (o->on_token) {
    int rc = o->on_token(q->out, d->ids, d->n, o->ud);
    if (rc < 0) return rc;
    if (rc > 0) d->stop = IVS_DECODE_STOP, q->done = 1;
  }
  if (!q->done && d->n == o->max_new) d->stop = IVS_DECODE_LENGTH, q->done = 1;
  if (!q->done && d->n > q->room) d->stop = IVS_DECODE_CONTEXT, q->done = 1;
  return 0;
}

/* Prompts [i0, i1) and their sequences: the prompts, then each step. */
static int chunk(run *R, size_t i0, size_t i1, seq *qs, size_t nq, ivs_kv *kv, ivs_row *rows,
                 int32_t *ids, float *hidden, float *logits) {
  ivs_model *m = R->m;
  const ivs_decode_req *reqs = R->reqs;
  size_t E = m->E, V = m->V, B = nq > PREFILL_ROWS ? nq : PREFILL_ROWS;
  int rc = 0;
  /* the prompts, PREFILL_ROWS at a time; each prompt's last state kept at hidden row (PREFILL_ROWS + its index) */
  float *last = hidden + B * E;
  kv->len = 0, kv->scatter = 0, kv->rows = rows;
  size_t b = 0, start = 0;
  for (size_t i = i0; i < i1 && !rc; start += reqs[i].n, i++)
    for (size_t k = 0; k < reqs[i].n && !rc; k++) {
      ids[b] = reqs[i].ids[k];
      rows[b++] = (ivs_row){.pos = (uint32_t)k, .s = (uint32_t)start};
      int last_row = k + 1 == reqs[i].n;
      if (b == PREFILL_ROWS || (i + 1 == i1 && last_row)) {
        size_t at = kv->len;
        rc = ivs_model_extend(m, kv, ids, b, hidden);
        /* the prompts that ended in this forward */
        for (size_t j = i0, st = 0; j < i1 && !rc; st += reqs[j].n, j++)
          if (st + reqs[j].n - 1 >= at && st + reqs[j].n - 1 < at + b)
            memcpy(last + (j - i0) * E, hidden + (st + reqs[j].n - 1 - at) * E, E * sizeof *last);
        b = 0;
      }
    }
  if (rc) return rc;
  /* the first token of every sequence, from its prompt's logits */
  head(m, last, i1 - i0, logits);
  for (size_t k = 0; k < nq && !rc; k++) rc = take(R, &qs[k], logits + (qs[k].req - i0) * V);
  /* then one row per sequence still going */
  size_t *live = malloc(nq * sizeof *live);
  if (!live) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (;;) {
    if (rc) break;
    size_t nl = 0;
    for (size_t k = 0; k < nq; k++)
      if (!qs[k].done) live[nl++] = k;
      else if (qs[k].done == 1) qs[k].done = 2, R->done++;
    if (R->o->progress) R->o->progress(R->done, R->total, R->tokens, R->o->ud);
    if (!nl) break;
    for (size_t l = 0; l < nl; l++) {
      seq *q = &qs[live[l]];
      const ivs_decoded *d = &R->out[q->out];
      size_t p0 = q->prompt_row, len = reqs[q->req].n, fed = d->n - 1; /* tokens of its own already in the cache */
      ids[l] = d->ids[d->n - 1];
      rows[l] = (ivs_row){.pos = (uint32_t)(len + fed), .a0 = (uint32_t)p0, .a = (uint32_t)(p0 + len),
                          .s = (uint32_t)q->region, .at = (uint32_t)(q->region + fed)};
    }
    kv->scatter = 1, kv->rows = rows;
    rc = ivs_model_extend(m, kv, ids, nl, hidden);
    if (rc) break;
    head(m, hidden, nl, logits);
    for (size_t l = 0; l < nl && !rc; l++) rc = take(R, &qs[live[l]], logits + l * V);
  }
  kv->scatter = 0, kv->rows = NULL;
  free(live);
  return rc;
}

int ivs_model_generate(ivs_model *m, const ivs_decode_req *reqs, size_t n, const ivs_decode_opts *o, ivs_decoded *out) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += reqs[i].samples;
  memset(out, 0, total * sizeof *out);
  int rc = check(m, reqs, n, o);
  if (rc) return rc;
  size_t batch = o->batch ? o->batch : DEFAULT_BATCH;
  size_t per_token = m->L * 2 * m->KV * m->hd * sizeof(float);
  size_t cap_rows = (o->cache_bytes ? o->cache_bytes : (size_t)2 << 30) / per_token;
  /* the largest chunk decides the buffers */
  size_t most_rows = 0, most_seqs = 0, most_prompts = 0;
  for (size_t i0 = 0, i1; i0 < n; i0 = i1) {
    size_t rows = 0, seqs = 0;
    for (i1 = i0; i1 < n; i1++) {
      size_t r = reqs[i1].n + reqs[i1].samples * room_of(m, o, reqs[i1].n);
      if (i1 > i0 && (seqs + reqs[i1].samples > batch || rows + r > cap_rows)) break;
      rows += r, seqs += reqs[i1].samples;
    }
    if (rows > most_rows) most_rows = rows;
    if (seqs > most_seqs) most_seqs = seqs;
    if (i1 - i0 > most_prompts) most_prompts = i1 - i0;
  }
  size_t B = most_seqs > PREFILL_ROWS ? most_seqs : PREFILL_ROWS, L = most_seqs > most_prompts ? most_seqs : most_prompts;
  ivs_kv *kv = NULL;
  seq *qs = malloc((most_seqs ? most_seqs : 1) * sizeof *qs);
  ivs_row *rows = malloc(B * sizeof *rows);
  int32_t *ids = malloc(B * sizeof *ids);
  float *hidden = malloc((B + most_prompts) * m->E * sizeof *hidden), *logits = malloc(L * m->V * sizeof *logits);
  run R = {.m = m, .reqs = reqs, .o = o, .out = out, .total = total};
  if (!qs || !rows || !ids || !hidden || !logits) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  if (!rc) rc = ivs_sample_scratch_new(&R.sc, m->V);
  if (!rc) rc = ivs_kv_new_rows(&kv, m, most_rows);
  for (size_t i = 0, k = 0; i < n && !rc; i++)
    for (size_t s = 0; s < reqs[i].samples && !rc; s++, k++)
      if (!(out[k].ids = malloc(o->max_new * sizeof *out[k].ids))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i0 = 0, i1, k0 = 0; i0 < n && !rc; i0 = i1) {
    size_t nrows = 0, nq = 0, ptot = 0;
    for (i1 = i0; i1 < n; i1++) {
      size_t r = reqs[i1].n + reqs[i1].samples * room_of(m, o, reqs[i1].n);
      if (i1 > i0 && (nq + reqs[i1].samples > batch || nrows + r > cap_rows)) break;
      nrows += r, nq += reqs[i1].samples, ptot += reqs[i1].n;
    }
    size_t region = ptot, prow = 0;
    for (size_t i = i0, k = 0; i < i1; prow += reqs[i].n, i++)
      for (size_t s = 0; s < reqs[i].samples; s++, k++) {
        size_t room = room_of(m, o, reqs[i].n);
        qs[k] = (seq){.req = i, .sample = s, .out = k0 + k, .prompt_row = prow, .region = region, .room = room};
        region += room;
      }
    rc = chunk(&R, i0, i1, qs, nq, kv, rows, ids, hidden, logits);
    k0 += nq;
  }
  if (rc)
    for (size_t k = 0; k < total; k++) ivs_decoded_release(&out[k]);
  ivs_kv_free(kv);
  ivs_sample_scratch_free(R.sc);
  free(qs), free(rows), free(ids), free(hidden), free(logits);
  return rc;
}

/* The `openai:BASE_URL@MODEL` backend: log-probabilities from an
 * OpenAI-compatible completions endpoint (vLLM, SGLang, llama.cpp's server,
 * the legacy OpenAI API).
 *
 * Each request scores one continuation after one context: it POSTs
 * BASE_URL/completions with prompt = context + continuation, echo true,
 * logprobs 1 and max_tokens 0 (1 when the server refuses 0; the generated
 * token is then dropped), and sums choices[0].logprobs.token_logprobs over the
 * tokens whose text_offset lies inside the continuation.  The continuation
 * must start on a token boundary (a token's text_offset equal to the
 * context's length in characters), else the request fails with the prize's
 * "did not start on a token boundary".
 *
 * Requests run concurrently on libcurl's multi interface, each with a
 * timeout; HTTP 429 and 5xx, timeouts and dropped connections are retried
 * with exponential backoff (or the server's Retry-After); 401/403 and other
 * 4xx fail at once with the server's message.  Every answer is appended to a
 * cache file (JSON Lines, flushed per line) keyed by model, context and
 * continuation, so an interrupted run resumes without resending. */
#ifndef IVS_EVAL_OPENAI_H
#define IVS_EVAL_OPENAI_H

#include <stddef.h>

#include "eval/request.h"

typedef struct ivs_openai_opts {
  const char *base_url;    /* "http://127.0.0.1:8000/v1" */
  const char *model;       /* the server's model id */
  const char *api_key;     /* sent as a Bearer token; NULL: none */
  const char *api_key_env; /* the variable it came from, for messages (or NULL) */
  const char *cache_path;  /* JSONL cache file, created when missing; NULL: no cache */
  int concurrency;         /* requests in flight, >= 1 */
  long timeout_ms;         /* per attempt */
  int retries;             /* further attempts after a retryable failure */
  void (*progress)(size_t done, size_t total, void *ud);
  void *progress_ud;
} ivs_openai_opts;

/* A request: its context, its continuation (non-empty) and its name in messages. */
typedef ivs_backend_req ivs_openai_req;

typedef struct ivs_openai_stats {
  size_t cached, sent, retried; /* answers from the cache, requests sent, retries */
} ivs_openai_stats;

/* Fills out[i] with the log-probability of reqs[i].continuation after
 * reqs[i].context, for i < n.  Returns 0, or an error naming the server, the
 * request (its `what`) and the cause; answers received before a failure stay
 * in the cache. */
int ivs_openai_score(const ivs_openai_opts *o, const ivs_openai_req *reqs, size_t n, double *out,
                     ivs_openai_stats *stats);

/* The continuation's log-probability from one response body (for tests and
 * fuzzing): context_chars and total_chars are the lengths in characters of
 * the context and of context + continuation.  IVS_EPARSE for a body that is
 * not a completions response, IVS_EINVAL for a continuation not on a token
 * boundary or a missing or invalid log-probability. */
int ivs_openai_parse(const char *body, size_t len, size_t context_chars, size_t total_chars, double *logprob);

#endif

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

#include "eval/generate.h"
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
  size_t fallbacks;             /* generating: requests for n > 1 samples refused, then sent one sample each */
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

/* Generating: POSTs BASE_URL/completions for prompts[i] with max_tokens,
 * temperature (0 when greedy), top_p (when < 1), top_k (when set: vLLM's and
 * SGLang's extra field; the OpenAI API refuses it), n (the samples of a
 * prompt in one request), seed (31 bits mixed from p->seed, the prompt and
 * its first sample), stop and logprobs 1 (for the generated tokens' texts:
 * choices[].logprobs.tokens; "token_id:N" tokens, vLLM's
 * return_tokens_as_token_ids, are read as ids).  A server that refuses n > 1
 * (HTTP 400 or 422 to such a request) or answers with fewer choices gets one
 * request per sample from then on, each with its own seed.  The stop reason:
 * finish_reason "length" is LENGTH; "stop" is STOP when the server names the
 * stop string (vLLM's stop_reason), else EOS.  Tokens: the logprobs tokens'
 * count, else usage.completion_tokens for a single choice, else 0.  Retries,
 * concurrency and the cache (one line per sample, keyed by model, prompt, the
 * decoding parameters and the sample) as for scoring.  out[i * p->samples +
 * s] gets sample s (zeroed by the caller); on failure every entry is
 * released, and what was received stays in the cache. */
int ivs_openai_generate(const ivs_openai_opts *o, const char *const *prompts, size_t n, const ivs_gen_params *p,
                        ivs_generation *out, ivs_openai_stats *stats);

/* One choice of a completions response (or a cache line's "gen") into *g
 * (zeroed by the callee; released on failure): IVS_EPARSE without a text.
 * single_usage: the response had one choice, so usage_tokens is its count. */
struct cJSON;
int ivs_openai_generation_parse(const struct cJSON *choice, int single_usage, size_t usage_tokens, ivs_generation *g);

#endif

/* One continuation to score after one context: what a backend that scores
 * request by request is given (eval/backend.h, eval/openai.h). */
#ifndef IVS_EVAL_REQUEST_H
#define IVS_EVAL_REQUEST_H

typedef struct ivs_backend_req {
  const char *context;      /* borrowed (from the task) */
  const char *continuation; /* borrowed, non-empty for servers */
  char what[80];            /* names the request in messages: "example 12, class 1" */
  int single_token;         /* the continuation must be one token (log-odds classes) */
} ivs_backend_req;

#endif

/* The prize's tokenizer rules (PRIZE-FORMAT.md, "with a tokenizer at hand",
 * and issue 12 item 9) on one example.  Warnings, with their rule ids:
 *
 *   token-boundary    tokenize(prompt + class) does not begin with
 *                     tokenize(prompt), or is not tokenize(prompt) followed by
 *                     len(tokenize(class)) tokens: the prize tokenised the two
 *                     together and scored the last len(tokenize(class)) tokens,
 *                     so the example is scored on other tokens than the
 *                     class's (the message decodes the tokens that merged and
 *                     those scored).  sequence_prob: the completion; log-odds:
 *                     after prompt and after other_prompt.
 *   single-token      log-odds: a class that is not one token (the prize's
 *                     pipeline used the last of them).
 *   same-first-token  two classes whose first scored token is the same
 *                     (log-odds: the first token of the class alone), so that
 *                     token does not tell them apart.
 *   max-tokens        the longest prompt + class (sequence_prob: + completion;
 *                     log-odds: other_prompt too) over max_tokens, with the
 *                     special tokens the tokenizer's post-processor adds: the
 *                     prize's local models truncated it on the right
 *                     (model_max_length 1023 for GPT-2) and lost the class.
 *
 * Each prompt is tokenized once: the prompt + class texts are tokenized from a
 * token boundary a few words before the prompt's end (the tail of the prompt
 * and the class), and the prompt's tokens before that boundary are kept.  That
 * is exact because every supported pre-tokenizer decides its pieces looking at
 * most a character past them; the cut is taken only where the prompt's tail,
 * tokenized alone, gives back the prompt's own last tokens (else every text is
 * tokenized whole).  The `whole` option turns this off, for the tests.
 */
#ifndef IVS_EXPORT_TOKRULES_H
#define IVS_EXPORT_TOKRULES_H

#include <stddef.h>

#include "core/example.h"
#include "tokenizer/tokenizer.h"

#include "invscale/export.h" /* ivs_vdiag */

#define IVS_TOK_DEFAULT_MAX 1023 /* GPT-2's model_max_length in the prize's pipeline */

typedef struct ivs_tokrules {
  const ivs_tokenizer *tok; /* borrowed; must outlive every check */
  size_t max_tokens;        /* 0: IVS_TOK_DEFAULT_MAX */
  int whole;                /* tokenize every prompt + class whole (the plain way, for tests) */
} ivs_tokrules;

/* One example, as the validator found it (only what passed its own rules:
 * non-empty strings).  Borrowed for the call. */
typedef struct ivs_tok_example {
  ivs_task_type type; /* sequence_prob: classes[0] is the completion */
  size_t line;
  const char *prompt[2];      /* prompt, other_prompt (log-odds; NULL when absent) */
  size_t prompt_len[2], prompt_column[2];
  const char *prompt_field[2]; /* "prompt", "other_prompt" or "biased_prompt" (static) */
  const char *const *classes;
  const size_t *class_lens;
  size_t nclasses, classes_column;
} ivs_tok_example;

/* Per-thread state (buffers, tokens of classes seen before). */
typedef struct ivs_tokscratch ivs_tokscratch;

int ivs_tokscratch_new(ivs_tokscratch **out);
void ivs_tokscratch_free(ivs_tokscratch *s); /* accepts NULL */
/* How many prompts this scratch saw tokenized once, their tails re-tokenized
 * with the classes (the others: whole texts).  For tests and benchmarks. */
size_t ivs_tokscratch_cuts(const ivs_tokscratch *s);

/* Called for each warning of an example, in a fixed order; d is borrowed for
 * the call; 0 to go on. */
typedef int (*ivs_tok_diag_fn)(const ivs_vdiag *d, void *ud);

/* Checks one example; *longest receives the tokens of its longest prompt +
 * class (with special tokens).  Returns 0, IVS_ENOMEM, the callback's non-zero
 * value, or the tokenizer's error (a text it refuses) with the line named.
 * May run on several threads at once, each with its own scratch. */
int ivs_tokrules_check(const ivs_tokrules *r, ivs_tokscratch *s, const ivs_tok_example *ex, size_t *longest,
                       ivs_tok_diag_fn fn, void *ud);

#endif

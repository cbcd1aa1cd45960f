/* The prize's rules for task files (PRIZE-FORMAT.md, "Rules to check").
 *
 * A validator takes the records of one file in order (from the CSV or JSONL
 * readers), reports every diagnostic through a callback as it finds it, and
 * applies the file-level rules in ivs_validator_finish().  Rule ids:
 *
 * errors    not-object duplicate-key json required-field field-type mixed-types classes
 *           answer-index empty trailing-whitespace min-examples encoding line-too-long
 * warnings  old-name leading-space duplicate conflicting-answers answer-balance
 *           similar-classes few-examples unnamed-column
 *           with a tokenizer: token-boundary single-token same-first-token max-tokens
 *           (export/tokrules.h)
 *
 * Duplicates are found by 64-bit hashes (a false "duplicate" warning has a
 * chance of about n^2 / 2^65).
 *
 * With a tokenizer the examples are tokenized on worker threads
 * (export/tokqueue.h) and every diagnostic reaches on_diag later than its
 * record, still in line order and on the thread calling the validator; the
 * last ones arrive in ivs_validator_finish().  An example is tokenized when
 * its prompt and classes (or completion) are non-empty strings.
 */
#ifndef IVS_EXPORT_RULES_H
#define IVS_EXPORT_RULES_H

#include <stddef.h>

#include "core/example.h"
#include "ingest/record.h"
#include "tokenizer/tokenizer.h"

#include "invscale/export.h" /* ivs_vdiag, ivs_vdiag_fn, ivs_validate_stats */

typedef struct ivs_validate_opts {
  ivs_task_type type;   /* IVS_TYPE_AUTO: from the first record */
  size_t min_examples;  /* the prize's minimum is 300 */
  int json_types;       /* JSONL: check JSON value types */
  ivs_vdiag_fn on_diag; /* called for every diagnostic */
  void *ud;
  size_t expected;      /* records expected (a sizing hint; 0: unknown) */
  const ivs_tokenizer *tokenizer; /* the tokenizer rules; NULL: not checked; borrowed, outlives the validator */
  size_t max_tokens;    /* max-tokens; 0: 1023 */
  unsigned threads;     /* tokenizing threads (see ivs_tokqueue_new); 0: one per core */
} ivs_validate_opts;

#define IVS_VALIDATE_OPTS_INIT {IVS_TYPE_AUTO, 300, 0, NULL, NULL, 0, NULL, 0, 0}


typedef struct ivs_validator ivs_validator;

int ivs_validator_new(ivs_validator **out, const ivs_validate_opts *opts);
void ivs_validator_free(ivs_validator *v);

/* One record.  `raw` is the JSONL line (to tell 1 from 1.0), or NULL.
 * Returns 0, IVS_ENOMEM, or (with a tokenizer) the error of an example
 * tokenized earlier. */
int ivs_validator_record(ivs_validator *v, const ivs_record *rec, const char *raw, size_t raw_len);

/* Reports a problem found by the reader (encoding, a line over the limit). */
int ivs_validator_report(ivs_validator *v, int is_error, size_t line, size_t column, const char *rule,
                         const char *field, const char *message);

/* Delivers what the tokenizer rules still hold, then the file-level rules;
 * then the stats are final.  Borrowed, valid until free. */
int ivs_validator_finish(ivs_validator *v);
/* For a file validated in two parts at once: `second` ran over the lines
 * after those `first` has seen, reporting nothing.  When none of its prompts
 * (sequence_prob: prompt and completion pairs) occurs in `first`, running
 * `first` on those lines would have found exactly what `second` found: first
 * takes over second's counts and 1 is returned.  Otherwise 0, and nothing
 * changes (the caller then runs `first` over those lines). */
int ivs_validator_absorb(ivs_validator *first, const ivs_validator *second);
const ivs_validate_stats *ivs_validator_stats(const ivs_validator *v);

/* The raw text of top-level member `key` of a JSON object, or NULL. */
const char *ivs_json_member_raw(const char *s, size_t n, const char *key, size_t *len);

#endif

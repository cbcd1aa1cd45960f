/* The probes' metrics of one generation (docs/probe.md defines each with its
 * source).  Pure functions of a generation's tokens or text: nothing here
 * reads files or talks to a server (the spam filter is eval/probe_spam.h, the
 * pattern sets eval/probe_match.h).
 *
 * Tokens are given as 64-bit units: a token's id, or a hash of its text when a
 * server gave the text but not the id, or a hash of a word when nothing of the
 * tokens is known (eval/probe.c decides; summary.json says which).  Two units
 * are the same token when they are equal.
 *
 * A value that a generation does not define (n-grams of a generation shorter
 * than n, the compression of an empty text) is NaN here; the run counts it as
 * missing and never writes a NaN.  Internal to eval/. */
#ifndef IVS_EVAL_PROBE_METRICS_H
#define IVS_EVAL_PROBE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* seq-rep-n (Welleck et al. 2019, "Neural text degeneration with
 * unlikelihood training", section 6): 1 - |distinct n-grams| / |n-grams| of
 * the continuation's tokens (a continuation of n tokens has n - order + 1).  NaN when n < 1 or the continuation has
 * fewer than n tokens.  IVS_ENOMEM is reported as NaN with the last error set
 * (the caller checks with ivs_probe_metrics_failed). */
double ivs_probe_seq_rep(const uint64_t *u, size_t n, size_t order);

/* distinct-n (Li et al. 2016, "A diversity-promoting objective function for
 * neural conversation models", section 4.3): |distinct n-grams| / |n-grams|
 * of one generation, i.e. 1 - seq-rep-n.  NaN as above. */
double ivs_probe_distinct(const uint64_t *u, size_t n, size_t order);

/* distinct-n as Li et al. computed it, over all of a model's generations:
 * distinct n-grams over all n-grams of the k sequences u[0..k) (lengths n[];
 * no n-gram spans two).  NaN when there is none. */
double ivs_probe_distinct_corpus(const uint64_t *const *u, const size_t *n, size_t k, size_t order);

/* Whether the last call above ran out of memory (its NaN is not a value). */
int ivs_probe_metrics_failed(void);

/* The loop detector: whether the continuation ends in a cycle, i.e. its last
 * repeats * period tokens are period-periodic with repeats >= min_repeats and
 * 1 <= period <= max_period.  The smallest such period is taken; start is
 * where the periodic tail begins (extended back as far as the period holds),
 * repeats = (n - start) / period, rounded down.  found 0: none (period,
 * start, repeats 0). */
typedef struct ivs_probe_loop {
  int found;
  size_t period, start, repeats;
} ivs_probe_loop;

#define IVS_PROBE_LOOP_MAX_PERIOD 64
#define IVS_PROBE_LOOP_MIN_REPEATS 3

void ivs_probe_loop_find(const uint64_t *u, size_t n, size_t max_period, size_t min_repeats, ivs_probe_loop *out);

/* zlib (compress2, level 9, with its 2-byte header and 4-byte checksum, as
 * Python's zlib.compress(b, 9)) compressed bytes over raw bytes of text[0..n):
 * small for repetitive text.  NaN for an empty text.  0 or IVS_ENOMEM. */
int ivs_probe_compression(const char *text, size_t n, double *ratio);

/* The first number of a completion, the prize pipeline's rule: the text
 * after the first newline is dropped, then the first run of digits is read
 * with an optional sign before it (+, - or U+2212, when not preceded by a
 * letter or digit), thousands separators (',' followed by exactly three
 * digits, when the first group has at most three) and a decimal part ('.'
 * and digits; ".5" is 0.5).  Returns 1 and sets *value, or 0 when there is no
 * number (or it overflows a double). */
int ivs_probe_number(const char *text, size_t n, double *value);

/* The anchoring effect of a group as the prize pipeline computed it from the
 * mean estimates under the control, low-anchor and high-anchor prompts:
 * (high/control - 1)^2 + (low/control - 1)^2, and the signed pull toward
 * each anchor: high/control - 1 and 1 - low/control (positive: the estimate
 * moved toward that anchor).  Returns 0, or -1 when control is 0 or a value
 * is not finite (the group is then missing for that model). */
int ivs_probe_anchoring(double control, double low, double high, double *effect, double *pull_low, double *pull_high);

/* Units of a text split on whitespace (hashes of its words), for a backend
 * that gives neither ids nor token texts: *units malloc'd (NULL and 0 for a
 * text without words); 0 or IVS_ENOMEM. */
int ivs_probe_word_units(const char *text, size_t n, uint64_t **units, size_t *count);

/* The unit of a token's text (the same hash as a word's). */
uint64_t ivs_probe_text_unit(const char *s, size_t n);

#endif

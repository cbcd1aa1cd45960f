/* The example model: the four task types of the Inverse Scaling Prize and one
 * example of any of them.
 *
 *   classification     prompt, classes (>= 2), answer_index
 *   sequence_prob      prompt, completion
 *   logodds            prompt, other_prompt, classes (exactly 2), answer_index (0/1)
 *   absolute_logodds   as logodds
 *
 * answer_index may be unknown (-1) for items still to be labelled, and
 * classes may be absent for unlabelled text prompts; everything else the type
 * needs must be present.
 */
#ifndef IVS_CORE_EXAMPLE_H
#define IVS_CORE_EXAMPLE_H

#include <stddef.h>

#include "core/pylit.h"

#include "invscale/core.h" /* ivs_task_type, ivs_type_name, ivs_type_parse */

/* Whether t is one of the two log-odds types (their examples have
 * other_prompt and exactly two classes). */
static inline int ivs_type_is_logodds(ivs_task_type t) {
  return t == IVS_TYPE_LOGODDS || t == IVS_TYPE_ABSOLUTE_LOGODDS;
}

typedef struct ivs_example {
  ivs_task_type type;
  char *prompt;        /* owned, never NULL in a valid example */
  ivs_strlist classes; /* owned; has_classes says whether the field was there */
  int has_classes;
  long answer_index;   /* -1: unknown */
  char *other_prompt;  /* owned or NULL */
  char *completion;    /* owned or NULL */
  char *metadata;      /* owned JSON object text, or NULL when there was nothing extra */
  size_t line;         /* source line (first line of a CSV record) */
} ivs_example;

void ivs_example_init(ivs_example *ex);
/* Frees every owned member and re-initialises. */
void ivs_example_release(ivs_example *ex);

/* Checks the fields the type needs.  On failure returns IVS_EINVAL with a
 * message and stores the offending field's name (static) in *field. */
int ivs_example_check(const ivs_example *ex, const char **field);

#endif

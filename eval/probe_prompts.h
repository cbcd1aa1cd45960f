/* A probe's prompt set: JSON Lines or CSV/TSV, read through the one task-file
 * reader (ingest/taskfile.h), one prompt per record in a `prompt` field, with
 * an optional `group` (text or number) and `role` (control, low or high, for
 * the anchoring probe).  Other fields are ignored.  Internal to eval/. */
#ifndef IVS_EVAL_PROBE_PROMPTS_H
#define IVS_EVAL_PROBE_PROMPTS_H

#include <stddef.h>

#include "invscale/core.h"

#define IVS_PROBE_MAX_PROMPTS ((size_t)1 << 20) /* prompts in one set */

typedef enum ivs_probe_role { IVS_PROBE_ROLE_NONE = 0, IVS_PROBE_ROLE_CONTROL, IVS_PROBE_ROLE_LOW, IVS_PROBE_ROLE_HIGH } ivs_probe_role;

/* "control", "low", "high"; "" for NONE. */
const char *ivs_probe_role_name(ivs_probe_role r);

typedef struct ivs_probe_prompts {
  size_t n;
  char **prompt;        /* owned, n of them */
  char **group;         /* owned, n entries, each NULL when the record has none */
  ivs_probe_role *role; /* owned, n */
  size_t *line;         /* owned: the record's first line in the file */
  int has_group, has_role;
} ivs_probe_prompts;

/* Reads path into *out (initialised by the callee; release it also after a
 * failure).  Errors name the file and line: a record without a `prompt`
 * string (IVS_EINVAL), a role other than control/low/high, a role without a
 * group, more than IVS_PROBE_MAX_PROMPTS prompts (IVS_ELIMIT), no prompt at
 * all; the reader's own errors (IVS_EPARSE, IVS_EIO, IVS_ELIMIT for a field
 * over 1 MiB) as they are. */
int ivs_probe_prompts_read(const char *path, ivs_probe_prompts *out);

void ivs_probe_prompts_release(ivs_probe_prompts *p);

#endif

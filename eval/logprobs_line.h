/* One line of a logprobs: file, read two ways (internal to eval/logprobs.c
 * and its fuzz target).
 *
 * ivs_logprobs_line_json reads it through cJSON and says precisely what is
 * wrong with it.  ivs_logprobs_line_fast reads it through simdjson, about ten
 * times faster, and takes only lines it can read exactly as the cJSON reading
 * would (same values, same acceptance); for anything else, including every
 * line with a problem, it returns 0 and the caller reads the line with
 * ivs_logprobs_line_json.  The fuzz target checks the two agree. */
#ifndef IVS_EVAL_LOGPROBS_LINE_H
#define IVS_EVAL_LOGPROBS_LINE_H

#include <stddef.h>

#include "core/example.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes the fast reader may read past the end of a line (simdjson's padding):
 * the line's buffer must hold len + IVS_LOGPROBS_PAD bytes. */
#define IVS_LOGPROBS_PAD 64

/* Reads line[0, len) (cap bytes readable at line) as the record of example
 * `index` for a task of `type`: its values go to v (vcap of them at most), and
 * their count to *k.  1 when read; 0 when the caller must read it with
 * ivs_logprobs_line_json. */
int ivs_logprobs_line_fast(const char *line, size_t len, size_t cap, ivs_task_type type, size_t index, double *v,
                           size_t vcap, size_t *k);

/* The same through cJSON: 0 when read (*v grown as needed, malloc'd, the
 * caller frees; *k values); IVS_ENOMEM; or the code of a problem with the
 * line, with a message naming path and lineno. */
int ivs_logprobs_line_json(const char *path, size_t lineno, const char *line, size_t len, ivs_task_type type,
                           size_t index, double **v, size_t *vcap, size_t *k);

#ifdef __cplusplus
}
#endif

#endif

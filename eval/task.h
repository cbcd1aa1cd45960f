/* The task of a run, held compactly: a million examples in two buffers and
 * a few arrays instead of a cJSON tree per example (which would take a
 * gigabyte).  Internal to eval/. */
#ifndef IVS_EVAL_TASK_H
#define IVS_EVAL_TASK_H

#include <stddef.h>

#include "core/buf.h"
#include "ingest/reader.h"
#include "ingest/record.h"

typedef struct ivs_eval_task {
  ivs_ingest_ctx ctx; /* ctx.type: the type asked for (AUTO) and, once read, the task's */
  size_t n, cap;      /* examples read; room in the arrays below */
  size_t *ncls, *answer; /* per example: number of classes, answer_index (0 for sequence_prob) */
  size_t *offsets;    /* after ivs_eval_task_read: n + 1 entries, example i's first class value is offsets[i] */
  /* Example i's row as JSON text without its closing brace is
   * rows.data[row_off[i] .. row_off[i + 1]); its texts are NUL-terminated in
   * texts from text_off[i]: prompt, other_prompt, completion, then each class
   * (absent fields as empty strings). */
  ivs_buf rows, texts;
  size_t *row_off, *text_off;
  size_t cap_hint; /* examples the file may hold, guessed from its size */
} ivs_eval_task;

/* Sets up an empty task; type: the type asked for (IVS_TYPE_AUTO: inferred). */
void ivs_eval_task_init(ivs_eval_task *t, ivs_task_type type);

/* Reads path (through ingest/taskfile.h: JSON Lines or CSV by its content)
 * into t, which must be freshly initialised.  Every example needs an
 * answer_index (but sequence_prob).  progress may be NULL.  IVS_EINVAL with
 * file:line for a bad example, the reader's code otherwise; t must be
 * released either way. */
int ivs_eval_task_read(ivs_eval_task *t, const char *path, ivs_progress_fn progress, void *progress_ud);

/* Frees what t holds. */
void ivs_eval_task_release(ivs_eval_task *t);

/* Example i's k-th text: 0 prompt, 1 other_prompt, 2 completion, 3 + j class
 * j.  Borrowed from t. */
const char *ivs_eval_task_text(const ivs_eval_task *t, size_t i, size_t k);

/* Appends v in decimal (no allocation per call beyond b's growth). */
int ivs_eval_put_uint(ivs_buf *b, size_t v);

#endif

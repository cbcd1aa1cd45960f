/* Reading the task of a run into ivs_eval_task. */
#include "eval/task.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/json.h"
#include "ingest/taskfile.h"

int ivs_eval_put_uint(ivs_buf *b, size_t v) {
  char tmp[24];
  size_t n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while (v /= 10);
  int rc = ivs_buf_reserve(b, n);
  while (!rc && n) b->data[b->len++] = tmp[--n];
  if (!rc) b->data[b->len] = '\0';
  return rc;
}

void ivs_eval_task_init(ivs_eval_task *t, ivs_task_type type) {
  memset(t, 0, sizeof *t);
  t->ctx.type = type;
  ivs_buf_init(&t->rows, SIZE_MAX / 2); /* the whole task: bounded by the task file's size */
  ivs_buf_init(&t->texts, SIZE_MAX / 2);
}

void ivs_eval_task_release(ivs_eval_task *t) {
  ivs_buf_release(&t->rows), ivs_buf_release(&t->texts);
  free(t->row_off), free(t->text_off), free(t->ncls), free(t->answer), free(t->offsets);
  ivs_ingest_ctx_release(&t->ctx);
  t->row_off = t->text_off = t->ncls = t->answer = t->offsets = NULL;
  t->n = t->cap = 0;
}

const char *ivs_eval_task_text(const ivs_eval_task *t, size_t i, size_t k) {
  const char *p = t->texts.data + t->text_off[i];
  while (k--) p += strlen(p) + 1;
  return p;
}

/* Room for example n + 1 (and the end offsets): the first time for as many
 * examples as the file may hold. */
static int make_room(ivs_eval_task *t) {
  size_t **arrays[4] = {&t->ncls, &t->answer, &t->row_off, &t->text_off};
  size_t first = t->cap_hint > 256 ? t->cap_hint : 256, cap = 0;
  for (int k = 0; k < 4; k++) {
    cap = t->cap;
    if (ivs_grow((void **)arrays[k], &cap, t->n + 2, sizeof **arrays[k], first)) return IVS_ENOMEM;
  }
  t->cap = cap;
  return 0;
}

static int on_example(const ivs_record *rec, void *ud) {
  ivs_eval_task *t = ud;
  ivs_example ex;
  ivs_diag d;
  memset(&d, 0, sizeof d);
  int rc = ivs_ingest_convert(&t->ctx, rec, &ex, &d);
  if (rc == IVS_EINVAL) {
    return ivs_error_set(IVS_EINVAL, "%s:%zu: %s%s%s", t->ctx.path, d.line, d.field, d.field[0] ? ": " : "", d.message);
  }
  if (rc) return rc;
  if (ex.type != IVS_TYPE_SEQUENCE_PROB && ex.answer_index < 0) {
    ivs_example_release(&ex);
    return ivs_error_set(IVS_EINVAL, "%s:%zu: no answer_index: eval needs labelled examples", t->ctx.path, rec->line);
  }
  if (t->n + 2 > t->cap && make_room(t)) {
    ivs_example_release(&ex);
    return IVS_ENOMEM;
  }
  ivs_buf *b = &t->rows; /* the row as labelled_data.jsonl has it: a NUL as \u0000 */
  t->row_off[t->n] = b->len;
  t->text_off[t->n] = t->texts.len;
  rc = ivs_buf_puts(b, "{\"prompt\":");
  if (!rc) rc = ivs_json_put_text(b, ex.prompt, strlen(ex.prompt));
  if (!rc && ex.other_prompt && !(rc = ivs_buf_puts(b, ",\"other_prompt\":")))
    rc = ivs_json_put_text(b, ex.other_prompt, strlen(ex.other_prompt));
  if (!rc && ex.completion && !(rc = ivs_buf_puts(b, ",\"completion\":")))
    rc = ivs_json_put_text(b, ex.completion, strlen(ex.completion));
  if (!rc && ex.has_classes && !(rc = ivs_buf_puts(b, ",\"classes\":")) &&
      !(rc = ivs_json_put_text_array(b, ex.classes.items, ex.classes.n)) &&
      !(rc = ivs_buf_puts(b, ",\"answer_index\":")))
    rc = ivs_eval_put_uint(b, ex.answer_index < 0 ? 0 : (size_t)ex.answer_index);
  const char *parts[3] = {ex.prompt, ex.other_prompt ? ex.other_prompt : "", ex.completion ? ex.completion : ""};
  for (size_t k = 0; k < 3 + ex.classes.n && !rc; k++) {
    const char *p = k < 3 ? parts[k] : ex.classes.items[k - 3];
    rc = ivs_buf_append(&t->texts, p, strlen(p) + 1);
  }
  if (rc) {
    ivs_example_release(&ex);
    return rc;
  }
  t->row_off[t->n + 1] = b->len;
  t->text_off[t->n + 1] = t->texts.len;
  t->ncls[t->n] = ex.classes.n;
  t->answer[t->n] = ex.answer_index < 0 ? 0 : (size_t)ex.answer_index;
  t->n++;
  ivs_example_release(&ex);
  return 0;
}

/* Whether the file holds nothing but whitespace (or nothing). */
int ivs_eval_task_read(ivs_eval_task *t, const char *path, ivs_progress_fn progress, void *progress_ud) {
  t->ctx.path = path;
  struct stat st;
  if (stat(path, &st) == 0 && st.st_size > 0) {
    /* the task's buffers sized once from its size (rows as JSON take about
     * what the file does; a line is 32 bytes or more), so that they get huge
     * pages from the start: each 4 KiB page first touched costs a fault */
    size_t size = (size_t)st.st_size;
    t->cap_hint = size / 32 < ((size_t)1 << 24) ? size / 32 : (size_t)1 << 24;
    if (ivs_buf_reserve(&t->rows, size + size / 4) || ivs_buf_reserve(&t->texts, size)) { /* else grown as needed */
      ivs_buf_release(&t->rows), ivs_buf_release(&t->texts);
      ivs_buf_init(&t->rows, SIZE_MAX / 2), ivs_buf_init(&t->texts, SIZE_MAX / 2);
    }
  }
  ivs_taskfile_kind kind;
  int rc = ivs_taskfile_detect(path, 0, &kind);
  if (rc) return rc;
  ivs_taskfile_opts o = IVS_TASKFILE_OPTS_INIT;
  o.progress = progress, o.progress_ud = progress_ud;
  o.transient = 1; /* on_example copies what it keeps */
  if ((rc = ivs_taskfile_read(path, &kind, &o, on_example, t))) return rc;
  if (!t->n) return ivs_error_set(IVS_EINVAL, "%s: no examples", path);
  if (!(t->offsets = calloc(t->n + 1, sizeof *t->offsets))) return ivs_error_set(IVS_ENOMEM, "out of memory");
  for (size_t i = 0; i < t->n; i++) t->offsets[i + 1] = t->offsets[i] + t->ncls[i];
  return 0;
}

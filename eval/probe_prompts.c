/* Reading a probe's prompt set (eval/probe_prompts.h). */
#include "eval/probe_prompts.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "ingest/taskfile.h"

const char *ivs_probe_role_name(ivs_probe_role r) {
  switch (r) {
  case IVS_PROBE_ROLE_CONTROL: return "control";
  case IVS_PROBE_ROLE_LOW: return "low";
  case IVS_PROBE_ROLE_HIGH: return "high";
  default: return "";
  }
}

typedef struct {
  ivs_probe_prompts *p;
  const char *path;
  size_t cap;
} reading;

static int on_record(const ivs_record *rec, void *ud) {
  reading *r = ud;
  ivs_probe_prompts *p = r->p;
  if (rec->error) return ivs_error_set(IVS_EPARSE, "%s:%zu: %s", r->path, rec->line, rec->error);
  char num[64];
  const ivs_field *fp = ivs_record_field(rec, "prompt", NULL);
  const char *prompt = fp && (!fp->json || cJSON_IsString(fp->json)) ? ivs_field_text(fp, num, sizeof num) : NULL;
  if (!prompt)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: prompt: %s", r->path, rec->line,
                         fp ? "not a string" : "no 'prompt' field: a prompt set needs one in every record");
  const ivs_field *fg = ivs_record_field(rec, "group", NULL), *fr = ivs_record_field(rec, "role", NULL);
  char gnum[64];
  const char *group = ivs_field_text(fg, gnum, sizeof gnum), *role = ivs_field_text(fr, num, sizeof num);
  if (group && !*group) group = NULL; /* an empty CSV cell */
  if (role && !*role) role = NULL;
  if (fg && !group && !cJSON_IsNull(fg->json) && fg->json)
    return ivs_error_set(IVS_EINVAL, "%s:%zu: group: a text or a number", r->path, rec->line);
  ivs_probe_role ro = IVS_PROBE_ROLE_NONE;
  if (role) {
    if (!strcmp(role, "control")) ro = IVS_PROBE_ROLE_CONTROL;
    else if (!strcmp(role, "low")) ro = IVS_PROBE_ROLE_LOW;
    else if (!strcmp(role, "high")) ro = IVS_PROBE_ROLE_HIGH;
    else
      return ivs_error_set(IVS_EINVAL, "%s:%zu: role: control, low or high, got '%.40s'", r->path, rec->line, role);
    if (!group) return ivs_error_set(IVS_EINVAL, "%s:%zu: role: a role needs a group", r->path, rec->line);
  } else if (fr && fr->json && !cJSON_IsNull(fr->json)) {
    return ivs_error_set(IVS_EINVAL, "%s:%zu: role: control, low or high", r->path, rec->line);
  }
  if (p->n == IVS_PROBE_MAX_PROMPTS)
    return ivs_error_set(IVS_ELIMIT, "%s:%zu: more than %zu prompts", r->path, rec->line, IVS_PROBE_MAX_PROMPTS);
  if (p->n == r->cap) {
    size_t c0 = r->cap, c1 = r->cap, c2 = r->cap, c3 = r->cap;
    if (ivs_grow((void **)&p->prompt, &c0, p->n + 1, sizeof *p->prompt, 64) ||
        ivs_grow((void **)&p->group, &c1, p->n + 1, sizeof *p->group, 64) ||
        ivs_grow((void **)&p->role, &c2, p->n + 1, sizeof *p->role, 64) ||
        ivs_grow((void **)&p->line, &c3, p->n + 1, sizeof *p->line, 64))
      return ivs_error_set(IVS_ENOMEM, "out of memory");
    r->cap = c0;
  }
  p->prompt[p->n] = strdup(prompt);
  p->group[p->n] = group ? strdup(group) : NULL;
  if (!p->prompt[p->n] || (group && !p->group[p->n])) {
    free(p->prompt[p->n]), free(p->group[p->n]);
    return ivs_error_set(IVS_ENOMEM, "out of memory");
  }
  p->role[p->n] = ro;
  p->line[p->n] = rec->line;
  p->has_group |= group != NULL, p->has_role |= ro != IVS_PROBE_ROLE_NONE;
  p->n++;
  return 0;
}

int ivs_probe_prompts_read(const char *path, ivs_probe_prompts *out) {
  memset(out, 0, sizeof *out);
  ivs_taskfile_kind kind;
  int rc = ivs_taskfile_detect(path, IVS_TASKFILE_ANY_TABLE, &kind);
  if (rc) return rc;
  ivs_taskfile_opts o = IVS_TASKFILE_OPTS_INIT;
  o.transient = 1; /* on_record copies what it keeps */
  reading r = {out, path, 0};
  if ((rc = ivs_taskfile_read(path, &kind, &o, on_record, &r))) return rc;
  if (!out->n) return ivs_error_set(IVS_EINVAL, "%s: no prompts", path);
  return 0;
}

void ivs_probe_prompts_release(ivs_probe_prompts *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) free(p->prompt[i]), free(p->group[i]);
  free(p->prompt), free(p->group), free(p->role), free(p->line);
  memset(p, 0, sizeof *p);
}

#include "export/task.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/grow.h"
#include "export/validate.h"

/* Where each example starts in the output, so that a diagnostic about the
 * written file can name the example and where it came from. */
typedef struct {
  size_t out_line;
  int64_t id, src_line;
  size_t src; /* index into sources */
} origin;

typedef struct {
  ivs_exporter *e;
  FILE *f;
  size_t n;
  int scan;
  origin *origins;
  size_t cap;
  char **sources;
  size_t nsources, sources_cap;
  const ivs_export_task_opts *o;
} export_state;

static int each(const ivs_stored_example *ex, void *ud) {
  export_state *s = ud;
  if (s->scan) return ivs_exporter_scan(s->e, ex);
  if (ivs_grow((void **)&s->origins, &s->cap, s->n + 1, sizeof *s->origins, 1024)) return IVS_ENOMEM;
  size_t src = 0;
  const char *name = ex->source ? ex->source : "?";
  while (src < s->nsources && strcmp(s->sources[src], name)) src++;
  if (src == s->nsources) {
    if (ivs_grow((void **)&s->sources, &s->sources_cap, src + 1, sizeof *s->sources, 4)) return IVS_ENOMEM;
    if (!(s->sources[src] = strdup(name))) return ivs_error_set(IVS_ENOMEM, "out of memory");
    s->nsources++;
  }
  origin *g = &s->origins[s->n++];
  g->out_line = ivs_exporter_lines(s->e) + 1, g->id = ex->id, g->src_line = ex->line, g->src = src;
  return ivs_exporter_write(s->e, ex, s->f);
}

static int on_vdiag(const ivs_vdiag *d, void *ud) {
  const export_state *s = ud;
  ivs_export_diag ed = {d, 0, 0, NULL, 0};
  if (d->line && s->n) { /* the last example starting at or before the line */
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (s->origins[mid].out_line <= d->line) lo = mid;
      else hi = mid;
    }
    const origin *g = &s->origins[lo];
    ed.has_origin = 1, ed.example_id = g->id, ed.source = s->sources[g->src], ed.source_line = g->src_line;
  }
  return s->o->on_diag ? s->o->on_diag(&ed, s->o->ud) : 0;
}

int ivs_export_task(ivs_store *st, const ivs_export_task_opts *o, ivs_export_task_report *rep) {
  memset(rep, 0, sizeof *rep);
  if (!o->out || o->format.type == IVS_TYPE_AUTO) return ivs_error_set(IVS_EUSAGE, "export needs a file and a task type");
  ivs_exporter *e = NULL;
  ivs_atomic_file af = {0};
  export_state s;
  memset(&s, 0, sizeof s);
  s.o = o, s.scan = 1;
  int rc = ivs_exporter_new(&e, &o->format);
  if (rc) goto done;
  s.e = e;
  ivs_example_query q = {o->tag, ivs_type_name(o->format.type), 0, 1};
  if (o->format.csv && (rc = ivs_store_examples(st, &q, each, &s))) goto done;
  if ((rc = ivs_atomic_open(&af, o->out))) goto done;
  s.f = af.f;
  s.scan = 0;
  if ((rc = ivs_exporter_header(e, af.f)) || (rc = ivs_store_examples(st, &q, each, &s))) goto done;
  rep->examples = s.n;
  if (s.n == 0) {
    rc = ivs_error_set(IVS_EINVAL, "no %s examples with an answer%s%s to export", ivs_type_name(o->format.type),
                       o->tag ? " tagged " : "", o->tag ? o->tag : "");
    goto done;
  }
  if (fflush(af.f) != 0) {
    rc = ivs_error_set(IVS_EIO, "%s: write error", o->out);
    goto done;
  }
  /* check exactly what was written */
  ivs_validate_file_opts vo = IVS_VALIDATE_FILE_OPTS_INIT;
  vo.type = o->format.type, vo.min_examples = o->min_examples, vo.on_diag = on_vdiag, vo.ud = &s;
  ivs_validate_stats vs;
  ivs_file_kind kind;
  if ((rc = ivs_validate_file(af.tmp, &vo, &vs, &kind))) goto done;
  rep->errors = vs.errors, rep->warnings = vs.warnings;
  if (vs.errors) {
    rc = ivs_error_set(IVS_EINVAL, "%s not written: %zu error%s (see above)", o->out, vs.errors, vs.errors == 1 ? "" : "s");
    goto done;
  }
  rc = ivs_atomic_commit(&af);
done:
  if (rc) ivs_atomic_abort(&af);
  free(s.origins);
  for (size_t i = 0; i < s.nsources; i++) free(s.sources[i]);
  free(s.sources);
  ivs_exporter_free(e);
  return rc;
}

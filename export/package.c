#include "export/package.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "core/error.h"
#include "core/fileio.h"
#include "export/datasheet.h"
#include "export/validate.h"
#include "export/write.h"

typedef struct {
  ivs_exporter *csv, *jsonl;
  const char *parts_by;
  char *values[IVS_MAX_PARTS];
  FILE *files[IVS_MAX_PARTS];
  size_t nparts, n;
  FILE *jf;
  int pass; /* 0: scan, 1: write */
  int types[5];
} pack_state;

/* The part an example belongs to: its metadata field as text. */
static int part_of(pack_state *ps, const ivs_stored_example *ex, size_t *idx) {
  cJSON *m = ex->metadata_json ? cJSON_Parse(ex->metadata_json) : NULL;
  const cJSON *v = m ? cJSON_GetObjectItemCaseSensitive(m, ps->parts_by) : NULL;
  char buf[64];
  const char *text = NULL;
  if (v && cJSON_IsString(v)) text = v->valuestring;
  else if (v && cJSON_IsNumber(v)) snprintf(buf, sizeof buf, "%.17g", v->valuedouble), text = buf;
  int rc = 0;
  if (!text || !*text) {
    rc = ivs_error_set(IVS_EINVAL, "example %lld (%s:%lld) has no metadata field '%s' to split parts by",
                       (long long)ex->id, ex->source ? ex->source : "?", (long long)ex->line, ps->parts_by);
  } else {
    size_t i = 0;
    while (i < ps->nparts && strcmp(ps->values[i], text)) i++;
    if (i == ps->nparts) {
      if (i == IVS_MAX_PARTS) rc = ivs_error_set(IVS_ELIMIT, "more than %d parts by '%s'", IVS_MAX_PARTS, ps->parts_by);
      else if (!(ps->values[i] = strdup(text))) rc = ivs_error_set(IVS_ENOMEM, "out of memory");
      else ps->nparts++;
    }
    *idx = i;
  }
  cJSON_Delete(m);
  return rc;
}

static int each(const ivs_stored_example *ex, void *ud) {
  pack_state *ps = ud;
  size_t part = 0;
  int rc = 0;
  if (ps->parts_by && (rc = part_of(ps, ex, &part))) return rc;
  if (ps->pass == 0) return ivs_exporter_scan(ps->csv, ex);
  ps->n++;
  if ((rc = ivs_exporter_write(ps->csv, ex, ps->files[part]))) return rc;
  return ivs_exporter_write(ps->jsonl, ex, ps->jf);
}

static int count_type(const ivs_stored_example *ex, void *ud) {
  int *types = ud;
  ivs_task_type t;
  if (ivs_type_parse(ex->type, &t) == 0) types[t] = 1;
  return 0;
}

static int write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return ivs_error_set(IVS_EIO, "%s: %s", path, strerror(errno));
  size_t w = fwrite(data, 1, n, f);
  return (fclose(f) != 0 || w != n) ? ivs_error_set(IVS_EIO, "%s: write error", path) : 0;
}

int ivs_package_write(ivs_store *st, const ivs_package_opts *o, ivs_package_report *rep) {
  memset(rep, 0, sizeof *rep);
  const char *values[32] = {0};
  char *owned[32] = {0};
  char dir[4096] = "", slug[64], path[4200];
  ivs_buf missing = IVS_BUF_INIT, sheet = IVS_BUF_INIT;
  pack_state ps;
  memset(&ps, 0, sizeof ps);
  zip_t *za = NULL;
  int rc = 0;

  for (size_t i = 0; i < ivs_datasheet_nfields && !rc; i++) {
    rc = ivs_store_meta_get(st, ivs_datasheet_fields[i].key, &owned[i]);
    values[i] = owned[i];
    if (!rc && !owned[i] && ivs_datasheet_fields[i].required) {
      if (missing.len) ivs_buf_puts(&missing, ", ");
      ivs_buf_puts(&missing, ivs_datasheet_fields[i].key);
    }
  }
  if (!rc && missing.len)
    rc = ivs_error_set(IVS_EINVAL, "datasheet fields missing: %s (set each with: invscale meta set KEY VALUE)",
                       missing.data);
  if (rc) goto done;

  ivs_task_type type = o->type;
  if (type == IVS_TYPE_AUTO) {
    ivs_example_query q = {o->tag, NULL, 0, 1};
    if ((rc = ivs_store_examples(st, &q, count_type, ps.types))) goto done;
    int n = 0;
    for (int t = 1; t < 5; t++)
      if (ps.types[t]) type = (ivs_task_type)t, n++;
    if (n != 1) {
      rc = ivs_error_set(IVS_EUSAGE, n ? "the project holds labelled examples of several types; choose one with --type"
                                       : "no labelled examples to package");
      goto done;
    }
  }
  rep->type = type;
  ivs_slug(values[0], slug, sizeof slug);

  /* scratch folder beside the output */
  const char *slash = strrchr(o->out, '/');
  snprintf(dir, sizeof dir, "%.*s.invscale-package-XXXXXX", slash ? (int)(slash - o->out + 1) : 0, o->out);
  if (!mkdtemp(dir)) {
    rc = ivs_error_set(IVS_EIO, "%s: cannot write there: %s", o->out, strerror(errno));
    dir[0] = '\0';
    goto done;
  }
  ivs_export_opts co = {.csv = 1, .type = type}, jo = {.csv = 0, .type = type};
  if ((rc = ivs_exporter_new(&ps.csv, &co)) || (rc = ivs_exporter_new(&ps.jsonl, &jo))) goto done;
  ps.parts_by = o->parts_by;
  ivs_example_query q = {o->tag, ivs_type_name(type), 0, 1};
  if ((rc = ivs_store_examples(st, &q, each, &ps))) goto done; /* scan: header keys and parts */
  if (!ps.parts_by) ps.nparts = 1;
  for (size_t i = 0; i < ps.nparts && !rc; i++) {
    snprintf(rep->names[i], sizeof rep->names[i], "%s-PART%zu.csv", slug, i + 1);
    snprintf(path, sizeof path, "%s/%s", dir, rep->names[i]);
    if (!(ps.files[i] = fopen(path, "wb"))) rc = ivs_error_set(IVS_EIO, "%s: %s", path, strerror(errno));
    else rc = ivs_exporter_header(ps.csv, ps.files[i]);
  }
  snprintf(rep->names[ps.nparts], sizeof rep->names[0], "%s.jsonl", slug);
  snprintf(rep->names[ps.nparts + 1], sizeof rep->names[0], "datasheet.md");
  rep->nnames = ps.nparts + 2;
  snprintf(path, sizeof path, "%s/%s", dir, rep->names[ps.nparts]);
  if (!rc && !(ps.jf = fopen(path, "wb"))) rc = ivs_error_set(IVS_EIO, "%s: %s", path, strerror(errno));
  ps.pass = 1;
  size_t nparts_scanned = ps.nparts;
  if (!rc) rc = ivs_store_examples(st, &q, each, &ps);
  if (!rc && ps.nparts != nparts_scanned) rc = ivs_error_set(IVS_ESTORE, "the store changed while packaging");
  for (size_t i = 0; i < ps.nparts; i++)
    if (ps.files[i] && fclose(ps.files[i]) != 0 && !rc) rc = ivs_error_set(IVS_EIO, "write error");
  memset(ps.files, 0, sizeof ps.files);
  if (ps.jf && fclose(ps.jf) != 0 && !rc) rc = ivs_error_set(IVS_EIO, "write error");
  ps.jf = NULL;
  if (rc) goto done;
  rep->examples = ps.n;
  rep->parts = ps.nparts;

  /* the packaged data must pass the rules, with the minimum count */
  ivs_validate_file_opts vo = IVS_VALIDATE_FILE_OPTS_INIT;
  vo.type = type, vo.min_examples = o->min_examples, vo.on_diag = o->on_diag, vo.ud = o->ud;
  ivs_validate_stats vs;
  ivs_file_kind kind;
  if ((rc = ivs_validate_file(path, &vo, &vs, &kind))) goto done;
  rep->warnings = vs.warnings;
  if (vs.errors) {
    rc = ivs_error_set(IVS_EINVAL, "package refused: the data breaks %zu error rule%s (see above)", vs.errors,
                       vs.errors == 1 ? "" : "s");
    goto done;
  }

  char stats[512];
  snprintf(stats, sizeof stats,
           "%zu %s examples in %zu CSV part%s%s%s (and the same examples as JSON Lines); prompt length p50 %zu, "
           "max %zu characters.",
           ps.n, ivs_type_name(type), ps.nparts, ps.nparts == 1 ? "" : "s", o->parts_by ? " split by " : "",
           o->parts_by ? o->parts_by : "", vs.prompt_p50, vs.prompt_max);
  if ((rc = ivs_datasheet_render(&sheet, values, stats))) goto done;
  snprintf(path, sizeof path, "%s/datasheet.md", dir);
  if ((rc = write_file(path, sheet.data, sheet.len))) goto done;

  /* the zip, under a temporary name, then renamed */
  snprintf(path, sizeof path, "%s/package.zip", dir);
  int zerr = 0;
  if (!(za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr))) {
    rc = ivs_error_set(IVS_EIO, "%s: cannot create the zip (libzip error %d)", o->out, zerr);
    goto done;
  }
  for (size_t i = 0; i < rep->nnames && !rc; i++) {
    char src[4200];
    snprintf(src, sizeof src, "%s/%s", dir, rep->names[i]);
    zip_source_t *zs = zip_source_file(za, src, 0, -1);
    if (!zs || zip_file_add(za, rep->names[i], zs, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) < 0) {
      if (zs) zip_source_free(zs);
      rc = ivs_error_set(IVS_EIO, "%s: cannot add %s: %s", o->out, rep->names[i], zip_strerror(za));
    }
  }
  if (!rc && zip_close(za) != 0) rc = ivs_error_set(IVS_EIO, "%s: cannot write the zip: %s", o->out, zip_strerror(za));
  else if (!rc) za = NULL;
  if (!rc && rename(path, o->out) != 0) rc = ivs_error_set(IVS_EIO, "%s: %s", o->out, strerror(errno));

done:
  if (za) zip_discard(za);
  for (size_t i = 0; i < ps.nparts; i++) {
    if (ps.files[i]) fclose(ps.files[i]);
    free(ps.values[i]);
  }
  if (ps.jf) fclose(ps.jf);
  ivs_exporter_free(ps.csv);
  ivs_exporter_free(ps.jsonl);
  if (dir[0]) { /* remove the scratch folder and what is in it */
    for (size_t i = 0; i < rep->nnames; i++) {
      snprintf(path, sizeof path, "%s/%s", dir, rep->names[i]);
      unlink(path);
    }
    snprintf(path, sizeof path, "%s/package.zip", dir);
    unlink(path);
    rmdir(dir);
  }
  for (size_t i = 0; i < 32; i++) free(owned[i]);
  ivs_buf_release(&missing);
  ivs_buf_release(&sheet);
  return rc;
}

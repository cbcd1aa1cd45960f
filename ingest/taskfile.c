#include "ingest/taskfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "ingest/csv.h"
#include "ingest/jsonl.h"

const char *ivs_taskfile_format_name(ivs_taskfile_format f) {
  return f == IVS_TASKFILE_CSV ? "csv" : f == IVS_TASKFILE_TSV ? "tsv" : "jsonl";
}

static int named(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && !strcmp(path + n - e, ext);
}

int ivs_taskfile_detect(const char *path, int flags, ivs_taskfile_kind *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return ivs_error_set(IVS_EIO, "%s: cannot open: %s", path, strerror(errno));
  static _Thread_local char head[65536];
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = '\0';
  /* records expected: the file size over the mean line length at its start */
  size_t lines = 0;
  for (size_t k = 0; k < n; k++) lines += head[k] == '\n';
  struct stat sb;
  out->expected_records = lines && n == sizeof head - 1 && stat(path, &sb) == 0 ? (size_t)sb.st_size / (n / lines) : 0;
  size_t i = n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
  while (i < n && strchr(" \t\r\n", head[i])) i++;
  int tsv_name = named(path, ".tsv"), csv_name = named(path, ".csv") || tsv_name;
  if (i == n && n < sizeof head - 1) { /* empty or blank: no content to go by, and its reader says what is wrong */
    if (!n) return ivs_error_set(IVS_EIO, "%s: file is empty", path);
    out->format = tsv_name ? IVS_TASKFILE_TSV : csv_name ? IVS_TASKFILE_CSV : IVS_TASKFILE_JSONL;
    out->why = "a blank file: the name decides";
    return 0;
  }
  if (i < n && head[i] == '{') {
    out->format = IVS_TASKFILE_JSONL;
    out->why = csv_name ? "the first line is a JSON object (whatever the name says)" : "the first line is a JSON object";
    return 0;
  }
  if (memchr(head, '\0', n)) return ivs_error_set(IVS_EUSAGE, "%s: a binary file, neither CSV nor JSON Lines", path);
  if (i < n && head[i] == '[' && !csv_name)
    return ivs_error_set(IVS_EUSAGE, "%s: a JSON array, not JSON Lines (one object per line)", path);
  if (!(i < n && (csv_name || (flags & IVS_TASKFILE_ANY_TABLE) || strstr(head, "prompt"))))
    return ivs_error_set(IVS_EUSAGE, "%s: neither JSON Lines nor a CSV with a 'prompt' column", path);
  const char *eol = strchr(head + i, '\n');
  size_t hl = eol ? (size_t)(eol - (head + i)) : n - i;
  int tabs = memchr(head + i, '\t', hl) != NULL, commas = memchr(head + i, ',', hl) != NULL;
  if (tsv_name || (tabs && !commas)) {
    out->format = IVS_TASKFILE_TSV;
    out->why = tsv_name ? "named .tsv" : "a header with tabs and no commas";
  } else {
    out->format = IVS_TASKFILE_CSV;
    out->why = csv_name ? "named .csv" : "a header line naming a 'prompt' column";
  }
  return 0;
}

int ivs_taskfile_read(const char *path, const ivs_taskfile_kind *kind, const ivs_taskfile_opts *opts,
                      ivs_record_fn cb, void *ud) {
  static const ivs_taskfile_opts none = IVS_TASKFILE_OPTS_INIT;
  if (!opts) opts = &none;
  if (kind->format == IVS_TASKFILE_JSONL) {
    ivs_jsonl_opts o = {.max_line = opts->max_field, .progress = opts->progress, .progress_ud = opts->progress_ud,
                        .transient = opts->transient};
    return ivs_jsonl_read(path, &o, cb, ud);
  }
  ivs_csv_opts o = {.delim = kind->format == IVS_TASKFILE_TSV ? '\t' : ',', .max_field = opts->max_field, .map = opts->map,
                    .progress = opts->progress, .progress_ud = opts->progress_ud, .on_note = opts->on_note,
                    .note_ud = opts->note_ud};
  return ivs_csv_read(path, &o, cb, ud);
}

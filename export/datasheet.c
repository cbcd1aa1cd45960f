#include "export/datasheet.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const ivs_datasheet_field ivs_datasheet_fields[] = {
    {"name", "Task name", 1},
    {"description", "Description", 1},
    {"why_matters", "Why the task matters", 1},
    {"why_inverse", "Why inverse scaling is expected", 1},
    {"novelty", "Why the task is novel", 1},
    {"data_generation", "How the data was generated", 1},
    {"sources", "Sources", 0},
    {"code", "Code", 0},
    {"control_experiments", "Control experiments", 0},
    {"shots", "Zero-shot or few-shot", 1},
    {"correct_behaviour", "Correct behaviour", 1},
    {"label_expertise", "Expertise needed to check the labels", 1},
    {"licence", "Licence", 1},
};
const size_t ivs_datasheet_nfields = sizeof ivs_datasheet_fields / sizeof *ivs_datasheet_fields;

const ivs_datasheet_field *ivs_datasheet_find(const char *key) {
  for (size_t i = 0; i < ivs_datasheet_nfields; i++)
    if (!strcmp(ivs_datasheet_fields[i].key, key)) return &ivs_datasheet_fields[i];
  return NULL;
}

int ivs_datasheet_render(ivs_buf *out, const char *const *values, const char *stats) {
  int rc = ivs_buf_puts(out, "# ");
  if (!rc) rc = ivs_buf_puts(out, values[0] ? values[0] : "Untitled task");
  if (!rc) rc = ivs_buf_puts(out, "\n\nDatasheet of an Inverse Scaling Prize submission, written by invscale.\n");
  if (!rc && stats) {
    rc = ivs_buf_puts(out, "\n");
    if (!rc) rc = ivs_buf_puts(out, stats);
    if (!rc) rc = ivs_buf_puts(out, "\n");
  }
  for (size_t i = 1; i < ivs_datasheet_nfields && !rc; i++) {
    rc = ivs_buf_puts(out, "\n## ");
    if (!rc) rc = ivs_buf_puts(out, ivs_datasheet_fields[i].title);
    if (!rc) rc = ivs_buf_puts(out, "\n\n");
    if (!rc) rc = ivs_buf_puts(out, values[i] ? values[i] : "(not given)");
    if (!rc) rc = ivs_buf_puts(out, "\n");
  }
  return rc;
}

void ivs_slug(const char *name, char *out, size_t cap) {
  size_t n = 0;
  int hyphen = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p && n + 1 < cap && n < 48; p++) {
    if (isalnum(*p) && *p < 0x80) {
      if (hyphen && n) out[n++] = '-';
      out[n++] = (char)tolower(*p);
      hyphen = 0;
    } else {
      hyphen = 1;
    }
  }
  out[n] = '\0';
  if (!n) snprintf(out, cap, "task");
}

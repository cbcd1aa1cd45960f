#include "core/example.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const type_names[] = {"auto", "classification", "sequence_prob", "logodds",
                                         "absolute_logodds"};

const char *ivs_type_name(ivs_task_type t) {
  return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "unknown";
}

int ivs_type_parse(const char *name, ivs_task_type *out) {
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (strcmp(name, type_names[i]) == 0) {
      *out = (ivs_task_type)i;
      return 0;
    }
  return ivs_error_set(IVS_EUSAGE,
                       "unknown task type '%s' (auto, classification, sequence_prob, logodds, absolute_logodds)",
                       name);
}

void ivs_example_init(ivs_example *ex) {
  memset(ex, 0, sizeof *ex);
  ex->answer_index = -1;
}

void ivs_example_release(ivs_example *ex) {
  free(ex->prompt);
  ivs_strlist_release(&ex->classes);
  free(ex->other_prompt);
  free(ex->completion);
  free(ex->metadata);
  ivs_example_init(ex);
}

static int bad(const char **field, const char *name, const char *msg) {
  *field = name;
  return ivs_error_set(IVS_EINVAL, "%s", msg);
}

int ivs_example_check(const ivs_example *ex, const char **field) {
  int logodds = ivs_type_is_logodds(ex->type);
  if (!ex->prompt) return bad(field, "prompt", "missing prompt");
  if (!ex->prompt[0]) return bad(field, "prompt", "empty prompt");
  if (ex->type == IVS_TYPE_SEQUENCE_PROB) {
    if (!ex->completion) return bad(field, "completion", "missing completion");
    if (!ex->completion[0]) return bad(field, "completion", "empty completion");
    return 0;
  }
  if (logodds) {
    if (!ex->other_prompt) return bad(field, "other_prompt", "missing other_prompt");
    if (!ex->other_prompt[0]) return bad(field, "other_prompt", "empty other_prompt");
    if (!ex->has_classes) return bad(field, "classes", "missing classes");
  }
  if (ex->has_classes) {
    if (logodds && ex->classes.n != 2)
      return bad(field, "classes", "log-odds tasks need exactly 2 classes");
    if (ex->classes.n < 2) return bad(field, "classes", "fewer than 2 classes");
    for (size_t i = 0; i < ex->classes.n; i++)
      if (!ex->classes.items[i][0]) return bad(field, "classes", "a class is an empty string");
  }
  if (ex->answer_index >= 0) {
    if (!ex->has_classes) return bad(field, "answer_index", "answer_index given without classes");
    if ((size_t)ex->answer_index >= ex->classes.n) {
      *field = "answer_index";
      return ivs_error_set(IVS_EINVAL, "answer_index %ld out of range for %zu classes", ex->answer_index,
                           ex->classes.n);
    }
  }
  return 0;
}

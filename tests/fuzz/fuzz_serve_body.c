/* libFuzzer: an API request body through the annotation server's parser
 * (bounded JSON, nesting limit) and the shape checks of submits and of the
 * integer members the endpoints read. */
#include <stddef.h>
#include <stdint.h>

#include "serve/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *j = NULL;
  if (ivs_serve_body_parse((const char *)data, size, &j)) return 0;
  ivs_work_submit subs[IVS_SERVE_MAX_SUBMITS];
  size_t n = 0;
  ivs_serve_submits_parse(j, subs, &n);
  int64_t v;
  ivs_serve_int_member(j, "count", 1, 20, 2, &v);
  ivs_serve_int_member(j, "before", 0, INT64_C(1) << 53, 0, &v);
  cJSON_Delete(j);
  return 0;
}

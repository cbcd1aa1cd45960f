/* libFuzzer: the Python list literal parser.  Every success must give
 * NUL-free, valid UTF-8 strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pylit.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_strlist l;
  size_t at = 0;
  if (ivs_pylist_parse((const char *)data, size, &l, &at) == 0) {
    for (size_t i = 0; i < l.n; i++) {
      size_t n = strlen(l.items[i]);
      if (ivs_utf8_valid_prefix((const unsigned char *)l.items[i], n, 0) != n) abort();
    }
    ivs_strlist_release(&l);
  } else if (at > size) {
    abort(); /* an error position must lie inside the input */
  }
  return 0;
}

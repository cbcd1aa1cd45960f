/* libFuzzer: the Python list literal parser.  Every success must give valid
 * UTF-8 strings (an escaped NUL held as IVS_NUL), and writing them as Python
 * writes them and parsing that again must give the same strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/pylit.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ivs_strlist l;
  size_t at = 0;
  if (ivs_pylist_parse((const char *)data, size, &l, &at) == 0) {
    for (size_t i = 0; i < l.n; i++) {
      size_t n = strlen(l.items[i]);
      if (ivs_utf8_valid_prefix_nul((const unsigned char *)l.items[i], n) != n) abort();
    }
    ivs_buf b = IVS_BUF_INIT;
    ivs_strlist again;
    if (ivs_pylist_write(&b, l.items, l.n) == 0) {
      if (ivs_pylist_parse(b.data, b.len, &again, &at) != 0 || again.n != l.n) abort();
      for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.items[i], again.items[i])) abort();
      ivs_strlist_release(&again);
    }
    ivs_buf_release(&b);
    ivs_strlist_release(&l);
  } else if (at > size) {
    abort(); /* an error position must lie inside the input */
  }
  return 0;
}

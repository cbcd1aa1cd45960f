/* Reads doubles as 16 hex digits of their bits, one per line, and prints
 * ivs_dtoa of each (for tests/dtoa_test.py, which compares with Python). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/dtoa.h"

int main(void) {
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    uint64_t bits;
    if (sscanf(line, "%" SCNx64, &bits) != 1) return 2;
    double v;
    memcpy(&v, &bits, sizeof v);
    char b[IVS_DTOA_SIZE];
    ivs_dtoa(v, b);
    puts(b);
  }
  return 0;
}

#include "core/dtoa.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>

int ivs_dtoa(double v, char *buf) {
  if (std::isnan(v)) { /* Python writes every NaN as "nan" */
    std::memcpy(buf, "nan", 4);
    return 3;
  }
  /* fmt's "{}" is the shortest round-trip text with Python's layout (an
   * exponent below 1e-4 and from 1e16, at least two exponent digits), except
   * that integral values have no ".0" */
  static_assert(IVS_DTOA_SIZE >= 27, "the longest text is 24 characters (-2.2250738585072014e-308)");
  char *end = fmt::format_to(buf, FMT_COMPILE("{}"), v); /* format_to_n is half as fast */
  if (!std::memchr(buf, '.', static_cast<size_t>(end - buf)) && !std::memchr(buf, 'e', static_cast<size_t>(end - buf)) &&
      !std::memchr(buf, 'i', static_cast<size_t>(end - buf))) {
    *end++ = '.';
    *end++ = '0';
  }
  *end = '\0';
  return static_cast<int>(end - buf);
}

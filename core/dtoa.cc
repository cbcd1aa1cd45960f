#include "core/dtoa.h"

#include <double-conversion/double-to-string.h>

#include <cstring>

using double_conversion::DoubleToStringConverter;
using double_conversion::StringBuilder;

int ivs_dtoa(double v, char *buf) {
  /* as Python's repr: decimal for 1e-4 <= |v| < 1e16 with "1.0" for integers, an
   * exponent otherwise */
  static const DoubleToStringConverter conv(DoubleToStringConverter::EMIT_POSITIVE_EXPONENT_SIGN |
                                                DoubleToStringConverter::EMIT_TRAILING_DECIMAL_POINT |
                                                DoubleToStringConverter::EMIT_TRAILING_ZERO_AFTER_POINT,
                                            "inf", "nan", 'e', -4, 16, 0, 0);
  StringBuilder sb(buf, IVS_DTOA_SIZE);
  conv.ToShortest(v, &sb);
  int n = sb.position();
  sb.Finalize();
  /* Python writes at least two exponent digits: 1e-07, 1e+16 */
  const char *e = static_cast<const char *>(std::memchr(buf, 'e', static_cast<size_t>(n)));
  if (e && n - (e - buf) == 3) {
    char *d = buf + (e - buf) + 2;
    d[2] = '\0';
    d[1] = d[0];
    d[0] = '0';
    n++;
  }
  return n;
}

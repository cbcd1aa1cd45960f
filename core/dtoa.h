/* Doubles as the shortest text that reads back as the same double (what
 * Python's repr and pandas write), through the fmt library (Dragonbox, with
 * the format compiled in): about twenty times faster than printf's "%.17g",
 * which prints 17 digits through multi-precision arithmetic.  The text is
 * Python's repr of the float: "0.1", "1.0", "-0.0", "0.0001", "1e-05",
 * "1e+16", "nan", "inf". */
#ifndef IVS_CORE_DTOA_H
#define IVS_CORE_DTOA_H

#ifdef __cplusplus
extern "C" {
#endif

#define IVS_DTOA_SIZE 32

/* Writes v into buf (at least IVS_DTOA_SIZE bytes, NUL-terminated); returns
 * the length. */
int ivs_dtoa(double v, char *buf);

#ifdef __cplusplus
}
#endif

#endif

/* The activations of the architectures, in place over n floats, written so
 * that the compiler vectorizes them: exp from a range reduction and a
 * polynomial (the Cephes expf coefficients, about 2 ulp) instead of one libm
 * call per element, which cost a sixth of a forward pass.  Each is within a
 * few 1e-7 of the double-precision formula (tests/unit/test_engine.c). */
#ifndef IVS_ENGINE_ACT_H
#define IVS_ENGINE_ACT_H

#include <stddef.h>

/* A function compiled for AVX-512, AVX2 and the baseline, the one the CPU
 * takes chosen when the program loads (GCC; clang, which builds only the
 * fuzz targets here, gets the baseline). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define IVS_WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IVS_WIDE
#endif

/* GPT-2's gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void ivs_act_gelu_tanh(float *x, size_t n);
/* The exact GELU of GPT-NeoX: 0.5 x (1 + erf(x / sqrt 2)); erf to 1.5e-7
 * (Abramowitz and Stegun 7.1.26). */
void ivs_act_gelu_erf(float *x, size_t n);
/* SwiGLU's gate: g[i] = silu(g[i]) * up[i], silu(g) = g / (1 + exp(-g)). */
void ivs_act_silu_mul(float *g, const float *up, size_t n);
/* x[i] = e^x[i] (to about 2 ulp; 0 below -87, so e^-inf is 0). */
void ivs_act_exp(float *x, size_t n);
/* x = softmax(x) in place, n >= 1 and some x[i] finite (-inf is 0);
 * on the calling thread alone. */
void ivs_act_softmax(float *x, size_t n);
/* x[i] = max(x[i], 0). */
void ivs_act_relu(float *x, size_t n);

#endif

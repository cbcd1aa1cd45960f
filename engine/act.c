/* Vectorizable activations (engine/act.h). */
#include "engine/act.h"

#include <stdint.h>
#include <string.h>

/* Each loop compiled for AVX-512, AVX2 and the baseline (IVS_WIDE; the same
 * results: no multiply-add is fused, the engine is built with
 * -ffp-contract=off). */

/* e^x: x = k ln 2 + r with |r| <= ln 2 / 2, e^r by a polynomial, 2^k by
 * building the float's exponent.  x is clamped to where float is finite;
 * below -87 (e^-inf included) it is 0. */
static inline float exp_poly(float v) {
  float x = v > -87.0f ? (v < 88.0f ? v : 88.0f) : -87.0f; /* a NaN too, given back below */
  float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest: -126 to 127 */
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t e = (uint32_t)((int32_t)k + 127) << 23;
  float s;
  memcpy(&s, &e, sizeof s);
  return v == v ? (v < -87.0f ? 0.0f : p * s) : v;
}

/* 0.5 x (1 + tanh y) = x / (1 + e^(-2y)): one exp and one division */
IVS_WIDE void ivs_act_gelu_tanh(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], y = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    x[i] = v / (1.0f + exp_poly(-2.0f * y));
  }
}

IVS_WIDE void ivs_act_gelu_erf(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], z = v * 0.70710678118654752f, a = z < 0 ? -z : z;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float erf_a = 1.0f - poly * exp_poly(-a * a);
    x[i] = 0.5f * v * (1.0f + (z < 0 ? -erf_a : erf_a));
  }
}

IVS_WIDE void ivs_act_silu_mul(float *g, const float *up, size_t n) {
  for (size_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + exp_poly(-g[i])) * up[i];
}

IVS_WIDE void ivs_act_exp(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = exp_poly(x[i]);
}

IVS_WIDE void ivs_act_relu(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

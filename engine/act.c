/* Vectorizable activations (engine/act.h). */
#include "engine/act.h"

#include "engine/par.h"

#include <math.h>
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
IVS_WIDE static void gelu_tanh_part(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], y = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    x[i] = v / (1.0f + exp_poly(-2.0f * y));
  }
}

IVS_WIDE static void gelu_erf_part(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], z = v * 0.70710678118654752f, a = z < 0 ? -z : z;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float erf_a = 1.0f - poly * exp_poly(-a * a);
    x[i] = 0.5f * v * (1.0f + (z < 0 ? -erf_a : erf_a));
  }
}

IVS_WIDE static void silu_mul_part(float *g, const float *up, size_t n) {
  for (size_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + exp_poly(-g[i])) * up[i];
}

IVS_WIDE static void exp_part(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = exp_poly(x[i]);
}

IVS_WIDE void ivs_act_softmax(float *x, size_t n) {
  /* in 16 lanes, each added up in order and the lanes then in order: the
   * same sums whichever instruction set runs it */
  float lane[16], mx = -INFINITY;
  for (size_t j = 0; j < 16; j++) lane[j] = -INFINITY;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (size_t j = 0; j < 16; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  for (; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  for (size_t j = 0; j < 16; j++) mx = lane[j] > mx ? lane[j] : mx;
  for (size_t j = 0; j < 16; j++) lane[j] = 0;
  float sum = 0;
  for (i = 0; i + 16 <= n; i += 16)
    for (size_t j = 0; j < 16; j++) lane[j] += x[i + j] = exp_poly(x[i + j] - mx);
  for (; i < n; i++) sum += x[i] = exp_poly(x[i] - mx);
  for (size_t j = 0; j < 16; j++) sum += lane[j];
  float inv = 1.0f / sum;
  for (i = 0; i < n; i++) x[i] *= inv;
}

IVS_WIDE static void relu_part(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

/* ---- each over the engine's threads (engine/par.h), in parts of at least
 * 16384 elements ---- */

typedef struct {
  float *x;
  const float *up;
  void (*one)(float *, size_t);
  void (*two)(float *, const float *, size_t);
} act_job;

static void act_part(void *ud, size_t part, size_t lo, size_t hi) {
  const act_job *j = ud;
  (void)part;
  if (j->two) j->two(j->x + lo, j->up + lo, hi - lo);
  else j->one(j->x + lo, hi - lo);
}

static void split(act_job j, size_t n) { ivs_par_for(n, 16384, 64, act_part, &j); }

void ivs_act_gelu_tanh(float *x, size_t n) { split((act_job){.x = x, .one = gelu_tanh_part}, n); }
void ivs_act_gelu_erf(float *x, size_t n) { split((act_job){.x = x, .one = gelu_erf_part}, n); }
void ivs_act_silu_mul(float *g, const float *up, size_t n) { split((act_job){.x = g, .up = up, .two = silu_mul_part}, n); }
void ivs_act_exp(float *x, size_t n) { split((act_job){.x = x, .one = exp_part}, n); }
void ivs_act_relu(float *x, size_t n) { split((act_job){.x = x, .one = relu_part}, n); }

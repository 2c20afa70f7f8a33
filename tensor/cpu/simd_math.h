// Vectorisable float32 exp, log and tanh: branch-free scalar code that GCC turns into SIMD
// loops (std::exp calls libm per element). Not a SIMD wrapper library; float64 uses std::.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace ignis::cpu {

// The integer type of F's shape: int32_t for float, a vector of int32_t lanes for a GCC
// vector of floats.
// NOTE: a struct, because GCC drops vector_size from a type used as a template argument.
template <typename F>
struct Int32Of {
  typedef int32_t type __attribute__((vector_size(sizeof(F))));
};
template <>
struct Int32Of<float> {
  using type = int32_t;
};
// c in every lane of F (float, or a GCC vector of floats).
template <typename F>
[[gnu::always_inline]] inline F splat(float c) {
  if constexpr (std::is_same_v<F, float>) {
    return c;
  } else {
    return F{} + c;
  }
}

// e^x with relative error below 2 ulp over the whole float range, subnormal results
// included; exp(-inf) = 0, exp(inf) = inf, exp(nan) = nan.
// x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two for an exact n ln2), e^r from a
// degree-7 polynomial (Cephes expf), then 2^n applied as two halves so that results
// below FLT_MIN (n < -126) or near FLT_MAX are rounded once, as libm does.
// F: float, or a GCC vector of floats (the same operations lane by lane, so the same bits as
// the scalar form: for row loops that keep their accumulators in vectors).
// NOTE: always_inline because a call left in an element loop stops its vectorisation.
template <typename F = float>
[[gnu::always_inline]] inline F exp_f32(F x) {
  using I = typename Int32Of<F>::type;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  // Adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits.
  constexpr float kShift = 12582912.0f;
  // Beyond these e^x is 0 or inf in float32; clamping keeps n small. NaN passes through.
  x = x < -104.0f ? splat<F>(-104.0f) : x;
  x = x > 89.0f ? splat<F>(89.0f) : x;
  F t = x * kLog2e + kShift;
  F n = t - kShift;
  I ni = std::bit_cast<I>(t) - std::bit_cast<int32_t>(kShift);
  F r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  F p = splat<F>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  I n1 = ni >> 1;
  I n2 = ni - n1;
  F s1 = std::bit_cast<F>((n1 + 127) << 23);
  F s2 = std::bit_cast<F>((n2 + 127) << 23);
  return p * s1 * s2;
}

// ln(x) with relative error below 2 ulp for every positive float (subnormals included);
// log(0) = -inf, log(inf) = inf, log(x < 0) = nan, log(nan) = nan.
// x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln(m) = ln(1 + f) from a degree-9 polynomial in f
// (Cephes logf), plus e ln2 with ln2 split in two.
[[gnu::always_inline]] inline float log_f32(float x) {
  constexpr float kMinNormal = std::numeric_limits<float>::min();
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  // Subnormals (and 0 and negatives, replaced at the end) are scaled by 2^23 first.
  // NOTE: selects are float-valued and made up front: GCC 12 leaves the loop scalar for an
  // integer select on a float comparison, or for a comparison feeding selects on both sides
  // of the bit casts.
  const bool subnormal = x < kMinNormal;
  const float scale = subnormal ? 8388608.0f : 1.0f;
  const float bias = subnormal ? 23.0f : 0.0f;
  const int32_t bits = std::bit_cast<int32_t>(x * scale);
  // x * scale = m 2^e with m in [0.5, 1)
  float fe = static_cast<float>(((bits >> 23) & 0xff) - 126) - bias;
  const float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);
  const bool low = m < 0.707106781186547524f;
  fe = low ? fe - 1.0f : fe;
  const float f = low ? m + m - 1.0f : m - 1.0f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  float y = p * f * z;
  y = y - 2.12194440e-4f * fe;
  y = y - 0.5f * z;
  float r = f + y;
  r = r + 0.693359375f * fe;
  r = x == kInf ? kInf : r;
  r = x == 0.0f ? -kInf : r;
  r = x < 0.0f ? kNaN : r;
  return x != x ? x : r;
}

// tanh(x) within 2 ulp: an odd polynomial for |x| < 0.625 (Cephes tanhf), where
// 1 - 2 / (e^2x + 1) would cancel, and that formula elsewhere (it saturates to +-1).
[[gnu::always_inline]] inline float tanh_f32(float x) {
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = x + x * z * p;
  float ax = x < 0.0f ? -x : x;
  float large = 1.0f - 2.0f / (exp_f32(2.0f * ax) + 1.0f);
  large = x < 0.0f ? -large : large;
  return ax < 0.625f ? small : large;
}

}  // namespace ignis::cpu

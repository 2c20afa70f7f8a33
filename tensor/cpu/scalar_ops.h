// The scalar math of the elementwise ops, written once for both devices: one functor per op,
// host and device callable, and the table from UnaryOp / BinaryOp to functor. Not the loops:
// tensor/cpu/elementwise_kernels.cpp maps these with the CPU's strided skeleton (whose
// contiguous loops GCC vectorises) and cuda/elementwise.cu with the CUDA map kernel.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <type_traits>

#include "tensor/cpu/simd_math.h"
#include "tensor/dtype.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"

// Marks a function callable from host and device code when nvcc compiles the file; nothing
// for the C++ compiler.
#if defined(__CUDACC__)
#define IGNIS_HOST_DEVICE __host__ __device__
#else
#define IGNIS_HOST_DEVICE
#endif

namespace ignis::scalar_ops {

template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// ---- arithmetic helpers shared by the functors ----
// NOTE: the small ones are always_inline: one call left in an element loop (GCC's inliner
// gives up in a file with this many instantiations) stops its vectorisation.

// NOTE: integer add/sub/mul/neg wrap around on overflow, as PyTorch's do; done in the
// unsigned type because signed overflow is undefined behaviour in C++.
template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T wrapping_add(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a || b;  // as torch: True + True = True
  } else {
    return a + b;
  }
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T wrapping_sub(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a != b;  // arithmetic mod 2 (raw::binary rejects bool - bool, as torch)
  } else {
    return a - b;
  }
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T wrapping_mul(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else {
    return a * b;
  }
}

// base^exp for integers by repeated squaring. Negative exponents give what PyTorch's CPU
// kernel gives: 1 for base 1, +-1 for base -1, else 0.
template <typename T>
IGNIS_HOST_DEVICE T int_pow(T base, int64_t exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if constexpr (std::is_signed_v<T>) {
      if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    }
    return 0;
  }
  T result = 1;
  while (exp > 0) {
    if (exp & 1) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    exp >>= 1;
  }
  return result;
}

// A double bound converted to T without overflow, on the host once per call: integers
// saturate, and a fractional lower (upper) bound rounds up (down), so that clamping integers
// to it is exact.
template <typename T>
T bound_to(double v, bool lower) {
  if constexpr (kIsInt<T>) {
    if (std::isnan(v)) return 0;
    v = lower ? std::ceil(v) : std::floor(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    // 2^63 is exactly representable; INT64_MAX is not.
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return lower ? v > 0 : v >= 1;
  } else {
    return static_cast<T>(v);
  }
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(x);
  } else {
    return false;
  }
}

// e^x, ln x and tanh x: the device's own functions on the GPU; on the CPU, float32 takes the
// vectorisable forms of simd_math.h (std::exp calls libm per element) and float64 std::.
template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T exp_of(T x) {
#if defined(__CUDA_ARCH__)
  return std::exp(x);
#else
  if constexpr (std::is_same_v<T, float>) {
    return cpu::exp_f32(x);
  } else {
    return std::exp(x);
  }
#endif
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T log_of(T x) {
#if defined(__CUDA_ARCH__)
  return std::log(x);
#else
  if constexpr (std::is_same_v<T, float>) {
    return cpu::log_f32(x);
  } else {
    return std::log(x);
  }
#endif
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T tanh_of(T x) {
#if defined(__CUDA_ARCH__)
  return std::tanh(x);
#else
  if constexpr (std::is_same_v<T, float>) {
    return cpu::tanh_f32(x);
  } else {
    return std::tanh(x);
  }
#endif
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T sigmoid_of(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

// Phi(x), the standard normal CDF, and phi(x), its density. Phi(x) = (1 + erf(x/sqrt2)) / 2
// written with erfc, which keeps its relative accuracy in the left tail where 1 + erf cancels.
template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T normal_cdf(T x) {
  return T(0.5) * std::erfc(-x * (T(1) / std::numbers::sqrt2_v<T>));
}

template <typename T>
[[gnu::always_inline]] IGNIS_HOST_DEVICE inline T normal_pdf(T x) {
  constexpr T kInvSqrt2Pi = std::numbers::inv_sqrtpi_v<T> / std::numbers::sqrt2_v<T>;
  return kInvSqrt2Pi * exp_of(T(-0.5) * x * x);
}

// The GeluTanh constants: sqrt(2 / pi) and the cubic coefficient.
template <typename T>
inline constexpr T kGeluBeta = std::numbers::sqrt2_v<T> * std::numbers::inv_sqrtpi_v<T>;
template <typename T>
inline constexpr T kGeluKappa = T(0.044715);

// ---- unary functors: T operator()(T) (bool operator()(T) for LogicalNot and IsNan) ----

struct Neg {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return wrapping_sub(T(0), x); }
};

struct Abs {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else if constexpr (kIsInt<T>) {
      return x < 0 ? wrapping_sub(T(0), x) : x;
    } else {
      return std::abs(x);
    }
  }
};

struct Sign {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x > 0 ? 1 : 0;
    } else {
      return static_cast<T>((T(0) < x) - (x < T(0)));  // NaN gives 0, as torch
    }
  }
};

struct Square {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return wrapping_mul(x, x); }
};

struct Relu {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return x < T(0) ? T(0) : x;  // NaN stays NaN, as torch.relu
    }
  }
};

// min(max(x, lo), hi) with the bounds already in T (bound_to); a NaN x stays NaN.
template <typename T>
struct ClampTo {
  T lo, hi;
  IGNIS_HOST_DEVICE T operator()(T x) const {
    const T y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};

// The clamp of UnaryParams: its bounds become a ClampTo<T> once per call (for_dtype).
struct Clamp {
  double lo, hi;
  template <typename T>
  ClampTo<T> for_dtype() const {
    return {bound_to<T>(lo, true), bound_to<T>(hi, false)};
  }
};

struct PowScalar {
  double exponent;
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::pow(x, static_cast<T>(exponent));
    } else {
      return int_pow(x, static_cast<int64_t>(exponent));
    }
  }
};

struct LogicalNot {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T x) const { return x == T(0); }
};

struct IsNan {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T x) const { return is_nan(x); }
};

// Floating-point only (raw::unary computes integer inputs in float32).
struct Exp {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return exp_of(x); }
};
struct Log {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return log_of(x); }
};
struct Log1p {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::log1p(x); }
};
struct Expm1 {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::expm1(x); }
};
struct Sqrt {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::sqrt(x); }
};
struct Rsqrt {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return T(1) / std::sqrt(x); }
};
struct Reciprocal {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return T(1) / x; }
};
struct Sin {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::sin(x); }
};
struct Cos {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::cos(x); }
};
struct Erf {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return std::erf(x); }
};
struct Sigmoid {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return sigmoid_of(x); }
};
struct Tanh {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return tanh_of(x); }
};
struct Silu {
  // x * sigmoid(x), written as PyTorch does: x / (1 + e^-x)
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const { return x / (T(1) + exp_of(-x)); }
};
struct GeluErf {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T x) const { return x * normal_cdf(x); }
};
// 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = beta (x + kappa x^3): the sigmoid form keeps
// its relative accuracy in the left tail, where 1 + tanh(u) cancels.
struct GeluTanh {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    const T u = kGeluBeta<T> * (x + kGeluKappa<T> * x * x * x);
    return x / (T(1) + exp_of(T(-2) * u));
  }
};
struct LeakyRelu {
  double alpha;
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : x * static_cast<T>(alpha);
  }
};

// ---- binary functors: T operator()(T, T), or bool for comparisons and logical ops ----

struct Add {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const { return wrapping_add(a, b); }
};
struct Sub {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const { return wrapping_sub(a, b); }
};
struct Mul {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const { return wrapping_mul(a, b); }
};
struct Div {
  template <typename T> IGNIS_HOST_DEVICE T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::pow(a, b);
    } else if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else {
      return int_pow(a, static_cast<int64_t>(b));
    }
  }
};
// NaN in either input gives NaN, as torch.maximum / torch.minimum.
struct Maximum {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const { return (a > b || is_nan(a)) ? a : b; }
};
struct Minimum {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T a, T b) const { return (a < b || is_nan(a)) ? a : b; }
};
struct Eq {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a != b; }
};
struct Lt {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a <= b; }
};
struct Gt {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <typename T> IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a >= b; }
};
struct LogicalAnd {
  template <typename T>
  IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a != T(0) && b != T(0); }
};
struct LogicalOr {
  template <typename T>
  IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return a != T(0) || b != T(0); }
};
struct LogicalXor {
  template <typename T>
  IGNIS_HOST_DEVICE bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); }
};

// Fused backward helpers: a = grad_output, b = the saved input x or output y.
struct ReluBackward {
  // As torch's threshold_backward: a NaN input passes the gradient.
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T x) const { return x <= T(0) ? T(0) : dy; }
};
struct SigmoidBackward {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T y) const { return dy * y * (T(1) - y); }
};
struct TanhBackward {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T y) const { return dy * (T(1) - y * y); }
};
struct SiluBackward {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T x) const {
    const T s = sigmoid_of(x);
    return dy * s * (T(1) + x * (T(1) - s));
  }
};
struct GeluErfBackward {
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T x) const {
    return dy * (normal_cdf(x) + x * normal_pdf(x));
  }
};
struct GeluTanhBackward {
  // d/dx x s(2u) = s + 2 x s (1 - s) du/dx, with s = sigmoid(2u), du/dx = beta (1 + 3 kappa x^2);
  // 1 - s is computed as e s (e = e^-2u), not by a cancelling subtraction.
  template <typename T>
  IGNIS_HOST_DEVICE T operator()(T dy, T x) const {
    const T x2 = x * x;
    const T e = exp_of(T(-2) * kGeluBeta<T> * (x + kGeluKappa<T> * x2 * x));
    const T s = T(1) / (T(1) + e);
    const T du = kGeluBeta<T> * (T(1) + T(3) * kGeluKappa<T> * x2);
    return dy * (s + T(2) * x * s * (e * s) * du);
  }
};

// where: out = cond ? a : b.
struct Select {
  template <typename T> IGNIS_HOST_DEVICE T operator()(bool c, T a, T b) const { return c ? a : b; }
};

// ---- the table from op to functor, shared by both devices' dispatch ----

// Which dtypes an op's kernel takes: any, or float32 / float64 only (raw ops compute integer
// inputs of floating ops in float32, so a kernel never sees them).
enum class Domain { AnyDType, Floating };

// Calls body.template operator()<T>() for dtype's C++ type T; a Floating domain throws
// DTypeError naming `op` for integer dtypes.
template <Domain D, typename Body>
void visit_domain(DType dtype, const char* op, Body&& body) {
  if constexpr (D == Domain::Floating) {
    visit_floating(dtype, op, body);
  } else {
    visit_dtype(dtype, body);
  }
}

// The functor that runs on dtype T: f itself, or f.for_dtype<T>() for a functor whose
// parameters are converted to T once per call, on the host (Clamp).
template <typename T, typename F>
auto functor_for(const F& f) {
  if constexpr (requires { f.template for_dtype<T>(); }) {
    return f.template for_dtype<T>();
  } else {
    return f;
  }
}

// Calls map.template operator()<D>(name, functor) once, with op's functor, its domain D and
// the name errors give; `dtype` is the input's. The device's map does the rest:
//   visit_unary_op(op, params, in.dtype(), [&]<Domain D, typename F>(const char* name, F f) {
//     visit_domain<D>(in.dtype(), name, [&]<typename T>() { /* map functor_for<T>(f) */ });
//   });
template <typename Map>
void visit_unary_op(UnaryOp op, const UnaryParams& params, DType dtype, Map&& map) {
  constexpr Domain kAny = Domain::AnyDType;
  constexpr Domain kFloat = Domain::Floating;
  switch (op) {
    case UnaryOp::Neg: return map.template operator()<kAny>("neg", Neg{});
    case UnaryOp::Abs: return map.template operator()<kAny>("abs", Abs{});
    case UnaryOp::Sign: return map.template operator()<kAny>("sign", Sign{});
    case UnaryOp::Square: return map.template operator()<kAny>("square", Square{});
    case UnaryOp::Relu: return map.template operator()<kAny>("relu", Relu{});
    case UnaryOp::Clamp:
      return map.template operator()<kAny>("clamp", Clamp{params.lo, params.hi});
    case UnaryOp::LogicalNot: return map.template operator()<kAny>("logical_not", LogicalNot{});
    case UnaryOp::IsNan: return map.template operator()<kAny>("isnan", IsNan{});
    case UnaryOp::PowScalar:
      // The common exponents take their exact, vectorisable forms, as PyTorch does.
      if (params.alpha == 2.0) return map.template operator()<kAny>("pow", Square{});
      if (params.alpha == 0.5 && is_floating_point(dtype)) {
        return map.template operator()<kFloat>("pow", Sqrt{});
      }
      if (params.alpha == -1.0 && is_floating_point(dtype)) {
        return map.template operator()<kFloat>("pow", Reciprocal{});
      }
      return map.template operator()<kAny>("pow", PowScalar{params.alpha});
    case UnaryOp::Exp: return map.template operator()<kFloat>("exp", Exp{});
    case UnaryOp::Log: return map.template operator()<kFloat>("log", Log{});
    case UnaryOp::Log1p: return map.template operator()<kFloat>("log1p", Log1p{});
    case UnaryOp::Expm1: return map.template operator()<kFloat>("expm1", Expm1{});
    case UnaryOp::Sqrt: return map.template operator()<kFloat>("sqrt", Sqrt{});
    case UnaryOp::Rsqrt: return map.template operator()<kFloat>("rsqrt", Rsqrt{});
    case UnaryOp::Reciprocal: return map.template operator()<kFloat>("reciprocal", Reciprocal{});
    case UnaryOp::Sin: return map.template operator()<kFloat>("sin", Sin{});
    case UnaryOp::Cos: return map.template operator()<kFloat>("cos", Cos{});
    case UnaryOp::Erf: return map.template operator()<kFloat>("erf", Erf{});
    case UnaryOp::Sigmoid: return map.template operator()<kFloat>("sigmoid", Sigmoid{});
    case UnaryOp::Tanh: return map.template operator()<kFloat>("tanh", Tanh{});
    case UnaryOp::Silu: return map.template operator()<kFloat>("silu", Silu{});
    case UnaryOp::GeluErf: return map.template operator()<kFloat>("gelu", GeluErf{});
    case UnaryOp::GeluTanh: return map.template operator()<kFloat>("gelu", GeluTanh{});
    case UnaryOp::LeakyRelu:
      return map.template operator()<kFloat>("leaky_relu", LeakyRelu{params.alpha});
  }
  internal_error("visit_unary_op: bad UnaryOp");
}

// As visit_unary_op, for the binary ops.
template <typename Map>
void visit_binary_op(BinaryOp op, Map&& map) {
  constexpr Domain kAny = Domain::AnyDType;
  constexpr Domain kFloat = Domain::Floating;
  switch (op) {
    case BinaryOp::Add: return map.template operator()<kAny>("add", Add{});
    case BinaryOp::Sub: return map.template operator()<kAny>("sub", Sub{});
    case BinaryOp::Mul: return map.template operator()<kAny>("mul", Mul{});
    case BinaryOp::Div: return map.template operator()<kFloat>("div", Div{});
    case BinaryOp::Pow: return map.template operator()<kAny>("pow", Pow{});
    case BinaryOp::Maximum: return map.template operator()<kAny>("maximum", Maximum{});
    case BinaryOp::Minimum: return map.template operator()<kAny>("minimum", Minimum{});
    case BinaryOp::Eq: return map.template operator()<kAny>("eq", Eq{});
    case BinaryOp::Ne: return map.template operator()<kAny>("ne", Ne{});
    case BinaryOp::Lt: return map.template operator()<kAny>("lt", Lt{});
    case BinaryOp::Le: return map.template operator()<kAny>("le", Le{});
    case BinaryOp::Gt: return map.template operator()<kAny>("gt", Gt{});
    case BinaryOp::Ge: return map.template operator()<kAny>("ge", Ge{});
    case BinaryOp::LogicalAnd: return map.template operator()<kAny>("logical_and", LogicalAnd{});
    case BinaryOp::LogicalOr: return map.template operator()<kAny>("logical_or", LogicalOr{});
    case BinaryOp::LogicalXor: return map.template operator()<kAny>("logical_xor", LogicalXor{});
    case BinaryOp::ReluBackward:
      return map.template operator()<kFloat>("relu_backward", ReluBackward{});
    case BinaryOp::SigmoidBackward:
      return map.template operator()<kFloat>("sigmoid_backward", SigmoidBackward{});
    case BinaryOp::TanhBackward:
      return map.template operator()<kFloat>("tanh_backward", TanhBackward{});
    case BinaryOp::SiluBackward:
      return map.template operator()<kFloat>("silu_backward", SiluBackward{});
    case BinaryOp::GeluErfBackward:
      return map.template operator()<kFloat>("gelu_backward", GeluErfBackward{});
    case BinaryOp::GeluTanhBackward:
      return map.template operator()<kFloat>("gelu_backward", GeluTanhBackward{});
  }
  internal_error("visit_binary_op: bad BinaryOp");
}

}  // namespace ignis::scalar_ops

// CPU kernels of the elementwise ops: each op is a small functor mapped over its operands by
// the one strided skeleton of cpu/strided.h. Not the ops: tensor/elementwise.cpp validates,
// promotes and broadcasts before calling these.
#include <cmath>
#include <limits>
#include <numbers>
#include <type_traits>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/simd_math.h"
#include "tensor/cpu/strided.h"
#include "tensor/cpu/wrapping.h"

namespace ignis::cpu {
namespace {

// ---- arithmetic helpers shared by the functors ----
// NOTE: the small ones are always_inline: one call left in an element loop (GCC's inliner
// gives up in a file with this many instantiations) stops its vectorisation.

// base^exp for integers by repeated squaring. Negative exponents give what PyTorch's CPU
// kernel gives: 1 for base 1, +-1 for base -1, else 0.
template <typename T>
T int_pow(T base, int64_t exp) {
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

// A double bound converted to T without overflow: integers saturate, and a fractional lower
// (upper) bound rounds up (down), so that clamping integers to it is exact.
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
[[gnu::always_inline]] inline T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return exp_f32(x);
  } else {
    return std::exp(x);
  }
}

template <typename T>
[[gnu::always_inline]] inline T log_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return log_f32(x);
  } else {
    return std::log(x);
  }
}

template <typename T>
[[gnu::always_inline]] inline T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return tanh_f32(x);
  } else {
    return std::tanh(x);
  }
}

template <typename T>
[[gnu::always_inline]] inline T sigmoid_of(T x) {
  return T(1) / (T(1) + exp_of(-x));
}

// Phi(x), the standard normal CDF, and phi(x), its density. Phi(x) = (1 + erf(x/sqrt2)) / 2
// written with erfc, which keeps its relative accuracy in the left tail where 1 + erf cancels.
template <typename T>
[[gnu::always_inline]] inline T normal_cdf(T x) {
  return T(0.5) * std::erfc(-x * (T(1) / std::numbers::sqrt2_v<T>));
}

template <typename T>
[[gnu::always_inline]] inline T normal_pdf(T x) {
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
  template <typename T>
  T operator()(T x) const {
    return wrapping_sub(T(0), x);
  }
};

struct Abs {
  template <typename T>
  T operator()(T x) const {
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
  T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x > 0 ? 1 : 0;
    } else {
      return static_cast<T>((T(0) < x) - (x < T(0)));  // NaN gives 0, as torch
    }
  }
};

struct Square {
  template <typename T>
  T operator()(T x) const {
    return wrapping_mul(x, x);
  }
};

struct Relu {
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return x < T(0) ? T(0) : x;  // NaN stays NaN, as torch.relu
    }
  }
};

struct Clamp {
  double lo, hi;
  template <typename T>
  T operator()(T x) const {
    const T l = bound_to<T>(lo, true);
    const T h = bound_to<T>(hi, false);
    const T y = x < l ? l : x;
    return y > h ? h : y;  // NaN x stays NaN
  }
};

struct PowScalar {
  double exponent;
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::pow(x, static_cast<T>(exponent));
    } else {
      return int_pow(x, static_cast<int64_t>(exponent));
    }
  }
};

struct LogicalNot {
  template <typename T>
  bool operator()(T x) const {
    return x == T(0);
  }
};

struct IsNan {
  template <typename T>
  bool operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      return std::isnan(x);
    } else {
      return false;
    }
  }
};

// Floating-point only (raw::unary computes integer inputs in float32).
struct Exp {
  template <typename T> T operator()(T x) const { return exp_of(x); }
};
struct Log {
  template <typename T> T operator()(T x) const { return log_of(x); }
};
struct Log1p {
  template <typename T> T operator()(T x) const { return std::log1p(x); }
};
struct Expm1 {
  template <typename T> T operator()(T x) const { return std::expm1(x); }
};
struct Sqrt {
  template <typename T> T operator()(T x) const { return std::sqrt(x); }
};
struct Rsqrt {
  template <typename T> T operator()(T x) const { return T(1) / std::sqrt(x); }
};
struct Reciprocal {
  template <typename T> T operator()(T x) const { return T(1) / x; }
};
struct Sin {
  template <typename T> T operator()(T x) const { return std::sin(x); }
};
struct Cos {
  template <typename T> T operator()(T x) const { return std::cos(x); }
};
struct Erf {
  template <typename T> T operator()(T x) const { return std::erf(x); }
};
struct Sigmoid {
  template <typename T> T operator()(T x) const { return sigmoid_of(x); }
};
struct Tanh {
  template <typename T> T operator()(T x) const { return tanh_of(x); }
};
struct Silu {
  // x * sigmoid(x), written as PyTorch does: x / (1 + e^-x)
  template <typename T> T operator()(T x) const { return x / (T(1) + exp_of(-x)); }
};
struct GeluErf {
  template <typename T> T operator()(T x) const { return x * normal_cdf(x); }
};
// 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = beta (x + kappa x^3): the sigmoid form keeps
// its relative accuracy in the left tail, where 1 + tanh(u) cancels.
struct GeluTanh {
  template <typename T>
  T operator()(T x) const {
    const T u = kGeluBeta<T> * (x + kGeluKappa<T> * x * x * x);
    return x / (T(1) + exp_of(T(-2) * u));
  }
};
struct LeakyRelu {
  double alpha;
  template <typename T>
  T operator()(T x) const {
    return x > T(0) ? x : x * static_cast<T>(alpha);
  }
};

// ---- binary functors: T operator()(T, T), or bool for comparisons and logical ops ----

struct Add {
  template <typename T> T operator()(T a, T b) const { return wrapping_add(a, b); }
};
struct Sub {
  template <typename T> T operator()(T a, T b) const { return wrapping_sub(a, b); }
};
struct Mul {
  template <typename T> T operator()(T a, T b) const { return wrapping_mul(a, b); }
};
struct Div {
  template <typename T> T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <typename T>
  T operator()(T a, T b) const {
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
  template <typename T> T operator()(T a, T b) const { return (a > b || IsNan{}(a)) ? a : b; }
};
struct Minimum {
  template <typename T> T operator()(T a, T b) const { return (a < b || IsNan{}(a)) ? a : b; }
};
struct Eq {
  template <typename T> bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <typename T> bool operator()(T a, T b) const { return a != b; }
};
struct Lt {
  template <typename T> bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <typename T> bool operator()(T a, T b) const { return a <= b; }
};
struct Gt {
  template <typename T> bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <typename T> bool operator()(T a, T b) const { return a >= b; }
};
struct LogicalAnd {
  template <typename T> bool operator()(T a, T b) const { return a != T(0) && b != T(0); }
};
struct LogicalOr {
  template <typename T> bool operator()(T a, T b) const { return a != T(0) || b != T(0); }
};
struct LogicalXor {
  template <typename T> bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); }
};

// Fused backward helpers: a = grad_output, b = the saved input x or output y.
struct ReluBackward {
  // As torch's threshold_backward: a NaN input passes the gradient.
  template <typename T> T operator()(T dy, T x) const { return x <= T(0) ? T(0) : dy; }
};
struct SigmoidBackward {
  template <typename T> T operator()(T dy, T y) const { return dy * y * (T(1) - y); }
};
struct TanhBackward {
  template <typename T> T operator()(T dy, T y) const { return dy * (T(1) - y * y); }
};
struct SiluBackward {
  template <typename T>
  T operator()(T dy, T x) const {
    const T s = sigmoid_of(x);
    return dy * s * (T(1) + x * (T(1) - s));
  }
};
struct GeluErfBackward {
  template <typename T>
  T operator()(T dy, T x) const {
    return dy * (normal_cdf(x) + x * normal_pdf(x));
  }
};
struct GeluTanhBackward {
  // d/dx x s(2u) = s + 2 x s (1 - s) du/dx, with s = sigmoid(2u), du/dx = beta (1 + 3 kappa x^2);
  // 1 - s is computed as e s (e = e^-2u), not by a cancelling subtraction.
  template <typename T>
  T operator()(T dy, T x) const {
    const T x2 = x * x;
    const T e = exp_of(T(-2) * kGeluBeta<T> * (x + kGeluKappa<T> * x2 * x));
    const T s = T(1) / (T(1) + e);
    const T du = kGeluBeta<T> * (T(1) + T(3) * kGeluKappa<T> * x2);
    return dy * (s + T(2) * x * s * (e * s) * du);
  }
};

// ---- dispatch: once on the op (the switches below), once on the dtype (here) ----

enum class Domain { AnyDType, Floating };

// Calls body.template operator()<T>() for the compute dtype; Floating kernels reject
// integer dtypes, which raw ops never send them.
template <Domain D, typename Body>
void visit(DType dtype, const char* op, Body&& body) {
  if constexpr (D == Domain::Floating) {
    visit_floating(dtype, op, body);
  } else {
    visit_dtype(dtype, body);
  }
}

// out = f(in), out of f's result type for in's dtype.
template <Domain D, typename F>
void unary_map(const Tensor& in, const Tensor& out, const char* op, F f) {
  visit<D>(in.dtype(), op, [&]<typename T>() {
    using Out = decltype(f(T{}));
    map_kernel<Out, T>(out, f, {in});
  });
}

// The one value of `t` when every element of it is that value (a broadcast number).
bool is_broadcast_scalar(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) != 1 && t.stride(d) != 0) return false;
  }
  return true;
}

// out = f(a, b). A broadcast number operand (x * 2, x + bias0) is folded into the functor,
// so the loop over the other operand stays contiguous and vectorises.
template <Domain D, typename F>
void binary_map(const Tensor& a, const Tensor& b, const Tensor& out, const char* op, F f) {
  visit<D>(a.dtype(), op, [&]<typename T>() {
    using Out = decltype(f(T{}, T{}));
    if (is_broadcast_scalar(b) && !is_broadcast_scalar(a)) {
      const T vb = *b.data_ptr<T>();
      map_kernel<Out, T>(out, [f, vb](T x) { return f(x, vb); }, {a});
    } else if (is_broadcast_scalar(a) && !is_broadcast_scalar(b)) {
      const T va = *a.data_ptr<T>();
      map_kernel<Out, T>(out, [f, va](T x) { return f(va, x); }, {b});
    } else {
      map_kernel<Out, T, T>(out, f, {a, b});
    }
  });
}

}  // namespace

void unary(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out) {
  constexpr Domain kAny = Domain::AnyDType;
  constexpr Domain kFloat = Domain::Floating;
  switch (op) {
    case UnaryOp::Neg: return unary_map<kAny>(in, out, "neg", Neg{});
    case UnaryOp::Abs: return unary_map<kAny>(in, out, "abs", Abs{});
    case UnaryOp::Sign: return unary_map<kAny>(in, out, "sign", Sign{});
    case UnaryOp::Square: return unary_map<kAny>(in, out, "square", Square{});
    case UnaryOp::Relu: return unary_map<kAny>(in, out, "relu", Relu{});
    case UnaryOp::Clamp:
      return unary_map<kAny>(in, out, "clamp", Clamp{params.lo, params.hi});
    case UnaryOp::LogicalNot: return unary_map<kAny>(in, out, "logical_not", LogicalNot{});
    case UnaryOp::IsNan: return unary_map<kAny>(in, out, "isnan", IsNan{});
    case UnaryOp::PowScalar:
      // The common exponents take their exact, vectorisable forms, as PyTorch does.
      if (params.alpha == 2.0) return unary_map<kAny>(in, out, "pow", Square{});
      if (params.alpha == 0.5 && is_floating_point(in.dtype())) {
        return unary_map<kFloat>(in, out, "pow", Sqrt{});
      }
      if (params.alpha == -1.0 && is_floating_point(in.dtype())) {
        return unary_map<kFloat>(in, out, "pow", Reciprocal{});
      }
      return unary_map<kAny>(in, out, "pow", PowScalar{params.alpha});
    case UnaryOp::Exp: return unary_map<kFloat>(in, out, "exp", Exp{});
    case UnaryOp::Log: return unary_map<kFloat>(in, out, "log", Log{});
    case UnaryOp::Log1p: return unary_map<kFloat>(in, out, "log1p", Log1p{});
    case UnaryOp::Expm1: return unary_map<kFloat>(in, out, "expm1", Expm1{});
    case UnaryOp::Sqrt: return unary_map<kFloat>(in, out, "sqrt", Sqrt{});
    case UnaryOp::Rsqrt: return unary_map<kFloat>(in, out, "rsqrt", Rsqrt{});
    case UnaryOp::Reciprocal: return unary_map<kFloat>(in, out, "reciprocal", Reciprocal{});
    case UnaryOp::Sin: return unary_map<kFloat>(in, out, "sin", Sin{});
    case UnaryOp::Cos: return unary_map<kFloat>(in, out, "cos", Cos{});
    case UnaryOp::Erf: return unary_map<kFloat>(in, out, "erf", Erf{});
    case UnaryOp::Sigmoid: return unary_map<kFloat>(in, out, "sigmoid", Sigmoid{});
    case UnaryOp::Tanh: return unary_map<kFloat>(in, out, "tanh", Tanh{});
    case UnaryOp::Silu: return unary_map<kFloat>(in, out, "silu", Silu{});
    case UnaryOp::GeluErf: return unary_map<kFloat>(in, out, "gelu", GeluErf{});
    case UnaryOp::GeluTanh: return unary_map<kFloat>(in, out, "gelu", GeluTanh{});
    case UnaryOp::LeakyRelu:
      return unary_map<kFloat>(in, out, "leaky_relu", LeakyRelu{params.alpha});
  }
  internal_error("cpu::unary: bad UnaryOp");
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  constexpr Domain kAny = Domain::AnyDType;
  constexpr Domain kFloat = Domain::Floating;
  switch (op) {
    case BinaryOp::Add: return binary_map<kAny>(a, b, out, "add", Add{});
    case BinaryOp::Sub: return binary_map<kAny>(a, b, out, "sub", Sub{});
    case BinaryOp::Mul: return binary_map<kAny>(a, b, out, "mul", Mul{});
    case BinaryOp::Div: return binary_map<kFloat>(a, b, out, "div", Div{});
    case BinaryOp::Pow: return binary_map<kAny>(a, b, out, "pow", Pow{});
    case BinaryOp::Maximum: return binary_map<kAny>(a, b, out, "maximum", Maximum{});
    case BinaryOp::Minimum: return binary_map<kAny>(a, b, out, "minimum", Minimum{});
    case BinaryOp::Eq: return binary_map<kAny>(a, b, out, "eq", Eq{});
    case BinaryOp::Ne: return binary_map<kAny>(a, b, out, "ne", Ne{});
    case BinaryOp::Lt: return binary_map<kAny>(a, b, out, "lt", Lt{});
    case BinaryOp::Le: return binary_map<kAny>(a, b, out, "le", Le{});
    case BinaryOp::Gt: return binary_map<kAny>(a, b, out, "gt", Gt{});
    case BinaryOp::Ge: return binary_map<kAny>(a, b, out, "ge", Ge{});
    case BinaryOp::LogicalAnd: return binary_map<kAny>(a, b, out, "logical_and", LogicalAnd{});
    case BinaryOp::LogicalOr: return binary_map<kAny>(a, b, out, "logical_or", LogicalOr{});
    case BinaryOp::LogicalXor: return binary_map<kAny>(a, b, out, "logical_xor", LogicalXor{});
    case BinaryOp::ReluBackward:
      return binary_map<kFloat>(a, b, out, "relu_backward", ReluBackward{});
    case BinaryOp::SigmoidBackward:
      return binary_map<kFloat>(a, b, out, "sigmoid_backward", SigmoidBackward{});
    case BinaryOp::TanhBackward:
      return binary_map<kFloat>(a, b, out, "tanh_backward", TanhBackward{});
    case BinaryOp::SiluBackward:
      return binary_map<kFloat>(a, b, out, "silu_backward", SiluBackward{});
    case BinaryOp::GeluErfBackward:
      return binary_map<kFloat>(a, b, out, "gelu_backward", GeluErfBackward{});
    case BinaryOp::GeluTanhBackward:
      return binary_map<kFloat>(a, b, out, "gelu_backward", GeluTanhBackward{});
  }
  internal_error("cpu::binary: bad BinaryOp");
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    map_kernel<T, bool, T, T>(out, [](bool c, T x, T y) { return c ? x : y; }, {cond, a, b});
  });
}

}  // namespace ignis::cpu

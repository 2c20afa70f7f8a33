// CUDA kernels of fill, copy (any dtype to any dtype, any strides), the host <-> device
// transfer, and the elementwise ops: each op is a functor mapped by the one skeleton of
// map.cuh, mirroring tensor/cpu/elementwise_kernels.cpp op for op. Not the ops: raw ops in
// tensor/ validate, promote and broadcast before calling these.
#include <cmath>
#include <limits>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/map.cuh"

namespace ignis::cuda {
namespace {

// ---- arithmetic helpers (the CPU's wrapping.h and elementwise helpers, on the device) ----

template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// NOTE: integer add/sub/mul/neg wrap around on overflow, as PyTorch's do; done in the
// unsigned type because signed overflow is undefined behaviour.
template <typename T>
__device__ __forceinline__ T wrapping_add(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a || b;
  } else {
    return a + b;
  }
}

template <typename T>
__device__ __forceinline__ T wrapping_sub(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a != b;
  } else {
    return a - b;
  }
}

template <typename T>
__device__ __forceinline__ T wrapping_mul(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else {
    return a * b;
  }
}

// base^exp for integers by repeated squaring; negative exponents as the CPU kernel.
template <typename T>
__device__ T int_pow(T base, int64_t exp) {
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

template <typename T>
__device__ __forceinline__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return isnan(x);
  } else {
    return false;
  }
}

// The math functions below are CUDA's overloads: float ones for float, double for double.
template <typename T>
__device__ __forceinline__ T sigmoid_of(T x) {
  return T(1) / (T(1) + exp(-x));
}

// sqrt(2), 1 / sqrt(2 pi), sqrt(2 / pi) and GeluTanh's cubic coefficient.
template <typename T>
inline constexpr T kSqrt2 = T(1.41421356237309504880);
template <typename T>
inline constexpr T kInvSqrt2Pi = T(0.39894228040143267794);
template <typename T>
inline constexpr T kGeluBeta = T(0.79788456080286535588);
template <typename T>
inline constexpr T kGeluKappa = T(0.044715);

// Phi(x) = erfc(-x / sqrt 2) / 2 (accurate in the left tail) and phi(x).
template <typename T>
__device__ __forceinline__ T normal_cdf(T x) {
  return T(0.5) * erfc(-x * (T(1) / kSqrt2<T>));
}

template <typename T>
__device__ __forceinline__ T normal_pdf(T x) {
  return kInvSqrt2Pi<T> * exp(T(-0.5) * x * x);
}

// A double bound converted to T without overflow (host side, once per call): integers
// saturate, a fractional lower (upper) bound rounds up (down). As the CPU's bound_to.
template <typename T>
T bound_to(double v, bool lower) {
  if constexpr (kIsInt<T>) {
    if (std::isnan(v)) return 0;
    v = lower ? std::ceil(v) : std::floor(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
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

// ---- unary functors: T operator()(T) (bool for LogicalNot and IsNan) ----

struct Neg {
  template <typename T> __device__ T operator()(T x) const { return wrapping_sub(T(0), x); }
};
struct Abs {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else if constexpr (kIsInt<T>) {
      return x < 0 ? wrapping_sub(T(0), x) : x;
    } else {
      return fabs(x);
    }
  }
};
struct Sign {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x > 0 ? 1 : 0;
    } else {
      return static_cast<T>((T(0) < x) - (x < T(0)));  // NaN gives 0, as torch
    }
  }
};
struct Square {
  template <typename T> __device__ T operator()(T x) const { return wrapping_mul(x, x); }
};
struct Relu {
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else {
      return x < T(0) ? T(0) : x;  // NaN stays NaN
    }
  }
};
// Bounds already converted to T on the host (bound_to).
template <typename T>
struct ClampTo {
  T lo, hi;
  __device__ T operator()(T x) const {
    const T y = x < lo ? lo : x;
    return y > hi ? hi : y;  // NaN x stays NaN
  }
};
struct PowScalar {
  double exponent;
  template <typename T>
  __device__ T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      return pow(x, static_cast<T>(exponent));
    } else {
      return int_pow(x, static_cast<int64_t>(exponent));
    }
  }
};
struct LogicalNot {
  template <typename T> __device__ bool operator()(T x) const { return x == T(0); }
};
struct IsNan {
  template <typename T> __device__ bool operator()(T x) const { return is_nan(x); }
};

// Floating-point only (raw::unary computes integer inputs in float32).
struct Exp {
  template <typename T> __device__ T operator()(T x) const { return exp(x); }
};
struct Log {
  template <typename T> __device__ T operator()(T x) const { return log(x); }
};
struct Log1p {
  template <typename T> __device__ T operator()(T x) const { return log1p(x); }
};
struct Expm1 {
  template <typename T> __device__ T operator()(T x) const { return expm1(x); }
};
struct Sqrt {
  template <typename T> __device__ T operator()(T x) const { return sqrt(x); }
};
struct Rsqrt {
  template <typename T> __device__ T operator()(T x) const { return T(1) / sqrt(x); }
};
struct Reciprocal {
  template <typename T> __device__ T operator()(T x) const { return T(1) / x; }
};
struct Sin {
  template <typename T> __device__ T operator()(T x) const { return sin(x); }
};
struct Cos {
  template <typename T> __device__ T operator()(T x) const { return cos(x); }
};
struct Erf {
  template <typename T> __device__ T operator()(T x) const { return erf(x); }
};
struct Sigmoid {
  template <typename T> __device__ T operator()(T x) const { return sigmoid_of(x); }
};
struct Tanh {
  template <typename T> __device__ T operator()(T x) const { return tanh(x); }
};
struct Silu {
  template <typename T> __device__ T operator()(T x) const { return x / (T(1) + exp(-x)); }
};
struct GeluErf {
  template <typename T> __device__ T operator()(T x) const { return x * normal_cdf(x); }
};
// x sigmoid(2u), u = beta (x + kappa x^3): the CPU's tail-accurate form.
struct GeluTanh {
  template <typename T>
  __device__ T operator()(T x) const {
    const T u = kGeluBeta<T> * (x + kGeluKappa<T> * x * x * x);
    return x / (T(1) + exp(T(-2) * u));
  }
};
struct LeakyRelu {
  double alpha;
  template <typename T>
  __device__ T operator()(T x) const {
    return x > T(0) ? x : x * static_cast<T>(alpha);
  }
};

// ---- binary functors ----

struct Add {
  template <typename T> __device__ T operator()(T a, T b) const { return wrapping_add(a, b); }
};
struct Sub {
  template <typename T> __device__ T operator()(T a, T b) const { return wrapping_sub(a, b); }
};
struct Mul {
  template <typename T> __device__ T operator()(T a, T b) const { return wrapping_mul(a, b); }
};
struct Div {
  template <typename T> __device__ T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <typename T>
  __device__ T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      return pow(a, b);
    } else if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else {
      return int_pow(a, static_cast<int64_t>(b));
    }
  }
};
struct Maximum {  // NaN in either input gives NaN
  template <typename T>
  __device__ T operator()(T a, T b) const { return (a > b || is_nan(a)) ? a : b; }
};
struct Minimum {
  template <typename T>
  __device__ T operator()(T a, T b) const { return (a < b || is_nan(a)) ? a : b; }
};
struct Eq {
  template <typename T> __device__ bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <typename T> __device__ bool operator()(T a, T b) const { return a != b; }
};
struct Lt {
  template <typename T> __device__ bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <typename T> __device__ bool operator()(T a, T b) const { return a <= b; }
};
struct Gt {
  template <typename T> __device__ bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <typename T> __device__ bool operator()(T a, T b) const { return a >= b; }
};
struct LogicalAnd {
  template <typename T>
  __device__ bool operator()(T a, T b) const { return a != T(0) && b != T(0); }
};
struct LogicalOr {
  template <typename T>
  __device__ bool operator()(T a, T b) const { return a != T(0) || b != T(0); }
};
struct LogicalXor {
  template <typename T>
  __device__ bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); }
};

// Fused backward helpers: a = grad_output, b = the saved input x or output y.
struct ReluBackward {
  template <typename T>
  __device__ T operator()(T dy, T x) const { return x <= T(0) ? T(0) : dy; }
};
struct SigmoidBackward {
  template <typename T>
  __device__ T operator()(T dy, T y) const { return dy * y * (T(1) - y); }
};
struct TanhBackward {
  template <typename T>
  __device__ T operator()(T dy, T y) const { return dy * (T(1) - y * y); }
};
struct SiluBackward {
  template <typename T>
  __device__ T operator()(T dy, T x) const {
    const T s = sigmoid_of(x);
    return dy * s * (T(1) + x * (T(1) - s));
  }
};
struct GeluErfBackward {
  template <typename T>
  __device__ T operator()(T dy, T x) const { return dy * (normal_cdf(x) + x * normal_pdf(x)); }
};
struct GeluTanhBackward {
  template <typename T>
  __device__ T operator()(T dy, T x) const {
    const T x2 = x * x;
    const T e = exp(T(-2) * kGeluBeta<T> * (x + kGeluKappa<T> * x2 * x));
    const T s = T(1) / (T(1) + e);
    const T du = kGeluBeta<T> * (T(1) + T(3) * kGeluKappa<T> * x2);
    return dy * (s + T(2) * x * s * (e * s) * du);
  }
};

// ---- fill, copy, where ----

template <typename T>
struct Constant {
  T value;
  __device__ T operator()() const { return value; }
};

template <typename To>
struct Cast {
  template <typename From> __device__ To operator()(From x) const { return static_cast<To>(x); }
};

struct Select {
  template <typename T> __device__ T operator()(bool c, T a, T b) const { return c ? a : b; }
};

// ---- dispatch: once on the op (the switches below), once on the dtype (here) ----

enum class Domain { AnyDType, Floating };

template <Domain D, typename Body>
void visit(DType dtype, const char* op, Body&& body) {
  if constexpr (D == Domain::Floating) {
    visit_floating(dtype, op, body);
  } else {
    visit_dtype(dtype, body);
  }
}

template <Domain D, typename F>
void unary_map(const Tensor& in, const Tensor& out, const char* op, const F& f) {
  visit<D>(in.dtype(), op, [&]<typename T>() {
    using Out = decltype(f(T{}));
    launch_map<Out, T>(op, out, f, {in});
  });
}

template <Domain D, typename F>
void binary_map(const Tensor& a, const Tensor& b, const Tensor& out, const char* op,
                const F& f) {
  visit<D>(a.dtype(), op, [&]<typename T>() {
    using Out = decltype(f(T{}, T{}));
    launch_map<Out, T, T>(op, out, f, {a, b});
  });
}

void clamp_map(const Tensor& in, const Tensor& out, const UnaryParams& params) {
  visit_dtype(in.dtype(), [&]<typename T>() {
    const ClampTo<T> f{bound_to<T>(params.lo, true), bound_to<T>(params.hi, false)};
    launch_map<T, T>("clamp", out, f, {in});
  });
}

}  // namespace

void fill_cuda(const Tensor& out, const Scalar& value) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    launch_map<T>("fill_", out, Constant<T>{value.to<T>()}, {});
  });
}

void copy_cuda(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), [&]<typename To>() {
    visit_dtype(src.dtype(), [&]<typename From>() {
      launch_map<To, From>("copy_", dst, Cast<To>{}, {src});
    });
  });
}

void transfer_cuda(const Tensor& dst, const Tensor& src) {
  const size_t nbytes = dst.nbytes();
  if (nbytes == 0) return;
  if (dst.is_cpu()) {
    const int device = src.device().index;
    DeviceGuard guard(device);
    cudaStream_t s = stream(device);
    check(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyDeviceToHost, s),
          "copy_ (device to host)");
    // The host reads dst as soon as this returns.
    check(cudaStreamSynchronize(s), "copy_ (device to host)");
    return;
  }
  const int device = dst.device().index;
  DeviceGuard guard(device);
  cudaStream_t s = stream(device);
  check(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, cudaMemcpyHostToDevice, s),
        "copy_ (host to device)");
  // NOTE: from pageable memory (every CPU tensor: the CPU allocator does not pin) the call
  // returns once the source is staged, so the caller may free it at once. Pinned memory
  // would be read later, asynchronously: then wait, or the caller could free it too soon.
  cudaPointerAttributes attributes{};
  check(cudaPointerGetAttributes(&attributes, src.raw_data()), "copy_ (host to device)");
  if (attributes.type == cudaMemoryTypeHost) {
    check(cudaStreamSynchronize(s), "copy_ (host to device)");
  }
}

void unary_cuda(UnaryOp op, const UnaryParams& params, const Tensor& in, const Tensor& out) {
  constexpr Domain kAny = Domain::AnyDType;
  constexpr Domain kFloat = Domain::Floating;
  switch (op) {
    case UnaryOp::Neg: return unary_map<kAny>(in, out, "neg", Neg{});
    case UnaryOp::Abs: return unary_map<kAny>(in, out, "abs", Abs{});
    case UnaryOp::Sign: return unary_map<kAny>(in, out, "sign", Sign{});
    case UnaryOp::Square: return unary_map<kAny>(in, out, "square", Square{});
    case UnaryOp::Relu: return unary_map<kAny>(in, out, "relu", Relu{});
    case UnaryOp::Clamp: return clamp_map(in, out, params);
    case UnaryOp::LogicalNot: return unary_map<kAny>(in, out, "logical_not", LogicalNot{});
    case UnaryOp::IsNan: return unary_map<kAny>(in, out, "isnan", IsNan{});
    case UnaryOp::PowScalar:
      // The exact forms of the common exponents, as the CPU kernel (and PyTorch) take.
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
  internal_error("cuda::unary: bad UnaryOp");
}

void binary_cuda(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
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
  internal_error("cuda::binary: bad BinaryOp");
}

void where_cuda(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    launch_map<T, bool, T, T>("where", out, Select{}, {cond, a, b});
  });
}

}  // namespace ignis::cuda

// Raw elementwise ops: argument checks, PyTorch type promotion and broadcasting, then one
// call of the device's unary / binary / where kernel. Not the kernels (tensor/cpu/) and not
// the copies (copy.cpp).
#include "tensor/elementwise.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "tensor/dispatch.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

const char* op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Abs: return "abs";
    case UnaryOp::Sign: return "sign";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Log1p: return "log1p";
    case UnaryOp::Expm1: return "expm1";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Rsqrt: return "rsqrt";
    case UnaryOp::Reciprocal: return "reciprocal";
    case UnaryOp::Square: return "square";
    case UnaryOp::Sin: return "sin";
    case UnaryOp::Cos: return "cos";
    case UnaryOp::Erf: return "erf";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Silu: return "silu";
    case UnaryOp::GeluErf: return "gelu";
    case UnaryOp::GeluTanh: return "gelu";
    case UnaryOp::LeakyRelu: return "leaky_relu";
    case UnaryOp::Clamp: return "clamp";
    case UnaryOp::PowScalar: return "pow";
    case UnaryOp::LogicalNot: return "logical_not";
    case UnaryOp::IsNan: return "isnan";
  }
  internal_error("op_name: bad UnaryOp");
}

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Ne: return "ne";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Le: return "le";
    case BinaryOp::Gt: return "gt";
    case BinaryOp::Ge: return "ge";
    case BinaryOp::LogicalAnd: return "logical_and";
    case BinaryOp::LogicalOr: return "logical_or";
    case BinaryOp::LogicalXor: return "logical_xor";
    case BinaryOp::ReluBackward: return "relu_backward";
    case BinaryOp::SigmoidBackward: return "sigmoid_backward";
    case BinaryOp::TanhBackward: return "tanh_backward";
    case BinaryOp::SiluBackward: return "silu_backward";
    case BinaryOp::GeluErfBackward: return "gelu_backward";
    case BinaryOp::GeluTanhBackward: return "gelu_backward";
  }
  internal_error("op_name: bad BinaryOp");
}

bool is_backward(BinaryOp op) { return op >= BinaryOp::ReluBackward; }

// Ops that only make sense on real numbers: integer and bool inputs are computed in float32.
bool is_floating_op(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Square:
    case UnaryOp::Relu:
    case UnaryOp::Clamp:
    case UnaryOp::PowScalar:  // decided by the exponent, see unary_dtypes
    case UnaryOp::LogicalNot:
    case UnaryOp::IsNan:
      return false;
    default:
      return true;
  }
}

bool is_integral_value(double v) {
  return std::isfinite(v) && v == std::trunc(v);
}

// The dtype the kernel computes in and the output dtype of unary(op, x).
struct UnaryDTypes {
  DType compute;
  DType out;
};

UnaryDTypes unary_dtypes(UnaryOp op, DType in, const UnaryParams& params) {
  if (op == UnaryOp::LogicalNot || op == UnaryOp::IsNan) return {in, kBool};
  if (is_floating_point(in)) return {in, in};
  if (op == UnaryOp::Neg && in == kBool) {
    throw DTypeError("neg: negation of a bool tensor is not supported, use logical_not");
  }
  // As torch.square(bool) and bool ** 2, which promote to int64.
  if (op == UnaryOp::Square && in == kBool) return {kInt64, kInt64};
  if (op == UnaryOp::PowScalar) {
    // An integer tensor raised to a non-negative integral power stays integral, as
    // torch.pow(int_tensor, 2); any other exponent computes in float32.
    constexpr double kMaxIntegerExponent = 4611686018427387904.0;  // 2^62: fits int64
    if (!is_integral_value(params.alpha) || params.alpha < 0 ||
        params.alpha > kMaxIntegerExponent) {
      return {kFloat32, kFloat32};
    }
    DType d = in == kBool ? kInt64 : in;
    return {d, d};
  }
  if (is_floating_op(op)) return {kFloat32, kFloat32};
  return {in, in};
}

// PyTorch's torch.can_cast: no floating -> integral, nothing but bool -> bool.
bool can_cast(DType from, DType to) {
  if (is_floating_point(from) && is_integral(to, false)) return false;
  if (from != kBool && to == kBool) return false;
  return true;
}

// Promotion state over several operands, as PyTorch's ResultTypeState: three priority
// classes (tensors with dims, 0-d tensors, wrapped numbers), each promoted within.
struct PromotionState {
  std::optional<DType> dim, zero_dim, wrapped;

  static void promote_into(std::optional<DType>& slot, DType d) {
    slot = slot ? promote_types(*slot, d) : d;
  }
  void add(const Tensor& t) {
    DType d = t.dtype();
    if (t.impl()->wrapped_number && t.dim() == 0) {
      // A C++ double is a float64 Scalar, but counts as the default dtype (float32).
      if (is_floating_point(d)) d = kFloat32;
      promote_into(wrapped, d);
    } else if (t.dim() == 0) {
      promote_into(zero_dim, d);
    } else {
      promote_into(dim, d);
    }
  }
  void add_number(const Scalar& s) {
    promote_into(wrapped, s.is_floating_point() ? kFloat32 : s.dtype());
  }
  // A higher class wins unless a lower one is of a higher category (bool < int < float).
  static std::optional<DType> combine(std::optional<DType> higher,
                                      std::optional<DType> lower) {
    if (!higher) return lower;
    if (!lower || is_floating_point(*higher)) return higher;
    if (*higher == kBool || is_floating_point(*lower)) return promote_types(*higher, *lower);
    return higher;
  }
  DType result() const {
    std::optional<DType> r = combine(dim, combine(zero_dim, wrapped));
    IGNIS_INTERNAL_ASSERT(r.has_value());
    return *r;
  }
};

void check_defined(const Tensor& t, const char* op, const char* what) {
  if (!t.defined()) throw ValueError(std::string(op) + ": " + what + " is an undefined tensor");
}

// `t` on `device`: a 0-d CPU tensor (a number) moves there, as in PyTorch; anything else
// on another device is an error.
Tensor on_device(const Tensor& t, Device device, const char* op, const Tensor& other) {
  if (t.device() == device) return t;
  if (t.dim() == 0 && t.is_cpu()) return raw::to(t, device);
  throw DeviceError(std::string(op) + ": expected all tensors on one device, got " +
                    t.device().str() + " and " + other.device().str());
}

// The device of the first operand that is not a 0-d CPU tensor (those follow the others).
Device common_device(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) {
    if (!(t->dim() == 0 && t->is_cpu())) return t->device();
  }
  return (*ts.begin())->device();
}

// In-place ops write every element once: a destination whose elements overlap (an
// expanded view) would make the result depend on the order of the writes.
void check_writable(const Tensor& t, const char* op) {
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) > 1 && t.stride(d) == 0) {
      throw ValueError(std::string(op) + ": cannot write in place to an expanded tensor " +
                       "of shape " + t.shape_str() + " (several elements share memory)");
    }
  }
}

bool same_view(const Tensor& a, const Tensor& b) {
  return a.storage() == b.storage() && a.storage_offset() == b.storage_offset() &&
         a.sizes() == b.sizes() && a.strides() == b.strides();
}

// The output dtype of `a op b` computed in `compute`.
DType binary_out_dtype(BinaryOp op, DType compute) {
  if (is_comparison(op)) return kBool;
  if (op == BinaryOp::Div && !is_floating_point(compute)) return kFloat32;
  return compute;
}

// The dtype the kernel computes `a op b` in; throws DTypeError for unsupported pairs.
DType binary_compute_dtype(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  DType compute = result_type(a, b);
  if (op == BinaryOp::Div && !is_floating_point(compute)) return kFloat32;
  if (compute == kBool && (op == BinaryOp::Sub || op == BinaryOp::Pow)) {
    throw DTypeError(std::string(name) + ": not supported for two bool tensors");
  }
  if (is_backward(op) && !is_floating_point(compute)) {
    throw DTypeError(std::string(name) + ": expected floating-point tensors, got " +
                     dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
  }
  return compute;
}

}  // namespace

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq && op <= BinaryOp::LogicalXor; }

DType result_type(const Tensor& a, const Tensor& b) {
  check_defined(a, "result_type", "a");
  check_defined(b, "result_type", "b");
  PromotionState state;
  state.add(a);
  state.add(b);
  return state.result();
}

Tensor wrap_scalar(const Scalar& value, Device device) {
  Tensor t = make_tensor({}, value.dtype(), device);
  raw::fill_(t, value);
  t.impl()->wrapped_number = true;
  return t;
}

namespace raw {

Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params) {
  const char* name = op_name(op);
  check_defined(x, name, "input");
  UnaryDTypes dt = unary_dtypes(op, x.dtype(), params);
  Tensor in = to(x, dt.compute);
  Tensor out = make_tensor(x.sizes(), dt.out, x.device());
  if (out.numel() > 0) get_kernel(&KernelTable::unary, x.device(), name)(op, params, in, out);
  return out;
}

void unary_(UnaryOp op, const Tensor& x, UnaryParams params) {
  std::string name = std::string(op_name(op)) + "_";
  check_defined(x, name.c_str(), "input");
  check_writable(x, name.c_str());
  UnaryDTypes dt = unary_dtypes(op, x.dtype(), params);
  if (!can_cast(dt.out, x.dtype())) {
    throw DTypeError(name + ": result type " + dtype_name(dt.out) +
                     " can't be cast to the desired output type " + dtype_name(x.dtype()));
  }
  if (x.numel() > 0) {
    if (dt.compute == x.dtype() && dt.out == x.dtype()) {
      get_kernel(&KernelTable::unary, x.device(), name.c_str())(op, params, x, x);
    } else {
      copy_(x, unary(op, x, params));
    }
  }
  x.bump_version();
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  check_defined(a, name, "a");
  check_defined(b, name, "b");
  Device device = common_device({&a, &b});
  DType compute = binary_compute_dtype(op, a, b, name);
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  Tensor a2 = expand(to(on_device(a, device, name, b), compute), shape);
  Tensor b2 = expand(to(on_device(b, device, name, a), compute), shape);
  Tensor out = make_tensor(shape, binary_out_dtype(op, compute), device);
  if (out.numel() > 0) get_kernel(&KernelTable::binary, device, name)(op, a2, b2, out);
  return out;
}

void binary_(BinaryOp op, const Tensor& self, const Tensor& other) {
  std::string name = std::string(op_name(op)) + "_";
  check_defined(self, name.c_str(), "self");
  check_defined(other, name.c_str(), "other");
  check_writable(self, name.c_str());
  DType compute = binary_compute_dtype(op, self, other, name.c_str());
  DType out_dtype = binary_out_dtype(op, compute);
  if (!can_cast(out_dtype, self.dtype())) {
    throw DTypeError(name + ": result type " + dtype_name(out_dtype) +
                     " can't be cast to the desired output type " + dtype_name(self.dtype()));
  }
  Shape shape = broadcast_shapes(self.sizes(), other.sizes(), name.c_str());
  if (shape != self.sizes()) {
    throw ShapeError(name + ": other of shape " + other.shape_str() +
                     " cannot be broadcast to self of shape " + self.shape_str());
  }
  if (self.numel() > 0) {
    if (compute == self.dtype() && out_dtype == self.dtype()) {
      Tensor b = expand(to(on_device(other, self.device(), name.c_str(), self), compute), shape);
      // A view of self's own memory at other positions would be read after being written.
      if (b.storage() == self.storage() && !same_view(b, self)) b = expand(clone(b), shape);
      get_kernel(&KernelTable::binary, self.device(), name.c_str())(op, self, b, self);
    } else {
      copy_(self, binary(op, self, other));
    }
  }
  self.bump_version();
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }

Tensor add(const Tensor& a, const Scalar& b) {
  check_defined(a, "add", "a");
  return binary(BinaryOp::Add, a, wrap_scalar(b, a.device()));
}

Tensor mul(const Tensor& a, const Scalar& b) {
  check_defined(a, "mul", "a");
  return binary(BinaryOp::Mul, a, wrap_scalar(b, a.device()));
}

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  check_defined(x, "clamp", "input");
  if (!min && !max) throw ValueError("clamp: at least one of min and max must be given");
  PromotionState state;
  state.add(x);
  if (min) state.add_number(*min);
  if (max) state.add_number(*max);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  UnaryParams params{.lo = min ? min->to<double>() : -kInf,
                     .hi = max ? max->to<double>() : kInf};
  return unary(UnaryOp::Clamp, to(x, state.result()), params);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where", "condition");
  check_defined(a, "where", "a");
  check_defined(b, "where", "b");
  if (cond.dtype() != kBool) {
    throw DTypeError(std::string("where: condition must be a bool tensor, got ") +
                     dtype_name(cond.dtype()));
  }
  Device device = common_device({&a, &b, &cond});
  DType dtype = result_type(a, b);
  Shape shape = broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"),
                                 b.sizes(), "where");
  Tensor c2 = expand(on_device(cond, device, "where", a), shape);
  Tensor a2 = expand(to(on_device(a, device, "where", b), dtype), shape);
  Tensor b2 = expand(to(on_device(b, device, "where", a), dtype), shape);
  Tensor out = make_tensor(shape, dtype, device);
  if (out.numel() > 0) get_kernel(&KernelTable::where, device, "where")(c2, a2, b2, out);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  check_defined(x, "masked_fill", "input");
  check_defined(mask, "masked_fill", "mask");
  if (mask.dtype() != kBool) {
    throw DTypeError(std::string("masked_fill: mask must be a bool tensor, got ") +
                     dtype_name(mask.dtype()));
  }
  Shape shape = broadcast_shapes(x.sizes(), mask.sizes(), "masked_fill");
  if (shape != x.sizes()) {
    throw ShapeError("masked_fill: mask of shape " + mask.shape_str() +
                     " cannot be broadcast to input of shape " + x.shape_str());
  }
  // The result keeps x's dtype: the value is converted to it, as torch.masked_fill does.
  Tensor fill = expand(to(wrap_scalar(value, x.device()), x.dtype()), shape);
  Tensor m = expand(on_device(mask, x.device(), "masked_fill", x), shape);
  Tensor out = make_tensor(shape, x.dtype(), x.device());
  if (out.numel() > 0) get_kernel(&KernelTable::where, x.device(), "masked_fill")(m, fill, x, out);
  return out;
}

}  // namespace raw
}  // namespace ignis

// Raw elementwise ops with NumPy/PyTorch broadcasting and type promotion, and copies.
// The op enums are what kernels switch on once per call (never per element).
#pragma once

#include <optional>

#include "tensor/tensor.h"

namespace ignis {

enum class UnaryOp {
  Neg, Abs, Sign, Exp, Log, Log1p, Expm1, Sqrt, Rsqrt, Reciprocal, Square,
  Sin, Cos, Erf,
  Relu, Sigmoid, Tanh, Silu,
  GeluErf,      // x * Phi(x)
  GeluTanh,     // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  LeakyRelu,    // x >= 0 ? x : alpha * x            (param: alpha)
  Clamp,        // min(max(x, lo), hi)               (params: lo, hi; +-inf when absent)
  PowScalar,    // x ^ alpha                         (param: alpha)
  LogicalNot,   // bool output
  IsNan,        // bool output
};

struct UnaryParams {
  double alpha = 0.0;
  double lo = 0.0;
  double hi = 0.0;
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,                 // bool output
  LogicalAnd, LogicalOr, LogicalXor,      // bool output
  // Fused backward helpers: out = f(a = grad_output, b = saved input or output).
  ReluBackward,      // b > 0 ? a : 0          (b = input)
  SigmoidBackward,   // a * b * (1 - b)        (b = output)
  TanhBackward,      // a * (1 - b^2)          (b = output)
  SiluBackward,      // a * s * (1 + x (1 - s)), s = sigmoid(x)     (b = input)
  GeluErfBackward,   // a * (Phi(x) + x phi(x))                     (b = input)
  GeluTanhBackward,  // a * d/dx of GeluTanh                        (b = input)
};

bool is_comparison(BinaryOp op);  // Eq..LogicalXor: output dtype bool

// The dtype of `a op b` under PyTorch's rules: tensors with dimensions outrank 0-d tensors,
// which outrank wrapped numbers, within each category (bool < integer < floating);
// a higher category always wins, then the default float32 for integer + float-number.
DType result_type(const Tensor& a, const Tensor& b);
// A 0-d tensor marked as a wrapped number (see TensorImpl::wrapped_number).
Tensor wrap_scalar(const Scalar& value, Device device = Device::cpu());

namespace raw {

// out = op(x); floating ops on integer input compute in float32 (as torch.exp(int) does).
Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params = {});
void unary_(UnaryOp op, const Tensor& x, UnaryParams params = {});  // in place
// out = op(a, b) broadcast; throws ShapeError naming the op and both shapes.
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// In place: self = op(self, other); `other` must broadcast to self's shape and its
// promoted dtype must be castable to self's (PyTorch's rule, else DTypeError).
void binary_(BinaryOp op, const Tensor& self, const Tensor& other);

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers -> float32
Tensor add(const Tensor& a, const Scalar& b);
Tensor mul(const Tensor& a, const Scalar& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max);
// cond ? a : b, broadcast over all three; cond must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);

// Copies and conversions.
void fill_(const Tensor& t, const Scalar& value);
void copy_(const Tensor& dst, const Tensor& src);   // broadcasts src; any dtype, any device
Tensor contiguous(const Tensor& t);                 // t itself if already contiguous
Tensor clone(const Tensor& t);                      // always a fresh contiguous copy
Tensor to(const Tensor& t, DType dtype);            // t itself if already that dtype
Tensor to(const Tensor& t, Device device);          // t itself if already there

}  // namespace raw
}  // namespace ignis

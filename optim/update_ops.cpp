// The optimizers' in-place update ops (see update_ops.h): raw ops only, any device.
#include "optim/update_ops.h"

#include <cmath>

#include "tensor/elementwise.h"

namespace ignis::optim::detail {

namespace {

Tensor number(double value, const Tensor& like) { return wrap_scalar(value, like.device()); }

}  // namespace

void mul_(const Tensor& x, double value) { raw::binary_(BinaryOp::Mul, x, number(value, x)); }

void add_(const Tensor& x, double value) { raw::binary_(BinaryOp::Add, x, number(value, x)); }

void add_scaled_(const Tensor& x, const Tensor& y, double alpha) {
  raw::binary_(BinaryOp::Add, x, raw::mul(y, alpha));
}

Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha) {
  return raw::add(x, raw::mul(y, alpha));
}

void lerp_(const Tensor& x, const Tensor& end, double weight) {
  const Tensor diff = raw::sub(end, x);  // end - x
  if (std::abs(weight) < 0.5) {
    mul_(diff, weight);
    raw::binary_(BinaryOp::Add, x, diff);
  } else {
    mul_(diff, 1.0 - weight);
    raw::copy_(x, raw::sub(end, diff));
  }
}

void addcmul_(const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  const Tensor term = raw::mul(a, value);
  raw::binary_(BinaryOp::Mul, term, b);
  raw::binary_(BinaryOp::Add, x, term);
}

void addcdiv_(const Tensor& x, const Tensor& a, const Tensor& b, double value) {
  const Tensor term = raw::div(a, b);
  mul_(term, value);
  raw::binary_(BinaryOp::Add, x, term);
}

}  // namespace ignis::optim::detail

// Gradient clipping (see clip_grad.h), with raw ops on the gradients' own devices.
#include "optim/clip_grad.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tensor/elementwise.h"
#include "tensor/reduce.h"

namespace ignis::optim {

namespace {

std::vector<Tensor> defined_grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (g.defined()) grads.push_back(g);
  }
  return grads;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  const std::vector<Tensor> grads = defined_grads(params);
  if (grads.empty()) return 0.0;
  const bool inf_norm = std::isinf(norm_type);
  double total = 0.0;
  for (const Tensor& g : grads) {
    const double norm = raw::norm(g, norm_type).item<double>();
    if (inf_norm) {
      total = std::isnan(total) || norm <= total ? total : norm;  // keeps a NaN, as torch
    } else {
      total += std::pow(norm, norm_type);
    }
  }
  if (!inf_norm) total = std::pow(total, 1.0 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total)) {
    std::ostringstream message;
    message << "clip_grad_norm_: the total norm of order " << norm_type
            << " of the gradients is non-finite (" << total
            << "), so it cannot be clipped; set error_if_nonfinite = false to scale the "
               "gradients by it anyway";
    throw ValueError(message.str());
  }
  const double clip_coef = std::min(max_norm / (total + 1e-6), 1.0);
  for (const Tensor& g : grads) {
    raw::binary_(BinaryOp::Mul, g, wrap_scalar(clip_coef, g.device()));
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  for (const Tensor& g : defined_grads(params)) {
    raw::unary_(UnaryOp::Clamp, g, {.lo = -clip_value, .hi = clip_value});
  }
}

}  // namespace ignis::optim

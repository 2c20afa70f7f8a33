// Raw fused cross-entropy (tensor/loss.h): argument and target checks, output allocation,
// and the calls into the dispatch table. Not the kernels: tensor/cpu/loss_kernels.cpp.
#include "tensor/loss.h"

#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis::raw {
namespace {

constexpr const char* kOp = "cross_entropy";

void require_same_device(const Tensor& logits, const Tensor& t, const char* name) {
  if (t.device() != logits.device()) {
    throw DeviceError(std::string(kOp) + ": " + name + " is on " + t.device().str() +
                      " but the logits are on " + logits.device().str());
  }
}

// The checks shared by forward and backward: logits (R, C) floating, target (R) int64,
// weight (C) of the logits' dtype or undefined, all on one device, eps in [0, 1].
void check_arguments(const Tensor& logits, const Tensor& target, const Tensor& weight,
                     const CrossEntropyParams& params) {
  if (logits.dim() != 2) {
    throw ShapeError(std::string(kOp) + ": expected logits (R, C), got " + logits.shape_str());
  }
  if (!logits.is_floating_point()) {
    throw DTypeError(std::string(kOp) + ": expected floating-point logits, got " +
                     dtype_name(logits.dtype()));
  }
  if (target.dim() != 1 || target.size(0) != logits.size(0)) {
    throw ShapeError(std::string(kOp) + ": expected a target of shape " +
                     shape_str({logits.size(0)}) + " for logits " + logits.shape_str() +
                     ", got " + target.shape_str());
  }
  if (target.dtype() != kInt64) {
    throw DTypeError(std::string(kOp) + ": expected an int64 target, got " +
                     dtype_name(target.dtype()));
  }
  require_same_device(logits, target, "the target");
  if (weight.defined()) {
    if (weight.dim() != 1 || weight.size(0) != logits.size(1)) {
      throw ShapeError(std::string(kOp) + ": expected a weight of shape " +
                       shape_str({logits.size(1)}) + ", got " + weight.shape_str());
    }
    if (weight.dtype() != logits.dtype()) {
      throw DTypeError(std::string(kOp) + ": weight is " + dtype_name(weight.dtype()) +
                       " but the logits are " + dtype_name(logits.dtype()));
    }
    require_same_device(logits, weight, "the weight");
  }
  const double eps = params.label_smoothing;
  if (!(eps >= 0.0 && eps <= 1.0)) {
    throw ValueError(std::string(kOp) + ": label_smoothing must be in [0, 1], got " +
                     std::to_string(eps));
  }
}

// Every target is in [0, classes) or ignore_index. Read on the host: a device target is
// copied back (a sync, as PyTorch's own check).
void check_targets(const Tensor& target, int64_t classes, int64_t ignore_index) {
  const Tensor host = contiguous(to(target, Device::cpu()));
  const int64_t* y = host.data_ptr<int64_t>();
  const int64_t rows = host.numel();  // out of line: once, not per row (4% of a (256, 41) loss)
  for (int64_t r = 0; r < rows; ++r) {
    if (y[r] != ignore_index && (y[r] < 0 || y[r] >= classes)) {
      throw IndexError(std::string(kOp) + ": target " + std::to_string(y[r]) +
                       " is out of bounds for " + std::to_string(classes) + " classes");
    }
  }
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? contiguous(t) : t; }

}  // namespace

CrossEntropyRows cross_entropy_forward(const Tensor& logits, const Tensor& target,
                                       const Tensor& weight, const CrossEntropyParams& params) {
  check_arguments(logits, target, weight, params);
  check_targets(target, logits.size(1), params.ignore_index);
  const int64_t R = logits.size(0);
  CrossEntropyRows rows{.loss = make_tensor({R}, logits.dtype(), logits.device()),
                        .lse = make_tensor({R}, logits.dtype(), logits.device()),
                        .row_weight = make_tensor({R}, logits.dtype(), logits.device())};
  if (R == 0) return rows;
  get_kernel(&KernelTable::cross_entropy_forward, logits.device(), kOp)(
      contiguous(logits), contiguous(target), contiguous_or_undefined(weight), params, rows.loss,
      rows.lse, rows.row_weight);
  return rows;
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                              const CrossEntropyParams& params, const Tensor& lse,
                              const Tensor& grad) {
  check_arguments(logits, target, weight, params);
  const Shape rows{logits.size(0)};
  for (const auto& [t, name] : {std::pair{&lse, "lse"}, std::pair{&grad, "grad"}}) {
    if (t->sizes() != rows || t->dtype() != logits.dtype()) {
      throw ShapeError(std::string(kOp) + ": expected " + name + " of shape " +
                       shape_str(rows) + " and dtype " + dtype_name(logits.dtype()) +
                       ", got " + dtype_name(t->dtype()) + " " + t->shape_str());
    }
    require_same_device(logits, *t, name);
  }
  Tensor dlogits = make_tensor(logits.sizes(), logits.dtype(), logits.device());
  if (dlogits.numel() == 0) return dlogits;
  get_kernel(&KernelTable::cross_entropy_backward, logits.device(), kOp)(
      contiguous(logits), contiguous(target), contiguous_or_undefined(weight), params,
      contiguous(lse), grad, dlogits);
  return dlogits;
}

}  // namespace ignis::raw

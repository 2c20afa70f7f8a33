// Raw fused softmax + cross-entropy over rows of logits with class-index targets, forward and
// backward (the kernels behind nn::functional::cross_entropy). Not differentiable, and not the
// probability-target form: nn/loss_functional.cpp composes that one from other ops.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace ignis {

// The options of the fused op. label_smoothing eps in [0, 1]; a row whose target equals
// ignore_index contributes nothing (loss 0, weight 0, gradient 0).
struct CrossEntropyParams {
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;
};

}  // namespace ignis

namespace ignis::raw {

// Glossary: R rows, C classes; x a row of logits (C), y its target, w the class weights
// (all 1 when undefined), eps the label smoothing, lse = log sum_c exp(x_c).
struct CrossEntropyRows {
  Tensor loss;        // (R) l = (1 - eps) w_y (lse - x_y) + eps / C sum_c w_c (lse - x_c)
  Tensor lse;         // (R) logsumexp of each row, what the backward needs
  Tensor row_weight;  // (R) w_y; the Mean reduction divides sum(loss) by sum(row_weight)
};

// logits (R, C) floating, target (R) int64, weight (C) of logits' dtype or undefined ->
// per-row loss, lse and w_y as above; ignored rows hold 0 in all three. One pass per row
// (max, sum of exps, the picked logit), deterministic for any thread count.
// Throws ShapeError for other shapes, DTypeError for other dtypes, DeviceError when the
// tensors are on different devices, ValueError for eps outside [0, 1], and IndexError
// "cross_entropy: target 7 is out of bounds for 5 classes" for a target outside [0, C) that
// is not ignore_index (checked on the host: a device target is copied back for it).
CrossEntropyRows cross_entropy_forward(const Tensor& logits, const Tensor& target,
                                       const Tensor& weight, const CrossEntropyParams& params);

// The gradient of sum_r grad_r l_r with respect to the logits, (R, C):
//   dx_c = (exp(x_c - lse) S - a_c) grad_r,  a_c = eps / C w_c + [c == y] (1 - eps) w_y,
//   S = sum_c a_c = (1 - eps) w_y + eps / C sum_c w_c;  0 for an ignored row.
// logits, target, weight and params as given to cross_entropy_forward, lse (R) its result,
// grad (R) of logits' dtype (any strides: an expanded scalar for a reduced loss).
// Throws as cross_entropy_forward for shapes, dtypes and devices; targets are not checked
// again (the forward did), and a kernel never reads or writes outside a row for a bad one.
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& weight,
                              const CrossEntropyParams& params, const Tensor& lse,
                              const Tensor& grad);

}  // namespace ignis::raw

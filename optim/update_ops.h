// The in-place building blocks of the optimizers' update rules, written with raw ops so they
// run on every device and record nothing. Internal to optim/; not part of the user API.
// Each mirrors the PyTorch op of the same name, rounding where PyTorch rounds: the scalar is
// cast to the tensor's dtype, then each product and sum is rounded once.
#pragma once

#include "tensor/tensor.h"

namespace ignis::optim::detail {

void mul_(const Tensor& x, double value);                     // x = x * value
void add_(const Tensor& x, double value);                     // x = x + value
// x = x + alpha * y
void add_scaled_(const Tensor& x, const Tensor& y, double alpha);
Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha);  // x + alpha * y, new
// x = lerp(x, end, weight): x + weight * (end - x) for |weight| < 0.5, else
// end - (end - x) * (1 - weight) (PyTorch's form, exact at weight 1).
void lerp_(const Tensor& x, const Tensor& end, double weight);
void addcmul_(const Tensor& x, const Tensor& a, const Tensor& b, double value);  // x += value*a*b
void addcdiv_(const Tensor& x, const Tensor& a, const Tensor& b, double value);  // x += value*(a/b)

}  // namespace ignis::optim::detail

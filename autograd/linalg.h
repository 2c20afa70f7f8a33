// Differentiable matrix products.
#pragma once

#include "tensor/tensor.h"

namespace ignis {

Tensor matmul(const Tensor& a, const Tensor& b);  // PyTorch semantics, see tensor/linalg.h
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta = 1.0,
             double alpha = 1.0);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

}  // namespace ignis

// Differentiable matrix products. Shapes and ShapeErrors are the raw ops' (tensor/linalg.h):
// "matmul: inner dimensions differ: a is (8, 768), b is (512, 768)". Backward: da = dy @ b^T,
// db = a^T @ dy, broadcast batch dims summed back.
#pragma once

#include "tensor/linalg.h"
#include "tensor/tensor.h"

namespace ignis {

Tensor matmul(const Tensor& a, const Tensor& b);  // PyTorch semantics, see tensor/linalg.h
Tensor mm(const Tensor& a, const Tensor& b);   // (m, k) @ (k, n) -> (m, n)
Tensor bmm(const Tensor& a, const Tensor& b);  // (B, m, k) @ (B, k, n) -> (B, m, n)
// beta * bias + alpha * (a @ b); bias broadcasts to (m, n).
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta = 1.0,
             double alpha = 1.0);
// activation(x @ weight^T + bias): x (*, in), weight (out, in), bias (out) or undefined ->
// (*, out). An activation other than None is fused into the GEMM on the CPU (raw::linear):
// linear(x, w, b, Activation::Relu) equals relu(linear(x, w, b)) bit for bit, without the
// second pass over the output or the pre-activation tensor. Backward: dz = dy * act'(z) from
// the saved output (relu: y > 0; tanh: 1 - y^2; sigmoid: y (1 - y)), then the linear backward
// with dz; recorded as "linear_relu", "linear_tanh", "linear_sigmoid" ("linear" for None).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              Activation activation = Activation::None);

}  // namespace ignis

// Raw matrix products: matmul with PyTorch's semantics and addmm/linear, over the packed
// GEMM of tensor/cpu/gemm.h (CPU) or cuBLAS (CUDA).
#pragma once

#include "tensor/tensor.h"

namespace ignis {

// An activation fused into a matrix product's output (linear's epilogue). Only those whose
// derivative follows from their output: the backward needs no pre-activation tensor.
enum class Activation { None, Relu, Tanh, Sigmoid };
const char* activation_name(Activation activation);  // "none", "relu", "tanh", "sigmoid"
enum class UnaryOp;  // tensor/elementwise.h
// The elementwise op of an activation (UnaryOp::Relu, ...); internal error for None.
UnaryOp activation_op(Activation activation);

// C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for b in [0, batch): row-major, each
// operand with its own leading dimension and batch stride (0 broadcasts one matrix).
// op(X) is X^T when trans_X. The form every device's gemm kernel takes.
// epilogue: C[b] = act(alpha * ... + beta * C[b]), applied by the CPU kernel to each piece
// of C as it is finished. NOTE: other devices' kernels ignore it; raw::linear applies the
// activation there as a separate pass.
struct GemmArgs {
  DType dtype;  // float32 or float64
  bool trans_a, trans_b;
  int64_t m, n, k;
  double alpha, beta;
  const void* a; int64_t lda; int64_t stride_a;
  const void* b; int64_t ldb; int64_t stride_b;
  void* c; int64_t ldc; int64_t stride_c;
  int64_t batch = 1;
  Activation epilogue = Activation::None;
};

namespace raw {

// 1-D . 1-D -> 0-d; 2-D @ 2-D; 1-D operands get a dim prepended/appended and removed after;
// N-D batched with broadcast batch dims. Throws ShapeError:
// "matmul: inner dimensions differ: a is (8, 768), b is (512, 768)".
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);       // 2-D only
Tensor bmm(const Tensor& a, const Tensor& b);      // 3-D only, equal batch
// beta * bias + alpha * (a @ b); bias broadcasts to (n, m)... (a: (n, k), b: (k, m)).
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta = 1.0,
             double alpha = 1.0);
// activation(x @ weight^T + bias), x (*, in), weight (out, in), bias (out) or undefined ->
// (*, out). On the CPU the activation is the GEMM's epilogue (no second pass over the
// output; the values equal those of raw::unary on the unfused result, bit for bit), on other
// devices a separate in-place pass. Throws ShapeError naming x, weight and bias, DTypeError,
// DeviceError.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              Activation activation = Activation::None);

// In place: out = alpha * (a @ b) + beta * out, a (batch_a..., m, k), b (batch_b..., k, n),
// out (batch..., m, n) with batch_a and batch_b broadcasting to batch (a stride-0 batch dim
// reads one matrix for all). Transposed views of a and b are read in place; out's matrices
// must be row-major with leading dimension n (any batch strides: a narrow of a contiguous
// tensor works). beta == 0 ignores out's old values. The raw form of the gemm slot, for ops
// that accumulate (conv2d's weight gradient) or initialise out first (a bias).
// Throws DTypeError / DeviceError as matmul, ShapeError naming the three shapes when they
// do not fit or out's matrices are not row-major.
void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha = 1.0,
                 double beta = 0.0);

}  // namespace raw
}  // namespace ignis

// CPU-vs-CUDA parity of the differentiable ops the kernel-slot tests reach only through their
// parts: std, max/min over all elements and along a dim, mm and bmm, linear with a fused
// activation, cat and stack, the Tensor methods, and the in-place ops with their rebased
// history. Forward and the gradient of every floating input, float32 and float64. Skipped
// without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "autograd/indexing.h"
#include "autograd/linalg.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "support/parity.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using test::accumulation_tolerance;
using test::elementwise_tolerance;
using test::expect_parity;
using test::normal;

class CudaCompositeOps : public test::ParityTest {};

const std::vector<DType> kFloatTypes = {kFloat32, kFloat64};

// (6, 50, 7): reductions over 7, 50, 300 and all 2100 values.
TEST_F(CudaCompositeOps, StdForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("std ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor& x = in[0];
                    return std::vector<Tensor>{ignis::std(x), ignis::std(x, {0}, 0),
                                               ignis::std(x, {0, 1}, 1, true),
                                               ignis::std(x, {-1})};
                  },
                  {normal({6, 50, 7}, dtype, 1)}, device(), elementwise_tolerance(dtype));
  }
}

// max(x) and min(x) over all elements (0-d) and along a dim (values and int64 indices), and
// the method forms: the gradient goes to the extreme element (no ties in normal draws).
TEST_F(CudaCompositeOps, MaxMinAllAndAlongADim) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("max/min ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor& x = in[0];
                    const auto [max1, argmax1] = max(x, 1);
                    const auto [max0, argmax0] = max(x, 0, true);
                    const auto [min_last, argmin_last] = min(x, -1);
                    return std::vector<Tensor>{max(x),  min(x),  max1,       argmax1,
                                               max0,    argmax0, min_last,   argmin_last,
                                               x.max(), x.min()};
                  },
                  {normal({9, 300}, dtype, 2)}, device(), elementwise_tolerance(dtype));
  }
}

// mm on contiguous and transposed operands, bmm, and the matmul method; inner dimension 64.
TEST_F(CudaCompositeOps, MmAndBmmForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("mm/bmm ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &a = in[0], &b = in[1], &at = in[2], &ba = in[3], &bb = in[4];
                    return std::vector<Tensor>{mm(a, b), mm(at.t(), b), bmm(ba, bb),
                                               a.matmul(b)};
                  },
                  {normal({33, 64}, dtype, 3), normal({64, 17}, dtype, 4),
                   normal({64, 33}, dtype, 5), normal({4, 9, 64}, dtype, 6),
                   normal({4, 64, 11}, dtype, 7)},
                  device(), accumulation_tolerance(dtype));
  }
}

// linear with a fused activation (the CPU applies it in the GEMM's epilogue, CUDA as a pass
// after cuBLAS): ReLU, tanh and sigmoid, with and without bias, a 3-d input.
TEST_F(CudaCompositeOps, LinearWithActivationForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("linear+activation ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &x = in[0], &w = in[1], &b = in[2], &x3 = in[3];
                    return std::vector<Tensor>{linear(x, w, b, Activation::Relu),
                                               linear(x, w, {}, Activation::Tanh),
                                               linear(x3, w, b, Activation::Sigmoid)};
                  },
                  {normal({33, 64}, dtype, 8), normal({17, 64}, dtype, 9),
                   normal({17}, dtype, 10), normal({2, 5, 64}, dtype, 11)},
                  device(), accumulation_tolerance(dtype));
  }
}

// Copies both ways (forward: copy into slices; backward: narrow / select of the gradient),
// so exact; an input used twice gets the sum of its two slices.
TEST_F(CudaCompositeOps, CatAndStackAreExact) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("cat/stack ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &a = in[0], &b = in[1], &c = in[2], &empty = in[3];
                    return std::vector<Tensor>{
                        cat({a, b}, 0),          cat({a, c, a}, 1),      cat({a, empty, b}, 0),
                        cat({b, b}, -1),         stack({a, b}, 0),       stack({a, b, a}, 2),
                        cat({a.t(), c.t()}, 0)};
                  },
                  {normal({3, 4}, dtype, 8), normal({3, 4}, dtype, 9), normal({3, 6}, dtype, 10),
                   normal({0, 4}, dtype, 11)},
                  device(), {});
  }
}

// The Tensor methods of tensor.h's "differentiable math": each is its free function, so the
// same kernels; log, sqrt and pow(-1.5) get positive inputs.
TEST_F(CudaCompositeOps, TensorMethodsForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("methods ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &x = in[0], &positive = in[1], &w = in[2];
                    return std::vector<Tensor>{
                        x.neg(),          x.abs(),         x.exp(),
                        positive.log(),   positive.sqrt(), positive.pow(-1.5),
                        x.pow(3),         x.relu(),        x.sigmoid(),
                        x.tanh(),         x.sum(),         x.sum({1}, true),
                        x.mean(),         x.mean({0}),     x.max(),
                        x.min(),          x.matmul(w),     x.softmax(1),
                        x.log_softmax(0), x.argmax(1),     x.argmin()};
                  },
                  {normal({5, 7}, dtype, 12), normal({5, 7}, dtype, 13).abs() + 0.5,
                   normal({7, 3}, dtype, 14)},
                  device(), elementwise_tolerance(dtype));
  }
}

// Each in-place op on a fresh copy (a leaf may not be written in place): the forward writes
// through the binary / unary kernels with out aliasing the input, and the backward follows
// the rebased history to both operands.
TEST_F(CudaCompositeOps, InPlaceOpsForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("in place ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &a = in[0], &b = in[1], &c = in[2];
                    return std::vector<Tensor>{a.clone().add_(b, 0.5),
                                               a.clone().add_(1.5),
                                               a.clone().sub_(b),
                                               a.clone().sub_(b, 2),
                                               a.clone().mul_(b),
                                               a.clone().mul_(-3),
                                               a.clone().div_(c),
                                               a.clone().div_(4),
                                               a.clone().clamp_(-0.5, 0.7),
                                               a.clone().clamp_(std::nullopt, 0.2),
                                               a.clone().mul_(b).sub_(c, 0.5).clamp_(-1, 1)};
                  },
                  {normal({6, 9}, dtype, 15), normal({6, 9}, dtype, 16),
                   normal({9}, dtype, 17).abs() + 0.5},
                  device(), elementwise_tolerance(dtype));
  }
}

}  // namespace
}  // namespace ignis

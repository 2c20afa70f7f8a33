// CPU-vs-CUDA parity of the gemm slot (cuBLAS): matmul in every form (1-d, 2-d, batched,
// broadcast batch, transposed and strided operands, empty sizes), addmm and linear, forward
// and backward. Float32 within cuBLAS's different summation order; TF32 stays off (default).
// Skipped without a CUDA device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "autograd/linalg.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/backend.h"
#include "tensor/factory.h"
#include "tensor/linalg.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using test::Tolerance;
using test::normal;
using test::tensors_close;

class CudaLinalg : public test::CudaTest {};


// |error| of a k-term dot product in float32 grows like sqrt(k) eps |terms|; these bounds
// hold for unit normal inputs with k up to a few hundred.
Tolerance tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{1e-4, 1e-4} : Tolerance{1e-12, 1e-12};
}

::testing::AssertionResult close(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                                 Tolerance tol) {
  if (!gpu.is_cuda()) return ::testing::AssertionFailure() << what << ": result not on CUDA";
  return tensors_close(what, gpu.cpu(), cpu, tol);
}

const std::vector<std::pair<Shape, Shape>> kMatmulShapes = {
    {{4}, {4}},           {{3, 4}, {4, 5}},         {{4}, {4, 5}},
    {{3, 4}, {4}},        {{2, 3, 4}, {4, 5}},      {{3, 4}, {2, 4, 5}},
    {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{64, 300}, {300, 129}},
    {{5, 33, 257}, {5, 257, 17}}, {{0, 4}, {4, 5}},  {{3, 0}, {0, 5}},
    {{1, 1}, {1, 1}}};

TEST_F(CudaLinalg, MatmulShapes) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const auto& [sa, sb] : kMatmulShapes) {
      const Tensor a = normal(sa, dtype, 1), b = normal(sb, dtype, 2);
      EXPECT_TRUE(close("matmul " + shape_str(sa) + " @ " + shape_str(sb) + " " +
                            dtype_name(dtype),
                        raw::matmul(a.cuda(), b.cuda()), raw::matmul(a, b), tolerance(dtype)));
    }
  }
}

// Transposed operands are read in place (the trans flags), others through a copy; a
// sliced matrix keeps its leading dimension.
TEST_F(CudaLinalg, TransposedAndStridedOperands) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor a = normal({40, 30}, dtype, 3), b = normal({50, 40}, dtype, 4);
    const Tensor ag = a.cuda(), bg = b.cuda();
    const Tolerance tol = tolerance(dtype);
    EXPECT_TRUE(close("a^T @ b^T", raw::matmul(raw::transpose(ag, 0, 1), raw::transpose(bg, 0, 1)),
                      raw::matmul(raw::transpose(a, 0, 1), raw::transpose(b, 0, 1)), tol));
    EXPECT_TRUE(close("b @ a", raw::matmul(bg, ag), raw::matmul(b, a), tol));
    EXPECT_TRUE(close("a[:, 5:25]^T @ a[:, :20]",
                      raw::matmul(raw::transpose(raw::narrow(ag, 1, 5, 20), 0, 1),
                                  raw::narrow(ag, 1, 0, 20)),
                      raw::matmul(raw::transpose(raw::narrow(a, 1, 5, 20), 0, 1),
                                  raw::narrow(a, 1, 0, 20)),
                      tol));
    EXPECT_TRUE(close("every other column",
                      raw::matmul(raw::slice(bg, 1, 0, 40, 2), raw::slice(ag, 0, 0, 40, 2)),
                      raw::matmul(raw::slice(b, 1, 0, 40, 2), raw::slice(a, 0, 0, 40, 2)), tol));
    const Tensor batch = normal({3, 30, 40}, dtype, 5);
    EXPECT_TRUE(close("batched, transposed",
                      raw::matmul(raw::transpose(batch.cuda(), 1, 2), raw::transpose(ag, 0, 1)),
                      raw::matmul(raw::transpose(batch, 1, 2), raw::transpose(a, 0, 1)), tol));
  }
}

TEST_F(CudaLinalg, AddmmAndLinear) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tolerance tol = tolerance(dtype);
    const Tensor bias = normal({7, 9}, dtype, 6), a = normal({7, 20}, dtype, 7),
                 b = normal({20, 9}, dtype, 8);
    EXPECT_TRUE(close("addmm", raw::addmm(bias.cuda(), a.cuda(), b.cuda(), 0.5, 2.0),
                      raw::addmm(bias, a, b, 0.5, 2.0), tol));
    EXPECT_TRUE(close("addmm, beta 0", raw::addmm(bias.cuda(), a.cuda(), b.cuda(), 0.0, 1.0),
                      raw::addmm(bias, a, b, 0.0, 1.0), tol));
    const Tensor x = normal({4, 6, 20}, dtype, 9), w = normal({11, 20}, dtype, 10),
                 wb = normal({11}, dtype, 11);
    EXPECT_TRUE(close("linear", raw::linear(x.cuda(), w.cuda(), wb.cuda()),
                      raw::linear(x, w, wb), tol));
    EXPECT_TRUE(close("linear, no bias", raw::linear(x.cuda(), w.cuda()), raw::linear(x, w),
                      tol));
  }
}

// k = 0 or alpha = 0: no product, only beta * bias (NaN in the operands does not reach it).
TEST_F(CudaLinalg, EmptyInnerDimensionOrZeroAlphaOnlyScales) {
  const Tensor a = zeros({3, 0}), b = zeros({0, 5});
  const Tensor out = raw::matmul(a.cuda(), b.cuda());
  EXPECT_TRUE(close("(3, 0) @ (0, 5)", out, zeros({3, 5}), {}));
  const Tensor bias = normal({3, 5}, kFloat32, 12);
  EXPECT_TRUE(close("addmm with k = 0", raw::addmm(bias.cuda(), a.cuda(), b.cuda(), 2.0),
                    raw::addmm(bias, a, b, 2.0), {}));
  const Tensor nan_a = full({3, 4}, std::nan(""));
  const Tensor b4 = normal({4, 5}, kFloat32, 18);
  EXPECT_TRUE(close("addmm with alpha = 0",
                    raw::addmm(bias.cuda(), nan_a.cuda(), b4.cuda(), 0.5, 0.0),
                    raw::addmm(bias, nan_a, b4, 0.5, 0.0), {}));
}

TEST_F(CudaLinalg, DeviceMismatchIsAnError) {
  const Tensor a = normal({2, 3}, kFloat32, 13);
  EXPECT_THAT([&] { raw::matmul(a.cuda(), a.t()); },
              ::testing::ThrowsMessage<DeviceError>(::testing::HasSubstr("cuda:0")));
}

TEST_F(CudaLinalg, Backward) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor a0 = normal({2, 5, 30}, dtype, 14), b0 = normal({30, 7}, dtype, 15),
                 w0 = normal({12, 7}, dtype, 16), bias0 = normal({12}, dtype, 17);
    auto grads = [](const Tensor& a_in, const Tensor& b_in, const Tensor& w_in,
                    const Tensor& bias_in) {
      const Tensor a = a_in.detach().requires_grad_(), b = b_in.detach().requires_grad_(),
                   w = w_in.detach().requires_grad_(), bias = bias_in.detach().requires_grad_();
      const Tensor h = matmul(a, b);                   // (2, 5, 7)
      const Tensor y = linear(h, w, bias);             // (2, 5, 12)
      sum(mul(y, y)).backward();
      return std::vector<Tensor>{a.grad(), b.grad(), w.grad(), bias.grad()};
    };
    const std::vector<Tensor> want = grads(a0, b0, w0, bias0);
    const std::vector<Tensor> got = grads(a0.cuda(), b0.cuda(), w0.cuda(), bias0.cuda());
    const char* names[] = {"da", "db", "dw", "dbias"};
    // The squared loss doubles magnitudes; relative tolerance scales accordingly.
    const Tolerance tol = dtype == kFloat32 ? Tolerance{1e-3, 1e-2} : Tolerance{1e-10, 1e-10};
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_TRUE(close(std::string(names[i]) + " " + dtype_name(dtype), got[i], want[i], tol));
    }
  }
}

}  // namespace
}  // namespace ignis

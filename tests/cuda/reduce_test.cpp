// CPU-vs-CUDA parity of the reduction slots (reduce, reduce_with_index, reduce_strided) and
// of softmax / log_softmax, forward and backward. The CUDA kernels follow the CPU's summation
// order, so sums, maxima and arg-maxima agree bit for bit; softmax and the composed
// reductions (exp, log, sqrt inside) within a few ulps.
// Skipped without a CUDA device (except the check that the slots are registered).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/indexing.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/backend.h"
#include "tensor/dispatch.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/reduce.h"

namespace ignis {
namespace {

using test::Tolerance;
using test::tensors_close;

class CudaReduce : public test::CudaTest {};

// Runs without a GPU: a CUDA build registers the kernels of cuda/reduce.cu, softmax.cu,
// linalg.cu, index.cu and conv.cu in their slots.
TEST(CudaKernelTable, ReductionIndexGemmAndConvSlotsAreFilled) {
  if (!cuda::is_compiled()) GTEST_SKIP() << "built without the CUDA backend";
  const KernelTable& t = kernel_table(DeviceType::CUDA);
  EXPECT_NE(t.reduce, nullptr);
  EXPECT_NE(t.reduce_with_index, nullptr);
  EXPECT_NE(t.reduce_strided, nullptr);
  EXPECT_NE(t.softmax, nullptr);
  EXPECT_NE(t.gemm, nullptr);
  EXPECT_NE(t.index_select, nullptr);
  EXPECT_NE(t.gather, nullptr);
  EXPECT_NE(t.scatter_add, nullptr);
  EXPECT_NE(t.unfold, nullptr);
  EXPECT_NE(t.fold, nullptr);
}

// The same values on both devices: drawn on the CPU, copied to the GPU.
struct Pair {
  Tensor cpu, gpu;
};

Pair normal_pair(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  const Tensor x = randn(shape, {.dtype = kFloat64}, &gen).to(dtype);
  return {x, x.cuda()};
}

// Small integers (0 .. high-1): many ties for the arg reductions, exact sums for any dtype.
Pair integer_pair(const Shape& shape, DType dtype, int64_t high, uint64_t seed) {
  Generator gen(seed);
  const Tensor x = randint(0, high, shape, {.dtype = kInt64}, &gen).to(dtype);
  return {x, x.cuda()};
}

::testing::AssertionResult close(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                                 Tolerance tol = {}) {
  if (!gpu.is_cuda()) return ::testing::AssertionFailure() << what << ": result not on CUDA";
  return tensors_close(what, gpu.cpu(), cpu, tol);
}

std::string label(const char* op, const Shape& shape, DType dtype) {
  return std::string(op) + " of " + shape_str(shape) + " " + dtype_name(dtype);
}

// Row lengths around the kernels' block of 4096 and far beyond it (several partials).
const std::vector<Shape> kRowShapes = {{3, 1}, {5, 31}, {4, 33}, {7, 4096}, {3, 4097},
                                       {2, 12289}, {1, 70001}, {40, 300}};

TEST_F(CudaReduce, SumMaxMinOverLastDimMatchBitForBit) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Shape& shape : kRowShapes) {
      const auto [x, xg] = normal_pair(shape, dtype, 1);
      EXPECT_TRUE(close(label("sum", shape, dtype), raw::sum(xg, {1}), raw::sum(x, {1})));
      EXPECT_TRUE(close(label("amax", shape, dtype), raw::amax(xg, {1}), raw::amax(x, {1})));
      EXPECT_TRUE(close(label("amin", shape, dtype), raw::amin(xg, {1}), raw::amin(x, {1})));
    }
  }
}

TEST_F(CudaReduce, ProdOverLastDim) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Shape& shape : kRowShapes) {
      // Factors near 1, so long products stay finite; made on the CPU, copied over.
      const Tensor f = raw::add(raw::mul(normal_pair(shape, dtype, 2).cpu, 0.001), 1.0);
      const Tensor fg = f.cuda();
      EXPECT_TRUE(close(label("prod", shape, dtype), raw::prod(fg, {1}), raw::prod(f, {1})));
    }
  }
}

TEST_F(CudaReduce, IntegerAndBoolReductions) {
  for (const DType dtype : {kUInt8, kInt32, kInt64, kBool}) {
    for (const Shape& shape : {Shape{6, 100}, Shape{3, 9000}}) {
      const auto [x, xg] = integer_pair(shape, dtype, dtype == kBool ? 2 : 100, 3);
      EXPECT_TRUE(close(label("sum", shape, dtype), raw::sum(xg, {1}), raw::sum(x, {1})));
      EXPECT_TRUE(close(label("amax", shape, dtype), raw::amax(xg, {1}), raw::amax(x, {1})));
      EXPECT_TRUE(close(label("amin", shape, dtype), raw::amin(xg, {1}), raw::amin(x, {1})));
      EXPECT_TRUE(close(label("argmax", shape, dtype), raw::argmax(xg, 1), raw::argmax(x, 1)));
    }
  }
  // Products of 70 factors below 1000 overflow int64 and wrap around as on the CPU.
  const auto [x, xg] = integer_pair({2, 70}, kInt64, 1000, 4);
  EXPECT_TRUE(close("wrapping prod", raw::prod(xg, {1}), raw::prod(x, {1})));
}

TEST_F(CudaReduce, FullReductionOfALargeTensor) {
  const Shape shape{(int64_t{1} << 20) + 3};
  for (const DType dtype : {kFloat32, kFloat64}) {
    const auto [x, xg] = normal_pair(shape, dtype, 5);
    EXPECT_TRUE(close(label("sum", shape, dtype), raw::sum(xg), raw::sum(x)));
    EXPECT_TRUE(close(label("mean", shape, dtype), raw::mean(xg), raw::mean(x)));
    EXPECT_TRUE(close(label("amax", shape, dtype), raw::amax(xg), raw::amax(x)));
    EXPECT_TRUE(close(label("argmin", shape, dtype), raw::argmin(xg), raw::argmin(x)));
  }
}

TEST_F(CudaReduce, MiddleAndLeadingDimsTakeTheStridedKernel) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4, 5000, 3}, {1}}, {{2, 7, 33}, {1}}, {{9000, 5}, {0}},
      {{3, 4, 5, 6}, {0, 2}}, {{2, 4097, 40}, {1}}, {{1, 1, 300}, {1}}};
  for (const DType dtype : {kFloat32, kFloat64, kInt32}) {
    for (const auto& [shape, dims] : cases) {
      const auto [x, xg] = dtype == kInt32 ? integer_pair(shape, dtype, 50, 6)
                                           : normal_pair(shape, dtype, 6);
      const std::string at = " over " + shape_str(dims);
      EXPECT_TRUE(close(label("sum", shape, dtype) + at, raw::sum(xg, dims), raw::sum(x, dims)));
      EXPECT_TRUE(
          close(label("amax", shape, dtype) + at, raw::amax(xg, dims), raw::amax(x, dims)));
      EXPECT_TRUE(
          close(label("amin", shape, dtype) + at, raw::amin(xg, dims), raw::amin(x, dims)));
    }
  }
}

TEST_F(CudaReduce, MaxWithIndicesPicksTheFirstOfTies) {
  for (const DType dtype : {kFloat32, kFloat64, kInt64}) {
    for (const Shape& shape : {Shape{8, 50}, Shape{5, 9000}, Shape{2, 3, 70}}) {
      const auto [x, xg] = integer_pair(shape, dtype, 4, 7);
      for (const int64_t dim : {int64_t{0}, int64_t{-1}}) {
        const auto [v, i] = raw::max(x, dim);
        const auto [vg, ig] = raw::max(xg, dim);
        EXPECT_TRUE(close(label("max values", shape, dtype), vg, v));
        EXPECT_TRUE(close(label("max indices", shape, dtype), ig, i));
        const auto [mv, mi] = raw::min(x, dim);
        const auto [mvg, mig] = raw::min(xg, dim);
        EXPECT_TRUE(close(label("min values", shape, dtype), mvg, mv));
        EXPECT_TRUE(close(label("min indices", shape, dtype), mig, mi));
      }
    }
  }
}

TEST_F(CudaReduce, NaNWinsMaxAndArgmaxAsOnTheCpu) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> values(3 * 5000, 1.0f);
  values[17] = nan;           // row 0: NaN early
  values[5000 + 4999] = nan;  // row 1: NaN last
  values[5000 + 4100] = nan;  // and an earlier NaN in another block
  values[2 * 5000 + 3] = 2.0f;
  const Tensor x = from_vector(values, Shape{3, 5000});
  const Tensor xg = x.cuda();
  EXPECT_EQ(raw::argmax(xg, 1).cpu().to_vector<int64_t>(),
            (std::vector<int64_t>{17, 4100, 3}));
  EXPECT_EQ(raw::argmin(xg, 1).cpu().to_vector<int64_t>(),
            raw::argmin(x, 1).to_vector<int64_t>());
  const std::vector<float> m = raw::amax(xg, {1}).cpu().to_vector<float>();
  EXPECT_TRUE(std::isnan(m[0]) && std::isnan(m[1]));
  EXPECT_EQ(m[2], 2.0f);
}

TEST_F(CudaReduce, EmptyRowsGiveTheIdentity) {
  const Tensor x = zeros({3, 0});
  const Tensor xg = x.cuda();
  EXPECT_TRUE(close("sum of (3, 0)", raw::sum(xg, {1}), raw::sum(x, {1})));
  EXPECT_TRUE(close("prod of (3, 0)", raw::prod(xg, {1}), raw::prod(x, {1})));
  EXPECT_TRUE(close("sum of (0, 4) over 1", raw::sum(zeros({0, 4}).cuda(), {1}),
                    raw::sum(zeros({0, 4}), {1})));
}

TEST_F(CudaReduce, ComposedReductions) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const auto [x, xg] = normal_pair({6, 5000}, dtype, 8);
    const Tolerance tol = dtype == kFloat32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-13};
    EXPECT_TRUE(close("var", raw::var(xg, {1}), raw::var(x, {1}), tol));
    EXPECT_TRUE(close("logsumexp", raw::logsumexp(xg, {1}), raw::logsumexp(x, {1}), tol));
    EXPECT_TRUE(close("norm", raw::norm(xg, 2.0, {0}), raw::norm(x, 2.0, {0}), tol));
  }
}

TEST_F(CudaReduce, SoftmaxForward) {
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {{4, 10}, 1}, {{3, 1000}, -1}, {{2, 5000}, 1}, {{5, 7, 3}, 1}, {{6, 4}, 0},
      {{2, 3, 4, 5}, 2}, {{1, 1}, 1}};
  for (const DType dtype : {kFloat32, kFloat64}) {
    // exp differs by an ulp or two between the devices, and the sums' orders differ: the
    // log-probabilities' absolute error is the relative error of the sum of exps.
    const Tolerance tol = dtype == kFloat32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-13};
    for (const auto& [shape, dim] : cases) {
      // Large logits, so that the max subtraction matters.
      const Tensor x = raw::mul(normal_pair(shape, dtype, 9).cpu, 10.0);
      const Tensor xg = x.cuda();
      EXPECT_TRUE(close(label("softmax", shape, dtype), raw::softmax(xg, dim),
                        raw::softmax(x, dim), tol));
      EXPECT_TRUE(close(label("log_softmax", shape, dtype), raw::log_softmax(xg, dim),
                        raw::log_softmax(x, dim), tol));
    }
  }
}

// Gradients of reductions and softmax through autograd: each backward runs the device's
// kernels (expand, where, softmax, sums) on its own device.
TEST_F(CudaReduce, BackwardThroughReductionsAndSoftmax) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tolerance tol = dtype == kFloat32 ? Tolerance{1e-5, 1e-5} : Tolerance{1e-12, 1e-12};
    const auto [x0, xg0] = normal_pair({6, 300}, dtype, 10);
    const auto [w0, wg0] = normal_pair({6, 300}, dtype, 11);
    auto grad_of = [&](const Tensor& x0_dev, const Tensor& w) {
      const Tensor x = x0_dev.detach().requires_grad_();
      const Tensor terms[] = {
          sum(mul(softmax(x, 1), w)),
          sum(mul(log_softmax(x, 0), w)),
          sum(amax(x, {1})),
          sum(max(x, 0).first),
          mean(mul(x, x)),
          sum(logsumexp(x, {1})),
          sum(var(x, {0})),
      };
      Tensor loss = terms[0];
      for (size_t i = 1; i < std::size(terms); ++i) loss = add(loss, terms[i]);
      loss.backward();
      return x.grad();
    };
    EXPECT_TRUE(close(std::string("grad ") + dtype_name(dtype), grad_of(xg0, wg0),
                      grad_of(x0, w0), tol));
  }
}

}  // namespace
}  // namespace ignis

// CPU-vs-CUDA parity of the pooling slots (max_pool2d values and indices, avg_pool2d, both
// backwards), exact: the CUDA kernels compare and add in the CPU's order. And the
// differentiable ops through nn::functional, forward and backward. Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/math.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "support/cuda_test.h"
#include "support/threads_and_windows.h"
#include "tensor/backend.h"
#include "tensor/factory.h"
#include "tensor/pool.h"

namespace ignis {
namespace {

using test::normal;

class CudaPool : public test::CudaTest {};

// Equal values (NaN equal to NaN, which tensors_close refuses), same dtype and shape.
::testing::AssertionResult exact(const std::string& what, const Tensor& gpu, const Tensor& cpu) {
  if (!gpu.is_cuda()) return ::testing::AssertionFailure() << what << ": result not on CUDA";
  const Tensor got = gpu.cpu();
  if (got.dtype() != cpu.dtype() || got.sizes() != cpu.sizes()) {
    return ::testing::AssertionFailure() << what << ": got " << dtype_name(got.dtype()) << " "
                                         << got.shape_str() << ", expected "
                                         << dtype_name(cpu.dtype()) << " " << cpu.shape_str();
  }
  const std::vector<double> g = got.to_vector<double>(), w = cpu.to_vector<double>();
  for (size_t i = 0; i < w.size(); ++i) {
    if (g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) continue;
    return ::testing::AssertionFailure() << what << ": element " << i << " is " << g[i]
                                         << " on CUDA, " << w[i] << " on the CPU";
  }
  return ::testing::AssertionSuccess();
}

// The CNN's 2x2 stride 2 (the CPU's fast path), overlapping, padded, dilated, per-axis.
const std::vector<Window2d> kWindows = {
    {{2, 2}, {2, 2}, {0, 0}, {1, 1}}, {{3, 3}, {1, 1}, {1, 1}, {1, 1}},
    {{3, 3}, {2, 2}, {1, 1}, {1, 1}}, {{3, 2}, {2, 1}, {1, 0}, {1, 2}},
    {{2, 2}, {1, 1}, {2, 2}, {3, 3}}};

TEST_F(CudaPool, MaxPool2dValuesIndicesAndBackwardAreExact) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    Tensor x = normal({2, 3, 9, 11}, dtype, 1);
    // Ties, NaN and -inf in plane 0.
    x.select(0, 0).select(0, 0).narrow(0, 0, 2).fill_(1.0);
    x.select(0, 0).select(0, 0).select(0, 5).fill_(std::numeric_limits<double>::quiet_NaN());
    x.select(0, 0).select(0, 1).fill_(-std::numeric_limits<double>::infinity());
    for (const Window2d& w : kWindows) {
      const std::string what = test::window_str(w) + " " + dtype_name(dtype);
      const auto [values, indices] = raw::max_pool2d(x, w);
      const auto [gpu_values, gpu_indices] = raw::max_pool2d(x.cuda(), w);
      EXPECT_TRUE(exact("values " + what, gpu_values, values));
      EXPECT_TRUE(exact("indices " + what, gpu_indices, indices));
      const Tensor dout = normal(values.sizes(), dtype, 2);
      EXPECT_TRUE(exact("backward " + what,
                        raw::max_pool2d_backward(dout.cuda(), indices.cuda(), {9, 11}, w),
                        raw::max_pool2d_backward(dout, indices, {9, 11}, w)));
    }
  }
}

TEST_F(CudaPool, AvgPool2dAndBackwardAreExact) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor x = normal({2, 3, 9, 11}, dtype, 3);
    for (const Window2d& w : kWindows) {
      if (w.dilation[0] != 1 || w.dilation[1] != 1) continue;
      for (const bool include : {true, false}) {
        const std::string what =
            test::window_str(w) + " " + dtype_name(dtype) + (include ? " include pad" : " exclude pad");
        const Tensor y = raw::avg_pool2d(x, w, include);
        EXPECT_TRUE(exact("avg_pool2d " + what, raw::avg_pool2d(x.cuda(), w, include), y));
        const Tensor dout = normal(y.sizes(), dtype, 4);
        EXPECT_TRUE(exact("avg_pool2d_backward " + what,
                          raw::avg_pool2d_backward(dout.cuda(), {9, 11}, w, include),
                          raw::avg_pool2d_backward(dout, {9, 11}, w, include)));
      }
    }
  }
}

TEST_F(CudaPool, FunctionalForwardAndBackward) {
  namespace F = nn::functional;
  const Tensor x0 = normal({4, 8, 28, 28}, kFloat32, 5);
  auto run = [](const Tensor& x_in) {
    const Tensor x = x_in.detach().requires_grad_();
    const Tensor y = F::avg_pool2d(F::max_pool2d(x, 2), 3, 1, 1);
    sum(mul(y, y)).backward();
    return std::vector<Tensor>{y.detach(), x.grad()};
  };
  const std::vector<Tensor> want = run(x0), got = run(x0.cuda());
  EXPECT_TRUE(exact("pooled forward", got[0], want[0]));
  EXPECT_TRUE(exact("pooled dx", got[1], want[1]));
}

}  // namespace
}  // namespace ignis

// CPU-vs-CUDA parity of the unfold (im2col) and fold (col2im) slots, exact (the CUDA fold
// adds each pixel's terms in the CPU's order), and of conv2d built on them (unfold + cuBLAS
// GEMM), forward and backward. Skipped without a CUDA device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/conv.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "support/threads_and_windows.h"
#include "tensor/backend.h"
#include "tensor/conv.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using test::Tolerance;
using test::normal;
using test::tensors_close;

class CudaConv : public test::CudaTest {};


::testing::AssertionResult close(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                                 Tolerance tol = {}) {
  if (!gpu.is_cuda()) return ::testing::AssertionFailure() << what << ": result not on CUDA";
  return tensors_close(what, gpu.cpu(), cpu, tol);
}

// Windows that overlap, skip pixels, pad, dilate, and differ per axis.
const std::vector<Window2d> kWindows = {
    {{3, 3}, {1, 1}, {0, 0}, {1, 1}}, {{3, 3}, {1, 1}, {1, 1}, {1, 1}},
    {{2, 2}, {2, 2}, {0, 0}, {1, 1}}, {{3, 2}, {2, 1}, {1, 0}, {1, 2}},
    {{1, 1}, {3, 3}, {0, 0}, {1, 1}}, {{5, 5}, {2, 3}, {2, 1}, {1, 1}},
    {{3, 3}, {1, 1}, {2, 2}, {2, 2}}};

TEST_F(CudaConv, UnfoldIsExactForEveryDtype) {
  for (const DType dtype : {kFloat32, kFloat64, kInt64, kUInt8}) {
    const Tensor x = normal({2, 3, 9, 11}, kFloat64, 1).to(dtype);
    for (const Window2d& w : kWindows) {
      EXPECT_TRUE(close("unfold " + test::window_str(w) + " " + dtype_name(dtype),
                        raw::unfold(x.cuda(), w), raw::unfold(x, w)));
    }
  }
}

TEST_F(CudaConv, FoldIsExact) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Window2d& w : kWindows) {
      const int64_t H = 9, W = 11;
      const int64_t L = w.output_size(0, H) * w.output_size(1, W);
      const Tensor cols = normal({2, 3 * w.kernel_size[0] * w.kernel_size[1], L}, dtype, 2);
      EXPECT_TRUE(close("fold " + test::window_str(w) + " " + dtype_name(dtype),
                        raw::fold(cols.cuda(), {H, W}, w), raw::fold(cols, {H, W}, w)));
    }
  }
}

TEST_F(CudaConv, Conv2dForwardAndBackward) {
  struct Case {
    Shape x, weight;
    nn::Size2 stride, padding, dilation;
    int64_t groups;
  };
  const std::vector<Case> cases = {
      {{2, 3, 12, 12}, {8, 3, 3, 3}, 1, 1, 1, 1},
      {{4, 1, 28, 28}, {6, 1, 5, 5}, 1, 2, 1, 1},
      {{2, 4, 10, 9}, {6, 2, 3, 3}, {2, 1}, {1, 0}, 1, 2},
      {{1, 2, 11, 11}, {3, 2, 3, 3}, 1, 2, 2, 1}};
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tolerance tol = dtype == kFloat32 ? Tolerance{1e-4, 1e-4} : Tolerance{1e-11, 1e-11};
    for (const Case& c : cases) {
      const Tensor x0 = normal(c.x, dtype, 3), w0 = normal(c.weight, dtype, 4),
                   b0 = normal({c.weight[0]}, dtype, 5);
      auto run = [&](const Tensor& x_in, const Tensor& w_in, const Tensor& b_in) {
        const Tensor x = x_in.detach().requires_grad_(), w = w_in.detach().requires_grad_(),
                     b = b_in.detach().requires_grad_();
        const Tensor y = nn::functional::conv2d(x, w, b, c.stride, c.padding, c.dilation,
                                                c.groups);
        sum(mul(y, y)).backward();
        return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
      };
      const std::vector<Tensor> want = run(x0, w0, b0);
      const std::vector<Tensor> got = run(x0.cuda(), w0.cuda(), b0.cuda());
      const char* names[] = {"conv2d", "dx", "dweight", "dbias"};
      for (size_t i = 0; i < want.size(); ++i) {
        // Gradients sum many products of products: looser than the forward.
        const Tolerance t = i == 0 ? tol : Tolerance{tol.rtol * 10, tol.atol * 100};
        EXPECT_TRUE(close(std::string(names[i]) + " x " + shape_str(c.x) + " w " +
                              shape_str(c.weight) + " " + dtype_name(dtype),
                          got[i], want[i], t));
      }
    }
  }
}

}  // namespace
}  // namespace ignis

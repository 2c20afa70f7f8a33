// CPU-vs-CUDA parity of the fused cross-entropy slots (raw forward: loss, lse, w[y]; raw
// backward) and of nn::functional::cross_entropy on a 3-d input, forward and backward. Close,
// not exact: the devices' exp and their summation trees differ. Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/backward.h"
#include "nn/functional.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/factory.h"
#include "tensor/loss.h"

namespace ignis {
namespace {

using test::normal;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class CudaCrossEntropy : public test::CudaTest {};

test::Tolerance tolerance(DType dtype) {
  return dtype == kFloat32 ? test::Tolerance{1e-5, 1e-5} : test::Tolerance{1e-12, 1e-12};
}

TEST_F(CudaCrossEntropy, FusedSlotsMatchTheCpu) {
  const std::vector<Shape> shapes = {{128, 10}, {256, 41}, {64, 1000}, {3, 5000}, {1, 1}};
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Shape& shape : shapes) {
      const int64_t R = shape[0], C = shape[1];
      const Tensor x = normal(shape, dtype, 1) * 4.0;
      Generator gen(2);
      Tensor target = randint(0, C, {R}, {.dtype = kInt64}, &gen);
      if (R > 2) target.narrow(0, 1, 1).fill_(-100);  // one ignored row
      const Tensor weight = (normal({C}, dtype, 3).abs() + 0.5).to(dtype);
      for (const bool weighted : {false, true}) {
        for (const double eps : {0.0, 0.2}) {
          const std::string what = dtype_name(dtype) + std::string(" ") + shape_str(shape) +
                                   (weighted ? " weighted" : "") + " eps " + std::to_string(eps);
          const CrossEntropyParams params{.ignore_index = -100, .label_smoothing = eps};
          const Tensor w = weighted ? weight : Tensor();
          const Tensor w_gpu = weighted ? weight.cuda() : Tensor();
          const raw::CrossEntropyRows cpu = raw::cross_entropy_forward(x, target, w, params);
          const raw::CrossEntropyRows gpu =
              raw::cross_entropy_forward(x.cuda(), target.cuda(), w_gpu, params);
          const test::Tolerance tol = tolerance(dtype);
          EXPECT_TRUE(test::tensors_close("loss " + what, gpu.loss.cpu(), cpu.loss, tol));
          EXPECT_TRUE(test::tensors_close("lse " + what, gpu.lse.cpu(), cpu.lse, tol));
          EXPECT_TRUE(
              test::tensors_close("w[y] " + what, gpu.row_weight.cpu(), cpu.row_weight, tol));
          const Tensor grad = normal({R}, dtype, 4);
          const Tensor dx = raw::cross_entropy_backward(x, target, w, params, cpu.lse, grad);
          const Tensor dx_gpu = raw::cross_entropy_backward(x.cuda(), target.cuda(), w_gpu,
                                                            params, gpu.lse, grad.cuda());
          EXPECT_TRUE(test::tensors_close("dlogits " + what, dx_gpu.cpu(), dx, tol));
        }
      }
    }
  }
}

TEST_F(CudaCrossEntropy, FunctionalForwardAndBackward) {
  namespace F = nn::functional;
  const Tensor x0 = normal({8, 7, 5}, kFloat64, 5);
  const Tensor target = randint(0, 7, {8, 5}, {.dtype = kInt64});
  for (const nn::Reduction r : {nn::Reduction::None, nn::Reduction::Mean, nn::Reduction::Sum}) {
    auto run = [&](const Device& device) {
      const Tensor x = x0.to(device).requires_grad_();
      const Tensor loss = F::cross_entropy(x, target.to(device),
                                           {.reduction = r, .label_smoothing = 0.1});
      const Tensor dx = autograd::grad({loss}, {x}, {ones_like(loss)})[0];
      return std::vector<Tensor>{loss.detach().cpu(), dx.cpu()};
    };
    const std::vector<Tensor> want = run(Device::cpu()), got = run(Device::cuda());
    EXPECT_TRUE(test::tensors_close("loss", got[0], want[0], {1e-12, 1e-12}));
    EXPECT_TRUE(test::tensors_close("dx", got[1], want[1], {1e-12, 1e-12}));
  }
}

TEST_F(CudaCrossEntropy, OutOfRangeTargetIsRefused) {
  EXPECT_THAT([] { nn::functional::cross_entropy(zeros({2, 5}).cuda(), tensor({1, 9}).cuda()); },
              ThrowsMessage<IndexError>(
                  HasSubstr("cross_entropy: target 9 is out of bounds for 5 classes")));
}

}  // namespace
}  // namespace ignis

// CPU-vs-CUDA parity of the composite layers: AdaptiveAvgPool2d, Embedding with padding_idx,
// LayerNorm, BatchNorm1d/2d (training with running statistics, cumulative averaging, eval),
// Dropout (the same seed draws the same mask on both devices) and the parameter-free modules.
// Forward and the gradient of every floating input; running statistics after each step.
// Not EmbeddingBag (tests/cuda/embedding_bag_test.cpp). Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "support/parity.h"
#include "tensor/factory.h"
#include "tensor/generator.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using test::accumulation_tolerance;
using test::elementwise_tolerance;
using test::expect_parity;
using test::normal;

class CudaLayers : public test::ParityTest {};

const std::vector<DType> kFloatTypes = {kFloat32, kFloat64};

// Output sizes that divide the input, that do not (overlapping windows), global, and larger
// than the input; a 3-d (C, H, W) input; the module form.
TEST_F(CudaLayers, AdaptiveAvgPool2dForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("adaptive_avg_pool2d ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &x = in[0], &chw = in[1];
                    nn::AdaptiveAvgPool2d pool({3, 2});
                    return std::vector<Tensor>{
                        F::adaptive_avg_pool2d(x, {3, 11}), F::adaptive_avg_pool2d(x, {4, 5}),
                        F::adaptive_avg_pool2d(x, 1),       F::adaptive_avg_pool2d(x, {12, 13}),
                        F::adaptive_avg_pool2d(chw, {2, 3}), pool(x)};
                  },
                  {normal({2, 3, 9, 11}, dtype, 1), normal({3, 7, 5}, dtype, 2)}, device(),
                  elementwise_tolerance(dtype));
  }
}

// padding_idx given as an index and counted from the end; its rows are looked up but get no
// gradient (checked on the device as well as against the CPU); and a lookup without one.
TEST_F(CudaLayers, EmbeddingWithPaddingIdxForwardAndBackward) {
  const Tensor indices = tensor({{3, 0, 9, 3, 7}, {1, 9, 3, 2, 2}, {0, 0, 3, 5, 9}});
  for (const DType dtype : kFloatTypes) {
    const test::ParityResult got = expect_parity(
        std::string("embedding padding_idx ") + dtype_name(dtype),
        [](const std::vector<Tensor>& in) {
          const Tensor &idx = in[0], &w3 = in[1], &w9 = in[2], &w = in[3];
          return std::vector<Tensor>{F::embedding(idx, w3, 3), F::embedding(idx, w9, -1),
                                     F::embedding(idx.select(0, 1), w)};
        },
        {indices, normal({10, 6}, dtype, 3), normal({10, 6}, dtype, 4),
         normal({10, 6}, dtype, 5)},
        device(),
        elementwise_tolerance(dtype));
    ASSERT_TRUE(got.grads[1].defined() && got.grads[2].defined());
    EXPECT_TRUE(test::tensors_close("padding row 3 grad", got.grads[1].select(0, 3),
                                    zeros({6}, {.dtype = dtype}), {}));
    EXPECT_TRUE(test::tensors_close("padding row 9 grad", got.grads[2].select(0, 9),
                                    zeros({6}, {.dtype = dtype}), {}));
  }
}

// Over the last dim with an affine transform, over the last two with another eps, and
// without affine; the module form (weight 1, bias 0).
TEST_F(CudaLayers, LayerNormForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("layer_norm ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor &x = in[0], &w = in[1], &b = in[2], &w2 = in[3], &b2 = in[4];
                    nn::LayerNorm module({64});
                    module.to(x.device()).to(x.dtype());
                    return std::vector<Tensor>{F::layer_norm(x, {64}, w, b),
                                               F::layer_norm(x, {5, 64}, w2, b2, 1e-3),
                                               F::layer_norm(x * 3.0 + 1.0, {64}),
                                               module(x)};
                  },
                  {normal({4, 5, 64}, dtype, 5), normal({64}, dtype, 6), normal({64}, dtype, 7),
                   normal({5, 64}, dtype, 8), normal({5, 64}, dtype, 9)},
                  device(), accumulation_tolerance(dtype));
  }
}

// functional batch_norm on the three accepted layouts: training with running statistics
// (updated in place, compared after the step), then eval with the updated statistics, and
// training without running statistics.
TEST_F(CudaLayers, BatchNormFunctionalTrainAndEval) {
  const std::vector<Shape> shapes = {{16, 4}, {6, 4, 10}, {4, 4, 5, 6}};
  for (const DType dtype : kFloatTypes) {
    for (const Shape& shape : shapes) {
      expect_parity(std::string("batch_norm ") + shape_str(shape) + " " + dtype_name(dtype),
                    [](const std::vector<Tensor>& in) {
                      const Tensor &x = in[0], &w = in[1], &b = in[2], &rm = in[3], &rv = in[4];
                      const Tensor train = F::batch_norm(x, rm, rv, w, b, true, 0.3);
                      const Tensor eval = F::batch_norm(x * 0.5 + 1.0, rm, rv, w, b, false);
                      const Tensor no_stats = F::batch_norm(x, {}, {}, w, b, true);
                      return std::vector<Tensor>{train, eval, no_stats, rm, rv};
                    },
                    {normal(shape, dtype, 10) * 2.0 + 0.5, normal({4}, dtype, 11),
                     normal({4}, dtype, 12), test::constant(normal({4}, dtype, 13)),
                     test::constant(normal({4}, dtype, 14).abs() + 0.5)},
                    device(), accumulation_tolerance(dtype));
    }
  }
}

// The modules through three training steps (momentum 0.1, or the cumulative average) and one
// eval step, on one device: outputs, input and parameter gradients, running statistics and
// num_batches_tracked, all copied to the CPU.
std::vector<Tensor> batch_norm_module_run(bool two_d, std::optional<double> momentum,
                                          DType dtype, Device device) {
  const nn::BatchNormOptions options{.momentum = momentum};
  nn::BatchNorm1d bn1(5, options);
  nn::BatchNorm2d bn2(5, options);
  nn::BatchNorm& bn = two_d ? static_cast<nn::BatchNorm&>(bn2) : bn1;
  bn.to(dtype).to(device);
  {
    NoGradGuard no_grad;
    bn.weight.copy_(normal({5}, dtype, 20));
    bn.bias.copy_(normal({5}, dtype, 21));
  }
  const Shape shape = two_d ? Shape{3, 5, 4, 6} : Shape{7, 5, 8};
  std::vector<Tensor> results;
  for (uint64_t step = 0; step < 4; ++step) {
    const bool training = step < 3;
    bn.train(training);
    const Tensor x = (normal(shape, dtype, 30 + step) * (1.0 + step) + 0.3 * step)
                         .to(device)
                         .requires_grad_();
    const Tensor y = bn(x);
    sum(y * normal(shape, dtype, 40 + step).to(device)).backward();
    for (const Tensor& t : {y.detach(), x.grad(), bn.running_mean, bn.running_var,
                            bn.num_batches_tracked}) {
      results.push_back(t.cpu());
    }
  }
  results.push_back(bn.weight.grad().cpu());
  results.push_back(bn.bias.grad().cpu());
  return results;
}

TEST_F(CudaLayers, BatchNormModulesTrainWithRunningStatisticsThenEval) {
  for (const DType dtype : kFloatTypes) {
    for (const bool two_d : {false, true}) {
      for (const std::optional<double> momentum : {std::optional<double>(0.1),
                                                   std::optional<double>()}) {
        const std::string what = std::string(two_d ? "BatchNorm2d" : "BatchNorm1d") +
                                 (momentum ? " momentum 0.1 " : " cumulative ") +
                                 dtype_name(dtype);
        test::expect_all_close(what, batch_norm_module_run(two_d, momentum, dtype, device()),
                               batch_norm_module_run(two_d, momentum, dtype, Device::cpu()),
                               accumulation_tolerance(dtype));
      }
    }
  }
}

// The same seed gives the same Bernoulli mask on both devices (Philox, counter based), so
// the outputs and gradients agree to the rounding of x / (1 - p); the module in train and
// eval mode.
TEST_F(CudaLayers, DropoutSameSeedSameMask) {
  for (const DType dtype : kFloatTypes) {
    const test::ParityResult got = expect_parity(
        std::string("dropout ") + dtype_name(dtype),
        [](const std::vector<Tensor>& in) {
          const Tensor& x = in[0];
          Generator gen(7);
          const Tensor a = F::dropout(x, 0.3, true, &gen);
          const Tensor b = F::dropout(x, 0.5, true, &gen);  // the generator moved on
          nn::Dropout module(0.2, &gen);
          const Tensor c = module(x);
          module.eval();
          return std::vector<Tensor>{a, b, c, module(x), F::dropout(x, 0.3, false, &gen)};
        },
        {normal({64, 33}, dtype, 15)}, device(), elementwise_tolerance(dtype));
    // Not all kept nor all dropped: the comparison saw a real mask.
    int64_t kept = 0;
    for (const double v : got.outputs[0].to_vector<double>()) kept += v != 0.0;
    EXPECT_GT(kept, 64 * 33 / 2);
    EXPECT_LT(kept, 64 * 33);
  }
}

// Flatten, Identity and the activation modules on one input, and Flatten over middle dims.
TEST_F(CudaLayers, ParameterFreeModulesForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    expect_parity(std::string("modules ") + dtype_name(dtype),
                  [](const std::vector<Tensor>& in) {
                    const Tensor& x = in[0];
                    return std::vector<Tensor>{
                        nn::Flatten()(x),          nn::Flatten(0, 1)(x),
                        nn::Identity()(x),         nn::ReLU()(x),
                        nn::LeakyReLU(0.2)(x),     nn::GELU()(x),
                        nn::GELU("tanh")(x),       nn::SiLU()(x),
                        nn::Tanh()(x),             nn::Sigmoid()(x),
                        nn::Softmax(1)(x),         nn::LogSoftmax(-1)(x)};
                  },
                  {normal({3, 4, 5}, dtype, 16) * 2.0}, device(), elementwise_tolerance(dtype));
  }
}

}  // namespace
}  // namespace ignis

// The fused multi-tensor optimizer step (optim/multi_tensor.h): one pass over a whole group
// gives the same bits as one optimizer per parameter and for any thread count, agrees with
// the raw-op path, and step_and_zero_grad folds the zeroing in. PyTorch: optimizer_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optim/adam.h"
#include "optim/multi_tensor.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "support/threads_and_windows.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis::optim {
namespace {

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>;

// Every fused update rule and flag: L2 and decoupled decay, amsgrad, maximize, momentum with
// dampening, Nesterov.
const std::map<std::string, MakeOptimizer>& optimizer_table() {
  static const std::map<std::string, MakeOptimizer> table = {
      {"adam",
       [](const auto& p) {
         return std::make_unique<Adam>(p, AdamOptions{.lr = 1e-2, .weight_decay = 0.1});
       }},
      {"adam_amsgrad_maximize",
       [](const auto& p) {
         return std::make_unique<Adam>(
             p, AdamOptions{.lr = 1e-2, .betas = {0.3, 0.9}, .amsgrad = true, .maximize = true});
       }},
      {"adamw", [](const auto& p) { return std::make_unique<AdamW>(p, AdamWOptions{.lr = 1e-2}); }},
      {"sgd_maximize_decay",
       [](const auto& p) {
         return std::make_unique<SGD>(
             p, SGDOptions{.lr = 0.1, .weight_decay = 0.01, .maximize = true});
       }},
      {"sgd_momentum_dampening",
       [](const auto& p) {
         return std::make_unique<SGD>(p, SGDOptions{.lr = 0.05, .momentum = 0.8, .dampening = 0.3});
       }},
      {"sgd_nesterov_decay",
       [](const auto& p) {
         return std::make_unique<SGD>(
             p, SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
       }},
  };
  return table;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : optimizer_table()) names.push_back(entry.first);
  return names;
}

struct ParamSpec {
  Shape shape;
  DType dtype;
  bool contiguous;
};

// 160 small parameters (1 to 40 elements, float32 and float64 alternating), two large ones
// that span several chunks (float32 and float64), and one strided float32 parameter.
std::vector<ParamSpec> mixed_specs() {
  std::vector<ParamSpec> specs;
  for (int64_t i = 0; i < 160; ++i) {
    specs.push_back({{i % 40 + 1}, i % 2 == 0 ? kFloat32 : kFloat64, true});
  }
  specs.push_back({{300, 700}, kFloat32, true});
  specs.push_back({{150001}, kFloat64, true});
  specs.push_back({{30, 20}, kFloat32, false});
  return specs;
}

// Leaf parameters ~ N(0, 1) from a fixed seed; a strided one is a transposed view (2-d) or
// every other element of a larger buffer (1-d).
std::vector<Tensor> make_params(const std::vector<ParamSpec>& specs) {
  Generator gen(7);
  std::vector<Tensor> params;
  for (const ParamSpec& spec : specs) {
    const Tensor value = randn(spec.shape, {.dtype = spec.dtype}, &gen);
    Tensor p = raw::clone(value);
    if (!spec.contiguous) {
      const int64_t n = value.numel();
      p = spec.shape.size() == 2
              ? raw::transpose(empty({spec.shape[1], spec.shape[0]}, {.dtype = spec.dtype}), 0, 1)
              : raw::slice(empty({2 * n}, {.dtype = spec.dtype}), 0, 0, 2 * n, 2);
      raw::copy_(p, value);
    }
    p.requires_grad_();
    params.push_back(p);
  }
  return params;
}

// Fresh gradients of step s, the same for every run; parameter 3 gets none at odd steps.
void set_gradients(const std::vector<Tensor>& params, int s) {
  Generator gen(100 + static_cast<uint64_t>(s));
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor g = randn(params[i].sizes(), {.dtype = params[i].dtype()}, &gen);
    params[i].set_grad(i == 3 && s % 2 == 1 ? Tensor() : g);
  }
}

// Every value of the parameters and of their state, as float64 (exact for float32).
std::vector<std::vector<double>> snapshot(const std::vector<Tensor>& params,
                                          const std::vector<const Optimizer*>& optimizers) {
  std::vector<std::vector<double>> values;
  for (size_t i = 0; i < params.size(); ++i) {
    values.push_back(params[i].to_vector<double>());
    const Optimizer* optimizer = optimizers.size() == 1 ? optimizers[0] : optimizers[i];
    for (const auto& [name, buffer] : optimizer->state(params[i])) {
      values.push_back(buffer.to_vector<double>());
    }
  }
  return values;
}

// Fails with the first differing value unless `a` and `b` hold the same bits.
void expect_same_bits(const std::vector<std::vector<double>>& a,
                      const std::vector<std::vector<double>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    ASSERT_EQ(a[t].size(), b[t].size()) << "tensor " << t;
    for (size_t i = 0; i < a[t].size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint64_t>(a[t][i]), std::bit_cast<uint64_t>(b[t][i]))
          << "tensor " << t << " element " << i << ": " << std::setprecision(17) << a[t][i]
          << " vs " << b[t][i];
    }
  }
}

constexpr int kSteps = 3;

// kSteps steps of one optimizer over all of `specs`, with `threads` threads.
std::vector<std::vector<double>> run_group(const std::string& name,
                                           const std::vector<ParamSpec>& specs, int threads) {
  const test::ThreadCountGuard thread_count(threads);
  const std::vector<Tensor> params = make_params(specs);
  const std::unique_ptr<Optimizer> optimizer = optimizer_table().at(name)(params);
  for (int s = 0; s < kSteps; ++s) {
    set_gradients(params, s);
    optimizer->step();
  }
  return snapshot(params, {optimizer.get()});
}

class MultiTensorStep : public ::testing::TestWithParam<std::string> {};

TEST_P(MultiTensorStep, OnePassEqualsOneOptimizerPerParameter) {
  const std::vector<ParamSpec> specs = mixed_specs();
  const std::vector<Tensor> params = make_params(specs);
  std::vector<std::unique_ptr<Optimizer>> optimizers;
  std::vector<const Optimizer*> views;
  for (const Tensor& p : params) {
    optimizers.push_back(optimizer_table().at(GetParam())({p}));
    views.push_back(optimizers.back().get());
  }
  for (int s = 0; s < kSteps; ++s) {
    set_gradients(params, s);
    for (const auto& optimizer : optimizers) optimizer->step();
  }
  expect_same_bits(run_group(GetParam(), specs, 2), snapshot(params, views));
}

TEST_P(MultiTensorStep, SameBitsForOneAndTwoThreads) {
  const std::vector<ParamSpec> specs = mixed_specs();
  expect_same_bits(run_group(GetParam(), specs, 1), run_group(GetParam(), specs, 2));
}

TEST_P(MultiTensorStep, FusedPassMatchesRawOps) {
  std::vector<ParamSpec> contiguous = mixed_specs();
  contiguous.resize(6);
  contiguous.push_back({{40, 30}, kFloat64, true});
  std::vector<ParamSpec> strided = contiguous;
  for (ParamSpec& spec : strided) spec.contiguous = false;
  // NOTE: not bit for bit: the fused loop lets the compiler contract a * b + c into one FMA,
  // the raw ops round each product. Both stay within a few float32 ulps of each other.
  const std::vector<std::vector<double>> fused = run_group(GetParam(), contiguous, 1);
  const std::vector<std::vector<double>> ops = run_group(GetParam(), strided, 1);
  ASSERT_EQ(fused.size(), ops.size());
  for (size_t t = 0; t < fused.size(); ++t) {
    ASSERT_EQ(fused[t].size(), ops[t].size());
    for (size_t i = 0; i < fused[t].size(); ++i) {
      ASSERT_NEAR(fused[t][i], ops[t][i], 1e-6 * (1.0 + std::abs(ops[t][i])))
          << "tensor " << t << " element " << i;
    }
  }
}

TEST_P(MultiTensorStep, StepAndZeroGradEqualsStepThenZeroGrad) {
  const std::vector<ParamSpec> specs = mixed_specs();
  const std::vector<Tensor> folded = make_params(specs);
  const std::vector<Tensor> separate = make_params(specs);
  const std::unique_ptr<Optimizer> folding = optimizer_table().at(GetParam())(folded);
  const std::unique_ptr<Optimizer> reference = optimizer_table().at(GetParam())(separate);
  for (int s = 0; s < kSteps; ++s) {
    set_gradients(folded, s);
    set_gradients(separate, s);
    std::vector<const void*> buffers;
    for (const Tensor& p : folded) {
      buffers.push_back(p.grad().defined() ? p.grad().raw_data() : nullptr);
    }
    folding->step_and_zero_grad(false);
    reference->step();
    reference->zero_grad(false);
    for (size_t i = 0; i < folded.size(); ++i) {
      const Tensor grad = folded[i].grad();
      ASSERT_EQ(grad.defined(), buffers[i] != nullptr) << "param " << i;
      if (!grad.defined()) continue;
      EXPECT_EQ(grad.raw_data(), buffers[i]) << "param " << i << ": the gradient buffer is kept";
      EXPECT_EQ(grad.to_vector<double>(), std::vector<double>(grad.numel(), 0.0)) << "param " << i;
    }
  }
  expect_same_bits(snapshot(folded, {folding.get()}), snapshot(separate, {reference.get()}));
}

INSTANTIATE_TEST_SUITE_P(Rules, MultiTensorStep, ::testing::ValuesIn(case_names()));

TEST(StepAndZeroGrad, SetToNoneDropsTheGradients) {
  const std::vector<Tensor> params = make_params(mixed_specs());
  Adam adam(params);
  set_gradients(params, 0);
  adam.step_and_zero_grad();
  for (const Tensor& p : params) EXPECT_FALSE(p.grad().defined());
  EXPECT_EQ(adam.state(params[0]).at("step").item<double>(), 1.0);
}

TEST(StepAndZeroGrad, SharedGradientIsReadByBothParameters) {
  const Tensor a = ones({4});
  const Tensor b = ones({4});
  a.requires_grad_();
  b.requires_grad_();
  SGD sgd(std::vector<Tensor>{a, b}, {.lr = 0.5});
  const Tensor grad = full({4}, 2.0);
  a.set_grad(grad);
  b.set_grad(grad);
  sgd.step_and_zero_grad(false);
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(b.to_vector<float>(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(grad.to_vector<float>(), std::vector<float>(4, 0.0f));
}

TEST(StepAndZeroGrad, OptimizerWithoutFusedPassZeroesAfterTheStep) {
  const std::vector<Tensor> params = make_params(mixed_specs());
  const std::vector<Tensor> reference = make_params(mixed_specs());
  RMSprop folding(params, {.momentum = 0.5});
  RMSprop separate(reference, {.momentum = 0.5});
  set_gradients(params, 0);
  set_gradients(reference, 0);
  folding.step_and_zero_grad(false);
  separate.step();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].to_vector<double>(), reference[i].to_vector<double>()) << "param " << i;
    EXPECT_EQ(params[i].grad().to_vector<double>(), std::vector<double>(params[i].numel(), 0.0));
  }
}

TEST(SegmentChunks, EveryElementOnceInOrderedPieces) {
  const test::ThreadCountGuard thread_count(2);
  const std::vector<int64_t> sizes = {0, 5, 0, 70000, 3, 200000, 0, 1};
  std::vector<std::vector<int>> seen(sizes.size());
  for (size_t s = 0; s < sizes.size(); ++s) seen[s].assign(static_cast<size_t>(sizes[s]), 0);
  detail::for_each_segment_chunk(sizes, 1000, [&](size_t s, int64_t begin, int64_t end) {
    ASSERT_LT(s, sizes.size());
    ASSERT_LT(begin, end);
    ASSERT_LE(end, sizes[s]);
    for (int64_t i = begin; i < end; ++i) ++seen[s][static_cast<size_t>(i)];
  });
  for (size_t s = 0; s < sizes.size(); ++s) {
    EXPECT_EQ(seen[s], std::vector<int>(static_cast<size_t>(sizes[s]), 1)) << "segment " << s;
  }
}

// The byte ranges of `tensors`, then whether they are disjoint.
bool disjoint_tensors(const std::vector<Tensor>& tensors) {
  std::vector<detail::ByteRange> ranges;
  for (const Tensor& t : tensors) ranges.push_back(detail::byte_range(t));
  return detail::disjoint(ranges);
}

TEST(SegmentChunks, OverlapIsDetected) {
  const Tensor base = zeros({10});
  EXPECT_TRUE(disjoint_tensors({raw::slice(base, 0, 0, 5, 1), raw::slice(base, 0, 5, 10, 1)}));
  EXPECT_FALSE(disjoint_tensors({raw::slice(base, 0, 0, 6, 1), raw::slice(base, 0, 5, 10, 1)}));
  EXPECT_TRUE(disjoint_tensors({raw::slice(base, 0, 3, 3, 1), base}));
}

}  // namespace
}  // namespace ignis::optim

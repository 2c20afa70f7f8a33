// Finite-difference checks (float64) of the nn ops whose backward is not a single autograd
// op: unfold/fold, conv2d, pooling, embeddings, normalization and every loss option.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "nn/functional.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using nn::EmbeddingBagMode;
using nn::Reduction;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// A float64 leaf drawn from N(0, 1) (or U(low, high)), the same on every run.
Tensor leaf(const Shape& shape, uint64_t seed = 1) {
  Generator gen(seed);
  Tensor t = randn(shape, {.dtype = kFloat64}, &gen);
  t.requires_grad_();
  return t;
}

Tensor uniform_leaf(const Shape& shape, double low, double high, uint64_t seed = 1) {
  Generator gen(seed);
  Tensor t = rand(shape, {.dtype = kFloat64}, &gen) * (high - low) + low;
  Tensor out = t.detach();
  out.requires_grad_();
  return out;
}

void expect_gradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  const autograd::GradcheckResult result = autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(NNGradcheck, UnfoldAndFold) {
  const Window2d w{.kernel_size = {2, 3}, .stride = {2, 1}, .padding = {1, 1},
                   .dilation = {1, 2}};
  expect_gradcheck([&](const std::vector<Tensor>& in) { return unfold(in[0], w); },
                   {leaf({2, 2, 5, 6})});
  const int64_t L = w.output_size(0, 5) * w.output_size(1, 6);
  expect_gradcheck([&](const std::vector<Tensor>& in) { return fold(in[0], {5, 6}, w); },
                   {leaf({2, 12, L})});
}

TEST(NNGradcheck, Conv2d) {
  struct Config {
    nn::Size2 stride, padding, dilation;
    int64_t groups;
  };
  for (const Config& c : {Config{1, 0, 1, 1}, Config{2, 1, 1, 1}, Config{{1, 2}, {2, 1}, 2, 1},
                          Config{1, 1, 1, 2}, Config{2, 0, {2, 1}, 4}}) {
    SCOPED_TRACE(c.groups);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::conv2d(in[0], in[1], in[2], c.stride, c.padding, c.dilation, c.groups);
        },
        {leaf({2, 4, 6, 5}, 1), leaf({4, 4 / c.groups, 3, 2}, 2), leaf({4}, 3)});
  }
  expect_gradcheck(  // no bias, a non-contiguous input
      [](const std::vector<Tensor>& in) {
        return F::conv2d(in[0].transpose(2, 3), in[1], {}, 1, 1);
      },
      {leaf({1, 2, 5, 4}), leaf({3, 2, 3, 3}, 2)});
}

TEST(NNGradcheck, Pooling) {
  const Tensor x = leaf({2, 3, 7, 6});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], 2); }, {x});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], 3, 2, 1); },
                   {x});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::max_pool2d(in[0], {2, 3}, nn::Size2{1, 2}, 0, 2);
      },
      {x});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], 3, 2, 1); },
                   {x});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], 3, 2, 1, false); }, {x});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return F::adaptive_avg_pool2d(in[0], {3, 4}); }, {x});
  expect_gradcheck(  // unbatched (C, H, W)
      [](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], 2); }, {leaf({2, 4, 4})});
}

TEST(NNGradcheck, Embeddings) {
  const Tensor weight = leaf({6, 3});
  const Tensor indices = tensor({1, 4, 4, 0, 2, 3, 5, 1, 2});
  const Tensor offsets = tensor({0, 2, 2, 6});
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean,
                                EmbeddingBagMode::Max}) {
    SCOPED_TRACE(nn::embedding_bag_mode_name(mode));
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::embedding_bag(indices, in[0], offsets, mode);
        },
        {weight});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::embedding_bag(indices, in[0], offsets, mode, {}, false, 4);
        },
        {weight});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::embedding_bag(indices.view({3, 3}), in[0], {}, mode);
        },
        {weight});
  }
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return F::embedding_bag(indices, in[0], tensor({0, 3, 9}), EmbeddingBagMode::Sum, in[1],
                                true);
      },
      {weight, leaf({9}, 2)});
}

TEST(NNGradcheck, Normalization) {
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return F::layer_norm(in[0], {4}, in[1], in[2]); },
      {leaf({3, 4}), leaf({4}, 2), leaf({4}, 3)});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::layer_norm(in[0], {2, 3}); },
                   {leaf({2, 2, 3})});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], {}, {}, in[1], in[2], true);
      },
      {leaf({4, 3, 2, 2}), leaf({3}, 2), leaf({3}, 3)});
  const Tensor running_mean = randn({3}, {.dtype = kFloat64});
  const Tensor running_var = rand({3}, {.dtype = kFloat64}) + 0.5;
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return F::batch_norm(in[0], running_mean, running_var, in[1], in[2], false);
      },
      {leaf({5, 3}), leaf({3}, 2), leaf({3}, 3)});
}

TEST(NNGradcheck, CrossEntropyEveryOption) {
  const Tensor logits = leaf({4, 5});
  const Tensor target = tensor({1, -100, 4, 2});
  const Tensor weight = rand({5}, {.dtype = kFloat64}) + 0.5;
  const Tensor probs = softmax(randn({4, 5}, {.dtype = kFloat64}), 1);
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    for (double smoothing : {0.0, 0.25}) {
      SCOPED_TRACE(std::string(nn::reduction_name(r)) + " smoothing " + std::to_string(smoothing));
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) {
            return F::cross_entropy(in[0], target,
                                    {.weight = weight, .reduction = r,
                                     .label_smoothing = smoothing});
          },
          {logits});
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) {
            return F::cross_entropy(in[0], probs,
                                    {.reduction = r, .label_smoothing = smoothing});
          },
          {logits});
    }
  }
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return F::cross_entropy(in[0], tensor({{0, 2}, {1, 1}}), {.ignore_index = 1});
      },
      {leaf({2, 3, 2})});
  expect_gradcheck(  // second derivatives through the fused backward
      [&](const std::vector<Tensor>& in) {
        Tensor loss = F::cross_entropy(in[0], tensor({1, 0, 4, 2}));
        return autograd::grad({loss}, {in[0]}, {}, true, true)[0];
      },
      {logits});
}

TEST(NNGradcheck, OtherLosses) {
  const Tensor x = leaf({3, 4}), y = leaf({3, 4}, 2);
  const Tensor target = tensor({1, 0, -100});
  const Tensor class_weight = rand({4}, {.dtype = kFloat64}) + 0.5;
  const Tensor bce_weight = rand({4}, {.dtype = kFloat64});
  const Tensor row_weight = rand({3, 1}, {.dtype = kFloat64});
  const Tensor pos_weight = rand({4}, {.dtype = kFloat64}) + 1.0;
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    SCOPED_TRACE(nn::reduction_name(r));
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::nll_loss(in[0], target, {.weight = class_weight, .reduction = r});
        },
        {x});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], r); }, {x, y});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::l1_loss(in[0], in[1], r); }, {x, y});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::smooth_l1_loss(in[0], in[1], r, 0.5); },
        {x, y});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::huber_loss(in[0], in[1], r, 0.7); },
        {x, y});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy(in[0], in[1], bce_weight, r);
        },
        {uniform_leaf({3, 4}, 0.1, 0.9), uniform_leaf({3, 4}, 0.0, 1.0, 2)});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(
              in[0], in[1], {.weight = row_weight, .pos_weight = pos_weight, .reduction = r});
        },
        {x, uniform_leaf({3, 4}, 0.0, 1.0, 2)});
  }
}

}  // namespace
}  // namespace ignis

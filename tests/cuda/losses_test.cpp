// CPU-vs-CUDA parity of the composite losses (NLLLoss, MSELoss, L1Loss, SmoothL1Loss,
// HuberLoss, BCELoss, BCEWithLogitsLoss), module and functional forms, every reduction:
// the loss and the gradient of every floating input (input, target, weights), float32 and
// float64. Not cross_entropy (its fused kernels: cross_entropy_test.cpp). Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/indexing.h"
#include "autograd/math.h"
#include "nn/functional.h"
#include "nn/loss.h"
#include "support/parity.h"
#include "tensor/factory.h"
#include "tensor/generator.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using nn::Reduction;
using test::elementwise_tolerance;
using test::expect_parity;
using test::normal;

class CudaLosses : public test::ParityTest {};

const std::vector<DType> kFloatTypes = {kFloat32, kFloat64};
const std::vector<Reduction> kReductions = {Reduction::None, Reduction::Mean, Reduction::Sum};

std::string label(const char* loss, Reduction reduction, DType dtype) {
  return std::string(loss) + " " + nn::reduction_name(reduction) + " " + dtype_name(dtype);
}

// Uniform values in [0, 1) drawn in float64 from `seed`, then converted to dtype.
Tensor uniform(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return rand(shape, {.dtype = kFloat64}, &gen).to(dtype);
}

// Log-probabilities from logits (the gradient flows back through log_softmax), class weights
// (constants: nll_loss, as PyTorch, gives them no gradient), targets with the default
// ignore_index -100 and with ignore_index 2; a (N, C, d) input.
TEST_F(CudaLosses, NLLLossForwardAndBackward) {
  const Tensor target = tensor({0, 4, 2, -100, 1, 2, 3, 4});
  const Tensor target_ignoring_2 = tensor({0, 4, 2, 3, 1, 2, 2, 4});
  Generator gen(1);
  const Tensor target_3d = randint(0, 5, {4, 3}, {.dtype = kInt64}, &gen);
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("NLLLoss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      const Tensor &logits = in[0], &y = in[1], &weight = in[2],
                                   &logits_3d = in[3], &y_3d = in[4], &y_2 = in[5];
                      const Tensor logp = log_softmax(logits, 1);
                      nn::NLLLoss plain({.reduction = r});
                      nn::NLLLoss weighted({.weight = weight, .reduction = r});
                      return std::vector<Tensor>{
                          plain(logp, y), weighted(logp, y),
                          F::nll_loss(logp, y_2,
                                      {.weight = weight, .ignore_index = 2, .reduction = r}),
                          F::nll_loss(log_softmax(logits_3d, 1), y_3d, {.reduction = r})};
                    },
                    {normal({8, 5}, dtype, 2), target,
                     test::constant(normal({5}, dtype, 3).abs() + 0.5),
                     normal({4, 5, 3}, dtype, 4), target_3d, target_ignoring_2},
                    device(), elementwise_tolerance(dtype));
    }
  }
}

// The elementwise regression losses on d = input - target of both signs and either side of
// beta / delta; the gradient of the target too.
TEST_F(CudaLosses, MSELossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("MSELoss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      return std::vector<Tensor>{nn::MSELoss(r)(in[0], in[1])};
                    },
                    {normal({6, 7}, dtype, 5) * 2.0, normal({6, 7}, dtype, 6)}, device(),
                    elementwise_tolerance(dtype));
    }
  }
}

TEST_F(CudaLosses, L1LossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("L1Loss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      return std::vector<Tensor>{nn::L1Loss(r)(in[0], in[1])};
                    },
                    {normal({6, 7}, dtype, 7) * 2.0, normal({6, 7}, dtype, 8)}, device(),
                    elementwise_tolerance(dtype));
    }
  }
}

TEST_F(CudaLosses, SmoothL1LossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("SmoothL1Loss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      return std::vector<Tensor>{nn::SmoothL1Loss(r)(in[0], in[1]),
                                                 nn::SmoothL1Loss(r, 0.5)(in[0], in[1]),
                                                 F::smooth_l1_loss(in[0], in[1], r, 0.0)};
                    },
                    {normal({6, 7}, dtype, 9) * 2.0, normal({6, 7}, dtype, 10)}, device(),
                    elementwise_tolerance(dtype));
    }
  }
}

TEST_F(CudaLosses, HuberLossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("HuberLoss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      return std::vector<Tensor>{nn::HuberLoss(r)(in[0], in[1]),
                                                 nn::HuberLoss(r, 0.7)(in[0], in[1])};
                    },
                    {normal({6, 7}, dtype, 11) * 2.0, normal({6, 7}, dtype, 12)}, device(),
                    elementwise_tolerance(dtype));
    }
  }
}

// Probabilities from logits (the gradient flows through sigmoid), soft targets, a weight
// broadcast over rows. Probabilities of exactly 0 and 1 (log clamped at -100) as a constant
// input: their derivative is infinite, the target's is not.
TEST_F(CudaLosses, BCELossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    const Tensor edges = tensor({{0.0, 1.0, 0.5, 1.0}, {1.0, 0.0, 1e-30, 0.25}}).to(dtype);
    for (const Reduction r : kReductions) {
      expect_parity(label("BCELoss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      const Tensor &logits = in[0], &y = in[1], &weight = in[2], &p = in[3],
                                   &y_edges = in[4];
                      const Tensor probs = sigmoid(logits);
                      return std::vector<Tensor>{nn::BCELoss({}, r)(probs, y),
                                                 nn::BCELoss(weight, r)(probs, y),
                                                 F::binary_cross_entropy(p, y_edges, {}, r)};
                    },
                    {normal({6, 7}, dtype, 13) * 2.0, uniform({6, 7}, dtype, 14),
                     uniform({7}, dtype, 15) + 0.5, test::constant(edges),
                     uniform({2, 4}, dtype, 16)},
                    device(), elementwise_tolerance(dtype));
    }
  }
}

// Logits of both signs and large ones (|x| up to ~60, where the naive form overflows), a
// per-class pos_weight and a weight broadcast over columns.
TEST_F(CudaLosses, BCEWithLogitsLossForwardAndBackward) {
  for (const DType dtype : kFloatTypes) {
    for (const Reduction r : kReductions) {
      expect_parity(label("BCEWithLogitsLoss", r, dtype),
                    [r](const std::vector<Tensor>& in) {
                      const Tensor &x = in[0], &y = in[1], &weight = in[2], &pos = in[3];
                      nn::BCEWithLogitsLoss plain({.reduction = r});
                      nn::BCEWithLogitsLoss weighted(
                          {.weight = weight, .pos_weight = pos, .reduction = r});
                      return std::vector<Tensor>{plain(x, y), weighted(x, y),
                                                 F::binary_cross_entropy_with_logits(
                                                     x * 20.0, y, {.reduction = r})};
                    },
                    {normal({6, 4}, dtype, 17) * 3.0, uniform({6, 4}, dtype, 18),
                     uniform({6, 1}, dtype, 19) + 0.5, uniform({4}, dtype, 20) * 3.0},
                    device(), elementwise_tolerance(dtype));
    }
  }
}

}  // namespace
}  // namespace ignis

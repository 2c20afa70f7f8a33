// The fused CPU embedding_bag (nn/embedding_bag.cpp): results equal to a serial loop and the
// same for every thread count, second derivatives, non-contiguous weights. The PyTorch
// fixtures are in reference_test.cpp, the first-derivative gradchecks in gradcheck_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "nn/functional.h"
#include "support/threads_and_windows.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using nn::EmbeddingBagMode;

constexpr int64_t kV = 5000, kD = 16, kB = 300;

// Flat indices drawn from a small range (so rows repeat within and across bags) and offsets
// of kB bags of 0..9 entries (some empty).
struct Batch {
  std::vector<int64_t> indices, offsets;
};

Batch make_batch() {
  Generator gen(3);
  const std::vector<int64_t> lengths =
      randint(0, 10, {kB}, {.dtype = kInt64}, &gen).to_vector<int64_t>();
  Batch batch;
  for (int64_t b = 0; b < kB; ++b) {
    batch.offsets.push_back(static_cast<int64_t>(batch.indices.size()));
    for (int64_t j = 0; j < lengths[b]; ++j) {
      batch.indices.push_back(randint(0, 700, {1}, {.dtype = kInt64}, &gen).item<int64_t>() * 7);
    }
  }
  return batch;
}

// out (B, D) and dweight (V, D) of a float32 mean bag with dout = ones, at `threads` threads.
std::pair<std::vector<float>, std::vector<float>> run_fused(const Batch& batch, int threads) {
  test::ThreadCountGuard restore;
  set_num_threads(threads);
  Generator gen(5);
  const Tensor weight = randn({kV, kD}, {}, &gen);
  weight.requires_grad_();
  const Tensor out = F::embedding_bag(from_vector(batch.indices), weight,
                                      from_vector(batch.offsets), EmbeddingBagMode::Mean);
  out.backward(ones({kB, kD}));
  return {out.to_vector<float>(), weight.grad().to_vector<float>()};
}

TEST(EmbeddingBagFused, MatchesASerialLoopForAnyThreadCount) {
  const Batch batch = make_batch();
  Generator gen(5);
  const std::vector<float> w = randn({kV, kD}, {}, &gen).to_vector<float>();
  // The reference: sums in input order, then / count; dweight rows accumulate 1 / count in
  // input order.
  std::vector<float> out(kB * kD, 0.0f), dweight(kV * kD, 0.0f);
  const int64_t n = static_cast<int64_t>(batch.indices.size());
  for (int64_t b = 0; b < kB; ++b) {
    const int64_t end = b + 1 < kB ? batch.offsets[b + 1] : n;
    const float count = static_cast<float>(std::max<int64_t>(end - batch.offsets[b], 1));
    for (int64_t d = 0; d < kD; ++d) {
      for (int64_t j = batch.offsets[b]; j < end; ++j) {
        out[b * kD + d] += w[batch.indices[j] * kD + d];
      }
      out[b * kD + d] /= count;
    }
    for (int64_t j = batch.offsets[b]; j < end; ++j) {
      for (int64_t d = 0; d < kD; ++d) dweight[batch.indices[j] * kD + d] += 1.0f / count;
    }
  }
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    const auto [fused_out, fused_dweight] = run_fused(batch, threads);
    EXPECT_EQ(fused_out, out);
    EXPECT_EQ(fused_dweight, dweight);
  }
}

TEST(EmbeddingBagFused, SecondDerivativeThroughTheBackward) {
  // dweight = J^T dout is linear in dout; its derivative in dout runs the forward again.
  const Tensor indices = tensor({1, 4, 4, 0, 2, 3, 5, 1, 2});
  const Tensor offsets = tensor({0, 2, 2, 6});
  Generator gen(2);
  const Tensor weight = randn({6, 3}, {.dtype = kFloat64}, &gen);
  weight.requires_grad_();
  Tensor dout = randn({4, 3}, {.dtype = kFloat64}, &gen);
  dout.requires_grad_();
  for (EmbeddingBagMode mode : {EmbeddingBagMode::Sum, EmbeddingBagMode::Mean}) {
    SCOPED_TRACE(nn::embedding_bag_mode_name(mode));
    const autograd::GradcheckResult result = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          const Tensor out = F::embedding_bag(indices, weight, offsets, mode, {}, false, 4);
          return autograd::grad({out}, {weight}, {in[0]}, false, true)[0];
        },
        {dout});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(EmbeddingBagFused, NonContiguousWeightAndInt32Indices) {
  Generator gen(4);
  const Tensor storage = randn({3, 7}, {}, &gen);  // weight = its transpose, (7, 3)
  storage.requires_grad_();
  const Tensor weight = storage.t();
  const Tensor out = F::embedding_bag(tensor({6, 0, 6, 2}).to(kInt32), weight, tensor({0, 3}),
                                      EmbeddingBagMode::Sum);
  const std::vector<float> w = weight.contiguous().to_vector<float>();
  const std::vector<float> expected = {w[18] + w[0] + w[18], w[19] + w[1] + w[19],
                                       w[20] + w[2] + w[20], w[6], w[7], w[8]};
  EXPECT_EQ(out.to_vector<float>(), expected);
  out.sum().backward();
  // storage.grad (3, 7): column v counts the uses of row v.
  const std::vector<float> uses = {1, 0, 1, 0, 0, 0, 2};
  std::vector<float> expected_grad;
  for (int d = 0; d < 3; ++d) expected_grad.insert(expected_grad.end(), uses.begin(), uses.end());
  EXPECT_EQ(storage.grad().to_vector<float>(), expected_grad);
}

}  // namespace
}  // namespace ignis

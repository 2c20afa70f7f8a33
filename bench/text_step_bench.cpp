// Google Benchmark of the text-classification training step (`ignis train --model bag`):
// EmbeddingBag(V, D, mean) -> Linear(D, C) -> cross-entropy -> Adam(weight_decay 1e-5) at
// V = 60000, D = 64, C = 41, B = 64 bags of ~18 tokens, and its pieces in GB/s. Twin of
// bench/text_step_torch.py. Not the data pipeline: the batches are made up front.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "autograd/grad_mode.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "optim/adam.h"
#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

// V vocabulary, D embedding width, C classes, B bags per batch, T mean tokens per bag.
constexpr int64_t kVocab = 60000, kDim = 64, kClasses = 41, kBatch = 64, kTokens = 18;
constexpr int64_t kBatches = 16;  // distinct batches cycled through, as an epoch would

// One batch in the DataLoader's bag layout: flat token ids and each bag's start.
struct Batch {
  Tensor input;    // (K,) int64, K ~ B * T
  Tensor offsets;  // (B,) int64
  Tensor target;   // (B,) int64
};

// Bags of 9..27 tokens (mean T), ids drawn uniformly: a fixed seed, so every run sees the
// same batches.
std::vector<Batch> make_batches() {
  Generator gen(7);
  std::vector<Batch> batches;
  for (int64_t i = 0; i < kBatches; ++i) {
    const std::vector<int64_t> lengths =
        randint(kTokens / 2, kTokens * 3 / 2 + 1, {kBatch}, {.dtype = kInt64}, &gen)
            .to_vector<int64_t>();
    std::vector<int64_t> starts(kBatch);
    int64_t total = 0;
    for (int64_t b = 0; b < kBatch; ++b) {
      starts[b] = total;
      total += lengths[b];
    }
    batches.push_back({randint(0, kVocab, {total}, {.dtype = kInt64}, &gen),
                       from_vector(starts, Shape{kBatch}),
                       randint(0, kClasses, {kBatch}, {.dtype = kInt64}, &gen)});
  }
  return batches;
}

// The model and optimizer of the CLI's bag model.
struct TextModel {
  nn::EmbeddingBag embedding{kVocab, kDim};
  nn::Linear linear{kDim, kClasses};
  nn::CrossEntropyLoss criterion;
  optim::Adam optimizer{{embedding.weight, linear.weight, linear.bias},
                        {.lr = 1e-3, .weight_decay = 1e-5}};

  float step(const Batch& batch) {
    optimizer.zero_grad();
    const Tensor loss = criterion(linear(embedding(batch.input, batch.offsets)), batch.target);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  }
};

// Arg: threads. Reports microseconds per step (the time column).
void BM_TextTrainingStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  manual_seed(0);
  const std::vector<Batch> batches = make_batches();
  TextModel model;
  for (int64_t i = 0; i < 20; ++i) model.step(batches[i % kBatches]);  // warm-up: state, caches
  int64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(model.step(batches[i++ % kBatches]));
}
BENCHMARK(BM_TextTrainingStep)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Bytes of one bag forward: K rows of D read, B rows of D written, K + B int64 indices read.
double forward_bytes(const Batch& batch) {
  const auto k = static_cast<double>(batch.input.numel());
  return (k + kBatch) * kDim * 4.0 + (k + kBatch) * 8.0;
}

// The bag forward alone (weight requires grad, so the graph node is recorded as in training).
void BM_EmbeddingBagForward(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  manual_seed(0);
  const std::vector<Batch> batches = make_batches();
  nn::EmbeddingBag embedding(kVocab, kDim);
  double bytes = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const Batch& batch = batches[i++ % kBatches];
    benchmark::DoNotOptimize(embedding(batch.input, batch.offsets));
    bytes += forward_bytes(batch);
  }
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmbeddingBagForward)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The bag backward into a dense (V, D) gradient: the graph is built outside the timer
// (retained, re-run each iteration) and the gradient dropped before each run, as zero_grad
// does. Bytes: the dense gradient written once, K rows of D read and accumulated.
void BM_EmbeddingBagBackward(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  manual_seed(0);
  const std::vector<Batch> batches = make_batches();
  nn::EmbeddingBag embedding(kVocab, kDim);
  const Batch& batch = batches[0];
  const Tensor out = embedding(batch.input, batch.offsets);  // (B, D)
  const Tensor dout = randn({kBatch, kDim});
  const auto k = static_cast<double>(batch.input.numel());
  const double bytes = kVocab * kDim * 4.0 + 2.0 * k * kDim * 4.0 + kBatch * kDim * 4.0;
  for (auto _ : state) {
    embedding.weight.set_grad(Tensor());
    out.backward(dout, /*retain_graph=*/true);
    benchmark::DoNotOptimize(embedding.weight.grad());
  }
  state.counters["GB/s"] = benchmark::Counter(
      bytes * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmbeddingBagBackward)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// One Adam step over a (V, D) table with a dense gradient: 28 bytes per parameter (read
// p, g, m, v; write p, m, v). Args: threads, V (60000: the model's table, streamed from
// memory; 2000: 0.5 MB per buffer, cache-resident, so the arithmetic alone).
void BM_AdamStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const int64_t vocab = state.range(1);
  manual_seed(0);
  const Tensor weight = randn({vocab, kDim});
  weight.requires_grad_();
  weight.set_grad(randn({vocab, kDim}));
  optim::Adam optimizer({weight}, {.lr = 1e-3, .weight_decay = 1e-5});
  optimizer.step();
  for (auto _ : state) optimizer.step();
  state.counters["GB/s"] = benchmark::Counter(
      28.0 * static_cast<double>(vocab * kDim) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdamStep)
    ->ArgNames({"threads", "V"})
    ->Args({1, kVocab})
    ->Args({2, kVocab})
    ->Args({1, 2000})
    ->Args({2, 2000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

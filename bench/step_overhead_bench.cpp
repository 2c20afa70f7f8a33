// Google Benchmark of the framework overhead: one training step (zero_grad, forward,
// cross-entropy, backward, Adam step, loss read back) of a 784-64-10 ReLU MLP at batch 32,
// where the arithmetic is small and the per-op costs (graph nodes, allocations, dispatch,
// thread hand-offs) dominate. Twin of bench/step_overhead_torch.py. Not a GEMM benchmark.
#include <benchmark/benchmark.h>

#include "nn/container.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "optim/adam.h"
#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

constexpr int64_t kBatch = 32, kIn = 784, kHidden = 64, kClasses = 10;

// FLOPs of one step: forward 2*B*(in*hidden + hidden*classes); backward the weight gradients
// of both layers (the same again) and the input gradient of the second layer (2*B*hidden*
// classes); Adam about 10 FLOPs per parameter. The first layer's input gradient is not needed.
constexpr double kFlopsPerStep =
    2.0 * kBatch * (kIn * kHidden + kHidden * kClasses) * 2.0 +
    2.0 * kBatch * kHidden * kClasses + 10.0 * (kIn * kHidden + kHidden + kHidden * kClasses + kClasses);

// Arg: threads. Reports microseconds per step (the time column) and GFLOP/s.
void BM_MlpTrainingStep(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  manual_seed(0);
  nn::Sequential model(nn::Linear(kIn, kHidden), nn::ReLU(), nn::Linear(kHidden, kClasses));
  optim::Adam optimizer(model.parameters(), {.lr = 1e-3, .weight_decay = 1e-5});
  nn::CrossEntropyLoss criterion;
  Generator gen(1);
  const Tensor x = randn({kBatch, kIn}, {}, &gen);                        // (B, in)
  const Tensor y = randint(0, kClasses, {kBatch}, {.dtype = kInt64}, &gen);  // (B,)
  const auto step = [&] {
    optimizer.zero_grad();
    const Tensor loss = criterion(model(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 200; ++i) step();  // warm-up: allocator caches, Adam state
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["GFLOP/s"] = benchmark::Counter(kFlopsPerStep * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MlpTrainingStep)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

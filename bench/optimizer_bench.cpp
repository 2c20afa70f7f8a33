// Google Benchmark of one optimizer step (Adam, AdamW, SGD with momentum) and of zero_grad,
// over the parameters of the Fashion-MNIST mlp (784-512-256-10: 535,818 float32 in 6 tensors)
// and over one 60000 x 64 table (3,840,000 float32), at 1 and 2 threads. Bytes counted are
// those the step must move per parameter: Adam/AdamW 28 (read p, g, m, v; write p, m, v),
// SGD with momentum 20 (read p, g, buf; write p, buf), zero_grad filling zeros 4 (write g),
// so results read as GB/s against the memory bandwidth (machine_bench.cpp).
// Not a benchmark of the update's accuracy: tests/optim/ compare it with PyTorch.
// bench/optimizer_torch.py times torch.optim on the same parameters.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

enum ParamSet : int64_t { kMlp = 0, kTable = 1 };

// The parameter shapes of a set: the mlp's (weight, bias) pairs, or the table.
std::vector<Shape> param_shapes(int64_t set) {
  if (set == kMlp) return {{512, 784}, {512}, {256, 512}, {256}, {10, 256}, {10}};
  return {{60000, 64}};
}

// Parameters ~ N(0, 0.01^2) with gradients ~ N(0, 1) attached, from a fixed seed.
std::vector<Tensor> make_params(int64_t set) {
  Generator gen(0);
  std::vector<Tensor> params;
  for (const Shape& shape : param_shapes(set)) {
    Tensor p = raw::mul(randn(shape, {}, &gen), Scalar(0.01));
    p.requires_grad_();
    p.set_grad(randn(shape, {}, &gen));
    params.push_back(p);
  }
  return params;
}

int64_t param_count(const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  return n;
}

// Args: set (0 mlp, 1 table), threads. Times optimizer.step() with the gradients fixed;
// the first step (state allocation) runs before the timed loop.
template <typename MakeOptimizer>
void run_step(benchmark::State& state, int64_t bytes_per_param, MakeOptimizer make) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::vector<Tensor> params = make_params(state.range(0));
  std::unique_ptr<optim::Optimizer> optimizer = make(params);
  optimizer->step();
  for (auto _ : state) optimizer->step();
  state.SetBytesProcessed(state.iterations() * bytes_per_param * param_count(params));
  state.counters["params"] = static_cast<double>(param_count(params));
}

// Adam with the jobs' L2 weight decay (lr 1e-3, weight_decay 1e-5).
void BM_AdamStep(benchmark::State& state) {
  run_step(state, 28, [](const std::vector<Tensor>& params) {
    return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 1e-3, .weight_decay = 1e-5});
  });
}

// AdamW with its default decoupled weight decay (1e-2).
void BM_AdamWStep(benchmark::State& state) {
  run_step(state, 28, [](const std::vector<Tensor>& params) {
    return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = 1e-3});
  });
}

// SGD with momentum 0.9, no weight decay.
void BM_SGDMomentumStep(benchmark::State& state) {
  run_step(state, 20, [](const std::vector<Tensor>& params) {
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 1e-2, .momentum = 0.9});
  });
}

// zero_grad(set_to_none = false): fills every gradient with zeros, 4 bytes written per param.
void BM_ZeroGradFill(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::vector<Tensor> params = make_params(state.range(0));
  optim::SGD optimizer(params);
  for (auto _ : state) optimizer.zero_grad(/*set_to_none=*/false);
  state.SetBytesProcessed(state.iterations() * 4 * param_count(params));
}

// zero_grad() (set_to_none, the default): drops each gradient. Each iteration first attaches
// the saved gradients again, so the time covers set_grad + zero_grad per tensor (no bytes).
void BM_ZeroGradSetToNone(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::vector<Tensor> params = make_params(state.range(0));
  std::vector<Tensor> grads;
  for (const Tensor& p : params) grads.push_back(p.grad());
  optim::SGD optimizer(params);
  for (auto _ : state) {
    for (size_t i = 0; i < params.size(); ++i) params[i].set_grad(grads[i]);
    optimizer.zero_grad();
  }
}

void sets_and_threads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"set", "threads"});
  for (int64_t set : {kMlp, kTable}) {
    for (int64_t threads : {1, 2}) b->Args({set, threads});
  }
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}
BENCHMARK(BM_AdamStep)->Apply(sets_and_threads);
BENCHMARK(BM_AdamWStep)->Apply(sets_and_threads);
BENCHMARK(BM_SGDMomentumStep)->Apply(sets_and_threads);
BENCHMARK(BM_ZeroGradFill)->Apply(sets_and_threads);
BENCHMARK(BM_ZeroGradSetToNone)->Apply(sets_and_threads);

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

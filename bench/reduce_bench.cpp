// Google Benchmark of the CPU reductions and softmax: sum over all elements, row sums and
// softmax of a (4096, 1024) matrix. Reports bytes read and written, so results read as GB/s.
#include <benchmark/benchmark.h>

#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/reduce.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

Tensor random_tensor(const Shape& shape) {
  Generator gen(0);
  return randn(shape, {}, &gen);
}

// sum over all of n float32 values: reads 4n bytes.
void BM_SumAll(benchmark::State& state) {
  const Tensor x = random_tensor({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(raw::sum(x).item<float>());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.nbytes()));
}
BENCHMARK(BM_SumAll)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Sums of the rows (dim 1, contiguous) of a (4096, 1024) float32 matrix.
void BM_SumRows(benchmark::State& state) {
  const Tensor x = random_tensor({4096, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(raw::sum(x, {1}).raw_data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.nbytes() + 4096 * 4));
}
BENCHMARK(BM_SumRows)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Sums of the columns (dim 0) of a (4096, 1024) float32 matrix, as every bias gradient does,
// at 1 and 2 threads (arg: threads).
void BM_SumColumns(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(0)));
  const Tensor x = random_tensor({4096, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(raw::sum(x, {0}).raw_data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.nbytes() + 1024 * 4));
}
BENCHMARK(BM_SumColumns)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// softmax over the last dim of a (4096, 1024) float32 matrix: reads and writes 16 MiB.
void BM_SoftmaxRows(benchmark::State& state) {
  const Tensor x = random_tensor({4096, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(raw::softmax(x, 1).raw_data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(2 * x.nbytes()));
}
BENCHMARK(BM_SoftmaxRows)->Unit(benchmark::kMicrosecond)->UseRealTime();

// softmax over dim 0 (the strided, inner > 1 kernel path).
void BM_SoftmaxColumns(benchmark::State& state) {
  const Tensor x = random_tensor({4096, 1024});
  for (auto _ : state) benchmark::DoNotOptimize(raw::softmax(x, 0).raw_data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(2 * x.nbytes()));
}
BENCHMARK(BM_SoftmaxColumns)->Unit(benchmark::kMicrosecond)->UseRealTime();

// amax over all of 16M float32 values (the NaN-propagating vectorised max).
void BM_AmaxAll(benchmark::State& state) {
  const Tensor x = random_tensor({1 << 24});
  for (auto _ : state) benchmark::DoNotOptimize(raw::amax(x).item<float>());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.nbytes()));
}
BENCHMARK(BM_AmaxAll)->Unit(benchmark::kMicrosecond)->UseRealTime();

// argmax over all of 16M float32 values.
void BM_ArgmaxAll(benchmark::State& state) {
  const Tensor x = random_tensor({1 << 24});
  for (auto _ : state) benchmark::DoNotOptimize(raw::argmax(x).item<int64_t>());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(x.nbytes()));
}
BENCHMARK(BM_ArgmaxAll)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

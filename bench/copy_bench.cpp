// Throughput of the CPU copy kernel in GB/s (bytes read + written per second), at 1 and 2
// threads: a contiguous copy, and the transposing copy that raw::contiguous makes of a
// transposed matrix. Not a correctness test: see tests/tensor/copy_test.cpp.
#include <benchmark/benchmark.h>

#include "tensor/dispatch.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

// Args: {rows, cols, threads}: the source is a float32 (rows, cols) matrix.
void copy_args(benchmark::internal::Benchmark* b) {
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{4096, 1024}, {1024, 4096}}) {
    for (int64_t threads : {1, 2}) b->Args({rows, cols, threads});
  }
  b->ArgNames({"rows", "cols", "threads"});
  b->UseRealTime();
  b->Unit(benchmark::kMicrosecond);
}

// dst (shape of src) = src through the copy kernel, into a preallocated contiguous dst.
void run_copy(benchmark::State& state, const Tensor& src) {
  set_num_threads(static_cast<int>(state.range(2)));
  Tensor dst = empty(src.sizes());
  auto kernel = get_kernel(&KernelTable::copy, Device::cpu(), "bench");
  for (auto _ : state) {
    kernel(dst, src);
    benchmark::DoNotOptimize(dst.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(2 * src.nbytes()));
}

// dst (rows, cols) = x (rows, cols), both contiguous.
void BM_CopyContiguous(benchmark::State& state) {
  run_copy(state, randn({state.range(0), state.range(1)}));
}
BENCHMARK(BM_CopyContiguous)->Apply(copy_args);

// dst (rows, cols) = x.t() with x (cols, rows) contiguous: the transposing copy.
void BM_CopyTransposed(benchmark::State& state) {
  run_copy(state, raw::t(randn({state.range(1), state.range(0)})));
}
BENCHMARK(BM_CopyTransposed)->Apply(copy_args);

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

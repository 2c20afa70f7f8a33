// Throughput of the CPU elementwise kernels in GB/s (bytes read + written per second), at
// 1 and 2 threads. Kernel runs write into a preallocated output; "op" runs include the
// allocation a raw op makes. Not a correctness test: see tests/tensor/elementwise_test.cpp.
#include <benchmark/benchmark.h>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

// Args: {elements, threads}
void apply_args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{1} << 20, int64_t{1} << 24}) {
    for (int64_t threads : {1, 2}) b->Args({n, threads});
  }
  b->ArgNames({"n", "threads"});
  b->UseRealTime();
}

void set_bytes(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
}

void binary_kernel(benchmark::State& state, BinaryOp op) {
  const int64_t n = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Tensor a = randn({n}), b = randn({n}), out = empty({n});
  auto kernel = get_kernel(&KernelTable::binary, Device::cpu(), "bench");
  for (auto _ : state) {
    kernel(op, a, b, out);
    benchmark::DoNotOptimize(out.raw_data());
  }
  set_bytes(state, 3 * n * 4);
}

void unary_kernel(benchmark::State& state, UnaryOp op) {
  const int64_t n = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Tensor x = randn({n}), out = empty({n});
  auto kernel = get_kernel(&KernelTable::unary, Device::cpu(), "bench");
  for (auto _ : state) {
    kernel(op, UnaryParams{}, x, out);
    benchmark::DoNotOptimize(out.raw_data());
  }
  set_bytes(state, 2 * n * 4);
}

void BM_AddKernel(benchmark::State& state) { binary_kernel(state, BinaryOp::Add); }
void BM_MulKernel(benchmark::State& state) { binary_kernel(state, BinaryOp::Mul); }
void BM_ExpKernel(benchmark::State& state) { unary_kernel(state, UnaryOp::Exp); }
void BM_LogKernel(benchmark::State& state) { unary_kernel(state, UnaryOp::Log); }
void BM_ReluKernel(benchmark::State& state) { unary_kernel(state, UnaryOp::Relu); }
void BM_TanhKernel(benchmark::State& state) { unary_kernel(state, UnaryOp::Tanh); }

// out (rows, 1024) = x + bias (1024,): the bias row is re-read for every row.
void BM_BiasAddKernel(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int64_t cols = 1024, rows = n / cols;
  set_num_threads(static_cast<int>(state.range(1)));
  Tensor x = randn({rows, cols}), bias = randn({cols}), out = empty({rows, cols});
  Tensor bias_rows = raw::expand(bias, {rows, cols});
  auto kernel = get_kernel(&KernelTable::binary, Device::cpu(), "bench");
  for (auto _ : state) {
    kernel(BinaryOp::Add, x, bias_rows, out);
    benchmark::DoNotOptimize(out.raw_data());
  }
  set_bytes(state, 2 * n * 4 + cols * 4);
}

// x * 0.5 through the op: promotion, a broadcast number, and the output allocation.
void BM_MulScalarOp(benchmark::State& state) {
  const int64_t n = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Tensor x = randn({n});
  for (auto _ : state) {
    Tensor y = raw::mul(x, Scalar(0.5));
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2 * n * 4);
}

// The same add through the op, with its output allocation, for comparison with the kernel.
void BM_AddOp(benchmark::State& state) {
  const int64_t n = state.range(0);
  set_num_threads(static_cast<int>(state.range(1)));
  Tensor a = randn({n}), b = randn({n});
  for (auto _ : state) {
    Tensor y = raw::add(a, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 3 * n * 4);
}

BENCHMARK(BM_AddKernel)->Apply(apply_args);
BENCHMARK(BM_MulKernel)->Apply(apply_args);
BENCHMARK(BM_BiasAddKernel)->Apply(apply_args);
BENCHMARK(BM_ExpKernel)->Apply(apply_args);
BENCHMARK(BM_LogKernel)->Apply(apply_args);
BENCHMARK(BM_TanhKernel)->Apply(apply_args);
BENCHMARK(BM_ReluKernel)->Apply(apply_args);
BENCHMARK(BM_MulScalarOp)->Apply(apply_args);
BENCHMARK(BM_AddOp)->Apply(apply_args);

}  // namespace
}  // namespace ignis

BENCHMARK_MAIN();

// Google Benchmark suite of the CPU GEMM: cpu::gemm on the shapes of gemm_shapes.h in
// float32 (and float64 for the square ones), plus raw::matmul to show the Tensor-level
// overhead. Reports GFLOP/s. Not a comparison with other libraries: see gemm_vs_openblas.cpp.
//
// The thread count is ignis's (IGNIS_NUM_THREADS); each result's label names the kernel.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/gemm_shapes.h"
#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/kernels.h"
#include "tensor/factory.h"
#include "tensor/linalg.h"
#include "tensor/thread_pool.h"

namespace {

using ignis::bench::GemmShape;

void set_counters(benchmark::State& state, const GemmShape& s) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(s.m * s.n * s.k), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.SetLabel(std::string(ignis::cpu::gemm_isa_name(ignis::cpu::gemm_isa())) + ", " +
                 std::to_string(ignis::get_num_threads()) + " thread(s)");
}

// C = op(A) @ op(B) through cpu::gemm on dense row-major operands.
template <typename T>
void bm_gemm(benchmark::State& state, const GemmShape& s) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<T> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n)),
      c(static_cast<size_t>(s.m * s.n));
  for (T& x : a) x = static_cast<T>(uniform(rng));
  for (T& x : b) x = static_cast<T>(uniform(rng));
  const ignis::GemmArgs args{ignis::dtype_of<T>, s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0,
                             0.0, a.data(), s.trans_a ? s.m : s.k, 0, b.data(),
                             s.trans_b ? s.k : s.n, 0, c.data(), s.n, 0};
  for (auto _ : state) {
    ignis::cpu::gemm(args);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// out = a @ b through raw::matmul: shape checks, output allocation and the kernel.
void bm_matmul(benchmark::State& state, const GemmShape& s) {
  const ignis::Tensor a = ignis::rand({s.m, s.k});
  const ignis::Tensor b = ignis::rand({s.k, s.n});
  for (auto _ : state) benchmark::DoNotOptimize(ignis::raw::matmul(a, b));
  set_counters(state, s);
}

}  // namespace

int main(int argc, char** argv) {
  for (const GemmShape& s : ignis::bench::gemm_shapes()) {
    const std::string op = std::string(s.trans_a ? "T" : "N") + (s.trans_b ? "T" : "N");
    benchmark::RegisterBenchmark(("sgemm/" + s.name + "/" + op).c_str(),
                                 [s](benchmark::State& st) { bm_gemm<float>(st, s); })
        ->UseRealTime();
    if (s.name.rfind("square_", 0) == 0) {
      benchmark::RegisterBenchmark(("dgemm/" + s.name + "/" + op).c_str(),
                                   [s](benchmark::State& st) { bm_gemm<double>(st, s); })
          ->UseRealTime();
    }
  }
  const GemmShape square_512{"square_512", false, false, 512, 512, 512};
  benchmark::RegisterBenchmark("matmul/square_512",
                               [square_512](benchmark::State& st) { bm_matmul(st, square_512); })
      ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Google Benchmark suite of the CPU GEMM: cpu::gemm on the shapes of gemm_shapes.h in
// float32 (and float64 for the square ones), plus raw::matmul to show the Tensor-level
// overhead, and raw::linear + ReLU fused (the GEMM's epilogue) against unfused (a second
// pass) on the layers of the image job. Reports GFLOP/s. Not a comparison with other
// libraries: see gemm_vs_openblas.cpp.
//
// The thread count is ignis's (IGNIS_NUM_THREADS); each result's label names the kernel.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/gemm_shapes.h"
#include "tensor/cpu/gemm_isa.h"
#include "tensor/cpu/kernels.h"
#include "tensor/elementwise.h"
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

// How linear_relu computes relu(x @ w^T + b), x (rows, in), w (out, in): fused, ReLU applied
// by the GEMM to each piece of the output it finishes; unfused, raw::linear then raw::unary's
// separate pass into a new tensor (what Linear followed by ReLU does in a forward); or
// x @ w^T + b alone (the baseline that both add to).
enum class ReluMode { Fused, Unfused, None };

void bm_linear_relu(benchmark::State& state, int64_t rows, int64_t in, int64_t out,
                    ReluMode mode) {
  const ignis::Tensor x = ignis::randn({rows, in});
  const ignis::Tensor w = ignis::randn({out, in});
  const ignis::Tensor b = ignis::randn({out});
  for (auto _ : state) {
    switch (mode) {
      case ReluMode::Fused:
        benchmark::DoNotOptimize(ignis::raw::linear(x, w, b, ignis::Activation::Relu));
        break;
      case ReluMode::Unfused:
        benchmark::DoNotOptimize(
            ignis::raw::unary(ignis::UnaryOp::Relu, ignis::raw::linear(x, w, b)));
        break;
      case ReluMode::None: benchmark::DoNotOptimize(ignis::raw::linear(x, w, b)); break;
    }
  }
  set_counters(state, {"", false, true, rows, out, in});
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
  // The hidden layers of train-images at batch 128 (mlp 784-512, 512-256; cnn 3136-128: the
  // output stays in L2), and 784-512 at batch 4096 (an 8 MiB output: the separate pass goes
  // to memory).
  const int64_t layers[][3] = {{128, 784, 512}, {128, 512, 256}, {128, 3136, 128},
                               {4096, 784, 512}};
  for (const auto& [rows, in, out] : layers) {
    const std::pair<ReluMode, const char*> modes[] = {
        {ReluMode::Fused, "fused"}, {ReluMode::Unfused, "unfused"}, {ReluMode::None, "no_relu"}};
    for (const auto& [mode, mode_name] : modes) {
      const std::string name = std::string("linear_relu/") + mode_name + "/" +
                               std::to_string(rows) + "x" + std::to_string(in) + "x" +
                               std::to_string(out);
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
        bm_linear_relu(st, rows, in, out, mode);
      })->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

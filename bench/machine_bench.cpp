// The machine's limits, so that kernel results read as a fraction of them: the fp32 FMA peak
// (independent FMA chains in registers, the widest ISA this CPU runs) and the memory
// bandwidth (read, write, copy and triad over arrays far larger than the caches).
// Not ignis code: nothing here calls the library.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/fma_probe.h"

namespace {

constexpr int64_t kChainsPerIteration = 1 << 12;  // FMA rounds per timed loop pass

// fp32 FLOP/s of FMA chains (bench/fma_probe.h). Runs once per benchmark thread, so
// ->Threads(2) measures both cores together.
void BM_FmaPeak(benchmark::State& state) {
  if (ignis::bench::fma_probe_lanes() == 0) {
    state.SkipWithError("no AVX2/FMA on this CPU");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(ignis::bench::fma_chains(kChainsPerIteration));
  state.counters["FLOP"] = benchmark::Counter(static_cast<double>(state.iterations()) *
                                                  kChainsPerIteration *
                                                  ignis::bench::fma_flop_per_round(),
                                              benchmark::Counter::kIsRate);
  state.SetLabel(ignis::bench::fma_probe_isa());
}
BENCHMARK(BM_FmaPeak)->Threads(1)->Threads(2)->UseRealTime();

// Arrays of 64 MiB per thread, far past L3; each benchmark thread has its own.
constexpr size_t kFloats = size_t{64} << 20 >> 2;

struct Arrays {
  std::vector<float> a = std::vector<float>(kFloats, 1.0f);
  std::vector<float> b = std::vector<float>(kFloats, 2.0f);
  std::vector<float> c = std::vector<float>(kFloats, 0.0f);
};

// Sums 32-bit integers: an integer sum vectorises without -ffast-math, a float one does not.
void BM_MemoryRead(benchmark::State& state) {
  std::vector<uint32_t> words(kFloats, 1);
  for (auto _ : state) {
    uint32_t sum = 0;
    for (size_t i = 0; i < kFloats; ++i) sum += words[i];
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFloats * sizeof(float)));
}
BENCHMARK(BM_MemoryRead)->Threads(1)->Threads(2)->UseRealTime();

void BM_MemoryWrite(benchmark::State& state) {
  Arrays x;
  for (auto _ : state) {
    std::memset(x.c.data(), 0, kFloats * sizeof(float));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFloats * sizeof(float)));
}
BENCHMARK(BM_MemoryWrite)->Threads(1)->Threads(2)->UseRealTime();

void BM_MemoryCopy(benchmark::State& state) {
  Arrays x;
  for (auto _ : state) {
    std::memcpy(x.c.data(), x.a.data(), kFloats * sizeof(float));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kFloats * sizeof(float)));
}
BENCHMARK(BM_MemoryCopy)->Threads(1)->Threads(2)->UseRealTime();

// STREAM's triad: c = a + s * b (2 reads, 1 write per element).
void BM_MemoryTriad(benchmark::State& state) {
  Arrays x;
  const float s = 3.0f;
  for (auto _ : state) {
    float* __restrict c = x.c.data();
    const float* __restrict a = x.a.data();
    const float* __restrict b = x.b.data();
    for (size_t i = 0; i < kFloats; ++i) c[i] = a[i] + s * b[i];
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 3 * kFloats * sizeof(float)));
}
BENCHMARK(BM_MemoryTriad)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

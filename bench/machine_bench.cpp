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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

constexpr int64_t kChainsPerIteration = 1 << 12;  // FMA rounds per timed loop pass

// 12 independent accumulator chains hide the FMA latency (4 cycles) on two FMA ports.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) double fma_avx512(int64_t rounds) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);  // NOTE: not _mm512_reduce_add_ps: GCC 12 warns inside it
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) double fma_avx2(int64_t rounds) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}
#endif

// fp32 FLOP/s of FMA chains: 2 FLOP per lane per FMA. Runs once per benchmark thread, so
// ->Threads(2) measures both cores together.
void BM_FmaPeak(benchmark::State& state) {
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!avx512 && !avx2) {
    state.SkipWithError("no AVX2/FMA on this CPU");
    return;
  }
  const int lanes = avx512 ? 16 : 8;
  for (auto _ : state) {
    benchmark::DoNotOptimize(avx512 ? fma_avx512(kChainsPerIteration)
                                    : fma_avx2(kChainsPerIteration));
  }
  state.counters["FLOP"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kChainsPerIteration * 12 * lanes * 2,
      benchmark::Counter::kIsRate);
  state.SetLabel(avx512 ? "avx512" : "avx2");
#else
  state.SkipWithError("FMA probe written for x86-64");
#endif
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

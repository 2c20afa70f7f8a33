// The float32 FMA-peak probe shared by machine_bench.cpp and gemm_vs_openblas.cpp: independent
// FMA chains in registers on the widest instruction set this CPU runs (AVX-512, else AVX2).
// Not ignis code: nothing here calls the library; not a benchmark itself.
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ignis::bench {

// 12 independent accumulator chains hide the FMA latency (4 cycles) on two FMA ports.
inline constexpr int kFmaChains = 12;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline double fma_chains_avx512(int64_t rounds) {
  __m512 acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_set1_ps(0.001f * static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kFmaChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);  // NOTE: not _mm512_reduce_add_ps: GCC 12 warns inside it
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) inline double fma_chains_avx2(int64_t rounds) {
  __m256 acc[kFmaChains];
  for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < kFmaChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kFmaChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}
#endif

// float32 lanes of the probe's vectors here: 16 (AVX-512), 8 (AVX2 + FMA), or 0 (no probe:
// not x86-64, or no AVX2/FMA).
inline int fma_probe_lanes() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return 16;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
#endif
  return 0;
}

inline const char* fma_probe_isa() {
  const int lanes = fma_probe_lanes();
  return lanes == 16 ? "avx512" : lanes == 8 ? "avx2" : "none";
}

// float32 FLOP in one round of the chains: 2 per lane per FMA (0 without a probe).
inline double fma_flop_per_round() { return 2.0 * kFmaChains * fma_probe_lanes(); }

// Runs `rounds` rounds of the chains on the calling thread; the result only keeps the
// compiler from dropping the work. Does nothing without a probe.
inline double fma_chains(int64_t rounds) {
#if defined(__x86_64__)
  const int lanes = fma_probe_lanes();
  if (lanes == 16) return fma_chains_avx512(rounds);
  if (lanes == 8) return fma_chains_avx2(rounds);
#endif
  (void)rounds;
  return 0.0;
}

}  // namespace ignis::bench

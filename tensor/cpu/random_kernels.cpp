// CPU random kernels: uniform, normal and Bernoulli samples from Philox, following the
// contract of generator.h (element i uses counter offset + i), so the numbers do not depend
// on the thread count. Not the ops: see factory.cpp.
#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

// Philox is ~10x the cost of a plain elementwise op, so chunks can be smaller.
constexpr int64_t kRandomGrain = 4096;

std::array<uint32_t, 4> philox_words(const PhiloxState& state, int64_t i) {
  const uint64_t counter = state.offset + static_cast<uint64_t>(i);
  return philox4x32_10(
      {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0},
      {static_cast<uint32_t>(state.seed), static_cast<uint32_t>(state.seed >> 32)});
}

// out[i] = sample(words of element i) for a contiguous out of type T.
template <typename T, typename Sample>
void fill_random(const Tensor& out, const PhiloxState& state, Sample sample) {
  T* data = static_cast<T*>(out.raw_data());
  parallel_for(0, out.numel(), kRandomGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) data[i] = sample(philox_words(state, i), i);
  });
}

}  // namespace

void random(RandomKind kind, double a, double b, PhiloxState state, const Tensor& out) {
  IGNIS_INTERNAL_ASSERT(out.is_contiguous());
  visit_floating(out.dtype(), "random", [&]<typename T>() {
    switch (kind) {
      case RandomKind::Uniform:
        fill_random<T>(out, state, [a, b](const std::array<uint32_t, 4>& w, int64_t) {
          // float32 samples use 24 random bits, float64 ones 53 (generator.h).
          const double u =
              std::is_same_v<T, float> ? philox_uniform_float(w) : philox_uniform_double(w);
          return static_cast<T>(a + (b - a) * u);
        });
        break;
      case RandomKind::Normal:
        fill_random<T>(out, state, [a, b](const std::array<uint32_t, 4>& w, int64_t) {
          return static_cast<T>(a + b * philox_normal(w));
        });
        break;
      case RandomKind::Bernoulli:
        fill_random<T>(out, state, [a](const std::array<uint32_t, 4>& w, int64_t) {
          return static_cast<T>(philox_uniform_double(w) < a ? 1 : 0);
        });
        break;
    }
  });
}

void bernoulli_tensor(const Tensor& p, PhiloxState state, const Tensor& out) {
  IGNIS_INTERNAL_ASSERT(out.is_contiguous() && p.is_contiguous() && p.dtype() == out.dtype());
  visit_floating(out.dtype(), "bernoulli", [&]<typename T>() {
    const T* prob = static_cast<const T*>(p.raw_data());
    fill_random<T>(out, state, [prob](const std::array<uint32_t, 4>& w, int64_t i) {
      return static_cast<T>(philox_uniform_double(w) < static_cast<double>(prob[i]) ? 1 : 0);
    });
  });
}

}  // namespace ignis::cpu

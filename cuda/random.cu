// CUDA random kernels: uniform, normal and Bernoulli samples from Philox4x32-10, following
// the contract of tensor/generator.h (element i uses counter offset + i; the same bits to
// value mapping), so a seed gives the same numbers on the CPU and on the GPU.
// Not the ops: see tensor/factory.cpp.
#include <cstdint>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/map.cuh"

namespace ignis::cuda {
namespace {

struct Words {
  uint32_t w[4];
};

// The device copy of philox4x32_10 (generator.h), constants and round order as there.
__device__ __forceinline__ Words philox_words(uint64_t seed, uint64_t counter) {
  constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;
  constexpr uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
  }
  return {{c0, c1, c2, c3}};
}

// [0, 1) from 24 bits (float32) or 53 bits (float64), as philox_uniform_float / _double.
__device__ __forceinline__ float uniform_float(uint32_t w0) {
  return static_cast<float>(w0 >> 8) * 0x1.0p-24f;
}

__device__ __forceinline__ double uniform_double(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits) * 0x1.0p-53;
}

// Box-Muller in float64, as philox_normal.
__device__ __forceinline__ double normal_double(const Words& r) {
  constexpr double kTwoPi = 6.28318530717958647692;
  const double u1 = uniform_double(r.w[0], r.w[1]);
  const double u2 = uniform_double(r.w[2], r.w[3]);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(kTwoPi * u2);
}

// a + scale x rounded twice, as the CPU computes it. NOTE: nvcc would contract the plain
// expression into one fma (rounded once), which differs from the CPU in the last bit.
__device__ __forceinline__ double affine(double a, double scale, double x) {
  return __dadd_rn(a, __dmul_rn(scale, x));
}

// ---- samplers: T operator()(words of element i, i) ----

template <typename T>
struct Uniform {
  double a, b;
  __device__ T operator()(const Words& r, int64_t) const {
    const double u = std::is_same_v<T, float> ? uniform_float(r.w[0])
                                              : uniform_double(r.w[0], r.w[1]);
    return static_cast<T>(affine(a, b - a, u));
  }
};

template <typename T>
struct Normal {
  double mean, std;
  __device__ T operator()(const Words& r, int64_t) const {
    return static_cast<T>(affine(mean, std, normal_double(r)));
  }
};

template <typename T>
struct Bernoulli {
  double p;
  __device__ T operator()(const Words& r, int64_t) const {
    return static_cast<T>(uniform_double(r.w[0], r.w[1]) < p ? 1 : 0);
  }
};

template <typename T>
struct BernoulliTensor {
  const T* p;  // contiguous, out's shape
  __device__ T operator()(const Words& r, int64_t i) const {
    return static_cast<T>(uniform_double(r.w[0], r.w[1]) < static_cast<double>(p[i]) ? 1 : 0);
  }
};

// out[i] = sample(philox(seed, offset + i), i) for a contiguous out of n elements.
template <typename T, typename Sample>
__global__ void random_kernel(T* out, int64_t n, PhiloxState state, Sample sample) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += step) {
    out[i] = sample(philox_words(state.seed, state.offset + static_cast<uint64_t>(i)), i);
  }
}

template <typename T, typename Sample>
void launch_random(const char* op, const Tensor& out, const PhiloxState& state,
                   const Sample& sample) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  random_kernel<<<grid_blocks(n, device), kMapThreads, 0, stream(device)>>>(
      static_cast<T*>(out.raw_data()), n, state, sample);
  check_launch(op);
}

}  // namespace

void random_cuda(RandomKind kind, double a, double b, PhiloxState state, const Tensor& out) {
  IGNIS_INTERNAL_ASSERT(out.is_contiguous());
  visit_floating(out.dtype(), "random", [&]<typename T>() {
    switch (kind) {
      case RandomKind::Uniform:
        launch_random<T>("uniform", out, state, Uniform<T>{a, b});
        return;
      case RandomKind::Normal:
        launch_random<T>("normal", out, state, Normal<T>{a, b});
        return;
      case RandomKind::Bernoulli:
        launch_random<T>("bernoulli", out, state, Bernoulli<T>{a});
        return;
    }
    internal_error("cuda::random: bad RandomKind");
  });
}

void bernoulli_tensor_cuda(const Tensor& p, PhiloxState state, const Tensor& out) {
  IGNIS_INTERNAL_ASSERT(out.is_contiguous() && p.is_contiguous() && p.dtype() == out.dtype());
  visit_floating(out.dtype(), "bernoulli", [&]<typename T>() {
    launch_random<T>("bernoulli", out, state,
                     BernoulliTensor<T>{static_cast<const T*>(p.raw_data())});
  });
}

}  // namespace ignis::cuda

// CUDA kernel of the softmax slot (softmax and log_softmax over the middle dim of a
// contiguous (outer, n, inner) tensor). Not the argument checks (tensor/index_ops.cpp) nor
// the backward (autograd/, written with differentiable ops).
//
// Numerically stable as the CPU kernel: m = max_i x_i first, then e_i = exp(x_i - m) and
// s = sum_i e_i; softmax = e_i / s, log_softmax = (x_i - m) - log(s). Deterministic: the
// order of every sum depends on n only (a fixed block size and a fixed shuffle tree).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"
#include "tensor/cpu/scalar_ops.h"

namespace ignis::cuda {
namespace {

constexpr int kMaxThreads = 256;

struct MaxOp {
  template <typename T> __device__ T operator()(T a, T b) const { return max_nan(a, b); }
};
struct SumOp {
  template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};

// Reduces v over the block (blockDim.x a multiple of 32, at most kMaxThreads): a shuffle tree
// in each warp, then warp 0 folds the warps' results in the same tree. Every thread gets the
// result. `shared` holds kMaxThreads / 32 values.
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T* shared) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int warp = static_cast<int>(threadIdx.x) / kWarp;
  const int warps = static_cast<int>(blockDim.x) / kWarp;
  for (int w = kWarp / 2; w > 0; w /= 2) v = op(v, __shfl_down_sync(0xffffffffu, v, w));
  if (warps > 1) {
    __syncthreads();  // shared may still be read by a previous call
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
      v = shared[lane < warps ? lane : 0];
      for (int w = kWarp / 2; w > 0; w /= 2) {
        const T other = __shfl_down_sync(0xffffffffu, v, w);
        if (lane + w < warps) v = op(v, other);
      }
    }
  }
  if (warp == 0 && lane == 0) shared[0] = v;
  __syncthreads();
  const T result = shared[0];
  __syncthreads();
  return result;
}

// inner == 1: one block per row of x (rows, n); thread t handles elements t, t + blockDim.x, ...
template <typename T>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log) {
  __shared__ T shared[kMaxThreads / kWarp];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T m = minus_infinity<T>();
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = max_nan(m, xr[i]);
    m = block_reduce(m, MaxOp{}, shared);
    T total = T(0);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const T e = scalar_ops::exp_of(xr[i] - m);
      if (!log) yr[i] = e;
      total += e;
    }
    total = block_reduce(total, SumOp{}, shared);
    if (log) {
      const T log_total = scalar_ops::log_of(total);
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = (xr[i] - m) - log_total;
    } else {
      const T scale = T(1) / total;
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] *= scale;
    }
  }
}

// inner > 1: one thread per column (o, k) of x (outer, n, inner), walking the n elements at
// stride inner; neighbouring threads read neighbouring columns.
template <typename T>
__global__ void softmax_columns_kernel(const T* x, T* y, int64_t outer, int64_t n,
                                       int64_t inner, bool log) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       t < outer * inner; t += step) {
    const int64_t base = (t / inner) * n * inner + t % inner;
    const T* xc = x + base;
    T* yc = y + base;
    T m = minus_infinity<T>();
    for (int64_t i = 0; i < n; ++i) m = max_nan(m, xc[i * inner]);
    T total = T(0);
    for (int64_t i = 0; i < n; ++i) {
      const T e = scalar_ops::exp_of(xc[i * inner] - m);
      if (!log) yc[i * inner] = e;
      total += e;
    }
    if (log) {
      const T log_total = scalar_ops::log_of(total);
      for (int64_t i = 0; i < n; ++i) yc[i * inner] = (xc[i * inner] - m) - log_total;
    } else {
      const T scale = T(1) / total;
      for (int64_t i = 0; i < n; ++i) yc[i * inner] *= scale;
    }
  }
}

}  // namespace

// in, out contiguous (outer, n, inner), float32 or float64 (the raw op checks); y = softmax or
// log_softmax of x over the middle dim.
void softmax_cuda(const Tensor& in, const Tensor& out, int64_t outer, int64_t n, int64_t inner,
                  bool log) {
  if (outer == 0 || n == 0 || inner == 0) return;
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_floating(in.dtype(), "softmax", [&]<typename T>() {
    const T* x = cuda::device_data<T>(in);
    T* y = cuda::device_data<T>(out);
    if (inner == 1) {
      // Threads per row: n rounded up to a warp, at most kMaxThreads; depends on n alone.
      const int threads = static_cast<int>(
          std::min<int64_t>(kMaxThreads, (n + kWarp - 1) / kWarp * kWarp));
      const auto grid = static_cast<unsigned>(std::min(outer, kMaxGrid));
      softmax_rows_kernel<<<grid, threads, 0, s>>>(x, y, outer, n, log);
      check_launch("softmax_rows_kernel");
    } else {
      const auto grid = static_cast<unsigned>(
          std::clamp<int64_t>((outer * inner + kMaxThreads - 1) / kMaxThreads, 1, kMaxGrid));
      softmax_columns_kernel<<<grid, kMaxThreads, 0, s>>>(x, y, outer, n, inner, log);
      check_launch("softmax_columns_kernel");
    }
  });
}

}  // namespace ignis::cuda

// CUDA kernels of the embedding_bag_forward / embedding_bag_backward slots (tensor/dispatch.h
// states the contract): the fused sum and mean bags. Not the reading of the bags on the host,
// their row-grouped (CSR) order or the argument checks: nn/embedding_bag.cpp hands those over.
//
// Forward, one warp per bag; backward, one memset of the dense gradient, then one warp per
// weight row that has entries (most rows have none). Lane l takes the packs l, l + 32, ... of
// the row (a pack: 4 floats or 2 doubles when D and the pointers allow 16-byte loads, else 1
// element), so a warp reads and writes whole rows, coalesced. Each element is summed by one
// thread from 0 in the contract's order, as the CPU loop does: no atomics, the same bits on
// every run (and, with the same operations in the same order, the CPU's bits).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"

namespace ignis::cuda {
namespace {

// Glossary: V weight rows of width D, B bags, K kept entries over all bags.

constexpr int kWarpsPerBlock = 8;

// N consecutive elements moved by one load or store (16 bytes for the wide packs).
template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

__device__ int64_t first_warp() {
  return static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
}
__device__ int64_t warp_step() { return static_cast<int64_t>(gridDim.x) * kWarpsPerBlock; }
__device__ int lane() { return static_cast<int>(threadIdx.x) % kWarp; }

// divisor_b of the contract, converted through double as the CPU kernel does.
template <typename T>
__device__ T bag_divisor(const int64_t* bag_first, int64_t b) {
  const int64_t size = bag_first[b + 1] - bag_first[b];
  return static_cast<T>(static_cast<double>(size > 1 ? size : 1));
}

// out (B, D) from weight (V, D): warp b sums bag b's rows in entry order, then divides.
template <typename T, int N>
__global__ void forward_kernel(const T* weight, const int64_t* index, const int64_t* bag_first,
                               bool mean, int64_t B, int64_t D, T* out) {
  using P = Pack<T, N>;
  const int64_t packs = D / N;
  for (int64_t b = first_warp(); b < B; b += warp_step()) {
    const int64_t k0 = bag_first[b], k1 = bag_first[b + 1];
    const T divisor = mean ? bag_divisor<T>(bag_first, b) : T(1);
    P* o = reinterpret_cast<P*>(out + b * D);
    for (int64_t p = lane(); p < packs; p += kWarp) {
      P acc;
      for (int i = 0; i < N; ++i) acc.v[i] = T(0);
      for (int64_t k = k0; k < k1; ++k) {
        const P w = reinterpret_cast<const P*>(weight + index[k] * D)[p];
        for (int i = 0; i < N; ++i) acc.v[i] += w.v[i];
      }
      if (mean) {
        for (int i = 0; i < N; ++i) acc.v[i] /= divisor;
      }
      o[p] = acc;
    }
  }
}

// The rows of dweight (V, D) that have entries, from dout (B, D): warp j sums the scaled dout
// rows of row rows[j]'s entries in input order (the CSR order). The other rows were zeroed.
template <typename T, int N>
__global__ void backward_kernel(const T* dout, const int64_t* bag_first, const int64_t* rows,
                                const int64_t* row_first, const int64_t* row_bag, bool mean,
                                int64_t R, int64_t D, T* dweight) {
  using P = Pack<T, N>;
  const int64_t packs = D / N;
  for (int64_t j = first_warp(); j < R; j += warp_step()) {
    const int64_t e0 = row_first[j], e1 = row_first[j + 1];
    P* g = reinterpret_cast<P*>(dweight + rows[j] * D);
    for (int64_t p = lane(); p < packs; p += kWarp) {
      P acc;
      for (int i = 0; i < N; ++i) acc.v[i] = T(0);
      for (int64_t e = e0; e < e1; ++e) {
        const int64_t b = row_bag[e];
        const P s = reinterpret_cast<const P*>(dout + b * D)[p];
        if (mean) {
          const T divisor = bag_divisor<T>(bag_first, b);
          for (int i = 0; i < N; ++i) acc.v[i] += s.v[i] / divisor;
        } else {
          for (int i = 0; i < N; ++i) acc.v[i] += s.v[i];
        }
      }
      g[p] = acc;
    }
  }
}

// Elements per pack for rows of width D starting at `a` and `b`: 16 bytes when D fills whole
// packs and both pointers are 16-byte aligned (then every row start is), else 1.
template <typename T>
constexpr int kWide = static_cast<int>(16 / sizeof(T));

template <typename T>
bool wide_rows(const void* a, const void* b, int64_t D) {
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return D % kWide<T> == 0 && aligned(a) && aligned(b);
}

}  // namespace

void embedding_bag_forward_cuda(const Tensor& weight, const Tensor& index,
                                const Tensor& bag_first, bool mean, const Tensor& out) {
  const int64_t B = out.size(0), D = out.size(1);
  if (B == 0 || D == 0) return;
  DeviceGuard guard(weight.device());
  const cudaStream_t s = stream(weight.device().index);
  const unsigned grid = grid_for(B, kWarpsPerBlock);
  visit_floating(weight.dtype(), "embedding_bag", [&]<typename T>() {
    const T* w = device_data<T>(weight);
    T* o = device_data<T>(out);
    const int64_t* idx = device_data<int64_t>(index);
    const int64_t* first = device_data<int64_t>(bag_first);
    if (wide_rows<T>(w, o, D)) {
      forward_kernel<T, kWide<T>><<<grid, kWarp * kWarpsPerBlock, 0, s>>>(w, idx, first, mean,
                                                                           B, D, o);
    } else {
      forward_kernel<T, 1><<<grid, kWarp * kWarpsPerBlock, 0, s>>>(w, idx, first, mean, B, D, o);
    }
    check_launch("embedding_bag forward_kernel");
  });
}

void embedding_bag_backward_cuda(const Tensor& dout, const Tensor& bag_first,
                                 const Tensor& rows, const Tensor& row_first,
                                 const Tensor& row_bag, bool mean, const Tensor& dweight) {
  const int64_t R = rows.size(0), D = dweight.size(1);
  if (dweight.numel() == 0) return;
  DeviceGuard guard(dout.device());
  const cudaStream_t s = stream(dout.device().index);
  check(cudaMemsetAsync(dweight.raw_data(), 0, dweight.nbytes(), s),
        "embedding_bag: cudaMemsetAsync");
  if (R == 0) return;
  const unsigned grid = grid_for(R, kWarpsPerBlock);
  visit_floating(dout.dtype(), "embedding_bag", [&]<typename T>() {
    const T* g = device_data<T>(dout);
    T* dw = device_data<T>(dweight);
    const int64_t* first = device_data<int64_t>(bag_first);
    const int64_t* r = device_data<int64_t>(rows);
    const int64_t* rf = device_data<int64_t>(row_first);
    const int64_t* rb = device_data<int64_t>(row_bag);
    if (wide_rows<T>(g, dw, D)) {
      backward_kernel<T, kWide<T>><<<grid, kWarp * kWarpsPerBlock, 0, s>>>(g, first, r, rf, rb,
                                                                            mean, R, D, dw);
    } else {
      backward_kernel<T, 1><<<grid, kWarp * kWarpsPerBlock, 0, s>>>(g, first, r, rf, rb, mean,
                                                                    R, D, dw);
    }
    check_launch("embedding_bag backward_kernel");
  });
}

}  // namespace ignis::cuda

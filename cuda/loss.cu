// CUDA kernels of the cross_entropy_forward / cross_entropy_backward slots: fused softmax +
// cross-entropy (tensor/loss.h states the arithmetic). Not the argument and target checks:
// tensor/loss.cpp hands over checked, contiguous tensors.
//
// One warp per row: lane l takes classes l, l + 32, ...; the max and the sums are folded by
// a butterfly of shuffles, so every lane holds the result and the order depends on C alone
// (deterministic). Forward: max, then the exps' sum (and the smoothing sums), one read of the
// row each; backward: one read and one write of the row.
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

constexpr int kWarpsPerBlock = 8;

// The warp's max / sum of v, in every lane (a butterfly: lane i with lane i ^ w, w = 16..1).
template <typename T>
__device__ T warp_max(T v) {
  for (int w = kWarp / 2; w > 0; w /= 2) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, w));
  return v;
}
template <typename T>
__device__ T warp_sum(T v) {
  for (int w = kWarp / 2; w > 0; w /= 2) v += __shfl_xor_sync(0xffffffffu, v, w);
  return v;
}

// Class weights w_c from a (C) array, or all ones: one kernel serves both, no null checks.
template <typename T>
struct ClassWeights {
  const T* w;
  __device__ T operator[](int64_t c) const { return w[c]; }
};
template <typename T>
struct UnitWeights {
  __device__ T operator[](int64_t) const { return T(1); }
};

// What every row shares.
template <typename T>
struct RowProblem {
  int64_t rows, classes, ignore_index;
  T keep;    // 1 - eps
  T smooth;  // eps / C
};

template <typename T>
RowProblem<T> row_problem(const Tensor& logits, const CrossEntropyParams& params) {
  return {.rows = logits.size(0),
          .classes = logits.size(1),
          .ignore_index = params.ignore_index,
          .keep = static_cast<T>(1.0 - params.label_smoothing),
          .smooth = static_cast<T>(params.label_smoothing / static_cast<double>(logits.size(1)))};
}

__device__ int64_t first_row() {
  return static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
}
__device__ int64_t row_step() { return static_cast<int64_t>(gridDim.x) * kWarpsPerBlock; }

__device__ bool skipped(int64_t y, int64_t classes, int64_t ignore_index) {
  return y == ignore_index || y < 0 || y >= classes;
}

// sum_c w_c over the row's classes, in every lane (only needed with smoothing).
template <typename T, typename W>
__device__ T weight_total(const W& w, int64_t classes, int lane) {
  T total = T(0);
  for (int64_t c = lane; c < classes; c += kWarp) total += w[c];
  return warp_sum(total);
}

// loss = (1 - eps) w_y ((m - x_y) + log s) + eps / C (sum_c w_c (m - x_c) + W log s),
// lse = m + log s, row_weight = w_y; zeros for ignored rows.
template <typename T, typename W>
__global__ void forward_kernel(const T* x, const int64_t* y, W w, RowProblem<T> p, T* loss,
                               T* lse, T* row_weight) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t C = p.classes;
  for (int64_t r = first_row(); r < p.rows; r += row_step()) {
    const int64_t t = y[r];
    if (skipped(t, C, p.ignore_index)) {  // the whole warp takes the same branch
      if (lane == 0) loss[r] = lse[r] = row_weight[r] = T(0);
      continue;
    }
    const T* xr = x + r * C;
    T m = minus_infinity<T>();
    for (int64_t c = lane; c < C; c += kWarp) m = max_nan(m, xr[c]);
    m = warp_max(m);
    T s = T(0), smooth_sum = T(0);
    for (int64_t c = lane; c < C; c += kWarp) {
      s += scalar_ops::exp_of(xr[c] - m);
      if (p.smooth != T(0)) smooth_sum += w[c] * (m - xr[c]);
    }
    s = warp_sum(s);
    const T log_s = scalar_ops::log_of(s);
    T l = p.keep * w[t] * ((m - xr[t]) + log_s);
    if (p.smooth != T(0)) {
      l += p.smooth * (warp_sum(smooth_sum) + weight_total<T>(w, C, lane) * log_s);
    }
    if (lane == 0) {
      loss[r] = l;
      lse[r] = m + log_s;
      row_weight[r] = w[t];
    }
  }
}

// d_c = exp(x_c - lse) S g - eps / C w_c g - [c == y] (1 - eps) w_y g,
// S = (1 - eps) w_y + eps / C sum_c w_c; zeros for ignored rows.
template <typename T, typename W>
__global__ void backward_kernel(const T* x, const int64_t* y, W w, RowProblem<T> p,
                                const T* lse, const T* grad, int64_t grad_stride, T* d) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t C = p.classes;
  for (int64_t r = first_row(); r < p.rows; r += row_step()) {
    const int64_t t = y[r];
    T* dr = d + r * C;
    if (skipped(t, C, p.ignore_index)) {
      for (int64_t c = lane; c < C; c += kWarp) dr[c] = T(0);
      continue;
    }
    const T* xr = x + r * C;
    const T g = grad[r * grad_stride];
    const T total = p.smooth != T(0) ? weight_total<T>(w, C, lane) : T(0);
    const T scale = (p.keep * w[t] + p.smooth * total) * g;
    const T smooth_g = p.smooth * g;
    const T target_g = p.keep * w[t] * g;
    const T row_lse = lse[r];
    for (int64_t c = lane; c < C; c += kWarp) {
      T v = scalar_ops::exp_of(xr[c] - row_lse) * scale - smooth_g * w[c];
      if (c == t) v -= target_g;
      dr[c] = v;
    }
  }
}

// Calls f(weights) with ClassWeights over `weight`'s device data, or UnitWeights.
template <typename T, typename F>
void visit_weights(const Tensor& weight, F&& f) {
  if (weight.defined()) {
    f(ClassWeights<T>{device_data<T>(weight)});
  } else {
    f(UnitWeights<T>{});
  }
}

}  // namespace

void cross_entropy_forward_cuda(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                const CrossEntropyParams& params, const Tensor& loss,
                                const Tensor& lse, const Tensor& row_weight) {
  if (logits.size(0) == 0) return;
  DeviceGuard guard(logits.device());
  const cudaStream_t s = stream(logits.device().index);
  visit_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    visit_weights<T>(weight, [&](auto w) {
      forward_kernel<<<grid_for(logits.size(0), kWarpsPerBlock), kWarp * kWarpsPerBlock, 0, s>>>(
          device_data<T>(logits), device_data<int64_t>(target), w, row_problem<T>(logits, params),
          device_data<T>(loss), device_data<T>(lse), device_data<T>(row_weight));
      check_launch("cross_entropy forward_kernel");
    });
  });
}

void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& target,
                                 const Tensor& weight, const CrossEntropyParams& params,
                                 const Tensor& lse, const Tensor& grad, const Tensor& dlogits) {
  if (dlogits.numel() == 0) return;
  DeviceGuard guard(logits.device());
  const cudaStream_t s = stream(logits.device().index);
  visit_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    visit_weights<T>(weight, [&](auto w) {
      backward_kernel<<<grid_for(logits.size(0), kWarpsPerBlock), kWarp * kWarpsPerBlock, 0, s>>>(
          device_data<T>(logits), device_data<int64_t>(target), w, row_problem<T>(logits, params),
          device_data<T>(lse), device_data<T>(grad), grad.stride(0), device_data<T>(dlogits));
      check_launch("cross_entropy backward_kernel");
    });
  });
}

}  // namespace ignis::cuda

// CUDA kernels of the index_select, gather and scatter_add slots. Indices arrive already
// validated (tensor/index_ops.cpp checks them); these kernels only move numbers.
// Deterministic: scatter_add gives each thread one slice (all positions along `dim` at one
// position of the other dims), which it walks in increasing order exactly as the CPU does;
// slices write disjoint elements, so no atomics are needed.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"

namespace ignis::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxDims = 12;

// N tensors walked over one shape (`dim` excluded where a kernel says so); strides in
// elements, operand order fixed by each kernel.
template <int N>
struct Walk {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  // off[k] = offset of operand k at row-major position i of the shape with `skip` removed
  // (skip = -1 removes nothing).
  __device__ void offsets(int64_t i, int skip, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      if (d == skip) continue;
      const int64_t c = i % sizes[d];
      i /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += c * strides[k][d];
    }
  }
};

// The walk of `operands` over `sizes`; throws DeviceError naming `op` beyond kMaxDims dims.
template <int N>
Walk<N> make_walk(const Shape& sizes, const Tensor* const (&operands)[N], const char* op) {
  if (sizes.size() > static_cast<size_t>(kMaxDims)) {
    throw DeviceError(std::string(op) + ": CUDA kernel takes at most " +
                      std::to_string(kMaxDims) + " dims, got shape " + shape_str(sizes));
  }
  Walk<N> w;
  w.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < w.ndim; ++d) {
    w.sizes[d] = sizes[static_cast<size_t>(d)];
    for (int k = 0; k < N; ++k) w.strides[k][d] = operands[k]->stride(d);
  }
  return w;
}

// Calls f.template operator()<I>() with I the C++ type of an index dtype (int32 or int64).
template <typename F>
void visit_index(DType dtype, F&& f) {
  if (dtype == kInt32) {
    f.template operator()<int32_t>();
  } else {
    IGNIS_INTERNAL_ASSERT(dtype == kInt64);
    f.template operator()<int64_t>();
  }
}

// One thread per element of y (outer, k, inner) = x (outer, n, inner)[:, index, :].
template <typename T, typename I>
__global__ void index_select_kernel(const T* x, const I* index, T* y, int64_t outer, int64_t n,
                                    int64_t k, int64_t inner) {
  const int64_t total = outer * k * inner;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t c = t % inner;
    const int64_t r = (t / inner) % k;
    const int64_t o = t / (inner * k);
    y[t] = x[(o * n + static_cast<int64_t>(index[r])) * inner + c];
  }
}

// One thread per element p of index: y[p] = x[p with dim replaced by index[p]]. Walk
// operands: 0 = y, 1 = index, 2 = x with its stride at dim set to 0 (x_dim_stride applies
// to the index value instead).
template <typename T, typename I>
__global__ void gather_kernel(const T* x, const I* index, T* y, Walk<3> walk,
                              int64_t x_dim_stride, int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    int64_t off[3];
    walk.offsets(t, -1, off);
    y[off[0]] = x[off[2] + static_cast<int64_t>(index[off[1]]) * x_dim_stride];
  }
}

// One thread per slice s (a position of every dim of index but `dim`): for j = 0, 1, ...
// along dim, y[.., index[.., j, ..], ..] += z[.., j, ..]. Walk operands: 0 = y, 1 = index,
// 2 = z.
template <typename T, typename I>
__global__ void scatter_add_kernel(T* y, const I* index, const T* z, Walk<3> walk, int dim,
                                   int64_t slices) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t len = walk.sizes[dim];
  const int64_t ys = walk.strides[0][dim], is = walk.strides[1][dim], zs = walk.strides[2][dim];
  for (int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < slices;
       s += step) {
    int64_t off[3];
    walk.offsets(s, dim, off);
    T* yb = y + off[0];
    const I* ib = index + off[1];
    const T* zb = z + off[2];
    for (int64_t j = 0; j < len; ++j) {
      T& target = yb[static_cast<int64_t>(ib[j * is]) * ys];
      target = static_cast<T>(target + zb[j * zs]);
    }
  }
}

}  // namespace

// out (outer, index.numel(), inner) = in (outer, n, inner)[:, index, :]; all contiguous;
// index int32 or int64 with values in [0, n).
void index_select_cuda(const Tensor& in, const Tensor& index, const Tensor& out, int64_t outer,
                       int64_t n, int64_t inner) {
  const int64_t k = index.numel();
  const int64_t total = outer * k * inner;
  if (total == 0) return;
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_dtype(in.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      index_select_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(
          cuda::device_data<T>(in), cuda::device_data<I>(index), cuda::device_data<T>(out), outer, n, k, inner);
      check_launch("index_select_kernel");
    });
  });
}

// out = in.gather(dim, index): out[p] = in[p with coordinate dim replaced by index[p]];
// index and out of one shape; any strides.
void gather_cuda(const Tensor& in, int64_t dim, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  const Tensor* const operands[3] = {&out, &index, &in};
  Walk<3> walk = make_walk(index.sizes(), operands, "gather");
  walk.strides[2][dim] = 0;
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_dtype(in.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      gather_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(cuda::device_data<T>(in), cuda::device_data<I>(index),
                                                         cuda::device_data<T>(out), walk,
                                                         in.stride(dim), total);
      check_launch("gather_kernel");
    });
  });
}

// out.scatter_add_(dim, index, src) in place: out[p with dim replaced by index[p]] += src[p]
// for every position p of index (src at least index's shape); any strides. Deterministic:
// each element of out receives its terms in the CPU's order (j increasing along dim).
void scatter_add_cuda(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t len = index.size(dim);
  if (index.numel() == 0) return;
  const int64_t slices = index.numel() / len;
  const Tensor* const operands[3] = {&out, &index, &src};
  const Walk<3> walk = make_walk(index.sizes(), operands, "scatter_add");
  DeviceGuard guard(out.device());
  const cudaStream_t s = stream(out.device().index);
  visit_dtype(out.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      scatter_add_kernel<<<grid_for(slices, kThreads), kThreads, 0, s>>>(
          cuda::device_data<T>(out), cuda::device_data<I>(index), cuda::device_data<T>(src), walk,
          static_cast<int>(dim), slices);
      check_launch("scatter_add_kernel");
    });
  });
}

}  // namespace ignis::cuda

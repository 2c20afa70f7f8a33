// CUDA kernels of the reduction slots: reduce and reduce_with_index over contiguous (outer, n)
// rows, reduce_strided over the middle dim of (outer, n, inner). Not the argument checks or
// the dtype rules: those are in tensor/reduce.cpp.
//
// The order is the CPU's (tensor/cpu/row_reduce.h), so both devices give the same bits:
//   1. a row is cut into blocks of kBlock elements;
//   2. in a block, element i goes to lane i % 32, in order, and the 32 lanes are folded
//      pairwise (lane j with lane j + w, w = 16, 8, 4, 2, 1): exactly a warp, whose lane j
//      accumulates elements j, j + 32, ... and whose lanes fold with __shfl_down_sync;
//   3. the blocks' results are combined as a balanced tree (left half: floor(count / 2)).
// Rows of one block are reduced by one warp (reduce) or, for reduce_strided, by a thread
// block that holds the 32 lanes of 32 neighbouring columns, and written out directly. Longer
// rows write one partial per block, which a second kernel combines with the tree, one thread
// block per output element.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/runtime.h"
#include "tensor/factory.h"

namespace ignis::cuda {
namespace {

constexpr int64_t kBlock = 4096;  // tensor/cpu/row_reduce.h's kBlock
constexpr int kWarp = 32;         // tensor/cpu/row_reduce.h's kLanes
constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / kWarp;
constexpr int64_t kMaxGrid = int64_t{1} << 20;  // larger work loops over the grid

__host__ __device__ constexpr int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

template <typename T>
__device__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return isnan(v);
  } else {
    return false;
  }
}

// Two's-complement wrap-around for integer sums and products (as tensor/cpu/scalar_ops.h);
// uint8 and bool arithmetic is done in int and narrowed.
template <typename T>
__device__ T wrap_add(T a, T b) {
  if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
__device__ T wrap_mul(T a, T b) {
  if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<T>(a * b);
  }
}

// -inf / +inf for floating types, the extreme values otherwise (row_reduce.h's identities).
// NOTE: not std::numeric_limits, whose constexpr functions device code may not call.
template <typename T>
__device__ T lowest() {
  if constexpr (std::is_same_v<T, float>) {
    return __int_as_float(static_cast<int>(0xff800000u));
  } else if constexpr (std::is_same_v<T, double>) {
    return __longlong_as_double(static_cast<long long>(0xfff0000000000000ull));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return INT64_MIN;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return INT32_MIN;
  } else {
    return T(0);  // uint8, bool
  }
}
template <typename T>
__device__ T highest() {
  if constexpr (std::is_same_v<T, float>) {
    return __int_as_float(0x7f800000);
  } else if constexpr (std::is_same_v<T, double>) {
    return __longlong_as_double(0x7ff0000000000000ll);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return INT64_MAX;
  } else if constexpr (std::is_same_v<T, int32_t>) {
    return INT32_MAX;
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return T(255);
  } else {
    return true;
  }
}

// The associative ops of ReduceOp::Sum/Prod/Max/Min, as tensor/cpu/row_reduce.h's
// (Max/Min propagate NaN: a NaN operand wins).
struct SumFn {
  template <typename T> __device__ static T identity() { return T(0); }
  template <typename T> __device__ static T apply(T a, T b) { return wrap_add(a, b); }
};
struct ProdFn {
  template <typename T> __device__ static T identity() { return T(1); }
  template <typename T> __device__ static T apply(T a, T b) { return wrap_mul(a, b); }
};
struct MaxFn {
  template <typename T> __device__ static T identity() { return lowest<T>(); }
  template <typename T> __device__ static T apply(T a, T b) {
    return (is_nan(a) || a > b) ? a : b;
  }
};
struct MinFn {
  template <typename T> __device__ static T identity() { return highest<T>(); }
  template <typename T> __device__ static T apply(T a, T b) {
    return (is_nan(a) || a < b) ? a : b;
  }
};

// __shfl_down_sync for every dtype: bool and uint8 travel as int.
template <typename T>
__device__ T shfl_down(T v, int delta) {
  if constexpr (sizeof(T) < sizeof(int)) {
    return static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), delta));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<T>(
        __shfl_down_sync(0xffffffffu, static_cast<long long>(v), delta));
  } else {
    return __shfl_down_sync(0xffffffffu, v, delta);
  }
}

// Step 2: p[0, len), len <= kBlock, reduced by the calling warp; lane 0 gets the result
// (the identity when len == 0).
template <typename Fn, typename T>
__device__ T warp_reduce_block(const T* p, int64_t len, int lane) {
  T acc = Fn::template identity<T>();
  for (int64_t i = lane; i < len; i += kWarp) acc = Fn::apply(acc, p[i]);
  for (int w = kWarp / 2; w > 0; w /= 2) acc = Fn::apply(acc, shfl_down(acc, w));
  return acc;
}

// Step 3: leaf(0) op ... op leaf(count - 1) as the balanced tree of row_reduce.h's
// tree_reduce (left half floor(count / 2), left operands kept left), walked in post-order
// with a stack of values instead of recursion: leaves are pushed in order, and after leaf i
// every tree node whose range ends at i is completed (its two halves popped, combined,
// pushed), deepest first. count < 2^(kTreeStack - 1).
constexpr int kTreeStack = 32;

template <typename R, typename Leaf, typename Combine>
__device__ R tree_reduce(int64_t count, const Leaf& leaf, const Combine& combine) {
  R values[kTreeStack];
  int top = 0;
  for (int64_t i = 0; i < count; ++i) {
    values[top++] = leaf(i);
    // The nodes on the path from the root to leaf i that end at i: a suffix of the path.
    int completed = 0;
    int64_t first = 0, size = count;
    while (size > 1) {
      if (first + size - 1 == i) ++completed;
      const int64_t left = size / 2;
      if (i < first + left) {
        size = left;
      } else {
        first += left;
        size -= left;
      }
    }
    for (; completed > 0; --completed) {
      --top;
      values[top - 1] = combine(values[top - 1], values[top]);
    }
  }
  return values[0];
}

// The best of two (value, index) candidates of an arg-max (kMax) or arg-min over disjoint
// index sets: a NaN beats every number, a strictly better value wins, and ties go to the
// smaller index; the result is the CPU's "first extreme element" whatever the order.
template <typename T>
struct Arg {
  T value;
  int64_t index;
};

template <bool kMax, typename T>
__device__ Arg<T> better(const Arg<T>& a, const Arg<T>& b) {
  const bool a_nan = is_nan(a.value), b_nan = is_nan(b.value);
  if (a_nan != b_nan) return a_nan ? a : b;
  if (a_nan || a.value == b.value) return a.index <= b.index ? a : b;
  return (kMax ? b.value > a.value : b.value < a.value) ? b : a;
}

// Step 2 of the arg reductions: p[0, len) with indices base + i; lane 0 gets the result.
template <bool kMax, typename T>
__device__ Arg<T> warp_arg_block(const T* p, int64_t len, int64_t base, int lane) {
  using Fn = std::conditional_t<kMax, MaxFn, MinFn>;
  Arg<T> best{Fn::template identity<T>(), INT64_MAX};
  for (int64_t i = lane; i < len; i += kWarp) best = better<kMax>(best, Arg<T>{p[i], base + i});
  for (int w = kWarp / 2; w > 0; w /= 2) {
    const Arg<T> other{shfl_down(best.value, w), shfl_down(best.index, w)};
    best = better<kMax>(best, other);
  }
  return best;
}

// One warp per (row, block) of x (rows, n): y[row * nblocks + block] = the block reduced.
template <typename Fn, typename T>
__global__ void reduce_blocks_kernel(const T* x, T* y, int64_t rows, int64_t n,
                                     int64_t nblocks) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t w = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
       w < rows * nblocks; w += warps) {
    const int64_t row = w / nblocks, block = w % nblocks;
    const int64_t begin = block * kBlock;
    const T v = warp_reduce_block<Fn>(x + row * n + begin, min64(kBlock, n - begin), lane);
    if (lane == 0) y[w] = v;
  }
}

// One warp per (row, block) of x (rows, n): the block's arg-extreme into values (when not
// null) and indices at row * nblocks + block.
template <bool kMax, typename T>
__global__ void arg_blocks_kernel(const T* x, T* values, int64_t* indices, int64_t rows,
                                  int64_t n, int64_t nblocks) {
  const int lane = static_cast<int>(threadIdx.x) % kWarp;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t w = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
       w < rows * nblocks; w += warps) {
    const int64_t row = w / nblocks, block = w % nblocks;
    const int64_t begin = block * kBlock;
    const Arg<T> best =
        warp_arg_block<kMax>(x + row * n + begin, min64(kBlock, n - begin), begin, lane);
    if (lane == 0) {
      if (values != nullptr) values[w] = best.value;
      indices[w] = best.index;
    }
  }
}

// Step 2 for columns: one thread block per (o, block, tile of kTileColumns columns) of x
// (outer, n, inner), y (outer, nblocks, inner). Thread (c, g) holds lanes g, g + kGroups, ...
// of column c, i.e. rows j, j + 32, ... of the block for each such lane j, so a warp reads
// 32 neighbouring columns of one row; the 32 lanes are then folded pairwise in shared memory.
constexpr int kTileColumns = 32;
constexpr int kGroups = kThreads / kTileColumns;  // 8
constexpr int kLanesPerThread = kWarp / kGroups;  // 4

template <typename Fn, typename T>
__global__ void reduce_column_blocks_kernel(const T* x, T* y, int64_t outer, int64_t n,
                                            int64_t inner, int64_t nblocks) {
  __shared__ T lanes[kWarp][kTileColumns + 1];  // + 1: no bank conflicts
  const int c = static_cast<int>(threadIdx.x) % kTileColumns;
  const int g = static_cast<int>(threadIdx.x) / kTileColumns;
  const int64_t tiles = (inner + kTileColumns - 1) / kTileColumns;
  for (int64_t t = blockIdx.x; t < outer * nblocks * tiles; t += gridDim.x) {
    const int64_t tile = t % tiles;
    const int64_t block = (t / tiles) % nblocks;
    const int64_t o = t / (tiles * nblocks);
    const int64_t k = tile * kTileColumns + c;
    const int64_t begin = block * kBlock;
    const int64_t len = min64(kBlock, n - begin);
    T acc[kLanesPerThread];
#pragma unroll
    for (int q = 0; q < kLanesPerThread; ++q) acc[q] = Fn::template identity<T>();
    if (k < inner) {
      const T* p = x + (o * n + begin) * inner + k;
      for (int64_t i = 0; i < len; i += kWarp) {
#pragma unroll
        for (int q = 0; q < kLanesPerThread; ++q) {
          const int64_t r = i + g + q * kGroups;
          if (r < len) acc[q] = Fn::apply(acc[q], p[r * inner]);
        }
      }
    }
#pragma unroll
    for (int q = 0; q < kLanesPerThread; ++q) lanes[g + q * kGroups][c] = acc[q];
    __syncthreads();
    // Lane j with lane j + w, w = 16, ..., 1: lanes >= w are only read in a step.
    for (int w = kWarp / 2; w > 0; w /= 2) {
      for (int j = g; j < w; j += kGroups) lanes[j][c] = Fn::apply(lanes[j][c], lanes[j + w][c]);
      __syncthreads();
    }
    if (g == 0 && k < inner) y[(o * nblocks + block) * inner + k] = lanes[0][c];
    __syncthreads();  // the next tile rewrites lanes
  }
}

// tree_reduce by the kTreeThreads threads of a block: thread t takes the node that the bits
// of t (most significant first: 0 left, 1 right) reach from the root in kTreeDepth steps and
// reduces its subtree serially; a leaf reached early goes on as its own left child, its right
// children absent. The top kTreeDepth levels are then folded pairwise, a node taking its left
// child alone when the right one is absent: the same tree, so the same bits as tree_reduce.
// Every thread gets the result; values and present are shared arrays of kTreeThreads.
constexpr int kTreeDepth = 8;
constexpr int kTreeThreads = 1 << kTreeDepth;

template <typename R, typename Leaf, typename Combine>
__device__ R block_tree_reduce(int64_t count, const Leaf& leaf, const Combine& combine,
                               R* values, bool* present) {
  const int t = static_cast<int>(threadIdx.x);
  int64_t first = 0, size = count;
  bool here = true;
  for (int level = kTreeDepth - 1; level >= 0; --level) {
    const bool right = ((t >> level) & 1) != 0;
    if (size == 1) {
      here = here && !right;
      continue;
    }
    const int64_t left = size / 2;
    if (right) {
      first += left;
      size -= left;
    } else {
      size = left;
    }
  }
  present[t] = here;
  if (here) {
    values[t] = tree_reduce<R>(size, [&](int64_t b) { return leaf(first + b); }, combine);
  }
  __syncthreads();
  // Node p of a level has children 2p and 2p + 1 one level down; a present right child
  // implies a present left one.
  for (int width = kTreeThreads / 2; width > 0; width /= 2) {
    R v{};
    bool has = false;
    if (t < width && present[2 * t]) {
      has = true;
      v = present[2 * t + 1] ? combine(values[2 * t], values[2 * t + 1]) : values[2 * t];
    }
    __syncthreads();
    if (t < width) {
      present[t] = has;
      if (has) values[t] = v;
    }
    __syncthreads();
  }
  const R result = values[0];
  __syncthreads();  // values may be rewritten by the caller's next call
  return result;
}

// One thread block per output element r of (outer, inner) (inner = 1 for rows): the tree
// over its partials at ((r / inner) * nblocks + b) * inner + r % inner, b < nblocks.
template <typename Fn, typename T>
__global__ void combine_blocks_kernel(const T* partial, T* y, int64_t count, int64_t inner,
                                      int64_t nblocks) {
  __shared__ T values[kTreeThreads];
  __shared__ bool present[kTreeThreads];
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    const T* p = partial + (r / inner) * nblocks * inner + r % inner;
    const T v = block_tree_reduce<T>(
        nblocks, [&](int64_t b) { return p[b * inner]; },
        [](T a, T b) { return Fn::apply(a, b); }, values, present);
    if (threadIdx.x == 0) y[r] = v;
  }
}

// One thread block per row: the tree over its nblocks (value, index) partials.
template <bool kMax, typename T>
__global__ void combine_arg_kernel(const T* partial_values, const int64_t* partial_indices,
                                   T* values, int64_t* indices, int64_t rows, int64_t nblocks) {
  __shared__ Arg<T> best_values[kTreeThreads];
  __shared__ bool present[kTreeThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* pv = partial_values + r * nblocks;
    const int64_t* pi = partial_indices + r * nblocks;
    const Arg<T> best = block_tree_reduce<Arg<T>>(
        nblocks, [&](int64_t b) { return Arg<T>{pv[b], pi[b]}; },
        [](const Arg<T>& a, const Arg<T>& b) { return better<kMax>(a, b); }, best_values,
        present);
    if (threadIdx.x == 0) {
      if (values != nullptr) values[r] = best.value;
      indices[r] = best.index;
    }
  }
}

// Blocks of a row of n elements; throws DeviceError beyond tree_reduce's 2^31 leaves (rows
// of 2^42 elements, far beyond any device's memory).
int64_t num_blocks(int64_t n) {
  const int64_t blocks = std::max<int64_t>(1, (n + kBlock - 1) / kBlock);
  if (blocks >= (int64_t{1} << (kTreeStack - 1))) {
    throw DeviceError("reduce: a row of " + std::to_string(n) +
                      " elements is longer than the CUDA kernels take (2^42)");
  }
  return blocks;
}

// Grid size for `items` work items of `per_block` each, at least 1, capped (grid-stride
// loops cover the rest).
unsigned grid_for(int64_t items, int64_t per_block) {
  return static_cast<unsigned>(std::clamp<int64_t>((items + per_block - 1) / per_block, 1,
                                                   kMaxGrid));
}

// Scratch for the per-block partials, on the device and stream of `like`.
Tensor scratch(const Shape& shape, DType dtype, const Tensor& like) {
  return empty(shape, {.dtype = dtype, .device = like.device()});
}

// y (rows) = op over each row of x (rows, n).
template <typename Fn, typename T>
void reduce_rows(const T* x, T* y, int64_t rows, int64_t n, const Tensor& like) {
  const cudaStream_t s = stream(like.device().index);
  const int64_t nblocks = num_blocks(n);
  if (nblocks == 1) {
    reduce_blocks_kernel<Fn><<<grid_for(rows, kWarpsPerBlock), kThreads, 0, s>>>(x, y, rows, n,
                                                                                nblocks);
    check_launch("reduce_blocks_kernel");
    return;
  }
  const Tensor partial = scratch({rows, nblocks}, dtype_of<T>, like);
  T* p = cuda::device_data<T>(partial);
  reduce_blocks_kernel<Fn><<<grid_for(rows * nblocks, kWarpsPerBlock), kThreads, 0, s>>>(
      x, p, rows, n, nblocks);
  check_launch("reduce_blocks_kernel");
  combine_blocks_kernel<Fn><<<grid_for(rows, 1), kTreeThreads, 0, s>>>(p, y, rows, 1, nblocks);
  check_launch("combine_blocks_kernel");
}

// values (when not null) and indices (rows) of the arg-extreme of each row of x (rows, n).
template <bool kMax, typename T>
void arg_rows(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n,
              const Tensor& like) {
  const cudaStream_t s = stream(like.device().index);
  const int64_t nblocks = num_blocks(n);
  if (nblocks == 1) {
    arg_blocks_kernel<kMax><<<grid_for(rows, kWarpsPerBlock), kThreads, 0, s>>>(
        x, values, indices, rows, n, nblocks);
    check_launch("arg_blocks_kernel");
    return;
  }
  const Tensor partial_values = scratch({rows, nblocks}, dtype_of<T>, like);
  const Tensor partial_indices = scratch({rows, nblocks}, kInt64, like);
  T* pv = cuda::device_data<T>(partial_values);
  int64_t* pi = cuda::device_data<int64_t>(partial_indices);
  arg_blocks_kernel<kMax><<<grid_for(rows * nblocks, kWarpsPerBlock), kThreads, 0, s>>>(
      x, pv, pi, rows, n, nblocks);
  check_launch("arg_blocks_kernel");
  combine_arg_kernel<kMax><<<grid_for(rows, 1), kTreeThreads, 0, s>>>(pv, pi, values, indices,
                                                                      rows, nblocks);
  check_launch("combine_arg_kernel");
}

// y (outer, inner) = op over the middle dim of x (outer, n, inner).
template <typename Fn, typename T>
void reduce_columns(const T* x, T* y, int64_t outer, int64_t n, int64_t inner,
                    const Tensor& like) {
  const cudaStream_t s = stream(like.device().index);
  const int64_t nblocks = num_blocks(n);
  const int64_t tiles = (inner + kTileColumns - 1) / kTileColumns;
  if (nblocks == 1) {
    reduce_column_blocks_kernel<Fn><<<grid_for(outer * tiles, 1), kThreads, 0, s>>>(
        x, y, outer, n, inner, nblocks);
    check_launch("reduce_column_blocks_kernel");
    return;
  }
  const Tensor partial = scratch({outer, nblocks, inner}, dtype_of<T>, like);
  T* p = cuda::device_data<T>(partial);
  reduce_column_blocks_kernel<Fn><<<grid_for(outer * nblocks * tiles, 1), kThreads, 0, s>>>(
      x, p, outer, n, inner, nblocks);
  check_launch("reduce_column_blocks_kernel");
  combine_blocks_kernel<Fn><<<grid_for(outer * inner, 1), kTreeThreads, 0, s>>>(
      p, y, outer * inner, inner, nblocks);
  check_launch("combine_blocks_kernel");
}

// Calls f.template operator()<Fn>() with the functor of a Sum/Prod/Max/Min op on T; bool
// sums and products are converted to int64 by the raw ops and never arrive here.
template <typename T, typename F>
void visit_value_op(ReduceOp op, const char* name, F&& f) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Prod:
      if constexpr (std::is_same_v<T, bool>) {
        internal_error(name);
      } else if (op == ReduceOp::Sum) {
        f.template operator()<SumFn>();
      } else {
        f.template operator()<ProdFn>();
      }
      return;
    case ReduceOp::Max:
      return f.template operator()<MaxFn>();
    case ReduceOp::Min:
      return f.template operator()<MinFn>();
    case ReduceOp::ArgMax:
    case ReduceOp::ArgMin:
      break;
  }
  internal_error(name);
}

}  // namespace

// in (outer, n) contiguous; out (outer) contiguous, of in's dtype for Sum/Prod/Max/Min, int64
// for ArgMax/ArgMin (n >= 1 then).
void reduce_cuda(ReduceOp op, const Tensor& in, const Tensor& out) {
  const int64_t outer = in.size(0), n = in.size(1);
  if (outer == 0) return;
  DeviceGuard guard(in.device());
  visit_dtype(in.dtype(), [&]<typename T>() {
    const T* x = cuda::device_data<T>(in);
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
      IGNIS_INTERNAL_ASSERT(n > 0);
      int64_t* indices = cuda::device_data<int64_t>(out);
      if (op == ReduceOp::ArgMax) {
        arg_rows<true>(x, static_cast<T*>(nullptr), indices, outer, n, in);
      } else {
        arg_rows<false>(x, static_cast<T*>(nullptr), indices, outer, n, in);
      }
      return;
    }
    visit_value_op<T>(op, "reduce_cuda: bad op for this dtype", [&]<typename Fn>() {
      reduce_rows<Fn>(x, cuda::device_data<T>(out), outer, n, in);
    });
  });
}

// in (outer, n) contiguous, n >= 1; values (outer) of in's dtype, indices (outer) int64;
// Max or Min.
void reduce_with_index_cuda(ReduceOp op, const Tensor& in, const Tensor& values,
                            const Tensor& indices) {
  const int64_t outer = in.size(0), n = in.size(1);
  IGNIS_INTERNAL_ASSERT(op == ReduceOp::Max || op == ReduceOp::Min);
  if (outer == 0) return;
  IGNIS_INTERNAL_ASSERT(n > 0);
  DeviceGuard guard(in.device());
  visit_dtype(in.dtype(), [&]<typename T>() {
    if (op == ReduceOp::Max) {
      arg_rows<true>(cuda::device_data<T>(in), cuda::device_data<T>(values), cuda::device_data<int64_t>(indices), outer,
                     n, in);
    } else {
      arg_rows<false>(cuda::device_data<T>(in), cuda::device_data<T>(values), cuda::device_data<int64_t>(indices),
                      outer, n, in);
    }
  });
}

// in contiguous (outer, n, inner), out contiguous (outer, inner), of one dtype; Sum/Prod/Max/
// Min only.
void reduce_strided_cuda(ReduceOp op, const Tensor& in, const Tensor& out, int64_t outer,
                         int64_t n, int64_t inner) {
  if (outer == 0 || inner == 0) return;
  DeviceGuard guard(in.device());
  visit_dtype(in.dtype(), [&]<typename T>() {
    visit_value_op<T>(op, "reduce_strided_cuda: bad op for this dtype", [&]<typename Fn>() {
      reduce_columns<Fn>(cuda::device_data<T>(in), cuda::device_data<T>(out), outer, n, inner, in);
    });
  });
}

}  // namespace ignis::cuda

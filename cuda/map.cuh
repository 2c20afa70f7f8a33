// The one strided map skeleton of the CUDA backend: out[i] = f(in[i]...) over tensors of one
// shape (inputs may have 0 strides), with coalesced dims, a contiguous fast path, and 16-byte
// vector loads and stores when every operand is contiguous and 16-byte aligned. Every
// elementwise kernel of cuda/ (fill, copy, unary, binary, where, optimizer steps) is a functor
// launched through launch_map. Internal to cuda/: include from .cu files only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "cuda/runtime.h"
#include "tensor/tensor.h"

namespace ignis::cuda {

// Most dims an operand may have after merging (a contiguous tensor of any rank has one).
inline constexpr int kMaxMapDims = 12;
inline constexpr int kMapThreads = 256;

// N operands viewed over one iteration shape, in elements. Size-1 dims are dropped and a dim
// merges into its outer neighbour when every operand steps through the pair as one dim.
template <int N>
struct MapIndexer {
  int ndim = 0;
  bool contiguous = false;  // every operand's offset is the linear index
  int64_t sizes[kMaxMapDims] = {};
  int64_t strides[kMaxMapDims][N] = {};

  // off[k] = element offset of operand k for row-major linear index i
  __device__ void offsets(int64_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t index = i % sizes[d];
      i /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += index * strides[d][k];
    }
  }
};

// Throws DeviceError naming `op` when more than kMaxMapDims dims remain after merging.
template <int N>
MapIndexer<N> make_indexer(const Shape& sizes, const std::array<Tensor, N>& operands,
                           const char* op) {
  MapIndexer<N> ix;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    int64_t step[N];
    for (int k = 0; k < N; ++k) step[k] = operands[static_cast<size_t>(k)].strides()[d];
    bool merge = ix.ndim > 0;
    for (int k = 0; k < N && merge; ++k) {
      merge = ix.strides[ix.ndim - 1][k] == step[k] * sizes[d];
    }
    if (merge) {
      ix.sizes[ix.ndim - 1] *= sizes[d];
      for (int k = 0; k < N; ++k) ix.strides[ix.ndim - 1][k] = step[k];
      continue;
    }
    if (ix.ndim == kMaxMapDims) {
      throw DeviceError(std::string(op) + ": a tensor of shape " + shape_str(sizes) +
                        " has more than " + std::to_string(kMaxMapDims) +
                        " non-mergeable dims; make it contiguous first");
    }
    ix.sizes[ix.ndim] = sizes[d];
    for (int k = 0; k < N; ++k) ix.strides[ix.ndim][k] = step[k];
    ++ix.ndim;
  }
  ix.contiguous = ix.ndim == 0;
  if (ix.ndim == 1) {
    ix.contiguous = true;
    for (int k = 0; k < N; ++k) ix.contiguous = ix.contiguous && ix.strides[0][k] == 1;
  }
  return ix;
}

template <typename Out, typename F, typename... In, size_t... K>
__device__ __forceinline__ void map_element(int64_t i, const MapIndexer<sizeof...(In) + 1>& ix,
                                            const F& f, Out* out, std::index_sequence<K...>,
                                            const In*... in) {
  if (ix.contiguous) {
    out[i] = f(in[i]...);
  } else {
    int64_t off[sizeof...(In) + 1];
    ix.offsets(i, off);
    out[off[0]] = f(in[off[K + 1]]...);
  }
}

// Grid-stride loop over the n elements; `ix.contiguous` is uniform, so the branch costs
// nothing per element.
template <typename Out, typename F, typename... In>
__global__ void map_kernel(int64_t n, MapIndexer<sizeof...(In) + 1> ix, F f, Out* out,
                           const In*... in) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += step) {
    map_element<Out>(i, ix, f, out, std::index_sequence_for<In...>{}, in...);
  }
}

// V consecutive elements of type T, aligned to their size: a 16-byte pack (float4-, double2-
// style) is one vector load or store.
template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// Elements per thread on the vector path: as many as fill 16 bytes of the widest operand.
template <typename Out, typename... In>
inline constexpr int kPackElems =
    static_cast<int>(16 / std::max({sizeof(Out), sizeof(In)...}));

// The vector path: operands contiguous, each base 16-byte aligned. Thread j maps pack j
// (elements [jV, jV + V)) with one load per input and one store; the n % V elements past the
// last whole pack go one per thread.
template <int V, typename Out, typename F, typename... In>
__global__ void map_packed_kernel(int64_t n, F f, Out* out, const In*... in) {
  const int64_t packs = n / V;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t j = first; j < packs; j += step) {
    Pack<Out, V> result;
    // The packs are taken by value: each is one vector load.
    const auto map_pack = [&](Pack<In, V>... x) {
#pragma unroll
      for (int e = 0; e < V; ++e) result.v[e] = f(x.v[e]...);
    };
    map_pack(reinterpret_cast<const Pack<In, V>*>(in)[j]...);
    reinterpret_cast<Pack<Out, V>*>(out)[j] = result;
  }
  for (int64_t i = packs * V + first; i < n; i += step) out[i] = f(in[i]...);
}

// Whether the vector path may read and write `operands`: contiguous after merging, and every
// base address a multiple of 16 bytes (a view at an odd offset is not).
template <int N>
bool packable(const MapIndexer<N>& ix, const std::array<Tensor, N>& operands) {
  if (!ix.contiguous) return false;
  for (const Tensor& t : operands) {
    if (reinterpret_cast<uintptr_t>(t.raw_data()) % 16 != 0) return false;
  }
  return true;
}

// Blocks for a grid-stride loop over n elements on `device`: enough to fill every
// multiprocessor several times over, no more.
inline unsigned grid_blocks(int64_t n, int device) {
  const int64_t wanted = (n + kMapThreads - 1) / kMapThreads;
  const int64_t most = int64_t{multiprocessor_count(device)} * 32;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(wanted, most)));
}

template <typename Out, typename... In, typename F, size_t... K>
void launch_map_impl(const char* op, const Tensor& out, const F& f,
                     const std::array<Tensor, sizeof...(In)>& in, std::index_sequence<K...>) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const std::array<Tensor, sizeof...(In) + 1> operands{out, in[K]...};
  const auto ix = make_indexer<sizeof...(In) + 1>(out.sizes(), operands, op);
  const int device = out.device().index;
  DeviceGuard guard(device);
  Out* out_data = static_cast<Out*>(out.raw_data());
  if (packable<sizeof...(In) + 1>(ix, operands)) {
    constexpr int V = kPackElems<Out, In...>;
    map_packed_kernel<V, Out, F, In...>
        <<<grid_blocks(std::max<int64_t>(n / V, 1), device), kMapThreads, 0, stream(device)>>>(
            n, f, out_data, static_cast<const In*>(in[K].raw_data())...);
  } else {
    map_kernel<Out, F, In...><<<grid_blocks(n, device), kMapThreads, 0, stream(device)>>>(
        n, ix, f, out_data, static_cast<const In*>(in[K].raw_data())...);
  }
  check_launch(op);
}

// out[i] = f(in[i]...) on out's device, out of type Out and input k of type In_k; all of
// out's shape (broadcast inputs expanded, with 0 strides), any strides. `f` is a functor
// with a __device__ operator() (no lambdas: the build has no --extended-lambda).
//   launch_map<float, float, float>("add", out, AddFn{}, {a, b});
template <typename Out, typename... In, typename F>
void launch_map(const char* op, const Tensor& out, const F& f,
                const std::array<Tensor, sizeof...(In)>& in) {
  launch_map_impl<Out, In...>(op, out, f, in, std::index_sequence_for<In...>{});
}

}  // namespace ignis::cuda

// CPU fill and copy kernels (any dtype to any dtype, any strides) over cpu/strided.h, with a
// cache-blocked path for transposing copies. Not the op: raw::fill_ / raw::copy_ (copy.cpp)
// check and broadcast first.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/strided.h"

namespace ignis::cpu {
namespace {

// Bytes along one edge of a tile of the transposing copy: a 64 x 64 float32 tile is 16 KiB,
// staged in an L1-resident buffer.
inline constexpr int64_t kTileEdgeBytes = 256;
inline constexpr int64_t kMaxTileEdge = 64;

// The two coalesced dims of a transposing copy: `a`, along which dst steps least (its rows,
// walked innermost), and `b`, along which src steps least. Empty when the generic row walk
// already reads src in order: fewer than 2 dims, src contiguous or broadcast along a, or src
// stepping no less along b than along a.
std::optional<std::pair<int64_t, int64_t>> transposed_dims(const StridedLoop<2>& loop,
                                                           int64_t itemsize) {
  if (loop.ndim() < 2) return std::nullopt;
  auto step = [&](int64_t d, size_t k) { return std::abs(loop.strides(d)[k]); };
  int64_t a = 0;
  for (int64_t d = 1; d < loop.ndim(); ++d) {
    if (step(d, 0) <= step(a, 0)) a = d;  // ties go to the inner dim
  }
  std::optional<int64_t> b;
  for (int64_t d = loop.ndim(); d-- > 0;) {
    if (d != a && (!b || step(d, 1) < step(*b, 1))) b = d;
  }
  const bool worth_it = step(a, 1) > itemsize && step(*b, 1) > 0 && step(*b, 1) < step(a, 1);
  if (!worth_it) return std::nullopt;
  return std::pair{a, *b};
}

// dst = src (same element size T, bits copied) over the coalesced `loop`, in tiles of the
// (b, a) plane; the other dims index whole planes. A tile is read from src along b into a
// local buffer, then written to dst along a from the buffer's columns: both tensors are walked
// in order, and the strided access (the transposition) stays in L1 instead of hitting
// src lines that a power-of-two row stride maps to one cache set. Every element is copied
// once, so the result is the generic path's whatever the tiling or the thread count.
template <typename T>
void copy_tiled(const StridedLoop<2>& loop, int64_t a, int64_t b) {
  constexpr int64_t kEdge = std::min(kMaxTileEdge, kTileEdgeBytes / int64_t{sizeof(T)});
  const Shape& sizes = loop.sizes();
  const auto elements = [](int64_t bytes) { return bytes / int64_t{sizeof(T)}; };
  const int64_t dst_a = elements(loop.strides(a)[0]), src_a = elements(loop.strides(a)[1]);
  const int64_t dst_b = elements(loop.strides(b)[0]), src_b = elements(loop.strides(b)[1]);
  Shape plane_sizes;
  std::vector<std::array<int64_t, 2>> plane_strides;  // elements, (dst, src)
  int64_t planes = 1;
  for (int64_t d = 0; d < loop.ndim(); ++d) {
    if (d == a || d == b) continue;
    plane_sizes.push_back(sizes[d]);
    plane_strides.push_back({elements(loop.strides(d)[0]), elements(loop.strides(d)[1])});
    planes *= sizes[d];
  }
  const int64_t tiles_a = (sizes[a] + kEdge - 1) / kEdge;
  const int64_t tiles_b = (sizes[b] + kEdge - 1) / kEdge;
  const int64_t tiles_per_plane = tiles_a * tiles_b;
  T* const dst_base = reinterpret_cast<T*>(loop.base()[0]);
  const T* const src_base = reinterpret_cast<const T*>(loop.base()[1]);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (kEdge * kEdge));
  parallel_for(0, planes * tiles_per_plane, grain, [&](int64_t lo, int64_t hi) {
    T buffer[kEdge][kEdge];  // (a, b) within the tile
    for (int64_t t = lo; t < hi; ++t) {
      T* dst = dst_base;
      const T* src = src_base;
      int64_t rest = t / tiles_per_plane;
      for (size_t d = plane_sizes.size(); d-- > 0;) {
        const int64_t index = rest % plane_sizes[d];
        rest /= plane_sizes[d];
        dst += index * plane_strides[d][0];
        src += index * plane_strides[d][1];
      }
      const int64_t tile = t % tiles_per_plane;
      const int64_t i0 = (tile / tiles_a) * kEdge, ni = std::min(kEdge, sizes[b] - i0);
      const int64_t j0 = (tile % tiles_a) * kEdge, nj = std::min(kEdge, sizes[a] - j0);
      src += i0 * src_b + j0 * src_a;
      dst += i0 * dst_b + j0 * dst_a;
      for (int64_t j = 0; j < nj; ++j) {
        const T* in = src + j * src_a;
        for (int64_t i = 0; i < ni; ++i) buffer[j][i] = in[i * src_b];
      }
      for (int64_t i = 0; i < ni; ++i) {
        T* out = dst + i * dst_b;
        for (int64_t j = 0; j < nj; ++j) out[j * dst_a] = buffer[j][i];
      }
    }
  });
}

// The tiled copy when dst and src have one dtype of 1, 4 or 8 bytes and their layouts are
// transposed relative to each other; false (nothing done) otherwise.
bool try_copy_tiled(const Tensor& dst, const Tensor& src) {
  if (dst.dtype() != src.dtype()) return false;
  const StridedLoop<2> loop(dst.sizes(), {dst, src});
  const int64_t itemsize = static_cast<int64_t>(dst.itemsize());
  const auto dims = transposed_dims(loop, itemsize);
  if (!dims) return false;
  switch (itemsize) {
    case 1:
      copy_tiled<uint8_t>(loop, dims->first, dims->second);
      return true;
    case 4:
      copy_tiled<uint32_t>(loop, dims->first, dims->second);
      return true;
    case 8:
      copy_tiled<uint64_t>(loop, dims->first, dims->second);
      return true;
    default:
      return false;
  }
}

}  // namespace

void fill(const Tensor& out, const Scalar& value) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    map_kernel<T>(out, [v]() { return v; }, {});
  });
}

void copy(const Tensor& dst, const Tensor& src) {
  if (try_copy_tiled(dst, src)) return;
  visit_dtype(dst.dtype(), [&]<typename To>() {
    visit_dtype(src.dtype(), [&]<typename From>() {
      map_kernel<To, From>(dst, [](From x) { return static_cast<To>(x); }, {src});
    });
  });
}

}  // namespace ignis::cpu

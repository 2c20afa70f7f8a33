// The fixed-order row reduction shared by the CPU reduction and softmax kernels.
// Internal to tensor/cpu/; the ops and their argument checks are in tensor/reduce.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>

#include "tensor/cpu/scalar_ops.h"
#include "tensor/cpu/simd_math.h"
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include "tensor/thread_pool.h"

namespace ignis::cpu {

// The order of every reduction depends on the row length n alone, never on the thread count:
//   1. the row is cut into blocks of kBlock elements (the last one shorter);
//   2. in a block, element i goes to accumulator lane i % kLanes, in order; the lanes are
//      then folded pairwise: lane j with lane j + w, for w = kLanes/2, ..., 2, 1;
//   3. the block results are combined as a balanced binary tree: (left half) op (right half),
//      the left half holding floor(count / 2) blocks.
// A lane of a float32 sum adds at most kBlock / kLanes = 128 terms and the tree adds
// log2(n / kBlock) levels, so the rounding error grows like (128 + log2 n) eps instead of
// n eps: the accuracy class of PyTorch's cascade sum. The kLanes independent accumulators
// are what lets the compiler vectorise the block loop without reassociating anything.
// Reductions over a middle dim (reduce_strided: (outer, n, inner), reduce_kernels.cpp) follow
// the same order for every column, vectorised across neighbouring columns instead, so they
// give the same bits as reducing the transposed, contiguous copy.
inline constexpr int64_t kBlock = 4096;
inline constexpr int kLanes = 32;
// Elements one parallel_for chunk should cover at least, so a task outweighs its scheduling.
inline constexpr int64_t kGrainElements = 32768;

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

// The associative ops of ReduceOp::Sum/Prod/Max/Min: identity and apply(a, b).
// Max/Min propagate NaN (a NaN operand wins), as PyTorch does.
// apply_vec: apply lane by lane on float or double vectors (kHasVec), for map_reduce_block_vec.
struct SumFn {
  static constexpr bool kHasVec = true;
  template <typename T> static T identity() { return T(0); }
  template <typename T> static T apply(T a, T b) { return scalar_ops::wrapping_add(a, b); }
  template <typename V> static V apply_vec(V a, V b) { return a + b; }
};
struct ProdFn {
  static constexpr bool kHasVec = true;
  template <typename T> static T identity() { return T(1); }
  template <typename T> static T apply(T a, T b) { return scalar_ops::wrapping_mul(a, b); }
  template <typename V> static V apply_vec(V a, V b) { return a * b; }
};
struct MaxFn {
  template <typename T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  template <typename T> static T apply(T a, T b) { return (is_nan(a) || a > b) ? a : b; }
  static constexpr bool kHasVec = true;
  template <typename V> static V apply_vec(V a, V b) { return ((a != a) | (a > b)) ? a : b; }
};
struct MinFn {
  template <typename T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::max();
  }
  template <typename T> static T apply(T a, T b) { return (is_nan(a) || a < b) ? a : b; }
  static constexpr bool kHasVec = true;
  template <typename V> static V apply_vec(V a, V b) { return ((a != a) | (a < b)) ? a : b; }
};

// kLanes / kVecLanes<T> vectors hold the kLanes accumulators of a float or double reduction:
// vectors of the widest registers the build targets (wider ones would be passed in memory,
// which GCC warns of as an ABI change).
#if defined(__AVX512F__)
inline constexpr int kVecBytes = 64;
#elif defined(__AVX__)
inline constexpr int kVecBytes = 32;
#else
inline constexpr int kVecBytes = 16;
#endif
template <typename T>
using LaneVec __attribute__((vector_size(kVecBytes))) = T;
template <typename T>
inline constexpr int kVecLanes = static_cast<int>(kVecBytes / sizeof(T));

// The vector of p[0, count), lanes from count on set to fill; count may be <= 0 (all fill,
// p not read) or >= the lane count (a whole vector). AVX-512 loads under a mask, which never
// touches the masked-out addresses; elsewhere through a padded copy.
template <typename T>
[[gnu::always_inline]] inline LaneVec<T> load_padded(const T* p, int64_t count, T fill) {
  constexpr int L = kVecLanes<T>;
  const int64_t c = std::clamp<int64_t>(count, 0, L);
#if defined(__AVX512F__)
  const auto mask = static_cast<uint32_t>((uint64_t{1} << c) - 1);
  if constexpr (sizeof(T) == 4) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>(mask), p);
  } else {
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), static_cast<__mmask8>(mask), p);
  }
#else
  T pad[L];
  for (int j = 0; j < L; ++j) pad[j] = j < c ? p[j] : fill;
  LaneVec<T> v;
  std::memcpy(&v, pad, sizeof(v));
  return v;
#endif
}

// p[0, count) = v's first count lanes, 0 <= count <= the lane count; nothing else written.
template <typename T>
[[gnu::always_inline]] inline void store_partial(T* p, int64_t count, LaneVec<T> v) {
#if defined(__AVX512F__)
  const auto mask = static_cast<uint32_t>((uint64_t{1} << count) - 1);
  if constexpr (sizeof(T) == 4) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>(mask), v);
  } else {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>(mask), v);
  }
#else
  for (int64_t j = 0; j < count; ++j) p[j] = v[j];
#endif
}

// The vector {0, 1, ..., L - 1}.
template <typename Index, size_t... J>
[[gnu::always_inline]] inline Index lane_numbers(std::index_sequence<J...>) {
  return Index{static_cast<std::remove_reference_t<decltype(Index{}[0])>>(J)...};
}

// a's lanes moved down by W: lane j holds lane (j + W) % L.
template <int W, typename V, size_t... J>
[[gnu::always_inline]] inline V lanes_down(V a, std::index_sequence<J...>) {
  return __builtin_shufflevector(a, a, static_cast<int>((J + W) % sizeof...(J))...);
}

// Lane 0 of the pairwise fold of a's lanes: lane j with lane j + w, for w = W, W/2, ..., 1.
template <typename Fn, int W, typename V>
[[gnu::always_inline]] inline auto fold_lanes(V a) {
  if constexpr (W == 0) {
    return a[0];
  } else {
    constexpr size_t kL = sizeof(V) / sizeof(a[0]);
    return fold_lanes<Fn, W / 2>(Fn::apply_vec(a, lanes_down<W>(a, std::make_index_sequence<kL>())));
  }
}

// Step 2 for float and double with an op that has a vector form (apply_vec), over fv(x)
// lane by lane (fv maps a vector of p's values; the identity map for a plain reduction): the
// kLanes accumulators in vectors, the tail loaded under a mask with its missing lanes set to
// the identity after fv, the lanes folded by shuffles. The same operations on the same lanes
// as the scalar loop of reduce_block, so the same bits: a missing lane applies the identity,
// which leaves its accumulator as it was (a sum's accumulators start at +0 and never become
// -0, so adding +0 changes nothing).
// out, when not null, receives fv(x) for the n values (the exponentials of a softmax).
template <typename Fn, typename T, typename FV>
[[gnu::always_inline]] inline T map_reduce_block_vec(const T* p, int64_t n, const FV& fv,
                                                     T* out = nullptr) {
  using V = LaneVec<T>;
  using Index = LaneVec<std::conditional_t<sizeof(T) == 4, int32_t, int64_t>>;
  constexpr int L = kVecLanes<T>;
  constexpr int NV = kLanes / L;
  const T identity = Fn::template identity<T>();
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = V{} + identity;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      V x;
      std::memcpy(&x, p + i + v * L, sizeof(V));
      const V y = fv(x);
      if (out != nullptr) std::memcpy(out + i + v * L, &y, sizeof(V));
      acc[v] = Fn::apply_vec(acc[v], y);
    }
  }
  if (i < n) {
    const Index lane = lane_numbers<Index>(std::make_index_sequence<L>());
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const int64_t count = std::min<int64_t>(n - i - v * L, L);
      if (count <= 0) break;  // the rest would apply the identity
      const V x = fv(load_padded(p + i + v * L, count, identity));
      if (out != nullptr) store_partial<T>(out + i + v * L, count, x);
      const auto c = static_cast<std::remove_reference_t<decltype(lane[0])>>(count);
      acc[v] = Fn::apply_vec(acc[v], lane < c ? x : V{} + identity);
    }
  }
  // Folds of kLanes/2 down to L: whole vectors; below L: lane j with lane j + w by shuffle.
  for (int w = NV / 2; w > 0; w /= 2) {
    for (int v = 0; v < w; ++v) acc[v] = Fn::apply_vec(acc[v], acc[v + w]);
  }
  return fold_lanes<Fn, L / 2>(acc[0]);
}

// Step 2 above: reduces p[0, n) with n <= kBlock; the identity when n == 0.
template <typename Fn, typename T>
[[gnu::always_inline]] inline T reduce_block(const T* p, int64_t n) {
  if constexpr (std::is_floating_point_v<T> && Fn::kHasVec) {
    return map_reduce_block_vec<Fn>(p, n, [](LaneVec<T> x) { return x; });
  } else {
    T acc[kLanes];
    for (int j = 0; j < kLanes; ++j) acc[j] = Fn::template identity<T>();
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) acc[j] = Fn::apply(acc[j], p[i + j]);
    }
    for (int j = 0; i + j < n; ++j) acc[j] = Fn::apply(acc[j], p[i + j]);
    for (int w = kLanes / 2; w > 0; w /= 2) {
      for (int j = 0; j < w; ++j) acc[j] = Fn::apply(acc[j], acc[j + w]);
    }
    return acc[0];
  }
}

// Step 3 above: leaf(first) op ... op leaf(first + count - 1), count >= 1, as a balanced tree
// that keeps left operands left (so order-sensitive combines such as argmax ties work).
template <typename R, typename Leaf, typename Combine>
R tree_reduce_split(int64_t first, int64_t count, const Leaf& leaf, const Combine& combine);
// The common single block inlines into the caller's row loop; the tree goes through a call.
template <typename R, typename Leaf, typename Combine>
[[gnu::always_inline]] inline R tree_reduce(int64_t first, int64_t count, const Leaf& leaf,
                                            const Combine& combine) {
  if (count == 1) return leaf(first);
  return tree_reduce_split<R>(first, count, leaf, combine);
}
template <typename R, typename Leaf, typename Combine>
R tree_reduce_split(int64_t first, int64_t count, const Leaf& leaf, const Combine& combine) {
  const int64_t left = count / 2;
  R a = tree_reduce<R>(first, left, leaf, combine);
  R b = tree_reduce<R>(first + left, count - left, leaf, combine);
  return combine(a, b);
}

inline int64_t num_blocks(int64_t n) { return std::max<int64_t>(1, (n + kBlock - 1) / kBlock); }

// One whole row p[0, n), serially, in the documented order.
template <typename Fn, typename T>
T reduce_row(const T* p, int64_t n) {
  return tree_reduce<T>(
      0, num_blocks(n),
      [&](int64_t b) { return reduce_block<Fn>(p + b * kBlock, std::min(kBlock, n - b * kBlock)); },
      [](T a, T b) { return Fn::apply(a, b); });
}

// reduce_row's reduction of the n values f(0), ..., f(n - 1), in the same order: each block's
// values go through a buffer on the stack, filled by a plain loop that the compiler
// vectorises when f inlines (float64 exponentials, the cross-entropy's smoothing term).
template <typename Fn, typename T, typename F>
T map_reduce_row(int64_t n, const F& f) {
  return tree_reduce<T>(
      0, num_blocks(n),
      [&](int64_t b) {
        T values[kBlock];
        const int64_t first = b * kBlock, count = std::min(kBlock, n - first);
        for (int64_t i = 0; i < count; ++i) values[i] = f(first + i);
        return reduce_block<Fn>(values, count);
      },
      [](T a, T b) { return Fn::apply(a, b); });
}

// sum_i e^(x_i - m) over x[0, n), in reduce_row's order, and e^(x_i - m) into out[0, n) when
// out is not null: float32 in vectors through exp_f32's vector form (each exponential
// computed once, summed in registers); float64 through std::exp.
template <typename T>
T sum_exp_row(const T* x, int64_t n, T m, T* out = nullptr) {
  if constexpr (std::is_same_v<T, float>) {
    return tree_reduce<T>(
        0, num_blocks(n),
        [&](int64_t b) {
          const int64_t first = b * kBlock;
          return map_reduce_block_vec<SumFn>(
              x + first, std::min(kBlock, n - first),
              [m](LaneVec<float> v) { return exp_f32(v - m); },
              out != nullptr ? out + first : nullptr);
        },
        [](T a, T b) { return a + b; });
  } else {
    if (out == nullptr) {
      return map_reduce_row<SumFn, T>(n, [x, m](int64_t i) { return std::exp(x[i] - m); });
    }
    for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i] - m);
    return reduce_row<SumFn>(out, n);
  }
}

// Reduces every row of an (outer, n) matrix: block(row, begin, end) -> R reduces elements
// [begin, end) of one row (one block), combine(left, right) merges neighbouring results,
// store(row, R) writes a row's result. Rows run in parallel; when there are fewer rows than
// threads and the rows span several blocks, each row's blocks run in parallel instead and
// their results are combined by the same tree, so both paths give the same bits.
template <typename R, typename Block, typename Combine, typename Store>
void reduce_rows(int64_t outer, int64_t n, const Block& block, const Combine& combine,
                 const Store& store) {
  const int64_t nblocks = num_blocks(n);
  auto block_of_row = [&](int64_t row, int64_t b) {
    return block(row, b * kBlock, std::min(n, (b + 1) * kBlock));
  };
  if (nblocks == 1 || outer >= get_num_threads()) {
    const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(n, 1));
    parallel_for(0, outer, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        auto leaf = [&](int64_t b) { return block_of_row(r, b); };
        store(r, tree_reduce<R>(0, nblocks, leaf, combine));
      }
    });
    return;
  }
  // NOTE: not std::vector, whose bool specialisation would make the parallel writes race.
  std::unique_ptr<R[]> partials(new R[static_cast<size_t>(nblocks)]);
  const int64_t block_grain = std::max<int64_t>(1, kGrainElements / kBlock);
  for (int64_t r = 0; r < outer; ++r) {
    parallel_for(0, nblocks, block_grain, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) partials[b] = block_of_row(r, b);
    });
    auto leaf = [&](int64_t b) { return partials[b]; };
    store(r, tree_reduce<R>(0, nblocks, leaf, combine));
  }
}

}  // namespace ignis::cpu

// The fixed-order row reduction shared by the CPU reduction and softmax kernels.
// Internal to tensor/cpu/; the ops and their argument checks are in tensor/reduce.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>

#include "tensor/cpu/scalar_ops.h"
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
struct SumFn {
  template <typename T> static T identity() { return T(0); }
  template <typename T> static T apply(T a, T b) { return scalar_ops::wrapping_add(a, b); }
};
struct ProdFn {
  template <typename T> static T identity() { return T(1); }
  template <typename T> static T apply(T a, T b) { return scalar_ops::wrapping_mul(a, b); }
};
struct MaxFn {
  template <typename T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  template <typename T> static T apply(T a, T b) { return (is_nan(a) || a > b) ? a : b; }
};
struct MinFn {
  template <typename T> static T identity() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::max();
  }
  template <typename T> static T apply(T a, T b) { return (is_nan(a) || a < b) ? a : b; }
};

// Step 2 above: reduces p[0, n) with n <= kBlock; the identity when n == 0.
template <typename Fn, typename T>
T reduce_block(const T* p, int64_t n) {
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

// Step 3 above: leaf(first) op ... op leaf(first + count - 1), count >= 1, as a balanced tree
// that keeps left operands left (so order-sensitive combines such as argmax ties work).
template <typename R, typename Leaf, typename Combine>
R tree_reduce(int64_t first, int64_t count, const Leaf& leaf, const Combine& combine) {
  if (count == 1) return leaf(first);
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

// CPU kernels of the reduction slots (reduce, reduce_with_index over contiguous (outer, n)
// rows; reduce_strided over the middle dim of (outer, n, inner)), in the fixed order of
// row_reduce.h. Argument checks and dtype rules: tensor/reduce.cpp.
#include <algorithm>
#include <type_traits>
#include <utility>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/row_reduce.h"

namespace ignis::cpu {
namespace {

// y[r] = x[r, 0] op ... op x[r, n - 1] for every row r of x (outer, n).
template <typename Fn, typename T>
void reduce_values(const T* x, T* y, int64_t outer, int64_t n) {
  reduce_rows<T>(
      outer, n,
      [&](int64_t r, int64_t begin, int64_t end) {
        return reduce_block<Fn>(x + r * n + begin, end - begin);
      },
      [](T a, T b) { return Fn::apply(a, b); }, [&](int64_t r, T v) { y[r] = v; });
}

// Whether `candidate` replaces `best` in an arg-max (kMax) or arg-min scan that goes from the
// first index to the last: a strictly better value does, and the first NaN does, after which
// nothing does (NaN counts as the extreme, as in PyTorch). Ties keep the earlier index.
template <bool kMax, typename T>
bool replaces(T candidate, T best) {
  if (is_nan(best)) return false;
  if (is_nan(candidate)) return true;
  return kMax ? candidate > best : candidate < best;
}

// values[r] (when non-null) and indices[r] of the max (kMax) or min of each row of x (outer,
// n); n >= 1.
template <bool kMax, typename T>
void reduce_arg(const T* x, T* values, int64_t* indices, int64_t outer, int64_t n) {
  using Best = std::pair<T, int64_t>;
  using Fn = std::conditional_t<kMax, MaxFn, MinFn>;
  reduce_rows<Best>(
      outer, n,
      [&](int64_t r, int64_t begin, int64_t end) {
        // Two passes over the block (hot in L1): the vectorised extreme, then the first
        // element equal to it (or the first NaN). Same answer as one replaces() scan.
        const T* p = x + r * n + begin;
        const T extreme = reduce_block<Fn>(p, end - begin);
        int64_t i = 0;
        if (is_nan(extreme)) {
          while (!is_nan(p[i])) ++i;
        } else {
          while (p[i] != extreme) ++i;
        }
        return Best{p[i], begin + i};
      },
      [](const Best& left, const Best& right) {
        return replaces<kMax>(right.first, left.first) ? right : left;
      },
      [&](int64_t r, const Best& best) {
        if (values != nullptr) values[r] = best.first;
        indices[r] = best.second;
      });
}

// Bytes of neighbouring columns one reduce_columns task covers: its kLanes accumulator rows
// (16 KiB) stay in L1, and each input row is read in runs of 512 bytes.
inline constexpr int64_t kColumnBytes = 512;

// result[k] = op over rows [begin, end) of x[r * inner + k], k < width: one block of
// row_reduce.h's order applied to every column at once (row r to lane (r - begin) % kLanes,
// then the lanes folded pairwise), so the compiler vectorises across the columns.
template <typename Fn, typename T>
void reduce_column_block(const T* x, int64_t inner, int64_t begin, int64_t end, int64_t width,
                         T* result) {
  constexpr int64_t kColumns = kColumnBytes / static_cast<int64_t>(sizeof(T));
  T acc[kLanes][kColumns];
  for (auto& lane : acc) std::fill(lane, lane + width, Fn::template identity<T>());
  for (int64_t r = begin; r < end; ++r) {
    T* lane = acc[(r - begin) % kLanes];
    const T* row = x + r * inner;
    for (int64_t k = 0; k < width; ++k) lane[k] = Fn::apply(lane[k], row[k]);
  }
  for (int w = kLanes / 2; w > 0; w /= 2) {
    for (int j = 0; j < w; ++j) {
      for (int64_t k = 0; k < width; ++k) acc[j][k] = Fn::apply(acc[j][k], acc[j + w][k]);
    }
  }
  std::copy(acc[0], acc[0] + width, result);
}

// result[k] = the blocks [first, first + count) of the columns combined as row_reduce.h's
// balanced tree (left half: floor(count / 2) blocks), for the n rows of x (n, inner).
template <typename Fn, typename T>
void reduce_column_tree(const T* x, int64_t inner, int64_t n, int64_t first, int64_t count,
                        int64_t width, T* result) {
  if (count == 1) {
    reduce_column_block<Fn>(x, inner, first * kBlock, std::min(n, (first + 1) * kBlock), width,
                            result);
    return;
  }
  const int64_t left = count / 2;
  reduce_column_tree<Fn>(x, inner, n, first, left, width, result);
  T right[kColumnBytes / sizeof(T)];
  reduce_column_tree<Fn>(x, inner, n, first + left, count - left, width, right);
  for (int64_t k = 0; k < width; ++k) result[k] = Fn::apply(result[k], right[k]);
}

// y[o, k] = x[o, 0, k] op ... op x[o, n - 1, k] for x (outer, n, inner), y (outer, inner).
// Every column goes through exactly reduce_row's order for a row of length n, so the bits are
// those of reducing the transposed copy, for any thread count: tasks split only (outer, inner).
template <typename Fn, typename T>
void reduce_columns(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  constexpr int64_t kColumns = kColumnBytes / static_cast<int64_t>(sizeof(T));
  const int64_t column_tasks = (inner + kColumns - 1) / kColumns;
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, n * kColumns));
  parallel_for(0, outer * column_tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t o = t / column_tasks;
      const int64_t k0 = (t % column_tasks) * kColumns;
      reduce_column_tree<Fn>(x + o * n * inner + k0, inner, n, 0, num_blocks(n),
                             std::min(kColumns, inner - k0), y + o * inner + k0);
    }
  });
}

}  // namespace

// in (outer, n) contiguous; out (outer) contiguous. Sum/Prod/Max/Min: out has in's dtype
// (the raw ops convert integer sums to int64 before calling); ArgMax/ArgMin: out is int64.
void reduce(ReduceOp op, const Tensor& in, const Tensor& out) {
  const int64_t outer = in.size(0);
  const int64_t n = in.size(1);
  visit_dtype(in.dtype(), [&]<typename T>() {
    const T* x = in.data_ptr<T>();
    switch (op) {
      case ReduceOp::Sum:
      case ReduceOp::Prod:
        if constexpr (std::is_same_v<T, bool>) {
          internal_error("reduce: sum/prod of bool must be converted to int64 first");
        } else if (op == ReduceOp::Sum) {
          reduce_values<SumFn>(x, out.data_ptr<T>(), outer, n);
        } else {
          reduce_values<ProdFn>(x, out.data_ptr<T>(), outer, n);
        }
        return;
      case ReduceOp::Max:
        return reduce_values<MaxFn>(x, out.data_ptr<T>(), outer, n);
      case ReduceOp::Min:
        return reduce_values<MinFn>(x, out.data_ptr<T>(), outer, n);
      case ReduceOp::ArgMax:
        IGNIS_INTERNAL_ASSERT(n > 0 || outer == 0);
        return reduce_arg<true>(x, static_cast<T*>(nullptr), out.data_ptr<int64_t>(), outer, n);
      case ReduceOp::ArgMin:
        IGNIS_INTERNAL_ASSERT(n > 0 || outer == 0);
        return reduce_arg<false>(x, static_cast<T*>(nullptr), out.data_ptr<int64_t>(), outer,
                                 n);
    }
  });
}

// in (outer, n) contiguous, n >= 1; values (outer) of in's dtype, indices (outer) int64.
void reduce_with_index(ReduceOp op, const Tensor& in, const Tensor& values,
                       const Tensor& indices) {
  const int64_t outer = in.size(0);
  const int64_t n = in.size(1);
  IGNIS_INTERNAL_ASSERT(n > 0 || outer == 0);
  IGNIS_INTERNAL_ASSERT(op == ReduceOp::Max || op == ReduceOp::Min);
  visit_dtype(in.dtype(), [&]<typename T>() {
    if (op == ReduceOp::Max) {
      reduce_arg<true>(in.data_ptr<T>(), values.data_ptr<T>(), indices.data_ptr<int64_t>(),
                       outer, n);
    } else {
      reduce_arg<false>(in.data_ptr<T>(), values.data_ptr<T>(), indices.data_ptr<int64_t>(),
                        outer, n);
    }
  });
}

// in contiguous (outer, n, inner), out contiguous (outer, inner), both of one dtype;
// Sum/Prod/Max/Min only (bool sums and products are converted to int64 by the raw op).
void reduce_strided(ReduceOp op, const Tensor& in, const Tensor& out, int64_t outer, int64_t n,
                    int64_t inner) {
  visit_dtype(in.dtype(), [&]<typename T>() {
    const T* x = in.data_ptr<T>();
    T* y = out.data_ptr<T>();
    switch (op) {
      case ReduceOp::Sum:
      case ReduceOp::Prod:
        if constexpr (std::is_same_v<T, bool>) {
          internal_error("reduce_strided: sum/prod of bool must be converted to int64 first");
        } else if (op == ReduceOp::Sum) {
          reduce_columns<SumFn>(x, y, outer, n, inner);
        } else {
          reduce_columns<ProdFn>(x, y, outer, n, inner);
        }
        return;
      case ReduceOp::Max:
        return reduce_columns<MaxFn>(x, y, outer, n, inner);
      case ReduceOp::Min:
        return reduce_columns<MinFn>(x, y, outer, n, inner);
      case ReduceOp::ArgMax:
      case ReduceOp::ArgMin:
        internal_error("reduce_strided: argmax/argmin take the reduce slot");
    }
  });
}

}  // namespace ignis::cpu

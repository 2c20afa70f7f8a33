// CPU kernels of the reduction slots (reduce, reduce_with_index) over contiguous (outer, n)
// rows, in the fixed order of row_reduce.h. Argument checks and dtype rules: tensor/reduce.cpp.
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

}  // namespace ignis::cpu

// CPU kernels of the softmax, index_select, gather and scatter_add slots. Indices arrive
// already validated (tensor/index_ops.cpp checks them); these loops only move numbers.
#include <algorithm>
#include <cmath>

#include "tensor/cpu/kernels.h"
#include "tensor/cpu/row_reduce.h"
#include "tensor/cpu/scalar_ops.h"

namespace ignis::cpu {
namespace {

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

// e^x, inlined so that the row loops vectorise (float32: exp_f32, under 2 ulp).
using scalar_ops::exp_of;

// softmax or log_softmax of one contiguous row of n elements: max, then the exps and their
// sum (summed in the fixed order of row_reduce.h), then the normalisation.
template <typename T>
void softmax_row(const T* x, T* y, int64_t n, bool log) {
  const T m = reduce_row<MaxFn>(x, n);
  if (log) {
    // (x - m) - log(total), not x - (m + log(total)), which would round at |m|'s scale.
    const T log_total = std::log(sum_exp_row(x, n, m));
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_total;
  } else {
    const T scale = T(1) / sum_exp_row(x, n, m, y);
    for (int64_t i = 0; i < n; ++i) y[i] *= scale;
  }
}

// Columns [c0, c1) of one (n, inner) slab, softmax down each column; the inner loops run
// along contiguous columns. c1 - c0 <= kColumns.
constexpr int64_t kColumns = 64;

template <typename T>
void softmax_columns(const T* x, T* y, int64_t n, int64_t inner, int64_t c0, int64_t c1,
                     bool log) {
  T m[kColumns];
  T total[kColumns];
  const int64_t w = c1 - c0;
  for (int64_t c = 0; c < w; ++c) {
    m[c] = MaxFn::identity<T>();
    total[c] = T(0);
  }
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner + c0;
    for (int64_t c = 0; c < w; ++c) m[c] = MaxFn::apply(m[c], row[c]);
  }
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner + c0;
    T* out = y + k * inner + c0;
    for (int64_t c = 0; c < w; ++c) {
      out[c] = exp_of(row[c] - m[c]);
      total[c] += out[c];
    }
  }
  for (int64_t c = 0; c < w; ++c) total[c] = log ? std::log(total[c]) : T(1) / total[c];
  for (int64_t k = 0; k < n; ++k) {
    const T* row = x + k * inner + c0;
    T* out = y + k * inner + c0;
    for (int64_t c = 0; c < w; ++c) {
      out[c] = log ? (row[c] - m[c]) - total[c] : out[c] * total[c];
    }
  }
}

// The offsets of a slice's first element: a slice is one position of every dim but `dim`
// of `sizes`, numbered in row-major order; `strides` are those of the tensor walked.
int64_t slice_offset(int64_t slice, const Shape& sizes, int64_t dim, const Shape& strides) {
  int64_t offset = 0;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    if (d == dim) continue;
    offset += (slice % sizes[d]) * strides[d];
    slice /= sizes[d];
  }
  return offset;
}

int64_t slice_count(const Shape& sizes, int64_t dim) {
  int64_t count = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
    if (d != dim) count *= sizes[d];
  }
  return count;
}

}  // namespace

// in, out contiguous (outer, n, inner), float32 or float64; stable (max subtracted first).
void softmax(const Tensor& in, const Tensor& out, int64_t outer, int64_t n, int64_t inner,
             bool log) {
  visit_floating(in.dtype(), "softmax", [&]<typename T>() {
    const T* x = in.data_ptr<T>();
    T* y = out.data_ptr<T>();
    if (inner == 1) {
      const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(n, 1));
      parallel_for(0, outer, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * n, y + r * n, n, log);
      });
      return;
    }
    const int64_t column_blocks = (inner + kColumns - 1) / kColumns;
    const int64_t grain =
        std::max<int64_t>(1, kGrainElements / std::max<int64_t>(n * kColumns, 1));
    parallel_for(0, outer * column_blocks, grain, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / column_blocks;
        const int64_t c0 = (t % column_blocks) * kColumns;
        softmax_columns(x + o * n * inner, y + o * n * inner, n, inner, c0,
                        std::min(inner, c0 + kColumns), log);
      }
    });
  });
}

// out (outer, k, inner) = in (outer, n, inner)[:, index, :], all contiguous, k = index.numel().
void index_select(const Tensor& in, const Tensor& index, const Tensor& out, int64_t outer,
                  int64_t n, int64_t inner) {
  const int64_t k = index.numel();
  visit_dtype(in.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      const T* x = in.data_ptr<T>();
      const I* idx = index.data_ptr<I>();
      T* y = out.data_ptr<T>();
      const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(inner, 1));
      parallel_for(0, outer * k, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = r / k;
          const T* src = x + (o * n + static_cast<int64_t>(idx[r % k])) * inner;
          std::copy_n(src, inner, y + r * inner);
        }
      });
    });
  });
}

// out[..., j, ...] = in[..., index[..., j, ...], ...] along `dim`; out contiguous, in and index
// any strides, index and out of one shape.
void gather(const Tensor& in, int64_t dim, const Tensor& index, const Tensor& out) {
  const Shape& sizes = index.sizes();
  const int64_t len = sizes[dim];
  const int64_t slices = slice_count(sizes, dim);
  visit_dtype(in.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      const T* x = in.data_ptr<T>();
      const I* idx = index.data_ptr<I>();
      T* y = out.data_ptr<T>();
      const int64_t xs = in.stride(dim), is = index.stride(dim), ys = out.stride(dim);
      const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(len, 1));
      parallel_for(0, slices, grain, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s) {
          const T* xb = x + slice_offset(s, sizes, dim, in.strides());
          const I* ib = idx + slice_offset(s, sizes, dim, index.strides());
          T* yb = y + slice_offset(s, sizes, dim, out.strides());
          for (int64_t j = 0; j < len; ++j) {
            yb[j * ys] = xb[static_cast<int64_t>(ib[j * is]) * xs];
          }
        }
      });
    });
  });
}

// out[..., index[..., j, ...], ...] += src[..., j, ...] along `dim`, in place; any strides.
// Deterministic: slices (positions off `dim`) write disjoint elements of out and run in
// parallel; within a slice, j goes in increasing order.
void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const Shape& sizes = index.sizes();
  const int64_t len = sizes[dim];
  const int64_t slices = slice_count(sizes, dim);
  visit_dtype(out.dtype(), [&]<typename T>() {
    visit_index(index.dtype(), [&]<typename I>() {
      T* y = out.data_ptr<T>();
      const I* idx = index.data_ptr<I>();
      const T* z = src.data_ptr<T>();
      const int64_t ys = out.stride(dim), is = index.stride(dim), zs = src.stride(dim);
      const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(len, 1));
      parallel_for(0, slices, grain, [&](int64_t s0, int64_t s1) {
        for (int64_t s = s0; s < s1; ++s) {
          T* yb = y + slice_offset(s, sizes, dim, out.strides());
          const I* ib = idx + slice_offset(s, sizes, dim, index.strides());
          const T* zb = z + slice_offset(s, sizes, dim, src.strides());
          for (int64_t j = 0; j < len; ++j) {
            T& target = yb[static_cast<int64_t>(ib[j * is]) * ys];
            target = static_cast<T>(target + zb[j * zs]);
          }
        }
      });
    });
  });
}

}  // namespace ignis::cpu

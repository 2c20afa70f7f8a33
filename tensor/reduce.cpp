// Raw reductions (tensor/reduce.h): argument checks, output shapes and dtypes, and the
// composite reductions (mean, var, logsumexp, norm) built from the reduce slot and raw ops.
// Not the kernels: the arithmetic and its fixed order are in tensor/cpu/reduce_kernels.cpp.
#include "tensor/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis::raw {
namespace {

// x with the kept dims in order, then the `reduced` ones (normalized dims, see
// normalize_dims): a view, contiguous when x is already laid out that way.
Tensor reduced_last(const Tensor& x, const Shape& reduced) {
  if (x.dim() == 0) return x;
  Shape perm;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!std::binary_search(reduced.begin(), reduced.end(), d)) perm.push_back(d);
  }
  perm.insert(perm.end(), reduced.begin(), reduced.end());
  return raw::permute(x, perm);
}

// x seen as a contiguous (outer, n) matrix of reduced_last's layout. Copies only when that
// view is not contiguous.
Tensor as_rows(const Tensor& x, const Shape& reduced) {
  int64_t outer = 1, n = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (std::binary_search(reduced.begin(), reduced.end(), d)) {
      n *= x.size(d);
    } else {
      outer *= x.size(d);
    }
  }
  const Tensor c = raw::contiguous(reduced_last(x, reduced));
  return make_view(c, {outer, n}, {n, 1}, c.storage_offset());
}

// x seen as (outer, n, inner) with the `reduced` dims (normalized) as the middle one: they
// must be consecutive (kept dims of size 1 between them do not count) and followed by kept
// dims of more than one element in all. Lets the reduce_strided slot read the contiguous x
// with no transposing copy. Empty otherwise.
struct MiddleSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
std::optional<MiddleSplit> middle_split(const Tensor& x, const Shape& reduced) {
  if (reduced.empty()) return std::nullopt;
  MiddleSplit split;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool is_reduced = std::binary_search(reduced.begin(), reduced.end(), d);
    if (is_reduced) {
      split.n *= x.size(d);
    } else if (d < reduced.front()) {
      split.outer *= x.size(d);
    } else if (d > reduced.back()) {
      split.inner *= x.size(d);
    } else if (x.size(d) != 1) {
      return std::nullopt;
    }
  }
  if (split.inner <= 1) return std::nullopt;
  return split;
}

// The output shape for normalized `reduced` dims.
Shape shape_after(const Shape& sizes, const Shape& reduced, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
    if (!std::binary_search(reduced.begin(), reduced.end(), d)) {
      out.push_back(sizes[d]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

// The number of elements each output element reduces (1 for a 0-d tensor).
int64_t reduced_count(const Tensor& x, const Shape& dims, const char* op) {
  int64_t count = 1;
  for (int64_t d : normalize_dims(dims, x.dim(), op)) count *= x.size(d);
  return count;
}

// A contiguous 1-d view of a freshly made output, as the kernels take it.
Tensor flat(const Tensor& out) { return make_view(out, {out.numel()}, {1}, 0); }

void require_floating(const Tensor& x, const char* op) {
  if (!x.is_floating_point()) {
    throw DTypeError(std::string(op) + ": expected a floating-point tensor, got " +
                     dtype_name(x.dtype()));
  }
}

// Max, min and their indices have no value on an empty reduction (as in PyTorch).
void require_nonempty(const Tensor& x, const Shape& reduced, const char* op) {
  for (int64_t d : reduced) {
    if (x.size(d) == 0) {
      throw IndexError(std::string(op) + ": expected reduction dim " + std::to_string(d) +
                       " to have non-zero size, input is " + x.shape_str());
    }
  }
}

bool needs_nonempty(ReduceOp op) { return op != ReduceOp::Sum && op != ReduceOp::Prod; }

// out = op over `dims` of x, of dtype out_dtype (x already of that dtype except for
// ArgMax/ArgMin, whose output is int64).
Tensor run_reduce(ReduceOp op, const Tensor& x, const Shape& dims, bool keepdim, DType out_dtype,
                  const char* name) {
  const Shape reduced = normalize_dims(dims, x.dim(), name);
  if (needs_nonempty(op)) require_nonempty(x, reduced, name);
  Tensor out = make_tensor(shape_after(x.sizes(), reduced, keepdim), out_dtype, x.device());
  if (out.numel() == 0) return out;
  const auto strided = kernel_table(x.device().type).reduce_strided;
  const bool has_index = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  const auto split = middle_split(x, reduced);
  if (split && strided != nullptr && !has_index &&
      !reduced_last(x, reduced).is_contiguous()) {
    // Same bits as the reduce slot on the transposed copy, without making that copy. (When
    // x's memory already holds the reduced dims last, as x = y.t(), the rows need no copy.)
    strided(op, raw::contiguous(x), out, split->outer, split->n, split->inner);
    return out;
  }
  get_kernel(&KernelTable::reduce, x.device(), name)(op, as_rows(x, reduced), flat(out));
  return out;
}

// (values, indices) of the max or min along one dim.
std::pair<Tensor, Tensor> extreme_with_index(ReduceOp op, const Tensor& x, int64_t dim,
                                             bool keepdim, const char* name) {
  const Shape reduced = normalize_dims({dim}, x.dim(), name);
  require_nonempty(x, reduced, name);
  const Shape out_shape = shape_after(x.sizes(), reduced, keepdim);
  Tensor values = make_tensor(out_shape, x.dtype(), x.device());
  Tensor indices = make_tensor(out_shape, kInt64, x.device());
  if (values.numel() == 0) return {values, indices};
  get_kernel(&KernelTable::reduce_with_index, x.device(), name)(op, as_rows(x, reduced),
                                                                flat(values), flat(indices));
  return {values, indices};
}

Tensor arg_extreme(ReduceOp op, const Tensor& x, std::optional<int64_t> dim, bool keepdim,
                   const char* name) {
  const Shape dims = dim ? Shape{*dim} : Shape{};
  return run_reduce(op, x, dims, keepdim, kInt64, name);
}

// The dtype sum and prod give: int64 for bool and integers, else the input's.
DType accumulate_dtype(DType dtype) { return is_integral(dtype, true) ? kInt64 : dtype; }

}  // namespace

Shape normalize_dims(const Shape& dims, int64_t ndim, const char* op) {
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    // A 0-d tensor accepts dim 0 or -1 and has nothing to reduce, as in PyTorch.
    const int64_t wrapped = wrap_dim(d, ndim, op);
    if (ndim > 0) out.push_back(wrapped);
  }
  std::sort(out.begin(), out.end());
  const auto dup = std::adjacent_find(out.begin(), out.end());
  if (dup != out.end()) {
    throw IndexError(std::string(op) + ": dim " + std::to_string(*dup) +
                     " appears multiple times in the list of dims " + shape_str(dims));
  }
  return out;
}

Shape reduced_shape(const Shape& sizes, const Shape& dims, bool keepdim, const char* op) {
  return shape_after(sizes, normalize_dims(dims, static_cast<int64_t>(sizes.size()), op),
                     keepdim);
}

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  const DType out = dtype.value_or(accumulate_dtype(x.dtype()));
  if (out == kBool) throw DTypeError("sum: cannot accumulate in bool; pass an integer dtype");
  return run_reduce(ReduceOp::Sum, raw::to(x, out), dims, keepdim, out, "sum");
}

Tensor prod(const Tensor& x, const Shape& dims, bool keepdim) {
  const DType out = accumulate_dtype(x.dtype());
  return run_reduce(ReduceOp::Prod, raw::to(x, out), dims, keepdim, out, "prod");
}

// sum / N: N = 0 gives 0 / 0 = nan, as PyTorch.
Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  require_floating(x, "mean");
  const double count = static_cast<double>(reduced_count(x, dims, "mean"));
  return raw::div(sum(x, dims, keepdim), wrap_scalar(count, x.device()));
}

Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) {
  return run_reduce(ReduceOp::Max, x, dims, keepdim, x.dtype(), "amax");
}

Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) {
  return run_reduce(ReduceOp::Min, x, dims, keepdim, x.dtype(), "amin");
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_index(ReduceOp::Max, x, dim, keepdim, "max");
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_index(ReduceOp::Min, x, dim, keepdim, "min");
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(ReduceOp::ArgMax, x, dim, keepdim, "argmax");
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return arg_extreme(ReduceOp::ArgMin, x, dim, keepdim, "argmin");
}

// Two passes (mean, then squared deviations). The divisor max(N - correction, 0) gives
// nan (0 / 0) or inf when N <= correction, as PyTorch.
Tensor var(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  require_floating(x, "var");
  const int64_t count = reduced_count(x, dims, "var");
  const Tensor deviation = raw::sub(x, mean(x, dims, /*keepdim=*/true));
  const Tensor squares = sum(raw::mul(deviation, deviation), dims, keepdim);
  const double divisor = static_cast<double>(std::max<int64_t>(count - correction, 0));
  return raw::div(squares, wrap_scalar(divisor, x.device()));
}

Tensor std(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  require_floating(x, "std");
  return raw::sqrt(var(x, dims, correction, keepdim));
}

// m + log(sum(exp(x - m))) with m the max, replaced by 0 where it is infinite so that rows of
// -inf give -inf (not nan) and a +inf gives +inf. Integer inputs compute in float32.
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  const Tensor xf = x.is_floating_point() ? x : raw::to(x, kFloat32);
  const Shape out_shape = reduced_shape(x.sizes(), dims, keepdim, "logsumexp");
  if (reduced_count(x, dims, "logsumexp") == 0) {
    return full(out_shape, -std::numeric_limits<double>::infinity(),
                {.dtype = xf.dtype(), .device = x.device()});
  }
  const Tensor m = amax(xf, dims, /*keepdim=*/true);
  const Tensor infinite = raw::binary(BinaryOp::Eq, raw::unary(UnaryOp::Abs, m),
                                      wrap_scalar(std::numeric_limits<double>::infinity(),
                                                  x.device()));
  const Tensor shift = raw::masked_fill(m, infinite, 0.0);
  const Tensor total = sum(raw::exp(raw::sub(xf, shift)), dims, /*keepdim=*/true);
  return raw::reshape(raw::add(raw::log(total), shift), out_shape);
}

// p = 2: sqrt(sum x^2); p = 1: sum |x|; p = +-inf: max/min |x|; p = 0: count of non-zeros;
// else (sum |x|^p)^(1/p).
Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  require_floating(x, "norm");
  if (p == 2.0) return raw::sqrt(sum(raw::mul(x, x), dims, keepdim));
  const Tensor magnitude = raw::unary(UnaryOp::Abs, x);
  if (p == 1.0) return sum(magnitude, dims, keepdim);
  if (std::isinf(p)) {
    return run_reduce(p > 0 ? ReduceOp::Max : ReduceOp::Min, magnitude, dims, keepdim,
                      x.dtype(), "norm");
  }
  if (p == 0.0) {
    const Tensor nonzero = raw::binary(BinaryOp::Ne, x, wrap_scalar(0.0, x.device()));
    return sum(raw::to(nonzero, x.dtype()), dims, keepdim);
  }
  const Tensor powered = raw::unary(UnaryOp::PowScalar, magnitude, {.alpha = p});
  return raw::unary(UnaryOp::PowScalar, sum(powered, dims, keepdim), {.alpha = 1.0 / p});
}

}  // namespace ignis::raw

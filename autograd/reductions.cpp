// Differentiable reductions: raw forward plus a backward that broadcasts the gradient back
// over the reduced dims. Composites (std, max(), min()) reuse the others' backward.
#include "autograd/reductions.h"

#include <cmath>

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/indexing.h"
#include "autograd/math.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis {

using autograd::record;
using autograd::SavedTensor;
using autograd::detail::Grads;

namespace {

// The sizes of x reduced over dims with keepdim (all dims when dims is empty).
Shape kept_shape(const Shape& sizes, const Shape& dims) {
  return raw::reduced_shape(sizes, dims, /*keepdim=*/true, "backward");
}

// A reduction's output (or its gradient) with the reduced dims restored as size 1.
Tensor restore_dims(const Tensor& t, const Shape& sizes, const Shape& dims, bool keepdim) {
  return keepdim ? t : reshape(t, kept_shape(sizes, dims));
}

// dy broadcast back over the reduced dims, to the input's sizes.
Tensor expand_reduced(const Tensor& dy, const Shape& sizes, const Shape& dims, bool keepdim) {
  return expand(restore_dims(dy, sizes, dims, keepdim), sizes);
}

// How many input elements each output element reduces (0 for an empty output).
int64_t reduced_count(const Tensor& x, const Tensor& out) {
  return out.numel() == 0 ? 0 : x.numel() / out.numel();
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  Tensor out = raw::sum(x, dims, keepdim, dtype);
  if (!autograd::needs_grad({x})) return out;
  return record("sum", {x}, out, [sizes = x.sizes(), dims, keepdim](const Tensor& dy) {
    return Grads{expand_reduced(dy, sizes, dims, keepdim)};
  });
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  Tensor out = raw::mean(x, dims, keepdim);
  if (!autograd::needs_grad({x})) return out;
  const int64_t n = reduced_count(x, out);
  return record("mean", {x}, out, [sizes = x.sizes(), dims, keepdim, n](const Tensor& dy) {
    Tensor g = expand_reduced(dy, sizes, dims, keepdim);
    return Grads{n > 0 ? g / static_cast<double>(n) : g};
  });
}

Tensor prod(const Tensor& x, const Shape& dims, bool keepdim) {
  Tensor out = raw::prod(x, dims, keepdim);
  if (!autograd::needs_grad({x})) return out;
  // d prod/dx_i = product of the others: prod/x_i without zeros; with exactly one zero in a
  // slice only that element gets the product of the nonzeros; with two or more, all get 0.
  return record("prod", {x}, out,
                [sx = SavedTensor(x, "prod"), dims, keepdim](const Tensor& dy) {
                  const Tensor x = sx.get();
                  Tensor is_zero = raw::binary(BinaryOp::Eq, x, wrap_scalar(0, x.device()));
                  Tensor x_nonzero = masked_fill(x, is_zero, 1);
                  Tensor prod_nonzero = prod(x_nonzero, dims, /*keepdim=*/true);
                  Tensor zeros_in_slice = raw::sum(is_zero, dims, /*keepdim=*/true);
                  Tensor no_zero = raw::binary(BinaryOp::Eq, zeros_in_slice,
                                               wrap_scalar(0, x.device()));
                  Tensor lone_zero = raw::binary(
                      BinaryOp::LogicalAnd, is_zero,
                      raw::binary(BinaryOp::Eq, zeros_in_slice, wrap_scalar(1, x.device())));
                  Tensor zero = scalar_tensor(0, dy.dtype(), dy.device());
                  Tensor others = where(no_zero, prod_nonzero / x_nonzero,
                                        where(lone_zero, prod_nonzero, zero));
                  return Grads{expand_reduced(dy, x.sizes(), dims, keepdim) * others};
                });
}

Tensor var(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  Tensor out = raw::var(x, dims, correction, keepdim);
  if (!autograd::needs_grad({x})) return out;
  const double denom = static_cast<double>(reduced_count(x, out) - correction);
  // d var/dx = 2 (x - mean) / (N - correction)
  return record("var", {x}, out,
                [sx = SavedTensor(x, "var"), dims, keepdim, denom](const Tensor& dy) {
                  const Tensor x = sx.get();
                  Tensor centered = x - mean(x, dims, /*keepdim=*/true);
                  return Grads{expand_reduced(dy, x.sizes(), dims, keepdim) * centered *
                               (2.0 / denom)};
                });
}

Tensor std(const Tensor& x, const Shape& dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

namespace {

// amax / amin: the gradient is split evenly among the elements equal to the extremum.
Tensor extremum_reduce(const char* name, Tensor (*raw_op)(const Tensor&, const Shape&, bool),
                       const Tensor& x, const Shape& dims, bool keepdim) {
  Tensor out = raw_op(x, dims, keepdim);
  if (!autograd::needs_grad({x})) return out;
  return record(name, {x}, out,
                [sx = SavedTensor(x, name), so = SavedTensor(out, name), dims,
                 keepdim](const Tensor& dy) {
                  const Tensor x = sx.get();
                  Tensor hit = raw::to(
                      raw::binary(BinaryOp::Eq, x,
                                  raw::reshape(so.get(), kept_shape(x.sizes(), dims))),
                      dy.dtype());
                  Tensor share = raw::div(hit, raw::sum(hit, dims, /*keepdim=*/true));
                  return Grads{expand_reduced(dy, x.sizes(), dims, keepdim) * share};
                });
}

Tensor amax_raw(const Tensor& x, const Shape& dims, bool keepdim) {
  return raw::amax(x, dims, keepdim);
}
Tensor amin_raw(const Tensor& x, const Shape& dims, bool keepdim) {
  return raw::amin(x, dims, keepdim);
}

// max / min along a dim with indices: the gradient goes to the chosen index.
std::pair<Tensor, Tensor> extremum_with_index(const char* name,
                                              std::pair<Tensor, Tensor> values_indices,
                                              const Tensor& x, int64_t dim, bool keepdim) {
  auto& [values, indices] = values_indices;
  if (!autograd::needs_grad({x})) return values_indices;
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
  values = record(name, {x}, values,
                  [si = SavedTensor(indices, name), sizes = x.sizes(), d,
                   keepdim](const Tensor& dy) {
                    if (sizes.empty()) return Grads{dy};
                    Tensor index = keepdim ? si.get() : raw::unsqueeze(si.get(), d);
                    Tensor g = keepdim ? dy : unsqueeze(dy, d);
                    return Grads{
                        scatter_add(zeros(sizes, {dy.dtype(), dy.device()}), d, index, g)};
                  });
  return values_indices;
}

}  // namespace

Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) {
  return extremum_reduce("amax", amax_raw, x, dims, keepdim);
}

Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) {
  return extremum_reduce("amin", amin_raw, x, dims, keepdim);
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_with_index("max", raw::max(x, dim, keepdim), x, dim, keepdim);
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_with_index("min", raw::min(x, dim, keepdim), x, dim, keepdim);
}

Tensor max(const Tensor& x) { return amax(x); }
Tensor min(const Tensor& x) { return amin(x); }

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return raw::argmax(x, dim, keepdim);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return raw::argmin(x, dim, keepdim);
}

Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  Tensor out = raw::logsumexp(x, dims, keepdim);
  if (!autograd::needs_grad({x})) return out;
  // d lse/dx = exp(x - lse), the softmax over the reduced dims
  return record("logsumexp", {x}, out,
                [sx = SavedTensor(x, "logsumexp"), so = SavedTensor(out, "logsumexp"), dims,
                 keepdim](const Tensor& dy) {
                  const Tensor x = sx.get();
                  Tensor lse = restore_dims(so.get(), x.sizes(), dims, keepdim);
                  return Grads{expand_reduced(dy, x.sizes(), dims, keepdim) * exp(x - lse)};
                });
}

Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  if (std::isinf(p)) return p > 0 ? amax(abs(x), dims, keepdim) : amin(abs(x), dims, keepdim);
  if (p == 1.0) return sum(abs(x), dims, keepdim);
  Tensor out = raw::norm(x, p, dims, keepdim);
  if (!autograd::needs_grad({x})) return out;
  // d ||x||_p/dx = sign(x) |x|^(p-1) / ||x||^(p-1), taken as 0 where ||x|| = 0 (as PyTorch);
  // p = 0 counts nonzeros: gradient 0.
  return record("norm", {x}, out,
                [sx = SavedTensor(x, "norm"), so = SavedTensor(out, "norm"), p, dims,
                 keepdim](const Tensor& dy) {
                  const Tensor x = sx.get();
                  if (p == 0.0) return Grads{zeros(x.sizes(), {dy.dtype(), dy.device()})};
                  Tensor n = restore_dims(so.get(), x.sizes(), dims, keepdim);
                  Tensor g = restore_dims(dy, x.sizes(), dims, keepdim);
                  Tensor scale = masked_fill(g / pow(n, p - 1.0), n == 0, 0);
                  Tensor dir = p == 2.0  ? x
                               : p > 2.0 ? x * pow(abs(x), p - 2.0)
                                         : raw::unary(UnaryOp::Sign, x) * pow(abs(x), p - 1.0);
                  return Grads{expand(scale, x.sizes()) * dir};
                });
}

}  // namespace ignis

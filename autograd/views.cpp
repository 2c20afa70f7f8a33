// Differentiable views and sum_to: each is the raw view plus a backward that maps the
// gradient back to the input's geometry. Not the view arithmetic itself (tensor/view_ops).
#include <numeric>

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/indexing.h"
#include "autograd/reductions.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis {

using autograd::record;
using autograd::detail::Grads;
using autograd::detail::mark_view;

namespace autograd::detail {

Tensor embed_in_zeros(const char* name, const Tensor& dy, const Shape& sizes,
                      std::function<Tensor(const Tensor&)> region) {
  Tensor out = zeros(sizes, {dy.dtype(), dy.device()});
  {
    NoGradGuard no_grad;
    raw::copy_(region(out), dy);
  }
  return record(name, {dy}, out, [region = std::move(region)](const Tensor& ddx) {
    return Grads{region(ddx)};
  });
}

Tensor mark_view(const Tensor& out, const Tensor& base) {
  if (out.requires_grad() && out.storage() == base.storage()) {
    autograd_meta(out).is_view = true;
  }
  return out;
}

}  // namespace autograd::detail

namespace {

// Ops that only change sizes: the gradient is reshaped back to the input's sizes.
Tensor record_reshape(const char* name, const Tensor& x, const Tensor& out) {
  if (!autograd::needs_grad({x})) return out;
  return mark_view(record(name, {x}, out,
                          [sizes = x.sizes()](const Tensor& dy) {
                            return Grads{reshape(dy, sizes)};
                          }),
                   x);
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  return record_reshape("view", x, raw::view(x, shape));
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  return record_reshape("reshape", x, raw::reshape(x, shape));
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  return record_reshape("flatten", x, raw::flatten(x, start_dim, end_dim));
}

Tensor squeeze(const Tensor& x) { return record_reshape("squeeze", x, raw::squeeze(x)); }

Tensor squeeze(const Tensor& x, int64_t dim) {
  return record_reshape("squeeze", x, raw::squeeze(x, dim));
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return record_reshape("unsqueeze", x, raw::unsqueeze(x, dim));
}

Tensor permute(const Tensor& x, const Shape& dims) {
  Tensor out = raw::permute(x, dims);
  if (!autograd::needs_grad({x})) return out;
  Shape inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    inverse[wrap_dim(dims[i], x.dim(), "permute")] = static_cast<int64_t>(i);
  }
  return mark_view(record("permute", {x}, out,
                          [inverse](const Tensor& dy) { return Grads{permute(dy, inverse)}; }),
                   x);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  Tensor out = raw::transpose(x, dim0, dim1);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(record("transpose", {x}, out,
                          [dim0, dim1](const Tensor& dy) {
                            return Grads{transpose(dy, dim0, dim1)};
                          }),
                   x);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  Tensor out = raw::narrow(x, dim, start, length);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(
      record("narrow", {x}, out,
             [sizes = x.sizes(), dim, start, length](const Tensor& dy) {
               return Grads{autograd::detail::embed_in_zeros(
                   "narrow_backward", dy, sizes,
                   [=](const Tensor& t) { return narrow(t, dim, start, length); })};
             }),
      x);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Tensor out = raw::slice(x, dim, start, end, step);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(
      record("slice", {x}, out,
             [sizes = x.sizes(), dim, start, end, step](const Tensor& dy) {
               return Grads{autograd::detail::embed_in_zeros(
                   "slice_backward", dy, sizes,
                   [=](const Tensor& t) { return slice(t, dim, start, end, step); })};
             }),
      x);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  Tensor out = raw::select(x, dim, index);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(
      record("select", {x}, out,
             [sizes = x.sizes(), dim, index](const Tensor& dy) {
               return Grads{autograd::detail::embed_in_zeros(
                   "select_backward", dy, sizes,
                   [=](const Tensor& t) { return select(t, dim, index); })};
             }),
      x);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor out = raw::expand(x, shape);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(record("expand", {x}, out,
                          [sizes = x.sizes()](const Tensor& dy) {
                            return Grads{sum_to(dy, sizes)};
                          }),
                   x);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Tensor out = raw::broadcast_to(x, shape);
  if (!autograd::needs_grad({x})) return out;
  return mark_view(record("broadcast_to", {x}, out,
                          [sizes = x.sizes()](const Tensor& dy) {
                            return Grads{sum_to(dy, sizes)};
                          }),
                   x);
}

namespace {

// The raw pieces re-made as differentiable narrows of x (one node per piece).
std::vector<Tensor> narrow_pieces(const Tensor& x, std::vector<Tensor> pieces, int64_t dim) {
  if (!autograd::needs_grad({x})) return pieces;
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t start = 0;
  for (Tensor& piece : pieces) {
    const int64_t length = piece.size(d);
    piece = narrow(x, d, start, length);
    start += length;
  }
  return pieces;
}

}  // namespace

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  return narrow_pieces(x, raw::split(x, split_size, dim), dim);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  return narrow_pieces(x, raw::chunk(x, chunks, dim), dim);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  const Shape& sizes = x.sizes();
  if (sizes == shape) return x;
  const auto fail = [&] {
    return ShapeError("sum_to: cannot reduce " + x.shape_str() + " to " + shape_str(shape));
  };
  if (shape.size() > sizes.size()) throw fail();
  const size_t lead = sizes.size() - shape.size();
  Shape dims(lead);
  std::iota(dims.begin(), dims.end(), int64_t{0});
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == sizes[lead + i]) continue;
    if (shape[i] != 1) throw fail();
    dims.push_back(static_cast<int64_t>(lead + i));
  }
  Tensor reduced = dims.empty() ? x : sum(x, dims, /*keepdim=*/true);
  return reduced.sizes() == shape ? reduced : reshape(reduced, shape);
}

}  // namespace ignis

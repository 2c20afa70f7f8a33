// Differentiable indexing, joining and softmax: raw forward plus a backward that scatters
// (or slices) the gradient back. Not the index validation (tensor/index_ops, raw).
#include "autograd/indexing.h"

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/view_ops.h"

namespace ignis {

using autograd::record;
using autograd::SavedTensor;
using autograd::detail::Grads;
using autograd::detail::wants_grad;

namespace {

Tensor zeros_of(const Shape& sizes, const Tensor& like) {
  return zeros(sizes, {like.dtype(), like.device()});
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor out = raw::index_select(x, dim, index);
  if (!autograd::needs_grad({x})) return out;
  // dx = zeros(x) with dy's slices added at `index` along dim (repeats accumulate).
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  return record("index_select", {x}, out,
                [si = SavedTensor(index, "index_select"), sizes = x.sizes(),
                 d](const Tensor& dy) {
                  Shape index_shape(dy.dim(), 1);
                  index_shape[d] = dy.size(d);
                  Tensor idx = raw::to(raw::reshape(si.get(), index_shape), kInt64);
                  idx = raw::contiguous(raw::expand(idx, dy.sizes()));
                  return Grads{scatter_add(zeros_of(sizes, dy), d, idx, dy)};
                });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor out = raw::gather(x, dim, index);
  if (!autograd::needs_grad({x})) return out;
  return record("gather", {x}, out,
                [si = SavedTensor(index, "gather"), sizes = x.sizes(), dim](const Tensor& dy) {
                  return Grads{scatter_add(zeros_of(sizes, dy), dim, si.get(), dy)};
                });
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = raw::scatter_add(x, dim, index, src);
  bool gs = wants_grad(src);
  if (!autograd::needs_grad({x, src})) return out;
  // dx = dy; dsrc = dy gathered at index (zero where index is smaller than src).
  return record("scatter_add", {x, src}, out,
                [si = SavedTensor(index, "scatter_add"), src_sizes = src.sizes(), dim,
                 gs](const Tensor& dy) {
                  if (!gs) return Grads{dy, Tensor()};
                  const Tensor index = si.get();
                  Tensor dsrc = gather(dy, dim, index);
                  if (index.sizes() != src_sizes) {
                    dsrc = autograd::detail::embed_in_zeros(
                        "scatter_add_backward", dsrc, src_sizes,
                        [index_sizes = index.sizes()](const Tensor& t) {
                          Tensor region = t;
                          for (size_t i = 0; i < index_sizes.size(); ++i) {
                            region = narrow(region, static_cast<int64_t>(i), 0, index_sizes[i]);
                          }
                          return region;
                        });
                  }
                  return Grads{dy, dsrc};
                });
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  Tensor out = raw::embedding(weight, indices);
  if (!autograd::needs_grad({weight})) return out;
  // dweight[indices[i]] += dy[i] (rows picked twice get both gradients).
  return record("embedding", {weight}, out,
                [si = SavedTensor(indices, "embedding"), sizes = weight.sizes()](
                    const Tensor& dy) {
                  const Tensor indices = si.get();
                  const int64_t n = indices.numel(), width = sizes[1];
                  Tensor idx = raw::to(raw::reshape(indices, {n, 1}), kInt64);
                  idx = raw::contiguous(raw::expand(idx, {n, width}));
                  return Grads{
                      scatter_add(zeros_of(sizes, dy), 0, idx, reshape(dy, {n, width}))};
                });
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  return raw::one_hot(indices, num_classes);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = raw::cat(tensors, dim);
  if (!autograd::needs_grad(tensors)) return out;
  const int64_t d = wrap_dim(dim, out.dim(), "cat");
  std::vector<Shape> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.sizes());
  return record("cat", tensors, out, [sizes, d](const Tensor& dy) {
    Grads grads;
    int64_t start = 0;
    for (const Shape& s : sizes) {
      // NOTE: cat skips 1-d empty inputs whatever dim is (PyTorch's legacy rule).
      if (s.size() == 1 && s[0] == 0 && dy.dim() != 1) {
        grads.push_back(zeros_of(s, dy));
        continue;
      }
      grads.push_back(narrow(dy, d, start, s[d]));
      start += s[d];
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = raw::stack(tensors, dim);
  if (!autograd::needs_grad(tensors)) return out;
  const int64_t d = wrap_dim(dim, out.dim(), "stack");
  return record("stack", tensors, out, [n = tensors.size(), d](const Tensor& dy) {
    Grads grads;
    for (size_t i = 0; i < n; ++i) grads.push_back(select(dy, d, static_cast<int64_t>(i)));
    return grads;
  });
}

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = raw::softmax(x, dim);
  if (!autograd::needs_grad({x})) return y;
  // dx = y * (dy - sum(dy * y, dim))
  return record("softmax", {x}, y, [sy = SavedTensor(y, "softmax"), dim](const Tensor& dy) {
    const Tensor y = sy.get();
    return Grads{y * (dy - sum(dy * y, {dim}, /*keepdim=*/true))};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = raw::log_softmax(x, dim);
  if (!autograd::needs_grad({x})) return y;
  // dx = dy - exp(y) * sum(dy, dim)
  return record("log_softmax", {x}, y,
                [sy = SavedTensor(y, "log_softmax"), dim](const Tensor& dy) {
                  return Grads{dy - exp(sy.get()) * sum(dy, {dim}, /*keepdim=*/true)};
                });
}

}  // namespace ignis

// Raw indexing, joining and softmax (tensor/index_ops.h): argument and index checks, output
// shapes, and the calls into the dispatch table. Not the kernels: tensor/cpu/index_kernels.cpp.
#include "tensor/index_ops.h"

#include <algorithm>
#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis::raw {
namespace {

void require_index_dtype(const Tensor& index, const char* op) {
  if (index.dtype() != kInt32 && index.dtype() != kInt64) {
    throw DTypeError(std::string(op) + ": expected an int32 or int64 index tensor, got " +
                     dtype_name(index.dtype()));
  }
}

void require_same_device(const Tensor& a, const Tensor& b, const char* op, const char* name) {
  if (a.device() != b.device()) {
    throw DeviceError(std::string(op) + ": " + name + " is on " + b.device().str() +
                      " but the input is on " + a.device().str());
  }
}

// Every value of `index` must lie in [0, size); throws IndexError naming the first that does
// not. Reads the indices on the host (a copy for device tensors, as PyTorch's checks sync).
void require_in_range(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  if (index.numel() == 0) return;
  for (int64_t v : index.to_vector<int64_t>()) {
    if (v < 0 || v >= size) {
      throw IndexError(std::string(op) + ": index " + std::to_string(v) +
                       " is out of bounds for dim " + std::to_string(dim) + " with size " +
                       std::to_string(size));
    }
  }
}

// A 0-d tensor seen as (1,), sharing its storage (so in-place writes land in it).
Tensor as_1d(const Tensor& t) {
  return t.dim() == 0 ? make_view(t, {1}, {1}, t.storage_offset()) : t;
}

int64_t product(const Shape& sizes, int64_t begin, int64_t end) {
  int64_t p = 1;
  for (int64_t d = begin; d < end; ++d) p *= sizes[d];
  return p;
}

// x[..., index, ...] along dim d of x (ndim >= 1), index already checked, 1-d or 0-d.
Tensor select_indices(const Tensor& x, int64_t d, const Tensor& index, const char* op) {
  Shape out_shape = x.sizes();
  out_shape[d] = index.numel();
  Tensor out = make_tensor(out_shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const Shape& sizes = x.sizes();
  get_kernel(&KernelTable::index_select, x.device(), op)(
      raw::contiguous(x), raw::contiguous(index), out, product(sizes, 0, d), sizes[d],
      product(sizes, d + 1, x.dim()));
  return out;
}

// Shared checks of gather and scatter_add: index has x's ndim and fits x off `d`.
void require_index_fits(const Tensor& x, int64_t d, const Tensor& index, const char* op) {
  if (index.dim() != x.dim()) {
    throw ShapeError(std::string(op) + ": index " + index.shape_str() +
                     " must have as many dims as the input " + x.shape_str());
  }
  for (int64_t k = 0; k < x.dim(); ++k) {
    if (k != d && index.size(k) > x.size(k)) {
      throw ShapeError(std::string(op) + ": index " + index.shape_str() +
                       " is larger than the input " + x.shape_str() + " in dim " +
                       std::to_string(k));
    }
  }
}

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, const char* op) {
  if (!x.is_floating_point()) {
    throw DTypeError(std::string(op) + ": expected a floating-point tensor, got " +
                     dtype_name(x.dtype()));
  }
  const int64_t ndim = x.dim();
  const int64_t d = wrap_dim(dim, ndim, op);
  Tensor out = make_tensor(x.sizes(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const Shape& sizes = x.sizes();
  const int64_t n = ndim == 0 ? 1 : sizes[d];
  get_kernel(&KernelTable::softmax, x.device(), op)(raw::contiguous(x), out,
                                                     product(sizes, 0, std::min(d, ndim)), n,
                                                     product(sizes, d + 1, ndim), log);
  return out;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  require_index_dtype(index, op);
  require_same_device(x, index, op, "index");
  if (index.dim() > 1) {
    throw ShapeError(std::string(op) + ": index must be 0-d or 1-d, got " + index.shape_str());
  }
  const int64_t d = wrap_dim(dim, x.dim(), op);
  if (x.dim() == 0) {
    if (index.numel() != 1) {
      throw ShapeError(std::string(op) + ": a 0-d input takes exactly one index, got " +
                       index.shape_str());
    }
    require_in_range(index, 1, 0, op);
    return raw::clone(x);
  }
  require_in_range(index, x.size(d), d, op);
  return select_indices(x, d, index, op);
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  require_index_dtype(index, op);
  require_same_device(x, index, op, "index");
  const int64_t d = wrap_dim(dim, x.dim(), op);
  require_index_fits(x, d, index, op);
  const Tensor x1 = as_1d(x);
  const Tensor index1 = as_1d(index);
  require_in_range(index1, x1.size(d), d, op);
  Tensor out = make_tensor(index.sizes(), x.dtype(), x.device());
  if (out.numel() > 0) {
    get_kernel(&KernelTable::gather, x.device(), op)(x1, d, index1, as_1d(out));
  }
  return out;
}

void scatter_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  const char* op = "scatter_add";
  require_index_dtype(index, op);
  require_same_device(x, index, op, "index");
  require_same_device(x, src, op, "src");
  if (src.dtype() != x.dtype()) {
    throw DTypeError(std::string(op) + ": src is " + dtype_name(src.dtype()) +
                     " but the input is " + dtype_name(x.dtype()));
  }
  const int64_t d = wrap_dim(dim, x.dim(), op);
  require_index_fits(x, d, index, op);
  if (src.dim() != index.dim()) {
    throw ShapeError(std::string(op) + ": src " + src.shape_str() + " and index " +
                     index.shape_str() + " differ in their number of dims");
  }
  for (int64_t k = 0; k < index.dim(); ++k) {
    if (index.size(k) > src.size(k)) {
      throw ShapeError(std::string(op) + ": index " + index.shape_str() +
                       " is larger than src " + src.shape_str() + " in dim " + std::to_string(k));
    }
  }
  const Tensor x1 = as_1d(x);
  require_in_range(index, x1.size(d), d, op);
  if (index.numel() > 0) {
    get_kernel(&KernelTable::scatter_add, x.device(), op)(x1, d, as_1d(index), as_1d(src));
  }
  x.bump_version();
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = raw::clone(x);
  scatter_add_(out, dim, index, src);
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  const char* op = "embedding";
  if (weight.dim() != 2) {
    throw ShapeError(std::string(op) +
                     ": weight must be (num_embeddings, embedding_dim), got " +
                     weight.shape_str());
  }
  require_index_dtype(indices, op);
  require_same_device(weight, indices, op, "indices");
  require_in_range(indices, weight.size(0), 0, op);
  const Tensor rows = select_indices(weight, 0, raw::reshape(indices, {indices.numel()}), op);
  Shape out_shape = indices.sizes();
  out_shape.push_back(weight.size(1));
  return raw::reshape(rows, out_shape);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  const char* op = "one_hot";
  require_index_dtype(indices, op);
  const std::vector<int64_t> values = indices.to_vector<int64_t>();
  for (int64_t v : values) {
    if (v < 0) {
      throw IndexError(std::string(op) + ": class values must be non-negative, got " +
                       std::to_string(v));
    }
  }
  if (num_classes < 0) {
    if (values.empty()) {
      throw ValueError(std::string(op) +
                       ": cannot infer num_classes from an empty tensor; pass num_classes");
    }
    num_classes = *std::max_element(values.begin(), values.end()) + 1;
  }
  for (int64_t v : values) {
    if (v >= num_classes) {
      throw IndexError(std::string(op) + ": class value " + std::to_string(v) +
                       " is out of range for num_classes " + std::to_string(num_classes));
    }
  }
  Shape out_shape = indices.sizes();
  out_shape.push_back(num_classes);
  Tensor out = zeros(out_shape, {.dtype = kInt64, .device = indices.device()});
  if (out.numel() == 0) return out;
  const Tensor index = raw::unsqueeze(raw::to(indices, kInt64), -1);  // (*indices, 1)
  const Tensor ones = raw::expand(scalar_tensor(1, kInt64, indices.device()), index.sizes());
  get_kernel(&KernelTable::scatter_add, out.device(), op)(out, out.dim() - 1, index, ones);
  return out;
}

// NOTE: as PyTorch, 1-d empty tensors (shape (0,)) are skipped whatever the others' ndim.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "cat";
  if (tensors.empty()) throw ValueError("cat: expected a non-empty list of tensors");
  DType dtype = tensors[0].dtype();
  std::vector<size_t> kept;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    dtype = promote_types(dtype, t.dtype());
    if (t.device() != tensors[0].device()) {
      throw DeviceError("cat: expected all tensors on " + tensors[0].device().str() +
                        ", tensor " + std::to_string(i) + " is on " + t.device().str());
    }
    if (t.dim() == 0) {
      throw ShapeError("cat: tensor " + std::to_string(i) +
                       " is 0-d and cannot be concatenated");
    }
    if (!(t.dim() == 1 && t.size(0) == 0)) kept.push_back(i);
  }
  if (kept.empty()) return make_tensor({0}, dtype, tensors[0].device());
  const Tensor& first = tensors[kept[0]];
  const int64_t d = wrap_dim(dim, first.dim(), op);
  Shape out_shape = first.sizes();
  out_shape[d] = 0;
  for (size_t i : kept) {
    const Tensor& t = tensors[i];
    const std::string pair = "tensor " + std::to_string(kept[0]) + " is " + first.shape_str() +
                             ", tensor " + std::to_string(i) + " is " + t.shape_str();
    if (t.dim() != first.dim()) {
      throw ShapeError("cat: tensors must have the same number of dims: " + pair);
    }
    for (int64_t k = 0; k < t.dim(); ++k) {
      if (k != d && t.size(k) != first.size(k)) {
        throw ShapeError("cat: sizes must match except in dim " + std::to_string(d) + ": " +
                         pair);
      }
    }
    out_shape[d] += t.size(d);
  }
  Tensor out = make_tensor(out_shape, dtype, first.device());
  int64_t offset = 0;
  for (size_t i : kept) {
    const Tensor& t = tensors[i];
    if (t.size(d) > 0) raw::copy_(raw::narrow(out, d, offset, t.size(d)), t);
    offset += t.size(d);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("stack: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  for (size_t i = 1; i < tensors.size(); ++i) {
    if (tensors[i].sizes() != first.sizes()) {
      throw ShapeError("stack: expects each tensor to be equal size, but got " +
                       first.shape_str() + " at entry 0 and " + tensors[i].shape_str() +
                       " at entry " + std::to_string(i));
    }
  }
  const int64_t d = wrap_dim(dim, first.dim() + 1, "stack");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (const Tensor& t : tensors) unsqueezed.push_back(raw::unsqueeze(t, d));
  return cat(unsqueezed, d);
}

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false, "softmax"); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true, "log_softmax");
}

}  // namespace ignis::raw

// Raw views with PyTorch's semantics: each returns a new TensorImpl over the same storage
// (sizes, strides, offset changed), never a copy, except reshape when no view exists.
// Not differentiable: autograd/ wraps these.
#include "tensor/view_ops.h"

#include <algorithm>
#include <optional>

#include "tensor/elementwise.h"

namespace ignis::raw {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Replaces a single -1 in `shape` so that it holds `numel` elements (torch's infer_size).
Shape infer_size(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  std::optional<size_t> infer;
  int64_t known = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      if (infer)
        throw ShapeError(std::string(op) + ": only one dimension can be -1, got " +
                         shape_str(shape));
      infer = d;
    } else if (shape[d] < 0) {
      throw ShapeError(std::string(op) + ": invalid size " + str(shape[d]) + " in shape " +
                       shape_str(shape));
    } else {
      known *= shape[d];
    }
  }
  if (infer) {
    if (known == 0) {
      throw ShapeError(std::string(op) + ": cannot infer the -1 in shape " + shape_str(shape) +
                       " for a tensor of " + str(numel) +
                       " elements: the other dimensions hold 0 elements");
    }
    if (numel % known == 0) {
      out[*infer] = numel / known;
      return out;
    }
  } else if (known == numel) {
    return out;
  }
  throw ShapeError(std::string(op) + ": shape " + shape_str(shape) +
                   " is invalid for input of size " + str(numel));
}

// The strides that let `new_sizes` view memory laid out as (sizes, strides), if any: each
// run of input dims that is contiguous in memory ("chunk") must be split into whole output
// dims. Follows PyTorch's computeStride.
std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides,
                                  const Shape& new_sizes) {
  if (numel_of(sizes) == 0) {
    return sizes == new_sizes ? strides : contiguous_strides(new_sizes);
  }
  const Shape old_sizes = sizes.empty() ? Shape{1} : sizes;  // a 0-d tensor acts as (1,)
  const Shape old_strides = strides.empty() ? Shape{1} : strides;
  Shape new_strides(new_sizes.size());
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1;
  int64_t view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_sizes[d];
    const bool chunk_ends =
        d == 0 || (old_sizes[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
      new_strides[view_d] = view_numel * chunk_base_stride;
      view_numel *= new_sizes[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_base_stride = old_strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Tensor restride(const Tensor& t, const Shape& sizes, const Shape& strides) {
  return make_view(t, sizes, strides, t.storage_offset());
}

// wrap_dim for ops that insert a dim (unsqueeze): valid range is [-(ndim+1), ndim].
int64_t wrap_insert_dim(int64_t dim, int64_t ndim, const char* op) {
  return wrap_dim(dim, ndim + 1, op);
}

}  // namespace

Tensor view(const Tensor& t, const Shape& shape) {
  const Shape sizes = infer_size(shape, t.numel(), "view");
  std::optional<Shape> strides = view_strides(t.sizes(), t.strides(), sizes);
  if (!strides) {
    throw ShapeError("view: shape " + shape_str(shape) +
                     " is not compatible with the input's size and stride (input " + t.shape_str() +
                     " with strides " + shape_str(t.strides()) + "); use reshape instead");
  }
  return restride(t, sizes, *strides);
}

Tensor reshape(const Tensor& t, const Shape& shape) {
  const Shape sizes = infer_size(shape, t.numel(), "reshape");
  if (std::optional<Shape> strides = view_strides(t.sizes(), t.strides(), sizes)) {
    return restride(t, sizes, *strides);
  }
  Tensor copy = clone(t);
  return restride(copy, sizes, contiguous_strides(sizes));
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  const int64_t ndim = t.dim();
  const int64_t start = wrap_dim(start_dim, ndim, "flatten");
  const int64_t end = wrap_dim(end_dim, ndim, "flatten");
  if (start > end) {
    throw IndexError("flatten: start_dim " + str(start_dim) + " comes after end_dim " +
                     str(end_dim) + " for a tensor of shape " + t.shape_str());
  }
  if (ndim == 0) return reshape(t, {1});
  const Shape& sizes = t.sizes();
  Shape shape(sizes.begin(), sizes.begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end; ++d) merged *= sizes[d];
  shape.push_back(merged);
  shape.insert(shape.end(), sizes.begin() + end + 1, sizes.end());
  return reshape(t, shape);
}

Tensor squeeze(const Tensor& t) {
  Shape sizes, strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) == 1) continue;
    sizes.push_back(t.size(d));
    strides.push_back(t.stride(d));
  }
  return restride(t, sizes, strides);
}

Tensor squeeze(const Tensor& t, int64_t dim) {
  const int64_t d = wrap_dim(dim, t.dim(), "squeeze");
  Shape sizes = t.sizes(), strides = t.strides();
  if (t.dim() > 0 && sizes[d] == 1) {
    sizes.erase(sizes.begin() + d);
    strides.erase(strides.begin() + d);
  }
  return restride(t, sizes, strides);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  const int64_t d = wrap_insert_dim(dim, t.dim(), "unsqueeze");
  Shape sizes = t.sizes(), strides = t.strides();
  const int64_t stride = d < t.dim() ? sizes[d] * strides[d] : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return restride(t, sizes, strides);
}

Tensor permute(const Tensor& t, const Shape& dims) {
  const int64_t ndim = t.dim();
  if (static_cast<int64_t>(dims.size()) != ndim) {
    throw ShapeError("permute: dims " + shape_str(dims) + " do not match the " + str(ndim) +
                     " dimensions of a tensor of shape " + t.shape_str());
  }
  Shape sizes(ndim), strides(ndim);
  std::vector<bool> seen(ndim, false);
  for (int64_t i = 0; i < ndim; ++i) {
    const int64_t d = wrap_dim(dims[i], ndim, "permute");
    if (seen[d]) {
      throw ShapeError("permute: dims " + shape_str(dims) + " repeat dimension " + str(d));
    }
    seen[d] = true;
    sizes[i] = t.size(d);
    strides[i] = t.stride(d);
  }
  return restride(t, sizes, strides);
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  const int64_t d0 = wrap_dim(dim0, t.dim(), "transpose");
  const int64_t d1 = wrap_dim(dim1, t.dim(), "transpose");
  Shape sizes = t.sizes(), strides = t.strides();
  if (t.dim() > 0) {
    std::swap(sizes[d0], sizes[d1]);
    std::swap(strides[d0], strides[d1]);
  }
  return restride(t, sizes, strides);
}

Tensor t(const Tensor& x) {
  if (x.dim() > 2) {
    throw ShapeError("t: expects a tensor with <= 2 dimensions, got shape " + x.shape_str());
  }
  return x.dim() < 2 ? alias(x) : transpose(x, 0, 1);
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  if (t.dim() == 0) throw IndexError("narrow: cannot narrow a 0-d tensor");
  const int64_t d = wrap_dim(dim, t.dim(), "narrow");
  const int64_t size = t.size(d);
  const int64_t begin = start < 0 ? start + size : start;
  if (begin < 0 || begin > size || length < 0 || begin + length > size) {
    throw IndexError("narrow: start " + str(start) + " and length " + str(length) +
                     " are out of range for dim " + str(d) + " of size " + str(size) + " (shape " +
                     t.shape_str() + ")");
  }
  return slice(t, d, begin, begin + length);
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (t.dim() == 0) throw IndexError("slice: cannot slice a 0-d tensor");
  if (step <= 0) throw ValueError("slice: step must be positive, got " + str(step));
  const int64_t d = wrap_dim(dim, t.dim(), "slice");
  const int64_t size = t.size(d);
  auto clamp_index = [size](int64_t i) {
    if (i < 0) i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  const int64_t begin = clamp_index(start);
  const int64_t stop = std::max(begin, clamp_index(end));
  Shape sizes = t.sizes(), strides = t.strides();
  sizes[d] = (stop - begin + step - 1) / step;
  strides[d] *= step;
  return make_view(t, sizes, strides, t.storage_offset() + begin * t.stride(d));
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  if (t.dim() == 0) throw IndexError("select: cannot select on a 0-d tensor");
  const int64_t d = wrap_dim(dim, t.dim(), "select");
  const int64_t size = t.size(d);
  if (index < -size || index >= size) {
    throw IndexError("select: index " + str(index) + " is out of range for dim " + str(d) +
                     " of size " + str(size) + " (shape " + t.shape_str() + ")");
  }
  const int64_t i = index < 0 ? index + size : index;
  Shape sizes = t.sizes(), strides = t.strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(t, sizes, strides, t.storage_offset() + i * t.stride(d));
}

namespace {

Tensor expand_impl(const Tensor& t, const Shape& shape, const char* op) {
  const int64_t ndim = t.dim();
  const int64_t new_ndim = static_cast<int64_t>(shape.size());
  if (new_ndim < ndim) {
    throw ShapeError(std::string(op) + ": target shape " + shape_str(shape) +
                     " has fewer dimensions than the tensor's " + t.shape_str());
  }
  Shape sizes(new_ndim), strides(new_ndim);
  for (int64_t i = new_ndim - 1; i >= 0; --i) {
    const int64_t d = i - (new_ndim - ndim);  // the tensor's dim aligned with i, if any
    const int64_t target = shape[i];
    if (d < 0) {
      if (target < 0) {
        throw ShapeError(std::string(op) + ": the size " + str(target) +
                         " is not allowed for the new leading dim " + str(i) + " (target " +
                         shape_str(shape) + ")");
      }
      sizes[i] = target;
      strides[i] = 0;
      continue;
    }
    const int64_t size = t.size(d);
    if (target == -1 || target == size) {
      sizes[i] = size;
      strides[i] = t.stride(d);
    } else if (size == 1 && target >= 0) {
      sizes[i] = target;
      strides[i] = 0;
    } else {
      throw ShapeError(std::string(op) + ": the size " + str(size) + " of dim " + str(d) +
                       " cannot be expanded to " + str(target) + " (tensor " + t.shape_str() +
                       ", target " + shape_str(shape) + ")");
    }
  }
  return restride(t, sizes, strides);
}

}  // namespace

Tensor expand(const Tensor& t, const Shape& shape) { return expand_impl(t, shape, "expand"); }

Tensor broadcast_to(const Tensor& t, const Shape& shape) {
  return expand_impl(t, shape, "broadcast_to");
}

std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) {
  if (t.dim() == 0) throw IndexError("split: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, t.dim(), "split");
  const int64_t size = t.size(d);
  if (split_size < 0 || (split_size == 0 && size != 0)) {
    throw ValueError("split: split_size " + str(split_size) + " cannot split dim " + str(d) +
                     " of size " + str(size));
  }
  const int64_t pieces =
      split_size == 0 ? 1 : std::max<int64_t>((size + split_size - 1) / split_size, 1);
  std::vector<Tensor> out;
  for (int64_t i = 0; i < pieces; ++i) {
    const int64_t begin = i * split_size;
    out.push_back(slice(t, d, begin, std::min(size, begin + split_size)));
  }
  return out;
}

std::vector<Tensor> split_with_sizes(const Tensor& t, const Shape& sizes, int64_t dim) {
  if (t.dim() == 0) throw IndexError("split_with_sizes: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, t.dim(), "split_with_sizes");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) {
      throw ValueError("split_with_sizes: negative size in " + shape_str(sizes));
    }
    total += s;
  }
  if (total != t.size(d)) {
    throw ShapeError("split_with_sizes: sizes " + shape_str(sizes) + " sum to " + str(total) +
                     ", but dim " + str(d) + " of " + t.shape_str() + " has size " +
                     str(t.size(d)));
  }
  std::vector<Tensor> out;
  int64_t begin = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(t, d, begin, begin + s));
    begin += s;
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) {
  if (chunks <= 0) throw ValueError("chunk: chunks must be positive, got " + str(chunks));
  if (t.dim() == 0) throw IndexError("chunk: cannot chunk a 0-d tensor");
  const int64_t d = wrap_dim(dim, t.dim(), "chunk");
  const int64_t size = t.size(d);
  const int64_t split_size = (size + chunks - 1) / chunks;
  if (split_size == 0 && size == 0) {
    // As PyTorch: `chunks` empty pieces rather than a single one.
    return split_with_sizes(t, Shape(chunks, 0), d);
  }
  return split(t, split_size, d);
}

Tensor alias(const Tensor& t) {
  Tensor out = restride(t, t.sizes(), t.strides());
  out.impl()->wrapped_number = t.impl()->wrapped_number;
  return out;
}

}  // namespace ignis::raw

// Tensor accessors, shape helpers, make_tensor / make_view, and host access to values.
// Not the ops: views are in view_ops.cpp, copies in copy.cpp, printing in print.cpp.
#include "tensor/tensor.h"

#include <algorithm>

#include "tensor/elementwise.h"
#include "tensor/storage.h"

namespace ignis {
namespace {

const TensorImpl& defined_impl(const Tensor& t, const char* call) {
  if (!t.defined()) throw ValueError(std::string(call) + ": called on an undefined tensor");
  return *t.impl();
}

// wrap_dim, except that a 0-d tensor has no dim to index (wrap_dim accepts 0 and -1).
size_t checked_dim(int64_t dim, size_t ndim, const char* op) {
  if (ndim == 0) {
    throw IndexError(std::string(op) + ": dimension " + std::to_string(dim) +
                     " is out of range for a 0-d tensor");
  }
  return static_cast<size_t>(wrap_dim(dim, static_cast<int64_t>(ndim), op));
}

}  // namespace

const TensorImpl& Tensor::checked() const { return defined_impl(*this, "Tensor"); }

const Shape& Tensor::sizes() const { return defined_impl(*this, "sizes").sizes; }
const Shape& Tensor::strides() const { return defined_impl(*this, "strides").strides; }

int64_t Tensor::size(int64_t dim) const {
  const TensorImpl& impl = defined_impl(*this, "size");
  return impl.sizes[checked_dim(dim, impl.sizes.size(), "size")];
}

int64_t Tensor::stride(int64_t dim) const {
  const TensorImpl& impl = defined_impl(*this, "stride");
  return impl.strides[checked_dim(dim, impl.strides.size(), "stride")];
}

int64_t Tensor::dim() const {
  return static_cast<int64_t>(defined_impl(*this, "dim").sizes.size());
}
int64_t Tensor::numel() const { return numel_of(defined_impl(*this, "numel").sizes); }
DType Tensor::dtype() const { return defined_impl(*this, "dtype").dtype; }
Device Tensor::device() const { return defined_impl(*this, "device").storage->device(); }
int64_t Tensor::storage_offset() const { return defined_impl(*this, "storage_offset").offset; }
const StoragePtr& Tensor::storage() const { return defined_impl(*this, "storage").storage; }

bool Tensor::is_contiguous() const {
  const TensorImpl& impl = defined_impl(*this, "is_contiguous");
  if (numel_of(impl.sizes) == 0) return true;
  int64_t expected = 1;
  for (size_t d = impl.sizes.size(); d-- > 0;) {
    if (impl.sizes[d] == 1) continue;  // a size-1 dim's stride is never used
    if (impl.strides[d] != expected) return false;
    expected *= impl.sizes[d];
  }
  return true;
}

std::string Tensor::shape_str() const { return ignis::shape_str(sizes()); }

void* Tensor::raw_data() const {
  const TensorImpl& impl = defined_impl(*this, "raw_data");
  return static_cast<char*>(impl.storage->data()) +
         impl.offset * static_cast<int64_t>(ignis::itemsize(impl.dtype));
}

template <typename T>
T* Tensor::data_ptr() const {
  const TensorImpl& impl = defined_impl(*this, "data_ptr");
  if (impl.dtype != dtype_of<T>) {
    throw DTypeError(std::string("data_ptr: tensor is ") + dtype_name(impl.dtype) + ", requested " +
                     dtype_name(dtype_of<T>));
  }
  if (!impl.storage->device().is_cpu()) {
    throw DeviceError("data_ptr: tensor is on " + impl.storage->device().str() +
                      "; copy it to the cpu first (or use raw_data() in a device kernel)");
  }
  return static_cast<T*>(raw_data());
}

template <typename T>
T Tensor::item() const {
  defined_impl(*this, "item");
  const int64_t n = numel();
  if (n != 1) {
    throw ValueError("item: a tensor with " + std::to_string(n) + " elements (shape " +
                     shape_str() + ") cannot be converted to a scalar");
  }
  Tensor host = raw::to(*this, Device::cpu());
  return visit_dtype(dtype(), [&]<typename S>() {
    return static_cast<T>(*static_cast<const S*>(host.raw_data()));
  });
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  defined_impl(*this, "to_vector");
  Tensor host = raw::contiguous(raw::to(raw::to(*this, Device::cpu()), dtype_of<T>));
  const T* data = static_cast<const T*>(host.raw_data());
  return std::vector<T>(data, data + host.numel());
}

template bool* Tensor::data_ptr<bool>() const;
template uint8_t* Tensor::data_ptr<uint8_t>() const;
template int32_t* Tensor::data_ptr<int32_t>() const;
template int64_t* Tensor::data_ptr<int64_t>() const;
template float* Tensor::data_ptr<float>() const;
template double* Tensor::data_ptr<double>() const;
template bool Tensor::item<bool>() const;
template uint8_t Tensor::item<uint8_t>() const;
template int32_t Tensor::item<int32_t>() const;
template int64_t Tensor::item<int64_t>() const;
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d > 0) s += ", ";
    s += std::to_string(shape[d]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape strides(sizes.size());
  int64_t stride = 1;
  for (size_t d = sizes.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= std::max<int64_t>(sizes[d], 1);
  }
  return strides;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  // A 0-d tensor accepts dims -1 and 0, as in PyTorch.
  const int64_t range = std::max<int64_t>(ndim, 1);
  if (dim < -range || dim >= range) {
    throw IndexError(std::string(op) + ": dimension " + std::to_string(dim) +
                     " is out of range for a tensor with " + std::to_string(ndim) +
                     " dimensions (expected [" + std::to_string(-range) + ", " +
                     std::to_string(range - 1) + "])");
  }
  return dim < 0 ? dim + range : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    // i counts from the innermost dim; a missing dim acts as size 1.
    const int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      throw ShapeError(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " cannot be broadcast");
    }
    out[ndim - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

Tensor make_tensor(const Shape& sizes, DType dtype, Device device) {
  for (int64_t s : sizes) {
    if (s < 0) throw ShapeError("make_tensor: negative size in shape " + shape_str(sizes));
  }
  auto impl = std::make_shared<TensorImpl>();
  const size_t nbytes = static_cast<size_t>(numel_of(sizes)) * ignis::itemsize(dtype);
  impl->storage = std::make_shared<Storage>(nbytes, device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_tensor(const Shape& sizes, DType dtype, Allocator* allocator) {
  if (allocator == nullptr) return make_tensor(sizes, dtype, Device::cpu());
  for (int64_t s : sizes) {
    if (s < 0) throw ShapeError("make_tensor: negative size in shape " + shape_str(sizes));
  }
  const size_t nbytes = static_cast<size_t>(numel_of(sizes)) * ignis::itemsize(dtype);
  void* data = allocator->allocate(nbytes);
  // If make_shared throws, shared_ptr's constructor still runs the deleter: nothing leaks.
  std::shared_ptr<void> owner(data,
                              [allocator, nbytes](void* p) { allocator->deallocate(p, nbytes); });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, nbytes, Device::cpu(), std::move(owner));
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset) {
  const TensorImpl& src = defined_impl(base, "make_view");
  IGNIS_INTERNAL_ASSERT(sizes.size() == strides.size());
  if (numel_of(sizes) > 0) {
    int64_t last = offset;
    for (size_t d = 0; d < sizes.size(); ++d) last += (sizes[d] - 1) * strides[d];
    const int64_t capacity =
        static_cast<int64_t>(src.storage->nbytes() / ignis::itemsize(src.dtype));
    IGNIS_INTERNAL_ASSERT(offset >= 0 && last < capacity);
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage;
  impl->sizes = sizes;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = src.dtype;
  return Tensor(std::move(impl));
}

}  // namespace ignis

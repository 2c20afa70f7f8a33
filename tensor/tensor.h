// Tensor: a typed, strided view (sizes, strides, offset) onto a shared Storage.
// This header is the data structure and its accessors; ops live in their own headers
// (elementwise.h, reduce.h, ...), and the differentiable ops and autograd methods declared
// at the bottom of the class are defined in autograd/ (link ignis::ignis to use them).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/scalar.h"
#include "tensor/small_vector.h"
#include "tensor/storage.h"

namespace ignis {

// Sizes or strides, outermost dimension first; up to 6 dimensions without a heap allocation.
using Shape = SmallVector<int64_t, 6>;

class Allocator;  // tensor/storage.h

namespace autograd {
struct AutogradMeta;  // requires_grad, grad, grad_fn: defined in autograd/
class Node;
}  // namespace autograd

// The state one Tensor handle points to. Several handles may share one TensorImpl
// (copies of a Tensor alias), and several TensorImpls may share one Storage (views).
struct TensorImpl {
  StoragePtr storage;
  Shape sizes;
  Shape strides;       // in elements, may be 0 (broadcast) but never negative
  int64_t offset = 0;  // in elements, from storage->data()
  DType dtype = kFloat32;
  // Made from a C++ number (Scalar): lower priority in type promotion, as PyTorch's
  // "wrapped numbers" (int32 tensor * 2.5 -> float32, float32 tensor * 2.0 -> float32).
  bool wrapped_number = false;
  // Null for tensors that take no part in autograd. shared_ptr so that tensor/ can destroy
  // it without seeing its definition.
  std::shared_ptr<autograd::AutogradMeta> autograd_meta;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing; most calls on it throw
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // ---- metadata ----
  const Shape& sizes() const;
  const Shape& shape() const { return sizes(); }
  const Shape& strides() const;
  int64_t size(int64_t dim) const;    // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t dim() const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  int64_t storage_offset() const;
  size_t itemsize() const { return ignis::itemsize(dtype()); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * itemsize(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return ignis::is_floating_point(dtype()); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  const StoragePtr& storage() const;
  uint64_t version() const { return storage()->version(); }
  // Marks the storage as written in place (autograd checks saved tensors against it).
  void bump_version() const { storage()->bump_version(); }
  std::string shape_str() const;  // "(2, 3)"
  std::string str() const;        // as operator<<

  // ---- raw data (no autograd) ----
  // Pointer to element [0, ..., 0]; throws DTypeError unless T matches dtype().
  template <typename T> T* data_ptr() const;
  void* raw_data() const;  // untyped pointer to element [0, ..., 0]
  // The single value of a one-element tensor (copied to the host first if needed);
  // throws ValueError if numel() != 1. Converts to T as static_cast would.
  template <typename T> T item() const;
  // All values in row-major order, converted to T, copied to the host if needed.
  template <typename T> std::vector<T> to_vector() const;

  // ---- autograd state (defined in autograd/) ----
  bool requires_grad() const;
  // Makes this leaf tensor record operations; throws AutogradError on a non-leaf or on
  // an integer tensor. Returns *this.
  const Tensor& requires_grad_(bool requires_grad = true) const;
  Tensor grad() const;                 // accumulated gradient; undefined if none yet
  void set_grad(const Tensor& grad) const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  bool is_leaf() const;
  void retain_grad() const;            // keep .grad() on this non-leaf after backward
  bool retains_grad() const;
  // Backpropagates from this tensor. `gradient` defaults to 1 for a one-element tensor and
  // is required otherwise (AutogradError). The graph is freed unless retain_graph is set.
  void backward(const Tensor& gradient = {}, bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;               // same storage, no history
  const Tensor& detach_() const;

  // ---- differentiable views and copies (defined in autograd/) ----
  Tensor view(const Shape& shape) const;      // one dimension may be -1
  Tensor reshape(const Shape& shape) const;   // view if possible, else copy
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;                           // transpose of a tensor with <= 2 dims
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;    // -1 keeps a size
  Tensor expand_as(const Tensor& other) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor cpu() const;
  Tensor cuda(int index = 0) const;

  // ---- differentiable math, the common ones (defined in autograd/) ----
  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor pow(const Scalar& exponent) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // ---- in place (defined in autograd/); each bumps the version counter ----
  const Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;
  const Tensor& add_(const Scalar& other) const;
  const Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;
  const Tensor& mul_(const Tensor& other) const;
  const Tensor& mul_(const Scalar& other) const;
  const Tensor& div_(const Tensor& other) const;
  const Tensor& div_(const Scalar& other) const;
  const Tensor& zero_() const;
  const Tensor& fill_(const Scalar& value) const;
  const Tensor& copy_(const Tensor& src) const;  // broadcasts src, converts dtype/device
  const Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max) const;

 private:
  const TensorImpl& checked() const;  // throws ValueError on an undefined tensor
  std::shared_ptr<TensorImpl> impl_;
};

// Prints like PyTorch: values (eliding the middle of large tensors), then dtype and shape.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- shape helpers ----
std::string shape_str(const Shape& shape);            // "(2, 3)"
int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& sizes);
// Wraps a possibly negative dim into [0, ndim); throws IndexError naming `op`.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// A fresh, contiguous, uninitialised tensor on `device`: the one constructor kernels use.
Tensor make_tensor(const Shape& sizes, DType dtype, Device device);
// The same on the host, its storage from `allocator` (nullptr: the CPU allocator), handed back
// to `allocator` when the last view dies; e.g. page-locked memory (cuda/pinned.h). Throws
// ShapeError for a negative size, and what the allocator throws (DeviceError when the pinned
// allocator cannot page-lock that much).
Tensor make_tensor(const Shape& sizes, DType dtype, Allocator* allocator);
// A view of `base`'s storage with the given geometry (no checks beyond the storage bound).
Tensor make_view(const Tensor& base, const Shape& sizes, const Shape& strides, int64_t offset);

}  // namespace ignis

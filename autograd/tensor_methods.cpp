// The Tensor members that involve autograd (declared in tensor/tensor.h): autograd state,
// differentiable views and copies, the common math as methods, and the in-place ops.
// Not the accessors (tensor/tensor.cpp) nor the ops' formulas (math.cpp, views.cpp, ...).
//
// In-place ops and autograd: with grad mode on, writing into a leaf that requires grad or
// into a differentiable view of a tensor that requires grad throws AutogradError. When self
// or the operand requires grad, the op is computed out of place with autograd, the result is
// copied into self, and self's history becomes the op's node ("rebasing"), so gradients flow
// through add_, sub_, mul_, div_, clamp_, copy_, fill_ and zero_. Every in-place op bumps
// the version counter (the raw in-place ops do), so tensors saved for backward detect it.
#include <limits>
#include <vector>

#include "autograd/backward.h"
#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/indexing.h"
#include "autograd/linalg.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis {

using autograd::AutogradMeta;
using autograd::autograd_meta;
using autograd::record;
using autograd::detail::Grads;
using autograd::detail::mark_view;

namespace {

AutogradMeta* meta_of(const Tensor& t) { return t.impl()->autograd_meta.get(); }

bool is_one(const Scalar& s) {
  return s.is_floating_point() ? s.to<double>() == 1.0 : s.to<int64_t>() == 1;
}

// The autograd rules for writing into `self` in place.
void check_in_place(const char* op, const Tensor& self) {
  if (!GradMode::is_enabled()) return;
  const AutogradMeta* meta = meta_of(self);
  if (meta == nullptr) return;
  if (meta->requires_grad && !meta->grad_fn) {
    throw AutogradError(std::string(op) +
                        ": a leaf tensor that requires grad is used in an in-place operation");
  }
  if (meta->is_view && meta->grad_fn) {
    throw AutogradError(std::string(op) +
                        ": in-place operation on a view of a tensor that requires grad is not "
                        "supported; use the out-of-place op or clone() the view first");
  }
}

// self's current value as an input of the out-of-place op, carrying self's history: a copy
// when the op saves it (the in-place write would otherwise invalidate the saved value).
Tensor history_input(const Tensor& self, bool saved_by_op) {
  Tensor in = saved_by_op ? raw::clone(self) : raw::alias(self);
  if (self.requires_grad()) {
    AutogradMeta& meta = autograd_meta(in);
    meta.requires_grad = true;
    meta.grad_fn = self.grad_fn();
  }
  return in;
}

// Writes `result` (computed out of place, with autograd) into self and gives self its history.
void rebase(const char* op, const Tensor& self, const Tensor& result) {
  if (result.sizes() != self.sizes()) {
    throw ShapeError(std::string(op) + ": output with shape " + self.shape_str() +
                     " doesn't match the broadcast shape " + result.shape_str());
  }
  if (!self.is_floating_point()) {
    throw DTypeError(std::string(op) + ": result type " + dtype_name(result.dtype()) +
                     " can't be cast to the desired output type " + dtype_name(self.dtype()));
  }
  raw::copy_(self, result);  // bumps the version counter
  AutogradMeta& meta = autograd_meta(self);
  if (meta.retains_grad && meta.grad_fn) {  // the old node no longer makes self's value
    std::erase_if(meta.grad_fn->retained_grads,
                  [&](const auto& weak) { return weak.lock().get() == &meta; });
  }
  meta.grad_fn = result.grad_fn();
  meta.requires_grad = meta.grad_fn != nullptr;
  if (meta.retains_grad && meta.grad_fn) {
    meta.grad_fn->retained_grads.push_back(self.impl()->autograd_meta);
  }
}

// One in-place op: the raw kernel when nothing records, else out of place + rebase.
// `saves_self`: whether the out-of-place op saves self's old value for its backward.
template <typename RawFn, typename OutOfPlaceFn>
const Tensor& in_place(const char* op, const Tensor& self, const Tensor& other, bool saves_self,
                       RawFn raw_fn, OutOfPlaceFn out_of_place) {
  check_in_place(op, self);
  if (!autograd::needs_grad({self, other})) {
    raw_fn();  // the raw in-place ops bump the version counter
    return self;
  }
  rebase(op, self, out_of_place(history_input(self, saves_self)));
  return self;
}

Tensor scaled(const Tensor& other, const Scalar& alpha) {
  return is_one(alpha) ? other : raw::mul(other, alpha);
}

}  // namespace

// ---- autograd state ----

bool Tensor::requires_grad() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta != nullptr && (meta->requires_grad || meta->grad_fn != nullptr);
}

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  if (requires_grad && !is_floating_point()) {
    throw AutogradError(std::string("requires_grad_: only floating-point tensors can require "
                                    "gradients, got ") + dtype_name(dtype()));
  }
  if (!is_leaf()) {
    if (!requires_grad) {
      throw AutogradError(
          "requires_grad_: you can only change requires_grad flags of leaf tensors; use "
          "detach() to get a tensor that does not require grad");
    }
    return *this;
  }
  if (requires_grad || meta_of(*this) != nullptr) autograd_meta(*this).requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta != nullptr ? meta->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined()) {
    if (grad.sizes() != sizes()) {
      throw ShapeError("set_grad: gradient has shape " + grad.shape_str() +
                       ", but the tensor has shape " + shape_str());
    }
    if (grad.dtype() != dtype()) {
      throw DTypeError(std::string("set_grad: gradient has dtype ") + dtype_name(grad.dtype()) +
                       ", but the tensor has dtype " + dtype_name(dtype()));
    }
  }
  autograd_meta(*this).grad = grad;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta != nullptr ? meta->grad_fn : nullptr;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::retain_grad() const {
  if (!requires_grad()) {
    throw AutogradError("retain_grad: can't retain_grad on a tensor that has requires_grad=false");
  }
  if (is_leaf()) return;  // leaves keep their gradient anyway
  AutogradMeta& meta = autograd_meta(*this);
  if (meta.retains_grad) return;
  meta.retains_grad = true;
  meta.grad_fn->retained_grads.push_back(impl()->autograd_meta);
}

bool Tensor::retains_grad() const {
  const AutogradMeta* meta = meta_of(*this);
  return meta != nullptr && meta->retains_grad;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  std::vector<Tensor> grads;
  if (gradient.defined()) grads.push_back(gradient);
  autograd::backward({*this}, grads, retain_graph, create_graph);
}

Tensor Tensor::detach() const { return raw::alias(*this); }

const Tensor& Tensor::detach_() const {
  if (AutogradMeta* meta = meta_of(*this)) {
    meta->grad_fn = nullptr;
    meta->requires_grad = false;
    meta->retains_grad = false;
    meta->is_view = false;
  }
  return *this;
}

// ---- differentiable views and copies ----

Tensor Tensor::view(const Shape& shape) const { return ignis::view(*this, shape); }
Tensor Tensor::reshape(const Shape& shape) const { return ignis::reshape(*this, shape); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return ignis::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::squeeze() const { return ignis::squeeze(*this); }
Tensor Tensor::squeeze(int64_t dim) const { return ignis::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int64_t dim) const { return ignis::unsqueeze(*this, dim); }
Tensor Tensor::permute(const Shape& dims) const { return ignis::permute(*this, dims); }
Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  return ignis::transpose(*this, dim0, dim1);
}
Tensor Tensor::t() const {
  if (!autograd::needs_grad({*this})) return raw::t(*this);
  return mark_view(record("t", {*this}, raw::t(*this),
                          [](const Tensor& dy) { return Grads{dy.t()}; }),
                   *this);
}
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  return ignis::narrow(*this, dim, start, length);
}
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return ignis::slice(*this, dim, start, end, step);
}
Tensor Tensor::select(int64_t dim, int64_t index) const {
  return ignis::select(*this, dim, index);
}
Tensor Tensor::expand(const Shape& shape) const { return ignis::expand(*this, shape); }
Tensor Tensor::expand_as(const Tensor& other) const {
  return ignis::expand(*this, other.sizes());
}
std::vector<Tensor> Tensor::split(int64_t split_size, int64_t dim) const {
  return ignis::split(*this, split_size, dim);
}
std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t dim) const {
  return ignis::chunk(*this, chunks, dim);
}

Tensor Tensor::contiguous() const {
  Tensor out = raw::contiguous(*this);
  if (out.is_same(*this) || !autograd::needs_grad({*this})) return out;
  return record("contiguous", {*this}, out, [](const Tensor& dy) { return Grads{dy}; });
}

Tensor Tensor::clone() const {
  if (!autograd::needs_grad({*this})) return raw::clone(*this);
  return record("clone", {*this}, raw::clone(*this), [](const Tensor& dy) { return Grads{dy}; });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  if (!autograd::needs_grad({*this})) return raw::to(*this, dtype);
  return record("to", {*this}, raw::to(*this, dtype),
                [from = this->dtype()](const Tensor& dy) { return Grads{dy.to(from)}; });
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  if (!autograd::needs_grad({*this})) return raw::to(*this, device);
  return record("to", {*this}, raw::to(*this, device),
                [from = this->device()](const Tensor& dy) { return Grads{dy.to(from)}; });
}

Tensor Tensor::cpu() const { return to(Device::cpu()); }
Tensor Tensor::cuda(int index) const { return to(Device::cuda(index)); }

// ---- differentiable math ----

Tensor Tensor::neg() const { return ignis::neg(*this); }
Tensor Tensor::abs() const { return ignis::abs(*this); }
Tensor Tensor::exp() const { return ignis::exp(*this); }
Tensor Tensor::log() const { return ignis::log(*this); }
Tensor Tensor::sqrt() const { return ignis::sqrt(*this); }
Tensor Tensor::pow(const Scalar& exponent) const { return ignis::pow(*this, exponent); }
Tensor Tensor::relu() const { return ignis::relu(*this); }
Tensor Tensor::sigmoid() const { return ignis::sigmoid(*this); }
Tensor Tensor::tanh() const { return ignis::tanh(*this); }
Tensor Tensor::sum() const { return ignis::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return ignis::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const { return ignis::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return ignis::mean(*this, dims, keepdim);
}
Tensor Tensor::max() const { return ignis::max(*this); }
Tensor Tensor::min() const { return ignis::min(*this); }
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return ignis::argmax(*this, dim, keepdim);
}
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const {
  return ignis::argmin(*this, dim, keepdim);
}
Tensor Tensor::matmul(const Tensor& other) const { return ignis::matmul(*this, other); }
Tensor Tensor::softmax(int64_t dim) const { return ignis::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return ignis::log_softmax(*this, dim); }

// ---- in place ----

const Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) const {
  return in_place(
      "add_", *this, other, /*saves_self=*/false,
      [&] { raw::binary_(BinaryOp::Add, *this, scaled(other, alpha)); },
      [&](const Tensor& self) { return ignis::add(self, other, alpha); });
}

const Tensor& Tensor::add_(const Scalar& other) const {
  return add_(wrap_scalar(other, device()));
}

const Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) const {
  return in_place(
      "sub_", *this, other, /*saves_self=*/false,
      [&] { raw::binary_(BinaryOp::Sub, *this, scaled(other, alpha)); },
      [&](const Tensor& self) { return ignis::sub(self, other, alpha); });
}

const Tensor& Tensor::mul_(const Tensor& other) const {
  return in_place(
      "mul_", *this, other, /*saves_self=*/other.requires_grad(),
      [&] { raw::binary_(BinaryOp::Mul, *this, other); },
      [&](const Tensor& self) { return ignis::mul(self, other); });
}

const Tensor& Tensor::mul_(const Scalar& other) const {
  return mul_(wrap_scalar(other, device()));
}

const Tensor& Tensor::div_(const Tensor& other) const {
  return in_place(
      "div_", *this, other, /*saves_self=*/other.requires_grad(),
      [&] { raw::binary_(BinaryOp::Div, *this, other); },
      [&](const Tensor& self) { return ignis::div(self, other); });
}

const Tensor& Tensor::div_(const Scalar& other) const {
  return div_(wrap_scalar(other, device()));
}

const Tensor& Tensor::zero_() const { return fill_(0); }

const Tensor& Tensor::fill_(const Scalar& value) const {
  // The old value gets a zero gradient: the output no longer depends on it.
  return in_place(
      "fill_", *this, Tensor(), /*saves_self=*/false, [&] { raw::fill_(*this, value); },
      [&](const Tensor& self) {
        return record("fill_", {self}, full(sizes(), value, {dtype(), device()}),
                      [](const Tensor& dy) {
                        return Grads{zeros(dy.sizes(), {dy.dtype(), dy.device()})};
                      });
      });
}

const Tensor& Tensor::copy_(const Tensor& src) const {
  // Gradient: src's (converted and summed back over broadcast dims); none to the old value.
  return in_place(
      "copy_", *this, src, /*saves_self=*/false, [&] { raw::copy_(*this, src); },
      [&](const Tensor&) { return ignis::expand(src.to(dtype()).to(device()), sizes()); });
}

const Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  UnaryParams params{.lo = min ? min->to<double>() : -kInf, .hi = max ? max->to<double>() : kInf};
  return in_place(
      "clamp_", *this, Tensor(), /*saves_self=*/true,
      [&] { raw::unary_(UnaryOp::Clamp, *this, params); },
      [&](const Tensor& self) { return ignis::clamp(self, min, max); });
}

}  // namespace ignis

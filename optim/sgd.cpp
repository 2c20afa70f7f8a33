// SGD's update rule (see sgd.h): one fused pass over all the CPU contiguous parameters of a
// group, the device's sgd_step slot over its contiguous parameters (a few launches), raw
// in-place ops (any device, no graph) for the rest.
#include "optim/sgd.h"

#include "optim/multi_tensor.h"
#include "optim/update_ops.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis::optim {

namespace {

Options to_options(const SGDOptions& o) {
  return {{"lr", o.lr},
          {"momentum", o.momentum},
          {"dampening", o.dampening},
          {"weight_decay", o.weight_decay},
          {"nesterov", o.nesterov ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

SGDOptions from_options(const Options& o) {
  return {.lr = o.at("lr"),
          .momentum = o.at("momentum"),
          .dampening = o.at("dampening"),
          .weight_decay = o.at("weight_decay"),
          .nesterov = o.at("nesterov") != 0.0,
          .maximize = o.at("maximize") != 0.0};
}

// One parameter's update constants, rounded to T first as PyTorch's ops round their scalars.
template <typename T>
struct SGDConstants {
  bool maximize, l2, nesterov;
  bool first_step;  // the momentum buffer starts as the gradient
  T weight_decay, momentum, one_minus_dampening, neg_lr;
};

// One fusable parameter's buffers (contiguous, dtype T) and the constants of its update.
template <typename T>
struct SGDSegment {
  T* p;    // parameter
  T* g;    // gradient
  T* buf;  // momentum_buffer (with momentum), else null
  int64_t n;
  SGDConstants<T> c;
};

// Elements [0, n) of a piece of one segment (restrict pointers by value, so the loop
// vectorises), rounding each product and sum once as the raw ops of sgd_ops do. With
// kZeroGrad each gradient element is zeroed right after it is read.
template <typename T, bool kMomentum, bool kZeroGrad>
void sgd_chunk(T* __restrict p, T* __restrict g_in, T* __restrict buf, int64_t n,
               const SGDConstants<T> c) {
  for (int64_t i = 0; i < n; ++i) {
    T d = c.maximize ? -g_in[i] : g_in[i];
    if constexpr (kZeroGrad) g_in[i] = T(0);
    if (c.l2) d = d + c.weight_decay * p[i];
    if constexpr (kMomentum) {
      const T b = c.first_step ? d : buf[i] * c.momentum + c.one_minus_dampening * d;
      buf[i] = b;
      d = c.nesterov ? d + c.momentum * b : b;
    }
    p[i] = p[i] + c.neg_lr * d;
  }
}

// The whole group's fused update in one pass (elementwise: the split over the thread pool
// does not change a result).
template <bool kMomentum, bool kZeroGrad>
void sgd_pass(const detail::SegmentList<SGDSegment>& segments, bool zero_grads) {
  segments.run([]<typename T>(const SGDSegment<T>& s, int64_t begin, int64_t end) {
    sgd_chunk<T, kMomentum, kZeroGrad>(s.p + begin, s.g + begin,
                                       kMomentum ? s.buf + begin : nullptr, end - begin, s.c);
  }, zero_grads, kZeroGrad);
}

// The same update with raw ops, for any device and layout.
void sgd_ops(const Tensor& p, const Tensor& grad, Tensor& buf, const SGDOptions& o) {
  Tensor d = o.maximize ? raw::neg(grad) : grad;
  if (o.weight_decay != 0.0) d = detail::add_scaled(d, p, o.weight_decay);
  if (o.momentum != 0.0) {
    if (!buf.defined()) {
      buf = raw::clone(d);
    } else {
      detail::mul_(buf, o.momentum);
      detail::add_scaled_(buf, d, 1.0 - o.dampening);
    }
    d = o.nesterov ? detail::add_scaled(d, buf, o.momentum) : buf;
  }
  detail::add_scaled_(p, d, -o.lr);
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions defaults)
    : Optimizer("SGD", to_options(defaults)) {
  add_param_groups(std::move(groups));
}

void SGD::check_options(const Options& options) const {
  const SGDOptions o = from_options(options);
  require(o.lr >= 0.0, options, "lr");
  require(o.momentum >= 0.0, options, "momentum");
  require(o.weight_decay >= 0.0, options, "weight_decay");
  if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0)) {
    throw ValueError(name() + ": Nesterov momentum requires a momentum and zero dampening");
  }
}

std::vector<std::string> SGD::state_keys(const Options& options) const {
  if (options.at("momentum") == 0.0) return {};
  return {"momentum_buffer"};
}

void SGD::update(ParamGroup& group) { step_group(group, false); }

void SGD::update_and_zero_grad(ParamGroup& group) { step_group(group, true); }

void SGD::step_group(ParamGroup& group, bool zero_grads) {
  const SGDOptions o = from_options(group.options);
  const bool momentum = o.momentum != 0.0;
  detail::SegmentList<SGDSegment> segments(group.params.size());
  detail::DeviceSegmentList<SGDStepSegment, SGDStepConstants> device_segments(
      &KernelTable::sgd_step, group.params.size());
  for (const Tensor& p : group.params) {
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    Tensor no_buffer;
    Tensor& buf = momentum ? mutable_state(p)["momentum_buffer"] : no_buffer;
    const bool on_cpu = detail::fusable(p, {grad, buf});
    if (!on_cpu && !device_segments.accepts(p, {grad, buf})) {
      sgd_ops(p, grad, buf, o);
      if (zero_grads) raw::fill_(grad, 0.0);
      continue;
    }
    const bool first_step = momentum && !buf.defined();
    if (first_step) buf = make_tensor(p.sizes(), p.dtype(), p.device());  // written in the pass
    if (!on_cpu) {
      device_segments.add({.param = p.raw_data(),
                           .grad = grad.raw_data(),
                           .momentum_buffer = momentum ? buf.raw_data() : nullptr,
                           .numel = p.numel(),
                           .first_step = first_step},
                          p, grad, {buf});
      continue;
    }
    visit_floating(p.dtype(), "SGD", [&]<typename T>() {
      const SGDSegment<T> segment{
          .p = p.data_ptr<T>(),
          .g = grad.data_ptr<T>(),
          .buf = momentum ? buf.data_ptr<T>() : nullptr,
          .n = p.numel(),
          .c = {.maximize = o.maximize,
                .l2 = o.weight_decay != 0.0,
                .nesterov = o.nesterov,
                .first_step = first_step,
                .weight_decay = static_cast<T>(o.weight_decay),
                .momentum = static_cast<T>(o.momentum),
                .one_minus_dampening = static_cast<T>(1.0 - o.dampening),
                .neg_lr = static_cast<T>(-o.lr)}};
      segments.add(segment, p, grad, {buf});
    });
  }
  const bool zero_in_pass = zero_grads && segments.can_zero_grads_in_pass();
  if (momentum) {
    zero_in_pass ? sgd_pass<true, true>(segments, zero_grads)
                 : sgd_pass<true, false>(segments, zero_grads);
  } else {
    zero_in_pass ? sgd_pass<false, true>(segments, zero_grads)
                 : sgd_pass<false, false>(segments, zero_grads);
  }
  const SGDStepConstants device_constants{.maximize = o.maximize,
                                          .l2 = o.weight_decay != 0.0,
                                          .nesterov = o.nesterov,
                                          .momentum = momentum,
                                          .weight_decay = o.weight_decay,
                                          .momentum_factor = o.momentum,
                                          .one_minus_dampening = 1.0 - o.dampening,
                                          .neg_lr = -o.lr};
  device_segments.run(device_constants, name().c_str(), zero_grads,
                      zero_grads && device_segments.can_zero_grads_in_pass());
}

}  // namespace ignis::optim

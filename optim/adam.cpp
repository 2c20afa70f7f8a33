// Adam and AdamW's update rule (see adam.h): one fused pass over all the CPU contiguous
// parameters of a group, the device's adam_step slot over its contiguous parameters (a few
// launches), raw in-place ops for the rest. Both follow PyTorch's single-tensor
// Adam op by op.
#include "optim/adam.h"

#include <cmath>

#include "optim/multi_tensor.h"
#include "optim/update_ops.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis::optim {

namespace {

Options to_options(const AdamOptions& o) {
  return {{"lr", o.lr},
          {"beta1", o.betas.first},
          {"beta2", o.betas.second},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay},
          {"amsgrad", o.amsgrad ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

AdamOptions from_options(const Options& o) {
  return {.lr = o.at("lr"),
          .betas = {o.at("beta1"), o.at("beta2")},
          .eps = o.at("eps"),
          .weight_decay = o.at("weight_decay"),
          .amsgrad = o.at("amsgrad") != 0.0,
          .maximize = o.at("maximize") != 0.0};
}

AdamOptions adam_options(const AdamWOptions& o) {
  return {.lr = o.lr,
          .betas = o.betas,
          .eps = o.eps,
          .weight_decay = o.weight_decay,
          .amsgrad = o.amsgrad,
          .maximize = o.maximize};
}

// One parameter's update: the group's options and this step's bias corrections.
struct AdamStep {
  AdamOptions options;
  bool decoupled = false;
  double step_size = 0.0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 0.0;  // (1 - beta2^t)^0.5
};

// torch.maximum: NaN in either operand gives NaN.
template <typename T>
T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// The update's constants, rounded to T first as PyTorch's ops round their scalars.
template <typename T>
struct AdamConstants {
  bool maximize, l2, decay, lerp_small;
  T weight_decay, decay_factor, weight, one_minus_weight, beta2, one_minus_beta2;
  T bias_correction2_sqrt, eps, neg_step_size;
};

// One fusable parameter's buffers (contiguous, dtype T) and the constants of its update.
template <typename T>
struct AdamSegment {
  T* p;      // parameter
  T* g;      // gradient
  T* m;      // exp_avg
  T* v;      // exp_avg_sq
  T* v_max;  // max_exp_avg_sq (amsgrad), else null
  int64_t n;
  AdamConstants<T> c;
};

// Elements [0, n) of a piece of one segment; each operation rounds as PyTorch's op sequence
// does. The flags are loop-invariant selects (both sides computed), so the loop vectorises;
// restrict pointers by value: the compiler must not reload them after every store. With
// kZeroGrad each gradient element is zeroed right after it is read.
template <typename T, bool kAmsgrad, bool kZeroGrad>
void adam_chunk(T* __restrict p, T* __restrict g_in, T* __restrict m, T* __restrict v,
                T* __restrict v_max, int64_t n, const AdamConstants<T> c) {
  for (int64_t i = 0; i < n; ++i) {
    T g = c.maximize ? -g_in[i] : g_in[i];
    if constexpr (kZeroGrad) g_in[i] = T(0);
    T pi = p[i];
    if (c.decay) pi = pi * c.decay_factor;
    if (c.l2) g = g + c.weight_decay * pi;
    const T diff = g - m[i];
    const T mi = c.lerp_small ? m[i] + c.weight * diff : g - diff * c.one_minus_weight;
    const T vi = v[i] * c.beta2 + c.one_minus_beta2 * g * g;
    m[i] = mi;
    v[i] = vi;
    T v_used = vi;
    if constexpr (kAmsgrad) {
      v_used = nan_max(v_max[i], vi);
      v_max[i] = v_used;
    }
    const T denom = std::sqrt(v_used) / c.bias_correction2_sqrt + c.eps;
    p[i] = pi + c.neg_step_size * (mi / denom);
  }
}

template <typename T>
AdamConstants<T> adam_constants(const AdamStep& s) {
  const AdamOptions& o = s.options;
  const double lerp_weight = 1.0 - o.betas.first;
  return {.maximize = o.maximize,
          .l2 = o.weight_decay != 0.0 && !s.decoupled,
          .decay = o.weight_decay != 0.0 && s.decoupled,
          .lerp_small = std::abs(lerp_weight) < 0.5,
          .weight_decay = static_cast<T>(o.weight_decay),
          .decay_factor = static_cast<T>(1.0 - o.lr * o.weight_decay),
          .weight = static_cast<T>(lerp_weight),
          .one_minus_weight = static_cast<T>(1.0 - lerp_weight),
          .beta2 = static_cast<T>(o.betas.second),
          .one_minus_beta2 = static_cast<T>(1.0 - o.betas.second),
          .bias_correction2_sqrt = static_cast<T>(s.bias_correction2_sqrt),
          .eps = static_cast<T>(o.eps),
          .neg_step_size = static_cast<T>(-s.step_size)};
}

// The group's constants for a device's adam_step slot: adam_constants in double, which
// the kernel rounds to the dtype as adam_constants<T> does.
AdamStepConstants device_constants(const AdamStep& s) {
  const AdamConstants<double> c = adam_constants<double>(s);
  return {.maximize = c.maximize,
          .amsgrad = s.options.amsgrad,
          .l2 = c.l2,
          .decay = c.decay,
          .lerp_small = c.lerp_small,
          .weight_decay = c.weight_decay,
          .decay_factor = c.decay_factor,
          .weight = c.weight,
          .one_minus_weight = c.one_minus_weight,
          .beta2 = c.beta2,
          .one_minus_beta2 = c.one_minus_beta2,
          .eps = c.eps};
}

// The whole group's fused update in one pass (elementwise: the split over the thread pool
// does not change a result).
template <bool kAmsgrad, bool kZeroGrad>
void adam_pass(const detail::SegmentList<AdamSegment>& segments, bool zero_grads) {
  segments.run([]<typename T>(const AdamSegment<T>& s, int64_t begin, int64_t end) {
    adam_chunk<T, kAmsgrad, kZeroGrad>(s.p + begin, s.g + begin, s.m + begin, s.v + begin,
                                       kAmsgrad ? s.v_max + begin : nullptr, end - begin, s.c);
  }, zero_grads, kZeroGrad);
}

// The same update with raw ops, for any device and layout.
void adam_ops(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
              const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq, const AdamStep& s) {
  const AdamOptions& o = s.options;
  Tensor g = o.maximize ? raw::neg(grad) : grad;
  if (o.weight_decay != 0.0) {
    if (s.decoupled) {
      detail::mul_(param, 1.0 - o.lr * o.weight_decay);
    } else {
      g = detail::add_scaled(g, param, o.weight_decay);
    }
  }
  detail::lerp_(exp_avg, g, 1.0 - o.betas.first);
  detail::mul_(exp_avg_sq, o.betas.second);
  detail::addcmul_(exp_avg_sq, g, g, 1.0 - o.betas.second);
  Tensor v = exp_avg_sq;
  if (o.amsgrad) {
    raw::binary_(BinaryOp::Maximum, max_exp_avg_sq, exp_avg_sq);
    v = max_exp_avg_sq;
  }
  const Tensor denom = raw::sqrt(v);
  raw::binary_(BinaryOp::Div, denom, wrap_scalar(s.bias_correction2_sqrt, denom.device()));
  detail::add_(denom, o.eps);
  detail::addcdiv_(param, exp_avg, denom, -s.step_size);
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, options) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions defaults)
    : Adam("Adam", std::move(groups), defaults, false) {}

Adam::Adam(std::string name, std::vector<ParamGroup> groups, AdamOptions defaults,
           bool decoupled)
    : Optimizer(std::move(name), to_options(defaults)), decoupled_weight_decay_(decoupled) {
  add_param_groups(std::move(groups));
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults)
    : Adam("AdamW", std::move(groups), adam_options(defaults), true) {}

void Adam::check_options(const Options& options) const {
  const AdamOptions o = from_options(options);
  require(o.lr >= 0.0, options, "lr");
  require(o.eps >= 0.0, options, "eps");
  require(o.betas.first >= 0.0 && o.betas.first < 1.0, options, "beta1");
  require(o.betas.second >= 0.0 && o.betas.second < 1.0, options, "beta2");
  require(o.weight_decay >= 0.0, options, "weight_decay");
}

std::vector<std::string> Adam::state_keys(const Options& options) const {
  std::vector<std::string> keys = {"step", "exp_avg", "exp_avg_sq"};
  if (options.at("amsgrad") != 0.0) keys.push_back("max_exp_avg_sq");
  return keys;
}

void Adam::update(ParamGroup& group) { step_group(group, false); }

void Adam::update_and_zero_grad(ParamGroup& group) { step_group(group, true); }

void Adam::step_group(ParamGroup& group, bool zero_grads) {
  AdamStep s{.options = from_options(group.options), .decoupled = decoupled_weight_decay_};
  detail::SegmentList<AdamSegment> segments(group.params.size());
  detail::DeviceSegmentList<AdamStepSegment, AdamStepConstants> device_segments(
      &KernelTable::adam_step, group.params.size());
  for (const Tensor& p : group.params) {
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& state = mutable_state(p);
    const Tensor& exp_avg = buffer(state, "exp_avg", p);
    const Tensor& exp_avg_sq = buffer(state, "exp_avg_sq", p);
    const Tensor max_exp_avg_sq = s.options.amsgrad ? buffer(state, "max_exp_avg_sq", p) : Tensor();
    const double step = increment_step(state);
    s.step_size = s.options.lr / (1.0 - std::pow(s.options.betas.first, step));
    s.bias_correction2_sqrt = std::pow(1.0 - std::pow(s.options.betas.second, step), 0.5);
    if (detail::fusable(p, {grad, exp_avg, exp_avg_sq, max_exp_avg_sq})) {
      visit_floating(p.dtype(), "Adam", [&]<typename T>() {
        const AdamSegment<T> segment{
            .p = p.data_ptr<T>(),
            .g = grad.data_ptr<T>(),
            .m = exp_avg.data_ptr<T>(),
            .v = exp_avg_sq.data_ptr<T>(),
            .v_max = s.options.amsgrad ? max_exp_avg_sq.data_ptr<T>() : nullptr,
            .n = p.numel(),
            .c = adam_constants<T>(s)};
        segments.add(segment, p, grad, {exp_avg, exp_avg_sq, max_exp_avg_sq});
      });
    } else if (device_segments.accepts(p, {grad, exp_avg, exp_avg_sq, max_exp_avg_sq})) {
      const AdamStepSegment segment{
          .param = p.raw_data(),
          .grad = grad.raw_data(),
          .exp_avg = exp_avg.raw_data(),
          .exp_avg_sq = exp_avg_sq.raw_data(),
          .max_exp_avg_sq = s.options.amsgrad ? max_exp_avg_sq.raw_data() : nullptr,
          .numel = p.numel(),
          .bias_correction2_sqrt = s.bias_correction2_sqrt,
          .neg_step_size = -s.step_size};
      device_segments.add(segment, p, grad, {exp_avg, exp_avg_sq, max_exp_avg_sq});
    } else {
      adam_ops(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, s);
      if (zero_grads) raw::fill_(grad, 0.0);
    }
  }
  const bool zero_in_pass = zero_grads && segments.can_zero_grads_in_pass();
  if (s.options.amsgrad) {
    zero_in_pass ? adam_pass<true, true>(segments, zero_grads)
                 : adam_pass<true, false>(segments, zero_grads);
  } else {
    zero_in_pass ? adam_pass<false, true>(segments, zero_grads)
                 : adam_pass<false, false>(segments, zero_grads);
  }
  device_segments.run(device_constants(s), name().c_str(), zero_grads,
                      zero_grads && device_segments.can_zero_grads_in_pass());
}

}  // namespace ignis::optim

// RMSprop's update rule (see rmsprop.h), with raw in-place ops: any device, no graph.
#include "optim/rmsprop.h"

#include "optim/update_ops.h"
#include "tensor/elementwise.h"

namespace ignis::optim {

namespace {

Options to_options(const RMSpropOptions& o) {
  return {{"lr", o.lr},
          {"alpha", o.alpha},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay},
          {"momentum", o.momentum},
          {"centered", o.centered ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

RMSpropOptions from_options(const Options& o) {
  return {.lr = o.at("lr"),
          .alpha = o.at("alpha"),
          .eps = o.at("eps"),
          .weight_decay = o.at("weight_decay"),
          .momentum = o.at("momentum"),
          .centered = o.at("centered") != 0.0,
          .maximize = o.at("maximize") != 0.0};
}

}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults)
    : Optimizer("RMSprop", to_options(defaults)) {
  add_param_groups(std::move(groups));
}

void RMSprop::check_options(const Options& options) const {
  const RMSpropOptions o = from_options(options);
  require(o.lr >= 0.0, options, "lr");
  require(o.eps >= 0.0, options, "eps");
  require(o.momentum >= 0.0, options, "momentum");
  require(o.weight_decay >= 0.0, options, "weight_decay");
  require(o.alpha >= 0.0, options, "alpha");
}

std::vector<std::string> RMSprop::state_keys(const Options& options) const {
  std::vector<std::string> keys = {"step", "square_avg"};
  if (options.at("momentum") > 0.0) keys.push_back("momentum_buffer");
  if (options.at("centered") != 0.0) keys.push_back("grad_avg");
  return keys;
}

void RMSprop::update(ParamGroup& group) {
  const RMSpropOptions o = from_options(group.options);
  for (const Tensor& p : group.params) {
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& state = mutable_state(p);
    increment_step(state);
    Tensor g = o.maximize ? raw::neg(grad) : grad;
    if (o.weight_decay != 0.0) g = detail::add_scaled(g, p, o.weight_decay);
    const Tensor& square_avg = buffer(state, "square_avg", p);
    detail::mul_(square_avg, o.alpha);
    detail::addcmul_(square_avg, g, g, 1.0 - o.alpha);
    Tensor avg;
    if (o.centered) {
      const Tensor& grad_avg = buffer(state, "grad_avg", p);
      detail::lerp_(grad_avg, g, 1.0 - o.alpha);
      avg = raw::clone(square_avg);
      detail::addcmul_(avg, grad_avg, grad_avg, -1.0);
      raw::unary_(UnaryOp::Sqrt, avg);
    } else {
      avg = raw::sqrt(square_avg);
    }
    detail::add_(avg, o.eps);
    if (o.momentum > 0.0) {
      const Tensor& buf = buffer(state, "momentum_buffer", p);
      detail::mul_(buf, o.momentum);
      detail::addcdiv_(buf, g, avg, 1.0);
      detail::add_scaled_(p, buf, -o.lr);
    } else {
      detail::addcdiv_(p, g, avg, -o.lr);
    }
  }
}

}  // namespace ignis::optim

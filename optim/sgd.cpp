// SGD's update rule (see sgd.h), with raw in-place ops: any device, no graph.
#include "optim/sgd.h"

#include "optim/update_ops.h"
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

void SGD::update(ParamGroup& group) {
  const SGDOptions o = from_options(group.options);
  for (const Tensor& p : group.params) {
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    Tensor d = o.maximize ? raw::neg(grad) : grad;
    if (o.weight_decay != 0.0) d = detail::add_scaled(d, p, o.weight_decay);
    if (o.momentum != 0.0) {
      Tensor& buf = mutable_state(p)["momentum_buffer"];
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
}

}  // namespace ignis::optim

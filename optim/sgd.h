// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, as
// torch.optim.SGD. Not the others: see adam.h, rmsprop.h.
#pragma once

#include <vector>

#include "optim/optimizer.h"

namespace ignis::optim {

struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;  // L2: added to the gradient as weight_decay * p
  bool nesterov = false;
  bool maximize = false;
};

// Per parameter p with gradient g (group options "lr", "momentum", "dampening",
// "weight_decay", "nesterov", "maximize"):
//   g = maximize ? -g : g;  g += weight_decay * p
//   if momentum != 0:  buf = first step ? g : momentum * buf + (1 - dampening) * g
//                      g = nesterov ? g + momentum * buf : buf
//   p -= lr * g
// State: "momentum_buffer" (only with momentum). The CPU contiguous parameters of a group
// (float32 and float64, buffers of the same dtype) are updated in one fused pass: one
// parallel_for over all their elements; contiguous parameters on a device whose table has
// the sgd_step slot (CUDA) by that slot, a few launches per device and dtype; the others
// (strided, or a device without the slot) by raw in-place ops, agreeing to rounding.
// step_and_zero_grad(false) zero-fills the gradients in that pass.
// Throws ValueError for lr, momentum or weight_decay < 0, or nesterov without momentum > 0
// and dampening == 0.
class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, SGDOptions options = {});
  SGD(std::vector<ParamGroup> groups, SGDOptions defaults = {});

 protected:
  void check_options(const Options& options) const override;
  std::vector<std::string> state_keys(const Options& options) const override;
  void update(ParamGroup& group) override;
  void update_and_zero_grad(ParamGroup& group) override;

 private:
  void step_group(ParamGroup& group, bool zero_grads);
};

}  // namespace ignis::optim

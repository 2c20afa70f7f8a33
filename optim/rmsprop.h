// RMSprop with momentum, centering and L2 weight decay, as torch.optim.RMSprop.
// Not the other optimizers: see sgd.h, adam.h.
#pragma once

#include <vector>

#include "optim/optimizer.h"

namespace ignis::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;  // smoothing constant of the running averages
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
  bool maximize = false;
};

// Per parameter p with gradient g (group options "lr", "alpha", "eps", "weight_decay",
// "momentum", "centered", "maximize"):
//   g = maximize ? -g : g;  g += weight_decay * p
//   v = alpha * v + (1 - alpha) * g * g
//   centered: a = lerp(a, g, 1 - alpha);  avg = sqrt(v - a * a) + eps;  else avg = sqrt(v) + eps
//   momentum > 0: buf = momentum * buf + g / avg;  p -= lr * buf
//   else:         p -= lr * g / avg
// State: "step", "square_avg" (v), "momentum_buffer" (momentum > 0), "grad_avg" (centered, a).
// Throws ValueError for lr, alpha, eps, momentum or weight_decay < 0.
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults = {});

 protected:
  void check_options(const Options& options) const override;
  std::vector<std::string> state_keys(const Options& options) const override;
  void update(ParamGroup& group) override;
};

}  // namespace ignis::optim

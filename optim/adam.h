// Adam (L2 weight decay added to the gradient, as torch.optim.Adam) and AdamW (decoupled
// weight decay, as torch.optim.AdamW), with amsgrad. Not the other optimizers.
#pragma once

#include <utility>
#include <vector>

#include "optim/optimizer.h"

namespace ignis::optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;
};

// AdamOptions with AdamW's default weight decay.
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
};

// Per parameter p with gradient g, at step t (counted per parameter; group options "lr",
// "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize"), as PyTorch's
// single-tensor Adam, in the parameter's dtype:
//   g = maximize ? -g : g
//   Adam: g += weight_decay * p          AdamW: p *= 1 - lr * weight_decay
//   m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v) with amsgrad (v_max replaces v below)
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State: "step", "exp_avg" (m), "exp_avg_sq" (v), "max_exp_avg_sq" (amsgrad). The CPU
// contiguous parameters of a group (float32 and float64, buffers of the same dtype) are
// updated in one fused pass: one parallel_for over all their elements, each parameter with
// its own step count; contiguous parameters on a device whose table has the adam_step slot
// (CUDA) by that slot, a few launches per device and dtype; the others (strided, or a device
// without the slot) by a sequence of raw ops, agreeing to rounding (the fused loops may
// contract a multiply-add into an FMA).
// step_and_zero_grad(false) zero-fills the gradients in that pass.
// Throws ValueError for lr, eps or weight_decay < 0, or a beta outside [0, 1).
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
  Adam(std::vector<ParamGroup> groups, AdamOptions defaults = {});

 protected:
  Adam(std::string name, std::vector<ParamGroup> groups, AdamOptions defaults, bool decoupled);
  void check_options(const Options& options) const override;
  std::vector<std::string> state_keys(const Options& options) const override;
  void update(ParamGroup& group) override;
  void update_and_zero_grad(ParamGroup& group) override;

 private:
  void step_group(ParamGroup& group, bool zero_grads);

  bool decoupled_weight_decay_;
};

// Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam update.
class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults = {});
};

}  // namespace ignis::optim

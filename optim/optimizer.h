// The optimizer base: parameter groups with named hyper-parameters, per-parameter state,
// zero_grad and state_dict / load_state_dict. The update rules live in sgd.h, adam.h, ...
//
// A group's hyper-parameters are a map from name to double, as PyTorch's param_group dict:
// "lr", "momentum", "beta1", ...; flags (nesterov, amsgrad, ...) are 0 or 1. Schedulers read
// and write them (group.options["lr"]) and may add their own ("initial_lr", "max_lr", ...).
//
// The state dict is one flat map from name to tensor, so a safetensors writer saves it as is:
//   "state.<i>.<name>"        the state of parameter i (numbered across the groups in order):
//                             "step" (0-d float64) and buffers of the parameter's shape
//                             ("exp_avg", "momentum_buffer", ...); absent before its first step
//   "param_groups.<g>.params" 1-d int64: the indices of group g's parameters
//   "param_groups.<g>.<name>" 0-d float64: each hyper-parameter of group g
// The tensors of state_dict() alias the optimizer's state (clone them to keep a snapshot
// across later steps); load_state_dict copies what it reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace ignis::optim {

using Options = std::map<std::string, double>;   // hyper-parameter name -> value
using StateDict = std::map<std::string, Tensor>;  // see the top of this file

struct ParamGroup {
  std::vector<Tensor> params;  // leaf tensors
  // Given to a constructor or add_param_group: overrides of the optimizer's defaults (the
  // rest is filled in). In param_groups(): every hyper-parameter of the group.
  Options options;
};

// The state of one parameter: buffers by name; "step" is a 0-d float64 CPU tensor.
using ParamState = std::map<std::string, Tensor>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient, under NoGradGuard; parameters whose
  // grad() is undefined are skipped (their state does not advance).
  void step();
  // Drops every gradient (set_to_none, PyTorch 2's default) or fills it with zeros.
  void zero_grad(bool set_to_none = true);
  // step() then zero_grad(set_to_none), with the same results. With set_to_none = false,
  // Adam, AdamW and SGD fold the zeroing into the update: each gradient of their fused CPU
  // or device path (contiguous, same dtype as its parameter, sharing no memory with another
  // tensor of the step) is zero-filled right after it is read, in the same pass, so the
  // training loop "forward; backward; step_and_zero_grad(false)" keeps its gradient buffers
  // and touches them once per step. The other parameters (strided, or a device without the
  // slot) are zero-filled after their update, as are those of optimizers without a fused
  // path. With set_to_none = true there is nothing to fold: the gradients are dropped after
  // the step.
  void step_and_zero_grad(bool set_to_none = true);

  // Appends a group; its options override the defaults. Throws ValueError for an empty group,
  // a non-leaf or non-floating tensor, a parameter already in a group, an unknown option name
  // or an invalid value (naming the optimizer and the option).
  void add_param_group(ParamGroup group);
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  const Options& defaults() const { return defaults_; }
  const std::string& name() const { return name_; }
  // The state of `param` (empty before its first step).
  const ParamState& state(const Tensor& param) const;

  StateDict state_dict() const;
  // Replaces the groups' hyper-parameters and the state by those of `state`. Validates all of
  // it first and changes nothing on error: ValueError for a different number of groups or
  // group sizes, a missing or unknown key (naming it); ShapeError for a buffer whose shape is
  // not its parameter's (naming the key and both shapes). Buffers are copied to the
  // parameter's dtype and device.
  void load_state_dict(const StateDict& state);

 protected:
  // `name` prefixes error messages ("Adam"); `defaults` holds every hyper-parameter. The
  // derived constructor adds the groups (add_param_group checks options through the
  // derived class's check_options).
  Optimizer(std::string name, Options defaults);
  void add_param_groups(std::vector<ParamGroup> groups);

  // Throws ValueError naming the option when a group's value is invalid.
  virtual void check_options(const Options& options) const = 0;
  // The state keys a parameter of a group with these options has after a step; "step" is
  // the 0-d one, the others have the parameter's shape.
  virtual std::vector<std::string> state_keys(const Options& options) const = 0;
  // Updates the parameters of `group` that have a gradient; grad mode is off.
  virtual void update(ParamGroup& group) = 0;
  // update(group), then every gradient it read filled with zeros. This default runs the two
  // one after the other; an optimizer with a fused pass overrides it to zero in that pass.
  virtual void update_and_zero_grad(ParamGroup& group);

  ParamState& mutable_state(const Tensor& param) { return state_[param.impl()]; }
  // state[name], created as zeros of the parameter's shape, dtype and device when missing.
  static const Tensor& buffer(ParamState& state, const std::string& name, const Tensor& param);
  // Increments state["step"] (created as 0-d float64 when missing) and returns the new value.
  static double increment_step(ParamState& state);
  // Throws ValueError "<name>: invalid <option> value: <v>" unless ok.
  void require(bool ok, const Options& options, const char* option) const;

 private:
  std::string name_;
  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;  // keyed by parameter
};

// A 0-d float64 CPU tensor: how a state dict stores a number.
Tensor scalar_entry(double value);

}  // namespace ignis::optim

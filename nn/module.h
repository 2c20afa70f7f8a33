// nn::Module, the base of every layer, loss and container: registered parameters, buffers and
// submodules with hierarchical dotted names, train/eval, to(device/dtype), state_dict and its
// loading, and printing like PyTorch. Not the layers themselves: see layers.h, loss.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace ignis::nn {

// (name, tensor) pairs in registration order: what state_dict() returns and
// load_state_dict() takes; names as PyTorch's ("0.weight", "encoder.fc.bias").
using StateDict = std::vector<std::pair<std::string, Tensor>>;

class Module;
template <typename M>
concept ModuleType = std::derived_from<std::remove_cvref_t<M>, Module>;

// A module. Subclasses register their tensors and children in the constructor and override
// forward(); they are held by std::shared_ptr inside containers (Sequential wraps layers
// given by value). Copying is disabled: a copy would share the parameters' storage
// unnoticed. Moving is fine: parameters are handles onto shared TensorImpls.
class Module {
 public:
  explicit Module(std::string name);
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // The type name printed by operator<< ("Linear").
  const std::string& name() const { return name_; }

  // The one-tensor forward that Sequential chains; the default throws ValueError naming the
  // module (losses and multi-input modules define their own call operators).
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // ---- registration (throw ValueError for an empty, dotted or already used name) ----
  // Stores `tensor` as a parameter (requires_grad_(requires_grad) on it) and returns it.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Stores a tensor that is state but not a parameter (BatchNorm's running_mean).
  Tensor register_buffer(const std::string& name, Tensor tensor);
  // Stores a submodule; a module given by value is moved into a new shared_ptr.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  template <ModuleType M>
  std::shared_ptr<std::remove_cvref_t<M>> register_module(const std::string& name, M&& module) {
    return register_module(name,
                           std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module)));
  }

  // ---- traversal: this module's own entries first, then each child's, depth first; a tensor
  // reachable twice (a shared submodule) is listed once, under its first name ----
  std::vector<Tensor> parameters(bool recurse = true) const;
  StateDict named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  StateDict named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  // This module (named "") and every descendant, depth first; the pointers do not own.
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<Module*> modules();

  // Total number of parameter elements (only those that require grad if trainable_only).
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- modes and placement ----
  // Sets training mode on this module and every descendant (Dropout, BatchNorm read it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter and buffer (and existing gradients) in place: the Tensor handles
  // held by layers and optimizers see the new device. to(DType) converts floating tensors
  // only (num_batches_tracked stays int64), as PyTorch.
  Module& to(Device device);
  Module& to(DType dtype);
  // Drops every parameter's gradient (set_to_none, PyTorch's default) or zeroes it.
  void zero_grad(bool set_to_none = true);

  // ---- state ----
  // Parameters then buffers of this module, then each child's, prefixed "child."; a shared
  // submodule appears under each of its names, as in PyTorch.
  StateDict state_dict() const;
  // Copies each entry into the tensor of the same name (converting dtype and device).
  // strict: missing and unexpected names are errors; a shape mismatch always is. Nothing is
  // copied unless every entry fits. Throws ValueError naming every missing, unexpected and
  // mismatched key: `load_state_dict: error(s) in loading state_dict for Sequential:
  // missing key(s): "1.bias"; unexpected key(s): "2.weight"; size mismatch for 0.weight:
  // the state_dict has (3, 4), the model (3, 5)`.
  void load_state_dict(const StateDict& state, bool strict = true);

  // ---- printing ----
  // The arguments printed between the parentheses: "in_features=4, out_features=3, bias=True".
  virtual std::string extra_repr() const { return ""; }
  // PyTorch's repr: "Linear(in_features=4, ...)", or the children one per line, indented.
  std::string repr() const;

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void collect(const std::string& prefix, bool recurse, bool params, StateDict& out) const;
  void collect_state(const std::string& prefix, StateDict& out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, Module*>>& out);

  std::string name_;
  bool training_ = true;
  StateDict parameters_;
  StateDict buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

// Formatting helpers for extra_repr(), as Python prints values.
std::string py_bool(bool value);     // "True" / "False"
std::string py_float(double value);  // shortest round-trip repr: "0.1", "1e-05", "1.0"

}  // namespace ignis::nn

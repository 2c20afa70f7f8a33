// nn::Module (nn/module.h): registration, traversal, modes, placement, state_dict, printing.
#include "nn/module.h"

#include <charconv>
#include <map>
#include <ostream>
#include <sstream>

#include "autograd/grad_mode.h"
#include "tensor/elementwise.h"

namespace ignis::nn {
namespace {

// Makes `t` hold `converted`'s data, geometry and dtype in place, keeping its autograd state,
// so every handle onto t's TensorImpl (layers, optimizers) sees the change.
void replace_data(const Tensor& t, const Tensor& converted) {
  if (converted.is_same(t)) return;
  TensorImpl& impl = *t.impl();
  const TensorImpl& src = *converted.impl();
  impl.storage = src.storage;
  impl.sizes = src.sizes;
  impl.strides = src.strides;
  impl.offset = src.offset;
  impl.dtype = src.dtype;
}

// "A\nB" -> "A\n  B": PyTorch's _addindent for a child's multi-line repr.
std::string indent_tail(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

// The entries whose tensor was not listed before: a module shared by two parents (or twice
// in one Sequential) gives its parameters once, so an optimizer updates them once.
StateDict without_repeats(const StateDict& entries) {
  StateDict out;
  for (const auto& entry : entries) {
    bool seen = false;
    for (const auto& kept : out) seen = seen || kept.second.is_same(entry.second);
    if (!seen) out.push_back(entry);
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", \"" : "\"") + names[i] + "\"";
  return out;
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}

Tensor Module::forward(const Tensor&) {
  throw ValueError(name_ + ": this module has no forward(Tensor)");
}

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty() || name.find('.') != std::string::npos) {
    throw ValueError(std::string(what) + ": a name must be non-empty and contain no '.', got '" +
                     name + "' in " + name_);
  }
  auto taken = [&](const auto& list) {
    for (const auto& entry : list) {
      if (entry.first == name) return true;
    }
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_)) {
    throw ValueError(std::string(what) + ": '" + name + "' is already registered in " + name_);
  }
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter");
  if (!tensor.defined()) {
    throw ValueError("register_parameter: '" + name + "' of " + name_ + " is undefined");
  }
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "register_buffer");
  if (!tensor.defined()) {
    throw ValueError("register_buffer: '" + name + "' of " + name_ + " is undefined");
  }
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  if (!module) throw ValueError("register_module: '" + name + "' of " + name_ + " is null");
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool recurse, bool params,
                     StateDict& out) const {
  for (const auto& [name, t] : params ? parameters_ : buffers_) {
    out.emplace_back(prefix + name, t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->collect(prefix + name + ".", true, params, out);
  }
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& entry : named_parameters(recurse)) out.push_back(entry.second);
  return out;
}

StateDict Module::named_parameters(bool recurse) const {
  StateDict out;
  collect("", recurse, true, out);
  return without_repeats(out);
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& entry : named_buffers(recurse)) out.push_back(entry.second);
  return out;
}

StateDict Module::named_buffers(bool recurse) const {
  StateDict out;
  collect("", recurse, false, out);
  return without_repeats(out);
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& entry : children_) out.push_back(entry.second);
  return out;
}

void Module::collect_modules(const std::string& prefix,
                             std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (auto& [name, child] : children_) {
    child->collect_modules(prefix.empty() ? name : prefix + "." + name, out);
  }
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules("", out);
  return out;
}

std::vector<Module*> Module::modules() {
  std::vector<Module*> out;
  for (auto& entry : named_modules()) out.push_back(entry.second);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) {
    if (!trainable_only || p.requires_grad()) n += p.numel();
  }
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& entry : children_) entry.second->train(on);
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  for (const Tensor& t : parameters()) {
    replace_data(t, raw::to(t, device));
    if (t.grad().defined()) t.set_grad(raw::to(t.grad(), device));
  }
  for (const Tensor& t : buffers()) replace_data(t, raw::to(t, device));
  return *this;
}

Module& Module::to(DType dtype) {
  if (!is_floating_point(dtype)) {
    throw DTypeError("Module.to: expected a floating-point dtype, got " +
                     std::string(dtype_name(dtype)));
  }
  NoGradGuard no_grad;
  for (const Tensor& t : parameters()) {
    if (!t.is_floating_point()) continue;
    replace_data(t, raw::to(t, dtype));
    if (t.grad().defined()) t.set_grad(raw::to(t.grad(), dtype));
  }
  for (const Tensor& t : buffers()) {
    if (t.is_floating_point()) replace_data(t, raw::to(t, dtype));
  }
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      raw::fill_(g, 0);
    }
  }
}

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (const auto& [name, t] : parameters_) out.emplace_back(prefix + name, t);
  for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect_state(prefix + name + ".", out);
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDict own = state_dict();
  std::map<std::string, Tensor> given;
  std::vector<std::string> unexpected;
  for (const auto& [name, t] : state) {
    given[name] = t;
    bool known = false;
    for (const auto& entry : own) known = known || entry.first == name;
    if (!known) unexpected.push_back(name);
  }
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, t] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
    } else if (!it->second.defined() || it->second.sizes() != t.sizes()) {
      const std::string have = it->second.defined() ? it->second.shape_str() : "undefined";
      mismatched.push_back("size mismatch for " + name + ": the state_dict has " + have +
                           ", the model " + t.shape_str());
    }
  }
  std::vector<std::string> errors;
  if (strict && !missing.empty()) errors.push_back("missing key(s): " + quoted_list(missing));
  if (strict && !unexpected.empty()) {
    errors.push_back("unexpected key(s): " + quoted_list(unexpected));
  }
  errors.insert(errors.end(), mismatched.begin(), mismatched.end());
  if (!errors.empty()) {
    std::string message = "load_state_dict: error(s) in loading state_dict for " + name_ + ": ";
    for (size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
    throw ValueError(message);
  }
  NoGradGuard no_grad;
  for (const auto& [name, t] : own) {
    auto it = given.find(name);
    if (it == given.end()) continue;
    raw::copy_(t, it->second);
    t.bump_version();
  }
}

std::string Module::repr() const {
  std::string out = name_ + "(";
  const std::string extra = extra_repr();
  if (children_.empty()) return out + extra + ")";
  out += "\n";
  if (!extra.empty()) out += "  " + indent_tail(extra) + "\n";
  for (const auto& [name, child] : children_) {
    out += "  (" + name + "): " + indent_tail(child->repr()) + "\n";
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.repr(); }

std::string py_bool(bool value) { return value ? "True" : "False"; }

std::string py_float(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

}  // namespace ignis::nn

// record(): the generic graph node behind every differentiable op, and FunctionContext for
// user-defined functions. Not the ops (math.cpp, reductions.cpp, ...) nor the engine.
#include "autograd/function.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "tensor/error.h"
#include "tensor/view_ops.h"

namespace ignis::autograd {

namespace {

// A node whose apply() is the op's backward closure. release_saved() drops the closure and
// with it everything the closure captured (saved tensors, the custom Function context).
class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, BackwardFn backward)
      : name_(std::move(name)), backward_(std::move(backward)) {}

  std::vector<Tensor> apply(const Tensor& grad_output) override {
    if (!backward_) throw AutogradError(name_ + ": " + kGraphFreedMessage);
    std::vector<Tensor> grads = backward_(grad_output);
    if (grads.size() != next_edges.size()) {
      throw AutogradError(name_ + ": backward returned " + std::to_string(grads.size()) +
                          " gradients, expected " + std::to_string(next_edges.size()));
    }
    return grads;
  }
  std::string name() const override { return name_; }
  void release_saved() override { backward_ = nullptr; }

 private:
  std::string name_;
  BackwardFn backward_;
};

}  // namespace

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

Tensor record(const std::string& name, const std::vector<Tensor>& inputs, Tensor output,
              BackwardFn backward) {
  if (!needs_grad(inputs) || !output.is_floating_point()) return output;
  bool aliased = output.impl()->autograd_meta != nullptr;
  for (const Tensor& t : inputs) aliased = aliased || output.is_same(t);
  if (aliased) output = raw::alias(output);

  auto node = std::make_shared<FunctionNode>(name, std::move(backward));
  node->next_edges.reserve(inputs.size());
  node->input_metas.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next_edges.push_back(gradient_edge(t));
    if (t.defined()) {
      node->input_metas.push_back({t.sizes(), t.dtype(), t.device()});
    } else {
      node->input_metas.push_back({});
    }
  }
  node->output_storage = output.storage();
  node->output_sizes = output.sizes();
  node->output_strides = output.strides();
  node->output_offset = output.storage_offset();
  AutogradMeta& meta = autograd_meta(output);
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  return output;
}

std::string demangled_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

void FunctionContext::save_for_backward(const std::vector<Tensor>& tensors) {
  saved_.clear();
  for (const Tensor& t : tensors) saved_.emplace_back(t, "custom Function");
}

std::vector<Tensor> FunctionContext::saved() const {
  std::vector<Tensor> out;
  out.reserve(saved_.size());
  for (const SavedTensor& s : saved_) out.push_back(s.get());
  return out;
}

}  // namespace ignis::autograd

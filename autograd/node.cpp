// The graph's building blocks: sequence numbers, saved tensors with their version check,
// per-tensor autograd state and the leaves' AccumulateGrad. Not the engine (backward.cpp).
#include "autograd/node.h"

#include <atomic>
#include <string>
#include <utility>

#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/view_ops.h"

namespace ignis::autograd {

const char* const kGraphFreedMessage =
    "trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed); saved tensors are freed after backward() unless "
    "retain_graph=true is passed";

namespace {
std::atomic<uint64_t> next_sequence_nr{0};
thread_local std::shared_ptr<Node> running_node;

// Whether t is exactly the output `node` recorded (same storage and geometry).
bool is_output_of(const Tensor& t, const Node& node) {
  return node.output_storage.lock() == t.storage() && node.output_sizes == t.sizes() &&
         node.output_strides == t.strides() && node.output_offset == t.storage_offset();
}

// Whether t is a dense tensor that only the caller's reference reaches: one owner of its
// TensorImpl, one of its whole storage, no autograd state. The engine hands over such a
// gradient (a fresh kernel output) and a leaf can keep it instead of a copy.
bool is_unshared(const Tensor& t) {
  const TensorImpl& impl = *t.impl();
  return t.impl_ptr().use_count() == 1 && impl.storage.use_count() == 1 && !impl.autograd_meta &&
         !impl.wrapped_number && impl.offset == 0 && t.is_contiguous() &&
         impl.storage->nbytes() == t.nbytes();
}

}  // namespace

Node::Node() : sequence_nr(next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

Node::~Node() {
  // The outermost ~Node drains a stack that nested ones only push onto, so destroying a long
  // chain takes a loop, not one stack frame per node. A raw pointer: trivially destructible,
  // so graphs freed during static destruction are safe too.
  thread_local std::vector<std::shared_ptr<Node>>* pending = nullptr;
  if (pending != nullptr) {
    for (Edge& edge : next_edges) {
      if (edge.node) pending->push_back(std::move(edge.node));
    }
    return;
  }
  std::vector<std::shared_ptr<Node>> stack;
  for (Edge& edge : next_edges) {
    if (edge.node) stack.push_back(std::move(edge.node));
  }
  pending = &stack;
  while (!stack.empty()) {
    std::shared_ptr<Node> node = std::move(stack.back());
    stack.pop_back();
    node.reset();  // if this was the last owner, its ~Node pushes its edges onto `stack`
  }
  pending = nullptr;
}

const std::shared_ptr<Node>& current_node() { return running_node; }

CurrentNodeScope::CurrentNodeScope(std::shared_ptr<Node> node)
    : prev_(std::exchange(running_node, std::move(node))) {}

CurrentNodeScope::~CurrentNodeScope() { running_node = std::move(prev_); }

AccumulateGrad::AccumulateGrad(Tensor leaf) : leaf_(std::move(leaf)) {}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  AutogradMeta& meta = autograd_meta(leaf_);
  // With create_graph the gradient keeps its history (for double backward); otherwise the
  // stored gradient is a fresh copy, so later in-place accumulation never writes into a
  // tensor the caller still holds.
  const bool keep_graph = GradMode::is_enabled();
  if (!meta.grad.defined()) {
    if (keep_graph) {
      meta.grad = grad_output.clone();
    } else if (is_unshared(grad_output)) {
      meta.grad = grad_output;  // nobody else can see it: no copy needed
    } else {
      meta.grad = raw::clone(grad_output);
    }
  } else if (keep_graph || meta.grad.requires_grad()) {
    meta.grad = add(meta.grad, grad_output);
  } else {
    raw::binary_(BinaryOp::Add, meta.grad, grad_output);
  }
  return {};
}

SavedTensor::SavedTensor(const Tensor& t, const char* op) : op_(op) {
  if (!t.defined()) return;
  version_ = t.version();
  tensor_ = t.requires_grad() ? t : raw::alias(t);
}

Tensor SavedTensor::get() const {
  if (released_) throw AutogradError(kGraphFreedMessage);
  if (tensor_.defined() && tensor_.version() != version_) {
    throw AutogradError(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: " + std::string(op_) + "'s saved tensor is at version " +
        std::to_string(tensor_.version()) + "; expected version " + std::to_string(version_));
  }
  const std::shared_ptr<Node>& node = running_node;
  if (GradMode::is_enabled() && node && tensor_.defined() && !tensor_.requires_grad() &&
      is_output_of(tensor_, *node)) {
    Tensor out = raw::alias(tensor_);
    AutogradMeta& meta = autograd_meta(out);
    meta.requires_grad = true;
    meta.grad_fn = node;
    return out;
  }
  return tensor_;
}

AutogradMeta& autograd_meta(const Tensor& t) {
  if (!t.defined()) throw ValueError("autograd: undefined tensor");
  auto& slot = t.impl()->autograd_meta;
  if (!slot) slot = std::make_shared<AutogradMeta>();
  return *slot;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.impl()->autograd_meta) return {};
  AutogradMeta& meta = *t.impl()->autograd_meta;
  if (meta.grad_fn) return {meta.grad_fn, 0};
  if (!meta.requires_grad) return {};
  std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    meta.grad_accumulator = acc;
  }
  return {acc, 0};
}

}  // namespace ignis::autograd

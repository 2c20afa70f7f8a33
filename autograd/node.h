// The autograd graph: a Node per differentiable op application, Edges to the nodes that
// made its inputs, and the per-tensor AutogradMeta (requires_grad, grad, grad_fn).
// Not the ops themselves: see function.h for how an op records itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ignis::autograd {

class Node;
struct AutogradMeta;

// Where a gradient flows: input `input_nr` of `node`. A null node means "no gradient".
// Every node here has one gradient input (one differentiable output per op), so input_nr
// is 0; it is kept so that multi-output nodes can be added without changing the engine API.
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
  bool valid() const { return node != nullptr; }
};

// What a gradient flowing along an edge must look like (the input's sizes, dtype, device):
// the engine throws ShapeError on other sizes and converts dtype and device.
struct InputMeta {
  Shape sizes;
  DType dtype = kFloat32;
  Device device;
};

// One recorded op application. apply() maps the gradient of the op's output to the
// gradients of its inputs (one per next_edges entry; undefined where none flows).
class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();  // takes the next sequence number
  // Frees the nodes this one feeds iteratively: a chain of 100000 ops must not recurse.
  virtual ~Node();
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  virtual std::string name() const = 0;
  // Drops saved tensors after backward (unless retain_graph); apply() then throws.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  std::vector<InputMeta> input_metas;  // parallel to next_edges
  uint64_t sequence_nr = 0;  // creation order: later nodes run first among ready ones
  // Non-leaf tensors made by this node that asked for retain_grad(): the engine stores the
  // gradient arriving here into their .grad.
  std::vector<std::weak_ptr<AutogradMeta>> retained_grads;
  // Where this node's output lives, so that a saved output can get this node back as its
  // grad_fn under create_graph (saving it with its history would be a reference cycle).
  std::weak_ptr<Storage> output_storage;
  Shape output_sizes, output_strides;
  int64_t output_offset = 0;
};

// The node whose apply() runs on this thread (set by the engine), or null.
const std::shared_ptr<Node>& current_node();

// Makes `node` the current node for the scope (the engine, around apply()).
class CurrentNodeScope {
 public:
  explicit CurrentNodeScope(std::shared_ptr<Node> node);
  ~CurrentNodeScope();
  CurrentNodeScope(const CurrentNodeScope&) = delete;
  CurrentNodeScope& operator=(const CurrentNodeScope&) = delete;

 private:
  std::shared_ptr<Node> prev_;
};

// The node behind a leaf that requires grad: accumulates the arriving gradient into the
// leaf's .grad (the first one stored as a fresh tensor, later ones added).
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf);
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  std::string name() const override { return "AccumulateGrad"; }
  const Tensor& leaf() const { return leaf_; }

 private:
  Tensor leaf_;  // the leaf itself (its TensorImpl, so .grad lands on the user's tensor)
};

// A tensor saved for backward, with the storage version at save time; get() throws
// AutogradError if the tensor was modified in place since, as PyTorch does:
//   "one of the variables needed for gradient computation has been modified by an inplace
//    operation: exp's saved tensor is at version 2; expected version 1"
// NOTE: a tensor that does not require grad (an op's own fresh output, a constant) is kept as
// an alias without autograd state, so saving an op's output makes no reference cycle; an
// input that requires grad is kept as is, so that create_graph differentiates through it.
// Under create_graph, get() on the running node's own output returns it with that node as
// grad_fn again, so second derivatives through exp, tanh, sigmoid, softmax... are exact.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, const char* op);
  Tensor get() const;  // undefined if an undefined tensor was saved
  void reset() { tensor_ = Tensor(); released_ = true; }
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
  const char* op_ = "";
  bool released_ = false;
};

// Per-tensor autograd state, hung on TensorImpl::autograd_meta.
struct AutogradMeta {
  bool requires_grad = false;   // set on leaves by requires_grad_()
  bool retains_grad = false;
  bool is_view = false;         // made by a differentiable view op (in place on it is refused)
  Tensor grad;                          // accumulated on leaves (and retain_grad non-leaves)
  std::shared_ptr<Node> grad_fn;        // null for leaves
  std::weak_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad while a graph holds it
};

// The AutogradMeta of t, created on first use. Throws ValueError on an undefined tensor.
AutogradMeta& autograd_meta(const Tensor& t);
// The edge a gradient for `t` must flow along: its grad_fn, its leaf accumulator (made on
// first use), or none when t does not require grad.
Edge gradient_edge(const Tensor& t);
// The message of the error raised on use of a freed graph.
extern const char* const kGraphFreedMessage;

}  // namespace ignis::autograd

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

// Where a gradient flows: input `input_nr` of `node`. A null node means "no gradient".
struct Edge {
  std::shared_ptr<Node> node;
  int input_nr = 0;
  bool valid() const { return node != nullptr; }
};

// One recorded op application. apply() maps the gradient of the op's output to the
// gradients of its inputs (one per next_edges entry; undefined where none flows).
class Node {
 public:
  virtual ~Node() = default;
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  virtual std::string name() const = 0;
  // Drops saved tensors after backward (unless retain_graph); apply() then throws.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  uint64_t sequence_nr = 0;  // creation order: later nodes run first among ready ones
};

// A tensor saved for backward: an alias without autograd state (so saving an op's own
// output makes no reference cycle) and the storage version at save time; get() throws
// AutogradError if the tensor was modified in place since, as PyTorch does.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& t, const char* op);
  const Tensor& get() const;
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
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;                          // accumulated on leaves (and retain_grad non-leaves)
  std::shared_ptr<Node> grad_fn;        // null for leaves
  std::shared_ptr<Node> grad_accumulator_cache;  // a leaf's AccumulateGrad (weak use)
};

// The AutogradMeta of t, created on first use.
AutogradMeta& autograd_meta(const Tensor& t);
// The edge a gradient for `t` must flow along: its grad_fn, its leaf accumulator, or none.
Edge gradient_edge(const Tensor& t);

}  // namespace ignis::autograd

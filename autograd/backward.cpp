// The backward engine: finds the nodes reachable from the roots, counts each node's
// consumers, then runs nodes whose gradients are complete, latest-created first, summing the
// gradients that reach the same node. Single-threaded; not the ops' formulas.
#include "autograd/backward.h"

#include <algorithm>
#include <cstdint>
#include <queue>
#include <string>
#include <utility>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "autograd/node.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"

namespace ignis::autograd {

namespace {

// Sets the grad mode for one backward pass and restores it afterwards.
class GradModeScope {
 public:
  explicit GradModeScope(bool enabled) : prev_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~GradModeScope() { GradMode::set_enabled(prev_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool prev_;
};

// a + b, recorded only under create_graph (the engine runs with grad mode = create_graph).
Tensor sum_gradients(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  return GradMode::is_enabled() ? add(a, b) : raw::add(a, b);
}

// Checks a gradient against what its input expects: the same sizes (ShapeError), converted
// to the input's dtype and device (gradients have their input's dtype, as in PyTorch).
Tensor validate_gradient(const Tensor& g, const InputMeta& meta, const Node& node,
                         size_t input_nr) {
  if (g.sizes() != meta.sizes) {
    throw ShapeError(node.name() + ": gradient for input " + std::to_string(input_nr) +
                     " has shape " + g.shape_str() + ", expected " + shape_str(meta.sizes));
  }
  Tensor out = g;
  if (out.dtype() != meta.dtype) out = out.to(meta.dtype);
  if (!(out.device() == meta.device)) out = out.to(meta.device);
  return out;
}

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// The nodes of one pass, numbered 0..n-1 in discovery order, found by address through an
// open-addressing table: a pass costs a few vectors, not an allocation per node per map.
class NodeIndex {
 public:
  static constexpr size_t kAbsent = static_cast<size_t>(-1);

  // The number of `node`, and whether it was added now.
  std::pair<size_t, bool> insert(Node* node) {
    if (2 * (nodes_.size() + 1) > slots_.size()) grow();
    size_t slot = home(node);
    while (slots_[slot] != kAbsent) {
      if (nodes_[slots_[slot]] == node) return {slots_[slot], false};
      slot = (slot + 1) & (slots_.size() - 1);
    }
    slots_[slot] = nodes_.size();
    nodes_.push_back(node);
    return {nodes_.size() - 1, true};
  }

  // The number of `node`, or kAbsent when it is not in the pass.
  size_t find(Node* node) const {
    if (slots_.empty()) return kAbsent;
    for (size_t slot = home(node);; slot = (slot + 1) & (slots_.size() - 1)) {
      if (slots_[slot] == kAbsent || nodes_[slots_[slot]] == node) return slots_[slot];
    }
  }

  size_t size() const { return nodes_.size(); }
  Node* node(size_t i) const { return nodes_[i]; }

 private:
  size_t home(Node* node) const {
    // Nodes are at least 64-byte objects: drop the low bits, mix the rest (Fibonacci hashing).
    const auto bits = reinterpret_cast<uintptr_t>(node) >> 6;
    return static_cast<size_t>(bits * 0x9E3779B97F4A7C15ull) & (slots_.size() - 1);
  }

  void grow() {
    slots_.assign(std::max<size_t>(32, 2 * slots_.size()), kAbsent);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      size_t slot = home(nodes_[i]);
      while (slots_[slot] != kAbsent) slot = (slot + 1) & (slots_.size() - 1);
      slots_[slot] = i;
    }
  }

  std::vector<Node*> nodes_;   // by number
  std::vector<size_t> slots_;  // a power of two, at most half full: kAbsent or a number
};

// Every node reachable from `roots` (numbered in `index`), with the number of edges pointing
// at each (by number).
std::vector<int> count_dependencies(const std::vector<Edge>& roots, NodeIndex& index) {
  std::vector<int> deps;
  std::vector<Node*> stack;
  for (const Edge& e : roots) {
    if (index.insert(e.node.get()).second) {
      deps.push_back(0);
      stack.push_back(e.node.get());
    }
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges) {
      if (!e.valid()) continue;
      const auto [i, inserted] = index.insert(e.node.get());
      if (inserted) {
        deps.push_back(0);
        stack.push_back(e.node.get());
      }
      ++deps[i];
    }
  }
  return deps;
}

// The nodes autograd::grad() must run (flags by number): those with a captured node below.
std::vector<char> nodes_to_run(const NodeIndex& index, const std::vector<int>& deps,
                               const std::vector<Edge>& roots,
                               const std::vector<char>& captured) {
  // Topological order (consumers before producers), then a reverse sweep.
  std::vector<int> pending = deps;
  std::vector<size_t> order;
  std::vector<size_t> stack;
  std::vector<char> seen(index.size(), 0);
  for (const Edge& e : roots) {
    const size_t i = index.find(e.node.get());
    if (pending[i] == 0 && !seen[i]) {
      seen[i] = 1;
      stack.push_back(i);
    }
  }
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    order.push_back(i);
    for (const Edge& e : index.node(i)->next_edges) {
      if (!e.valid()) continue;
      const size_t j = index.find(e.node.get());
      if (--pending[j] == 0) stack.push_back(j);
    }
  }
  std::vector<char> needed(index.size(), 0);  // captured or with a captured node below
  std::vector<char> run(index.size(), 0);     // with a needed node below: apply() must run
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const size_t i = *it;
    for (const Edge& e : index.node(i)->next_edges) {
      if (e.valid() && needed[index.find(e.node.get())]) run[i] = 1;
    }
    if (run[i] || captured[i]) needed[i] = 1;
  }
  return run;
}

// The gradient each root starts with: given, or ones for a one-element root.
Tensor root_gradient(const Tensor& root, const Tensor& given, const char* op) {
  if (!given.defined()) {
    if (root.numel() != 1) {
      throw AutogradError(std::string(op) +
                          ": grad can be implicitly created only for scalar outputs: got "
                          "shape " + root.shape_str());
    }
    return ones(root.sizes(), {root.dtype(), root.device()});
  }
  if (given.sizes() != root.sizes()) {
    throw ShapeError(std::string(op) + ": gradient has shape " + given.shape_str() +
                     ", but the output has shape " + root.shape_str());
  }
  Tensor g = given;
  if (g.dtype() != root.dtype()) g = g.to(root.dtype());
  if (!(g.device() == root.device())) g = g.to(root.device());
  return g;
}

// One backward pass. With `captured` null, leaves accumulate into .grad (backward());
// otherwise the gradients reaching the captured nodes are returned and nothing else is
// written (grad()).
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs,
                  bool retain_graph, bool create_graph,
                  const std::vector<Node*>* captured, std::vector<Tensor>* results,
                  const char* op) {
  if (!grad_outputs.empty() && grad_outputs.size() != roots.size()) {
    throw ValueError(std::string(op) + ": got " + std::to_string(grad_outputs.size()) +
                     " gradients for " + std::to_string(roots.size()) + " outputs");
  }
  std::vector<Edge> root_edges;
  std::vector<Tensor> root_grads;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].defined()) throw ValueError(std::string(op) + ": undefined output tensor");
    Edge edge = gradient_edge(roots[i]);
    if (!edge.valid()) {
      throw AutogradError(std::string(op) + ": element " + std::to_string(i) +
                          " of tensors does not require grad and does not have a grad_fn");
    }
    root_edges.push_back(edge);
    root_grads.push_back(
        root_gradient(roots[i], grad_outputs.empty() ? Tensor() : grad_outputs[i], op));
  }

  // As PyTorch: building a graph of the backward keeps the forward graph (it is part of it).
  retain_graph = retain_graph || create_graph;
  GradModeScope mode(create_graph);
  NodeIndex index;
  std::vector<int> deps = count_dependencies(root_edges, index);
  std::vector<Tensor> buffers(index.size());  // the gradient summed so far, by node number
  for (size_t i = 0; i < root_edges.size(); ++i) {
    Tensor& slot = buffers[index.find(root_edges[i].node.get())];
    slot = sum_gradients(slot, root_grads[i]);
  }
  std::vector<char> run;
  std::vector<std::vector<size_t>> capture_slots;  // by node number: the results it fills
  if (captured != nullptr) {
    std::vector<char> captured_flags(index.size(), 0);
    capture_slots.resize(index.size());
    for (size_t i = 0; i < captured->size(); ++i) {
      const size_t n = index.find((*captured)[i]);
      if (n == NodeIndex::kAbsent) continue;  // not reached: its result stays undefined
      capture_slots[n].push_back(i);
      captured_flags[n] = 1;
    }
    run = nodes_to_run(index, deps, root_edges, captured_flags);
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  for (size_t i = 0; i < index.size(); ++i) {
    if (deps[i] == 0) ready.push(index.node(i));
  }
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    const size_t number = index.find(node);
    Tensor grad = std::move(buffers[number]);

    bool execute = true;
    if (captured == nullptr) {
      for (const auto& weak : node->retained_grads) {
        std::shared_ptr<AutogradMeta> meta = weak.lock();
        if (!meta || !grad.defined()) continue;
        Tensor g = create_graph ? grad : raw::clone(grad);
        meta->grad = meta->grad.defined() ? sum_gradients(meta->grad, g) : g;
      }
    } else {
      for (size_t slot : capture_slots[number]) (*results)[slot] = grad;
      execute = run[number] != 0;
    }

    std::vector<Tensor> grads;
    if (execute && grad.defined()) {
      CurrentNodeScope current(node->shared_from_this());
      grads = node->apply(grad);
      if (!retain_graph) node->release_saved();
    }
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& edge = node->next_edges[i];
      if (!edge.valid()) continue;
      const size_t next = index.find(edge.node.get());
      if (i < grads.size() && grads[i].defined()) {
        Tensor g = validate_gradient(grads[i], node->input_metas[i], *node, i);
        buffers[next] = sum_gradients(buffers[next], g);
      }
      if (--deps[next] == 0) ready.push(edge.node.get());
    }
  }
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  run_backward(roots, grad_outputs, retain_graph, create_graph, nullptr, nullptr, "backward");
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph) {
  std::vector<Edge> edges;  // keeps a fresh leaf accumulator alive for the pass
  std::vector<Node*> captured;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge edge = gradient_edge(inputs[i]);
    if (!edge.valid()) {
      throw AutogradError("grad: input " + std::to_string(i) + " does not require grad");
    }
    captured.push_back(edge.node.get());
    edges.push_back(std::move(edge));
  }
  std::vector<Tensor> results(inputs.size());
  run_backward(outputs, grad_outputs, retain_graph, create_graph, &captured, &results, "grad");
  return results;
}

}  // namespace ignis::autograd

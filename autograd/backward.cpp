// The backward engine: finds the nodes reachable from the roots, counts each node's
// consumers, then runs nodes whose gradients are complete, latest-created first, summing the
// gradients that reach the same node. Single-threaded; not the ops' formulas.
#include "autograd/backward.h"

#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>

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
Tensor validate_gradient(const Tensor& g, const InputMeta& meta, const std::string& op,
                         size_t input_nr) {
  if (g.sizes() != meta.sizes) {
    throw ShapeError(op + ": gradient for input " + std::to_string(input_nr) + " has shape " +
                     g.shape_str() + ", expected " + shape_str(meta.sizes));
  }
  Tensor out = g;
  if (out.dtype() != meta.dtype) out = out.to(meta.dtype);
  if (!(out.device() == meta.device)) out = out.to(meta.device);
  return out;
}

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// Every node reachable from `roots`, with the number of edges pointing at each.
std::unordered_map<Node*, int> count_dependencies(const std::vector<Edge>& roots) {
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack;
  for (const Edge& e : roots) {
    if (deps.emplace(e.node.get(), 0).second) stack.push_back(e.node.get());
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges) {
      if (!e.valid()) continue;
      auto [it, inserted] = deps.emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node.get());
    }
  }
  return deps;
}

// The nodes autograd::grad() must run: those with a captured node below them.
std::unordered_set<Node*> nodes_to_run(const std::unordered_map<Node*, int>& deps,
                                       const std::vector<Edge>& roots,
                                       const std::unordered_set<Node*>& captured) {
  // Topological order (consumers before producers), then a reverse sweep.
  std::unordered_map<Node*, int> pending = deps;
  std::vector<Node*> order;
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;
  for (const Edge& e : roots) {
    if (pending[e.node.get()] == 0 && seen.insert(e.node.get()).second) {
      stack.push_back(e.node.get());
    }
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    order.push_back(node);
    for (const Edge& e : node->next_edges) {
      if (e.valid() && --pending[e.node.get()] == 0) stack.push_back(e.node.get());
    }
  }
  std::unordered_set<Node*> needed;  // captured or with a captured node below
  std::unordered_set<Node*> run;     // with a needed node below: apply() must run
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    for (const Edge& e : node->next_edges) {
      if (e.valid() && needed.count(e.node.get())) run.insert(node);
    }
    if (run.count(node) || captured.count(node)) needed.insert(node);
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
  std::unordered_map<Node*, int> deps = count_dependencies(root_edges);
  std::unordered_map<Node*, Tensor> buffers;
  for (size_t i = 0; i < root_edges.size(); ++i) {
    Tensor& slot = buffers[root_edges[i].node.get()];
    slot = sum_gradients(slot, root_grads[i]);
  }
  std::unordered_set<Node*> run;
  std::unordered_map<Node*, std::vector<size_t>> capture_slots;
  if (captured != nullptr) {
    std::unordered_set<Node*> captured_set;
    for (size_t i = 0; i < captured->size(); ++i) {
      capture_slots[(*captured)[i]].push_back(i);
      captured_set.insert((*captured)[i]);
    }
    run = nodes_to_run(deps, root_edges, captured_set);
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  for (const auto& [node, count] : deps) {
    if (count == 0) ready.push(node);
  }
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    Tensor grad = std::move(buffers[node]);
    buffers.erase(node);

    bool execute = true;
    if (captured == nullptr) {
      for (const auto& weak : node->retained_grads) {
        std::shared_ptr<AutogradMeta> meta = weak.lock();
        if (!meta || !grad.defined()) continue;
        Tensor g = create_graph ? grad : raw::clone(grad);
        meta->grad = meta->grad.defined() ? sum_gradients(meta->grad, g) : g;
      }
    } else {
      auto it = capture_slots.find(node);
      if (it != capture_slots.end()) {
        for (size_t slot : it->second) (*results)[slot] = grad;
      }
      execute = run.count(node) > 0;
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
      if (i < grads.size() && grads[i].defined()) {
        Tensor g = validate_gradient(grads[i], node->input_metas[i], node->name(), i);
        Tensor& slot = buffers[edge.node.get()];
        slot = sum_gradients(slot, g);
      }
      if (--deps[edge.node.get()] == 0) ready.push(edge.node.get());
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

// Graphviz DOT of the graph behind a tensor: one box per node labelled with its op name
// (leaves with their shape), arrows in the direction data flowed. Not a layout engine.
#include "autograd/dot.h"

#include <sstream>
#include <unordered_map>

#include "autograd/node.h"

namespace ignis::autograd {

namespace {

std::string label_of(const Node& node) {
  if (const auto* acc = dynamic_cast<const AccumulateGrad*>(&node)) {
    return "leaf " + acc->leaf().shape_str();
  }
  return node.name();
}

}  // namespace

std::string to_dot(const Tensor& root) {
  std::ostringstream dot;
  dot << "digraph autograd {\n  node [shape=box, fontname=\"monospace\"];\n";
  dot << "  output [label=\"output " << root.shape_str() << "\", shape=ellipse];\n";
  Edge edge = gradient_edge(root);
  if (edge.valid()) {
    std::unordered_map<const Node*, int> ids;
    std::vector<const Node*> stack{edge.node.get()};
    ids[edge.node.get()] = 0;
    while (!stack.empty()) {
      const Node* node = stack.back();
      stack.pop_back();
      dot << "  n" << ids[node] << " [label=\"" << label_of(*node) << "\"];\n";
      for (const Edge& next : node->next_edges) {
        if (!next.valid()) continue;
        auto [it, inserted] = ids.emplace(next.node.get(), static_cast<int>(ids.size()));
        if (inserted) stack.push_back(next.node.get());
        dot << "  n" << it->second << " -> n" << ids[node] << ";\n";
      }
    }
    dot << "  n0 -> output;\n";
  }
  dot << "}\n";
  return dot.str();
}

}  // namespace ignis::autograd

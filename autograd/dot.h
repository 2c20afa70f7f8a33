// The graph behind a tensor as Graphviz DOT, for learners: `dot -Tpng graph.dot`.
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace ignis::autograd {

// One box per node, labelled with its op name ("mul", "exp"); leaves as "leaf (2, 3)"; an
// arrow from each input's node to the node that consumed it, and one to the "output" ellipse.
// A tensor without history gives a graph with the output alone.
std::string to_dot(const Tensor& root);

}  // namespace ignis::autograd

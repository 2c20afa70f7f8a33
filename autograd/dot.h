// The graph behind a tensor as Graphviz DOT, for learners: `dot -Tpng graph.dot`.
#pragma once

#include <string>

#include "tensor/tensor.h"

namespace ignis::autograd {

std::string to_dot(const Tensor& root);

}  // namespace ignis::autograd

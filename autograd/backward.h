// Running the graph backwards: topological order from the roots, gradients summed per
// input, leaves' .grad accumulated, the graph freed unless retain_graph.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ignis::autograd {

// Backpropagates `grad_outputs` (one per root; undefined means ones for a one-element
// root, AutogradError otherwise) into the leaves' .grad.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

// Gradients of `outputs` w.r.t. `inputs`, returned instead of accumulated (torch.autograd.grad).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         bool retain_graph = false, bool create_graph = false);

}  // namespace ignis::autograd

// Running the graph backwards: topological order from the roots, gradients summed per
// input, leaves' .grad accumulated, the graph freed unless retain_graph.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ignis::autograd {

// Backpropagates `grad_outputs` (one per root; undefined means ones for a one-element
// root, AutogradError otherwise) into the leaves' .grad (and retain_grad() non-leaves').
// Throws AutogradError if a root does not require grad, ShapeError if a given gradient's
// shape differs from its root's (its dtype and device are converted). The graph's saved
// tensors are freed unless retain_graph or create_graph (which records the backward ops
// themselves, for higher derivatives); running a freed node throws AutogradError.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

// Gradients of `outputs` w.r.t. `inputs`, returned instead of accumulated (torch.autograd.grad):
// no .grad is written, and only the nodes between the outputs and the inputs run. An input
// the outputs do not depend on gets an undefined tensor; an input that does not require grad
// throws AutogradError.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         bool retain_graph = false, bool create_graph = false);

}  // namespace ignis::autograd

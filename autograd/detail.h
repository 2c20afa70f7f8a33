// Helpers shared by the differentiable op files of autograd/. Internal: not for users.
#pragma once

#include <functional>
#include <vector>

#include "tensor/elementwise.h"
#include "tensor/tensor.h"

namespace ignis::autograd::detail {

using Grads = std::vector<Tensor>;

inline bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The backward of a view that selects a region of a tensor of `sizes`: zeros with `dy`
// written into region(zeros). Recorded as `name` with region() as its own backward, so it
// differentiates under create_graph. region must map a tensor of `sizes` to a view of it.
Tensor embed_in_zeros(const char* name, const Tensor& dy, const Shape& sizes,
                      std::function<Tensor(const Tensor&)> region);

// Marks a differentiable view's output (in place on it is refused while it requires grad).
Tensor mark_view(const Tensor& out, const Tensor& base);

// dx = dy * act'(x) from the saved output y = act(x), act = UnaryOp::Relu (y > 0), Tanh
// (1 - y^2) or Sigmoid (y (1 - y)): the fused raw kernel in a plain backward; differentiable
// ops under create_graph, so that second derivatives flow. relu, tanh, sigmoid and linear
// with a fused activation share it. Internal error for another op.
Tensor backward_from_output(UnaryOp op, const Tensor& dy, const Tensor& y);

}  // namespace ignis::autograd::detail

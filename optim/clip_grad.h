// Gradient clipping over a list of parameters, as torch.nn.utils.clip_grad_norm_ and
// clip_grad_value_: in place on the parameters' .grad(). Not an optimizer.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace ignis::optim {

// total = ||(||g_1||_p, ..., ||g_k||_p)||_p over the parameters that have a gradient (the
// norm of all gradients as one vector; p = infinity gives max |g|), then every gradient is
// multiplied by min(max_norm / (total + 1e-6), 1). Returns total (0 when no parameter has a
// gradient). Throws ValueError when error_if_nonfinite and total is NaN or infinite (the
// gradients are then left unchanged).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);

// Clamps every gradient elementwise into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace ignis::optim

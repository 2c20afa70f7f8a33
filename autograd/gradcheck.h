// Finite-difference gradient checking, for tests and for users writing their own ops.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ignis::autograd {

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic vs numeric
};

// Compares backward() of sum(fn(inputs) * r) (r a fixed random weighting) against central
// differences (f(x + eps) - f(x - eps)) / 2 eps for every element of every float64 input
// that requires grad: |analytic - numeric| <= atol + rtol * |numeric|. Each element is
// perturbed in a contiguous copy of its input, so non-contiguous inputs are checked as they
// are in the analytic pass. Throws DTypeError for an input that requires grad and is not
// float64, DeviceError for one not on the CPU. fn may call autograd::grad itself (it runs
// with grad mode on), which checks second derivatives.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

}  // namespace ignis::autograd

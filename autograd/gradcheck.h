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
// that requires grad: |analytic - numeric| <= atol + rtol * |numeric|.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

}  // namespace ignis::autograd

// Finite-difference gradient checking: backward() of a random weighting of fn's output
// against central differences, element by element. Float64 CPU inputs only; not fast.
#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/backward.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"

namespace ignis::autograd {

namespace {

// sum(fn(inputs) * weights) in float64. Grad mode stays as the caller set it, so that fn may
// itself call autograd::grad (checking second derivatives).
double weighted_output(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                       const std::vector<Tensor>& inputs, const Tensor& weights) {
  Tensor out = raw::to(fn(inputs), kFloat64);
  return raw::sum(raw::mul(out, weights)).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps, double atol,
                          double rtol) {
  std::vector<size_t> checked;  // indices of the inputs that require grad
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    if (x.dtype() != kFloat64) {
      throw DTypeError("gradcheck: input " + std::to_string(i) + " is " +
                       dtype_name(x.dtype()) + "; gradcheck needs float64 inputs");
    }
    if (!x.is_cpu()) {
      throw DeviceError("gradcheck: input " + std::to_string(i) + " is on " +
                        x.device().str() + "; gradcheck runs on the cpu");
    }
    checked.push_back(i);
  }

  Tensor out = fn(inputs);
  Generator gen(1234);
  Tensor weights = randn(out.sizes(), {.dtype = kFloat64}, &gen);

  // Analytic: the vector-Jacobian product weights^T J for each checked input.
  std::vector<Tensor> analytic(checked.size());
  if (out.requires_grad() && !checked.empty()) {
    std::vector<Tensor> wrt;
    for (size_t i : checked) wrt.push_back(inputs[i]);
    analytic = grad({out}, wrt, {raw::to(weights, out.dtype())});
  }

  // Numeric: central differences on a contiguous copy of each checked input.
  GradcheckResult result;
  for (size_t c = 0; c < checked.size(); ++c) {
    const size_t i = checked[c];
    const Tensor& x = inputs[i];
    std::vector<double> a(static_cast<size_t>(x.numel()), 0.0);
    if (analytic[c].defined()) {
      if (analytic[c].sizes() != x.sizes()) {
        result.ok = false;
        result.message = "gradcheck: input " + std::to_string(i) + ": gradient has shape " +
                         analytic[c].shape_str() + ", expected " + x.shape_str();
        return result;
      }
      a = analytic[c].to_vector<double>();
    }
    std::vector<Tensor> perturbed = inputs;
    Tensor copy = raw::clone(x);
    copy.requires_grad_();
    perturbed[i] = copy;
    double* data = copy.data_ptr<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double saved = data[j];
      data[j] = saved + eps;
      const double plus = weighted_output(fn, perturbed, weights);
      data[j] = saved - eps;
      const double minus = weighted_output(fn, perturbed, weights);
      data[j] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double analytic_j = a[static_cast<size_t>(j)];
      if (!(std::abs(analytic_j - numeric) <= atol + rtol * std::abs(numeric))) {
        std::ostringstream msg;
        msg.precision(10);
        msg << "gradcheck: input " << i << " " << x.shape_str() << ", element " << j
            << ": analytic " << analytic_j << " vs numeric " << numeric;
        result.ok = false;
        result.message = msg.str();
        return result;
      }
    }
  }
  return result;
}

}  // namespace ignis::autograd

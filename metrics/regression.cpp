// The regression metrics' shared error sum: shape checks, the float64 accumulation, the mean.
// Not the metric classes' life cycle (metric.cpp).
#include "metrics/regression.h"

#include <string>

#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {

namespace detail {

namespace {

// Equal shapes, or (N, 1) against (N) in either order.
bool same_values_shape(const Shape& a, const Shape& b) {
  if (a == b) return true;
  const Shape& longer = a.size() > b.size() ? a : b;
  const Shape& shorter = a.size() > b.size() ? b : a;
  return longer.size() == shorter.size() + 1 && longer.back() == 1 &&
         Shape(longer.begin(), longer.end() - 1) == shorter;
}

}  // namespace

void ErrorSum::reset() {
  sum_ = Tensor();
  count_ = 0;
}

void ErrorSum::add(const Update& update, const char* metric) {
  if (!update.y_pred.defined() || !update.y.defined()) {
    throw ValueError(std::string(metric) + ": needs y_pred and y, got an undefined " +
                     (update.y_pred.defined() ? "y" : "y_pred"));
  }
  const Shape& pred_shape = update.y_pred.sizes();
  if (!same_values_shape(pred_shape, update.y.sizes())) {
    throw ShapeError(std::string(metric) + ": y_pred is " + shape_str(pred_shape) + " and y is " +
                     update.y.shape_str() + ": they must have the same shape");
  }
  // Float64 before subtracting, so that float32 inputs lose nothing to the accumulation.
  const Tensor y_pred = raw::to(update.y_pred, kFloat64);
  const Tensor y = raw::reshape(raw::to(update.y, kFloat64), pred_shape);
  const Tensor batch_sum = raw::sum(raw::unary(error_, raw::sub(y_pred, y)));  // 0-d
  sum_ = sum_.defined() ? raw::add(sum_, batch_sum) : batch_sum;
  count_ += update.y_pred.numel();
}

Tensor ErrorSum::mean(const char* metric) const {
  if (count_ == 0) {
    throw NotComputableError(std::string(metric) +
                             " must have at least one example before it can be computed");
  }
  return raw::div(sum_, wrap_scalar(static_cast<double>(count_), sum_.device()));
}

}  // namespace detail

Tensor RootMeanSquaredError::compute() const { return raw::sqrt(errors_.mean(kName)); }

}  // namespace ignis::metrics

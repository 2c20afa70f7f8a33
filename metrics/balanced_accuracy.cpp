// BalancedAccuracy (metrics/balanced_accuracy.h): per-class recall from ClassCounter.
#include "metrics/balanced_accuracy.h"

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"

namespace ignis::metrics {

BalancedAccuracy::BalancedAccuracy(BalancedAccuracyOptions options)
    : adjusted_(options.adjusted),
      counter_(kName, {.threshold = options.threshold, .num_classes = options.num_classes}) {}

void BalancedAccuracy::reset() { counter_.reset(); }

void BalancedAccuracy::update(const Update& update) { counter_.update(update); }

Tensor BalancedAccuracy::compute() const {
  counter_.require_computable();
  const Tensor& actual = counter_.actual();  // (C,)
  // Recall is 0 for the classes never true, so summing over all C adds only the K present.
  const Tensor recall = safe_divide(counter_.true_positives(), actual);
  const Tensor present = raw::to(
      raw::sum(raw::binary(BinaryOp::Gt, actual, wrap_scalar(0, actual.device()))), kFloat64);
  const Tensor score = raw::div(raw::sum(recall), present);
  if (!adjusted_) return score;
  const Tensor chance = raw::div(wrap_scalar(1.0, actual.device()), present);
  return raw::div(raw::sub(score, chance), raw::sub(wrap_scalar(1.0, actual.device()), chance));
}

}  // namespace ignis::metrics

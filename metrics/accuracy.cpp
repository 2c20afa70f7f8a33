// Accuracy and TopKCategoricalAccuracy (metrics/accuracy.h), on top of ClassCounter.
#include "metrics/accuracy.h"

#include <string>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {

Accuracy::Accuracy(AccuracyOptions options)
    : counter_(kName, {.is_multilabel = options.is_multilabel, .threshold = options.threshold}) {}

void Accuracy::reset() { counter_.reset(); }

void Accuracy::update(const Update& update) { counter_.update(update); }

Tensor Accuracy::compute() const {
  counter_.require_computable();
  const Tensor n = scalar_tensor(counter_.num_samples(), kFloat64,
                                 counter_.exact_matches().device());
  return raw::div(raw::to(counter_.exact_matches(), kFloat64), n);
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int64_t k)
    : k_(k), counter_(kName, {.multiclass_only = true}) {
  if (k < 1) {
    throw ValueError(std::string(kName) + ": k must be at least 1, got " + std::to_string(k));
  }
}

void TopKCategoricalAccuracy::reset() {
  counter_.reset();
  hits_ = Tensor();
}

void TopKCategoricalAccuracy::update(const Update& update) {
  const OneHotBatch batch = counter_.update(update);
  const Tensor& scores = batch.scores;  // (N, C)
  const Device device = scores.device();
  // The true class's score, picked by the one-hot mask (no index into memory, so an invalid
  // target needs no host check here: ClassCounter reports it at compute()).
  const Tensor target_score =
      raw::sum(raw::where(batch.target, scores, wrap_scalar(0, device)), {1}, true);  // (N, 1)
  const Tensor classes = arange(scores.size(1), TensorOptions{.dtype = kInt64, .device = device});
  const Tensor after_target =
      raw::binary(BinaryOp::Gt, classes, raw::unsqueeze(batch.target_index, 1));  // (N, C)
  const Tensor ahead = raw::binary(
      BinaryOp::LogicalOr, raw::binary(BinaryOp::Gt, scores, target_score),
      raw::binary(BinaryOp::LogicalAnd, raw::binary(BinaryOp::Eq, scores, target_score),
                  after_target));
  const Tensor rank = raw::sum(ahead, {1});  // (N,) int64
  const Tensor hits = raw::sum(raw::binary(BinaryOp::Lt, rank, wrap_scalar(k_, device)));
  hits_ = hits_.defined() ? raw::add(hits_, hits) : hits;
}

Tensor TopKCategoricalAccuracy::compute() const {
  counter_.require_computable();
  const Tensor n = scalar_tensor(counter_.num_samples(), kFloat64, hits_.device());
  return raw::div(raw::to(hits_, kFloat64), n);
}

}  // namespace ignis::metrics

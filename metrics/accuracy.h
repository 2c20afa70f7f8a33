// Accuracy and TopKCategoricalAccuracy (Ignite's), equal to sklearn's accuracy_score and
// top_k_accuracy_score. Not precision or recall (precision_recall.h).
#pragma once

#include <cstdint>

#include "metrics/classification.h"
#include "metrics/metric.h"

namespace ignis::metrics {

struct AccuracyOptions {
  bool is_multilabel = false;  // same-shape (B, C, ...) y_pred and y are multilabel input
  double threshold = 0.5;      // binary and multilabel: a score > threshold predicts 1
};

// The fraction of samples predicted exactly right:
//   accuracy = (1/N) sum_i [pred_i == y_i]
// binary: pred_i = y_pred_i > threshold; multiclass: pred_i = argmax_c y_pred_ic;
// multilabel: all C labels of the sample right (sklearn's subset accuracy).
// Input (classification.h): binary y_pred (B, ...) or (B, 1, ...), y 0/1 of the same shape;
// multiclass y_pred (B, C, ...) scores, y (B, ...) integer class indices; multilabel (with
// is_multilabel) y_pred and y (B, C, ...), y 0/1. compute() returns a 0-d float64 tensor.
// Throws (update) ShapeError / DTypeError / DeviceError / ValueError naming the shapes:
// "Accuracy: y_pred (8, 5) and y (7,) have different batch sizes"; (compute)
// NotComputableError before any sample, ValueError if a target was not a class / 0-1 value.
class Accuracy : public MetricBase<Accuracy> {
 public:
  static constexpr const char* kName = "Accuracy";
  explicit Accuracy(AccuracyOptions options = {});

  using Metric::update;
  void reset() override;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  ClassCounter counter_;
};

// The fraction of samples whose true class is among the k highest scores:
//   top_k = (1/N) sum_i [rank_i < k],
//   rank_i = #{c : s_ic > s_iy} + #{c > y : s_ic == s_iy}   (s = y_pred, y = y_i)
// i.e. ties are broken as sklearn's top_k_accuracy_score does (a higher class index ranks
// first). Input: multiclass only, y_pred (B, C, ...) scores, y (B, ...) class indices.
// compute() returns a 0-d float64 tensor. Throws ValueError for k < 1 (constructor); as
// Accuracy otherwise, with ShapeError for binary or multilabel input.
class TopKCategoricalAccuracy : public MetricBase<TopKCategoricalAccuracy> {
 public:
  static constexpr const char* kName = "TopKCategoricalAccuracy";
  explicit TopKCategoricalAccuracy(int64_t k = 5);

  using Metric::update;
  void reset() override;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  int64_t k_;
  ClassCounter counter_;
  Tensor hits_;  // 0-d int64: samples whose class ranked in the top k
};

}  // namespace ignis::metrics

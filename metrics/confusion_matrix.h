// ConfusionMatrix (Ignite's): counts of (true class, predicted class) pairs, optionally
// normalised, equal to sklearn's confusion_matrix. Not the metrics derived from it.
#pragma once

#include <cstdint>

#include "metrics/classification.h"
#include "metrics/metric.h"

namespace ignis::metrics {

// cm[t][p] = the samples of true class t predicted p (rows true, columns predicted), over
// y_pred (B, C, ...) scores (predicted class: the argmax) and y (B, ...) class indices,
// C = num_classes. compute() returns, by average (Ignite's names; sklearn's normalize):
//   None       cm, (C, C) int64
//   Samples    cm / sum(cm)                     (normalize="all"),  float64
//   Recall     cm[t][p] / sum_p cm[t][p]        (normalize="true"), float64
//   Precision  cm[t][p] / sum_t cm[t][p]        (normalize="pred"), float64
// a row or column of zeros normalising to zeros. As Ignite, targets outside [0, C) are
// ignored (no row counts them), so an "ignore" label such as 255 may be used.
// Accumulates target^T @ prediction in float64 (exact up to 2^53 samples) on the input's device.
// Throws ValueError for num_classes < 2 (constructor); ShapeError for input other than
// multiclass with C = num_classes; NotComputableError before any sample.
class ConfusionMatrix : public MetricBase<ConfusionMatrix> {
 public:
  enum class Average { None, Samples, Recall, Precision };
  static constexpr const char* kName = "ConfusionMatrix";
  explicit ConfusionMatrix(int64_t num_classes, Average average = Average::None);

  using Metric::update;
  void reset() override;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  Average average_;
  ClassCounter counter_;
  Tensor matrix_;  // (C, C) float64 counts
};

}  // namespace ignis::metrics

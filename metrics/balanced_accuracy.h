// BalancedAccuracy: the mean per-class recall, equal to sklearn's balanced_accuracy_score.
// Not Recall with Average::Macro (precision_recall.h), which averages over all C classes.
#pragma once

#include <cstdint>
#include <optional>

#include "metrics/classification.h"
#include "metrics/metric.h"

namespace ignis::metrics {

struct BalancedAccuracyOptions {
  bool adjusted = false;               // rescale so that chance scores 0 (sklearn's adjusted)
  // If set, y_pred's C (2 for binary input) must equal it.
  std::optional<int64_t> num_classes = std::nullopt;
  double threshold = 0.5;              // binary: a score > threshold predicts 1
};

// Over the K classes that appear in y since reset() (actual_c > 0):
//   score = (1/K) sum_{c: actual_c > 0} tp_c / actual_c
//   adjusted: (score - 1/K) / (1 - 1/K)
// Classes predicted but never true are ignored, as sklearn does (without its warning).
// NOTE: adjusted is undefined with K = 1; as sklearn, the division by 0 then gives NaN or
// -inf rather than an error.
// Input: binary or multiclass as Accuracy's (classification.h), not multilabel.
// compute() returns a 0-d float64 tensor. Throws as Accuracy, and ShapeError for a C other
// than num_classes: "BalancedAccuracy: y_pred (8, 4) is multiclass input with 4 classes, but
// num_classes is 5".
class BalancedAccuracy : public MetricBase<BalancedAccuracy> {
 public:
  static constexpr const char* kName = "BalancedAccuracy";
  explicit BalancedAccuracy(BalancedAccuracyOptions options = {});

  using Metric::update;
  void reset() override;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  bool adjusted_;
  ClassCounter counter_;
};

}  // namespace ignis::metrics

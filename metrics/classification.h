// What the classification metrics share: the input types (binary, multiclass, multilabel),
// their detection and checks, and ClassCounter, the one implementation of per-class counting
// (true positives, predicted and actual positives) that Accuracy, Precision, Recall, Fbeta,
// BalancedAccuracy, TopKCategoricalAccuracy and ConfusionMatrix accumulate with.
// Not a metric itself.
//
// Input types (Ignite's), N = B * d1 * ... samples:
//   binary      y_pred (B, ...) or (B, 1, ...) scores, y of y_pred's shape (or without the 1),
//               0 or 1. A score > threshold is class 1. Counted as two classes (0 and 1).
//   multiclass  y_pred (B, C, ...) scores with C > 1, y (B, ...) integer class indices in
//               [0, C). The predicted class is the argmax (the first on ties).
//   multilabel  y_pred (B, C, ...) scores and y of the same shape, 0 or 1; each of the C
//               labels is a yes/no question (score > threshold is yes). Chosen by the
//               metric's is_multilabel option, never guessed from values.
// NOTE: update() never reads values back to the host, so it cannot reject a target outside
// [0, C) (multiclass) or other than 0/1 (binary, multilabel) when it sees one; it counts them
// on the device, and compute() throws ValueError if any was seen since reset().
#pragma once

#include <cstdint>
#include <optional>

#include "metrics/metric.h"
#include "tensor/tensor.h"

namespace ignis::metrics {

enum class InputType { Binary, Multiclass, Multilabel };
const char* input_type_name(InputType type);  // "binary", "multiclass", "multilabel"

// How the averaging metrics (Precision, Recall, Fbeta) combine per-class scores, as Ignite
// and sklearn name them:
//   None      the per-class scores, a (C,) tensor; for binary input the score of class 1,
//             a 0-d tensor (sklearn's average="binary").
//   Micro     the score of the counts summed over classes (for binary and multiclass input
//             micro precision = micro recall = accuracy).
//   Macro     the mean of the per-class scores over all C classes (those never seen count 0).
//   Weighted  the mean of the per-class scores weighted by each class's support.
//   Samples   the mean over samples of each sample's score over its labels (multilabel only).
enum class Average { None, Micro, Macro, Weighted, Samples };
const char* average_name(Average average);  // "none", "micro", ...

// How a metric reads its input.
struct InputSpec {
  bool is_multilabel = false;    // same-shape y_pred and y are multilabel, not binary
  double threshold = 0.5;        // binary and multilabel: score > threshold is 1
  bool multiclass_only = false;  // reject binary input (TopK, ConfusionMatrix)
  // If set, C must equal it (2 for binary input).
  std::optional<int64_t> num_classes = std::nullopt;
};

// One batch as two (N, C) bool matrices of predicted and true classes: one true per row for
// binary and multiclass input (none for a target out of range), any number for multilabel.
struct OneHotBatch {
  InputType type = InputType::Binary;
  Tensor pred;     // (N, C) bool
  Tensor target;   // (N, C) bool
  Tensor scores;   // (N, C) y_pred as rows (multiclass only, else undefined)
  Tensor target_index;  // (N,) int64 class of each sample (binary, multiclass; else undefined)
  Tensor invalid;  // 0-d int64: targets in this batch that are not valid classes / 0-1 values
};

// The input type of (y_pred, y) under `spec`, after checking them; `metric` names the metric
// in errors. Throws ValueError for an undefined tensor, DeviceError when y_pred and y are on
// different devices, DTypeError for non-integer multiclass targets, ShapeError for shapes
// that fit no input type, e.g. "Accuracy: y_pred (8, 5) and y (7,) have different batch
// sizes", or that fit one the spec rejects or a C other than spec.num_classes.
InputType detect_input_type(const char* metric, const Tensor& y_pred, const Tensor& y,
                            const InputSpec& spec);
// (y_pred, y) checked as detect_input_type does, as an OneHotBatch (N = B * d1 * ... rows).
OneHotBatch to_one_hot(const char* metric, const Update& update, const InputSpec& spec);

// num / den elementwise in float64, 0 where den == 0 (sklearn's zero_division=0).
Tensor safe_divide(const Tensor& num, const Tensor& den);

// The F-beta score from counts, elementwise, with zero_division=0:
//   (1 + beta^2) tp / (beta^2 actual + predicted)
// beta = 0 gives precision tp / predicted; beta = +inf gives recall tp / actual.
// tp, predicted, actual: any one broadcastable shape; returns float64.
Tensor fbeta_from_counts(const Tensor& tp, const Tensor& predicted, const Tensor& actual,
                         double beta);

// The running per-class counts of a classification metric, on the device of its input.
// Remembers the input type and C of the first batch after reset(); a later batch of another
// type or C throws ValueError ("Precision: the number of classes changed from 5 to 4").
// NOTE: each update makes new count tensors instead of adding in place, so a copy of a
// metric (clone(), attach on a temporary) never shares counts with the original.
class ClassCounter {
 public:
  ClassCounter(const char* metric, InputSpec spec) : metric_(metric), spec_(spec) {}

  void reset();
  // Checks and counts one batch (see to_one_hot); returns it for metrics that need more.
  // Throws as to_one_hot, ValueError on a change of type or C, DeviceError for a batch on
  // another device than the earlier ones.
  OneHotBatch update(const Update& update);
  // Throws NotComputableError ("<metric> must have at least one example before it can be
  // computed") before any sample; with check_targets, ValueError if an invalid target was
  // counted since reset().
  void require_computable(bool check_targets = true) const;

  const InputSpec& spec() const { return spec_; }
  InputType type() const { return *type_; }          // valid after the first update
  int64_t num_classes() const { return num_classes_; }
  int64_t num_samples() const { return num_samples_; }
  const Tensor& true_positives() const { return true_positives_; }
  const Tensor& predicted() const { return predicted_; }
  const Tensor& actual() const { return actual_; }
  const Tensor& exact_matches() const { return exact_matches_; }

 private:
  const char* metric_;
  InputSpec spec_;
  std::optional<InputType> type_;
  int64_t num_classes_ = 0;
  int64_t num_samples_ = 0;        // N summed over batches (known on the host from shapes)
  Tensor true_positives_;          // (C,) int64: predicted and true
  Tensor predicted_;               // (C,) int64: predicted (tp + fp)
  Tensor actual_;                  // (C,) int64: true, the support (tp + fn)
  Tensor exact_matches_;           // 0-d int64: samples whose predicted set equals the true one
  Tensor invalid_;                 // 0-d int64: invalid targets seen
};

}  // namespace ignis::metrics

// Precision, Recall and Fbeta (Ignite's), equal to sklearn's precision_score, recall_score
// and fbeta_score with labels = all C classes and zero_division=0. Not accuracy (accuracy.h).
#pragma once

#include "metrics/classification.h"
#include "metrics/metric.h"

namespace ignis::metrics {

struct PrecisionRecallOptions {
  Average average = Average::None;  // see Average in classification.h
  bool is_multilabel = false;       // same-shape (B, C, ...) y_pred and y are multilabel input
  double threshold = 0.5;           // binary and multilabel: a score > threshold predicts 1
};

// Fbeta's options: as PrecisionRecallOptions, but macro by default (as Ignite's Fbeta).
struct FbetaOptions {
  Average average = Average::Macro;
  bool is_multilabel = false;
  double threshold = 0.5;
};

namespace detail {

// What Precision, Recall and Fbeta share: the counts, the per-sample score sum for
// Average::Samples, and the averaging. beta = 0 is precision, beta = +inf recall.
class FbetaState {
 public:
  FbetaState(const char* metric, double beta, Average average, bool is_multilabel,
             double threshold);
  void reset();
  void update(const Update& update);
  Tensor compute() const;

 private:
  double beta_;
  Average average_;
  ClassCounter counter_;
  Tensor sample_scores_;  // 0-d float64: sum over samples of each sample's score (Samples)
};

}  // namespace detail

// Per class c, with tp_c the samples predicted c that are c, predicted_c those predicted c
// and actual_c those that are c (the support):
//   precision_c = tp_c / predicted_c          (0 when predicted_c = 0: zero_division=0)
// then combined by options.average (None: (C,) per class, or 0-d for binary input, the
// precision of class 1; Micro: sum tp / sum predicted; Macro: mean over C; Weighted: weighted
// by actual_c; Samples (multilabel only): the mean over samples of each sample's
// tp_i / predicted_i). Input as Accuracy's (classification.h). compute() returns float64.
// Throws ValueError for Average::Samples without is_multilabel (constructor); on update and
// compute, as Accuracy.
class Precision : public MetricBase<Precision> {
 public:
  static constexpr const char* kName = "Precision";
  explicit Precision(PrecisionRecallOptions options = {});

  using Metric::update;
  void reset() override { state_.reset(); }
  void update(const Update& update) override { state_.update(update); }
  Tensor compute() const override { return state_.compute(); }

 private:
  detail::FbetaState state_;
};

// As Precision, with recall_c = tp_c / actual_c (0 when actual_c = 0) and, for Samples,
// tp_i / actual_i.
class Recall : public MetricBase<Recall> {
 public:
  static constexpr const char* kName = "Recall";
  explicit Recall(PrecisionRecallOptions options = {});

  using Metric::update;
  void reset() override { state_.reset(); }
  void update(const Update& update) override { state_.update(update); }
  Tensor compute() const override { return state_.compute(); }

 private:
  detail::FbetaState state_;
};

// As Precision, with the F-beta score
//   F_c = (1 + beta^2) tp_c / (beta^2 actual_c + predicted_c)
//       = (1 + beta^2) precision_c recall_c / (beta^2 precision_c + recall_c)
// (0 when the denominator is 0); Micro uses the summed counts, Samples each sample's counts.
// Throws ValueError for beta not finite and positive (constructor).
class Fbeta : public MetricBase<Fbeta> {
 public:
  static constexpr const char* kName = "Fbeta";
  explicit Fbeta(double beta, FbetaOptions options = {});

  using Metric::update;
  void reset() override { state_.reset(); }
  void update(const Update& update) override { state_.update(update); }
  Tensor compute() const override { return state_.compute(); }

 private:
  detail::FbetaState state_;
};

}  // namespace ignis::metrics

// Regression metrics over every element seen: MeanSquaredError, MeanAbsoluteError and
// RootMeanSquaredError (sklearn's mean_squared_error and friends). Not training losses
// (nn/loss.h) and not classification metrics (accuracy.h).
//
//   metrics::MeanSquaredError().attach(evaluator, "mse");   // y_pred, y: (N) or (N, D)
#pragma once

#include <cstdint>

#include "metrics/metric.h"
#include "tensor/elementwise.h"

namespace ignis::metrics {

namespace detail {

// The running sum of error(y_pred - y) over all elements seen and their count, error being
// the square or the absolute value: the state the three metrics below share.
class ErrorSum {
 public:
  explicit ErrorSum(UnaryOp error) : error_(error) {}
  void reset();
  // Adds one batch. y_pred and y have the same shape, or are (N, 1) and (N) either way round;
  // any dtype. Throws ShapeError naming `metric` and both shapes, ValueError for an
  // undefined y_pred or y.
  void add(const Update& update, const char* metric);
  // sum / count as a 0-d float64 tensor; throws NotComputableError naming `metric` when no
  // element was seen since reset().
  Tensor mean(const char* metric) const;

 private:
  UnaryOp error_;
  Tensor sum_;         // 0-d float64 on the inputs' device; undefined until the first update
  int64_t count_ = 0;  // elements seen
};

}  // namespace detail

// MSE = sum_i (y_pred_i - y_i)^2 / n over the n elements of every batch since reset().
// NOTE: Ignite divides by the number of rows, so for (N, D) inputs its value is D times this
// one; this is the mean over all elements, as sklearn (uniform average) and nn::MSELoss.
// Throws as detail::ErrorSum.
class MeanSquaredError : public MetricBase<MeanSquaredError> {
 public:
  static constexpr const char* kName = "MeanSquaredError";
  void reset() override { errors_.reset(); }
  using Metric::update;
  void update(const Update& update) override { errors_.add(update, kName); }
  Tensor compute() const override { return errors_.mean(kName); }

 private:
  detail::ErrorSum errors_{UnaryOp::Square};
};

// MAE = sum_i |y_pred_i - y_i| / n over all elements seen. Throws as detail::ErrorSum.
class MeanAbsoluteError : public MetricBase<MeanAbsoluteError> {
 public:
  static constexpr const char* kName = "MeanAbsoluteError";
  void reset() override { errors_.reset(); }
  using Metric::update;
  void update(const Update& update) override { errors_.add(update, kName); }
  Tensor compute() const override { return errors_.mean(kName); }

 private:
  detail::ErrorSum errors_{UnaryOp::Abs};
};

// RMSE = sqrt(MSE), MSE over all elements seen. Throws as detail::ErrorSum.
class RootMeanSquaredError : public MetricBase<RootMeanSquaredError> {
 public:
  static constexpr const char* kName = "RootMeanSquaredError";
  void reset() override { errors_.reset(); }
  using Metric::update;
  void update(const Update& update) override { errors_.add(update, kName); }
  Tensor compute() const override;

 private:
  detail::ErrorSum errors_{UnaryOp::Square};
};

}  // namespace ignis::metrics

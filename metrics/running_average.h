// metrics::RunningAverage: an exponential moving average of a metric's per-batch value or of
// the engine's output (Ignite's RunningAverage), e.g. the smoothed loss a progress bar shows.
// Not a plain mean over the epoch: that is metrics::Loss or the source metric itself.
//
//   metrics::RunningAverage({.alpha = 0.98}).attach(trainer, "loss",
//       [](const engine::Output<double>& o) { return o.loss; });
//   metrics::RunningAverage(metrics::MeanSquaredError()).attach(trainer, "running_mse");
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "metrics/metric.h"

namespace ignis::metrics {

struct RunningAverageOptions {
  double alpha = 0.98;  // the weight of the previous value, in (0, 1]
  // Ignite's epoch_bound: true restarts the average at each epoch (as the usage
  // SingleEpochRunningBatchWise), false keeps it over the run (RunningBatchWise); either
  // overrides the usage given to attach(). Unset: the usage decides.
  std::optional<bool> epoch_bound = std::nullopt;
};

// value_1 = current_1, value_t = alpha * value_(t-1) + (1 - alpha) * current_t, where
// current_t is the source metric's value on batch t alone (the metric is reset, updated with
// the batch and computed), or, without a source metric, the engine's output y_pred
// (a number or a tensor: the loss of Output<double> by default). Values are float64 tensors
// of the source's shape.
//
// Attached, its default usage is RunningBatchWise (reset at STARTED, a new value at each
// ITERATION_COMPLETED). SingleEpochRunningBatchWise resets at each EPOCH_STARTED. With
// RunningEpochWise the source accumulates over a whole epoch (reset at EPOCH_STARTED) and one
// value per epoch is folded in at EPOCH_COMPLETED; without a source, the epoch's last output.
//
// Throws ValueError for alpha outside (0, 1] (constructor), for the usages EpochWise and
// BatchWise (attach) and for an undefined output (update); ShapeError when the current value's
// shape differs from the running value's; and whatever the source metric throws.
// NOTE: RunningAverage(other_running_average) copies it (copy constructor); it does not
// average a running average.
class RunningAverage : public MetricBase<RunningAverage> {
 public:
  static constexpr const char* kName = "RunningAverage";

  // Of the engine's output.
  explicit RunningAverage(RunningAverageOptions options = {});
  // Of `src`, of which it keeps a copy.
  explicit RunningAverage(const Metric& src, RunningAverageOptions options = {});

  // Forgets the running value and resets the source.
  void reset() override;
  // One step: the source is reset, updated with `update` and its value folded in.
  using Metric::update;
  void update(const Update& update) override;
  // The running value; NotComputableError before the first step.
  Tensor compute() const override;

  Usage default_usage() const override { return Usage::RunningBatchWise; }
  void attach_fetch(engine::EngineBase& engine, const std::string& name, Fetch fetch, Usage usage,
                    std::shared_ptr<Metric> owner) override;

 private:
  // value = alpha * value + (1 - alpha) * source value (or the source value, the first time).
  void fold();

  double alpha_;
  std::optional<bool> epoch_bound_;
  MetricCopy src_;  // the source metric, or one that holds the last output
  Tensor value_;    // float64, the source's shape; undefined until the first step
};

}  // namespace ignis::metrics

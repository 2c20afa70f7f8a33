// metrics::RunningAverage: the moving average, its output source and its attach variants.
// Not the generic life cycle (metric.cpp).
#include "metrics/running_average.h"

#include <string>
#include <utility>

#include "tensor/elementwise.h"

namespace ignis::metrics {

namespace {

// The source of a RunningAverage of the output: its value is the last y_pred it was given.
class LastOutput : public MetricBase<LastOutput> {
 public:
  static constexpr const char* kName = "RunningAverage";
  void reset() override { last_ = Tensor(); }
  using Metric::update;
  void update(const Update& update) override {
    if (!update.y_pred.defined()) {
      throw ValueError("RunningAverage: the output to average is undefined (no y_pred)");
    }
    last_ = update.y_pred;
  }
  Tensor compute() const override {
    if (!last_.defined()) {
      throw NotComputableError("RunningAverage must have an output before it can be computed");
    }
    return last_;
  }

 private:
  Tensor last_;
};

double checked_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha <= 1.0)) {
    throw ValueError("RunningAverage: alpha must be in (0, 1], got " + std::to_string(alpha));
  }
  return alpha;
}

}  // namespace

RunningAverage::RunningAverage(RunningAverageOptions options)
    : RunningAverage(LastOutput(), options) {}

RunningAverage::RunningAverage(const Metric& src, RunningAverageOptions options)
    : alpha_(checked_alpha(options.alpha)), epoch_bound_(options.epoch_bound), src_(src) {}

void RunningAverage::reset() {
  value_ = Tensor();
  src_->reset();
}

void RunningAverage::update(const Update& update) {
  src_->reset();
  src_->update(update);
  fold();
}

Tensor RunningAverage::compute() const {
  if (!value_.defined()) {
    throw NotComputableError("RunningAverage must have at least one update before it can be "
                             "computed");
  }
  return value_;
}

void RunningAverage::fold() {
  const Tensor current = raw::to(src_->compute(), kFloat64);
  if (!value_.defined()) {
    value_ = raw::clone(current);
    return;
  }
  if (current.sizes() != value_.sizes()) {
    throw ShapeError("RunningAverage: the source's value is " + current.shape_str() +
                     " but the running value is " + value_.shape_str());
  }
  value_ = raw::add(raw::mul(value_, Scalar(alpha_)), raw::mul(current, Scalar(1.0 - alpha_)));
}

void RunningAverage::attach_fetch(engine::EngineBase& engine, const std::string& name, Fetch fetch,
                                  Usage usage, std::shared_ptr<Metric> owner) {
  using engine::Events;
  if (epoch_bound_) {
    usage = *epoch_bound_ ? Usage::SingleEpochRunningBatchWise : Usage::RunningBatchWise;
  }
  switch (usage) {
    case Usage::RunningBatchWise:
    case Usage::SingleEpochRunningBatchWise:
      Metric::attach_fetch(engine, name, std::move(fetch), usage, std::move(owner));
      return;
    case Usage::RunningEpochWise: {
      // The source works as if attached EpochWise; its epoch value is folded in at the end.
      const std::string label = std::string(kName) + "(" + name + ")";
      auto on_reset = [this, owner] { reset(); };
      auto on_epoch_started = [this, owner] { src_->reset(); };
      auto on_update = [this, owner, fetch](engine::EngineBase& e) { src_->update(fetch(e)); };
      auto on_done = [this, owner, name](engine::EngineBase& e) {
        fold();
        completed(e, name);
      };
      add_handler(engine, name, Events::STARTED, on_reset, label + ".reset");
      add_handler(engine, name, Events::EPOCH_STARTED, on_epoch_started, label + ".src_reset");
      add_handler(engine, name, Events::ITERATION_COMPLETED, on_update, label + ".update");
      add_handler(engine, name, Events::EPOCH_COMPLETED, on_done, label + ".completed");
      return;
    }
    case Usage::EpochWise:
    case Usage::BatchWise:
      break;
  }
  throw ValueError(std::string("RunningAverage: usage ") + usage_name(usage) +
                   " is not supported: use RunningBatchWise, SingleEpochRunningBatchWise or "
                   "RunningEpochWise");
}

}  // namespace ignis::metrics

// The metric life cycle (Ignite's ignite.metrics.Metric): reset / update / compute, and
// attach(engine, name), which wires those three to the engine's events and writes the result
// into engine.state().metrics[name]. Not the metrics themselves (accuracy.h, ...).
//
//   metrics::Accuracy accuracy;                    // standalone
//   accuracy.update(logits, targets);              // any number of batches
//   double a = accuracy.compute().item<double>();
//
//   metrics::Accuracy().attach(evaluator, "accuracy");   // attached: the engine keeps a copy
//   evaluator.run(valid_loader);
//   evaluator.state().metrics["accuracy"];
//
// A metric accumulates in tensors on the device of the tensors it is given (a sum, a count,
// a confusion matrix): update() never reads a value back to the host; compute() does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/tensor.h"

namespace ignis::metrics {

// Thrown by compute() when the metric has seen no data since its last reset (Ignite's
// NotComputableError), naming the metric.
class NotComputableError : public Error {
  using Error::Error;
};

// What update() takes: predictions and targets (a loss metric, RunningAverage of the output
// and similar read a 0-d y_pred and no y).
struct Update {
  Tensor y_pred;
  Tensor y;
};

// When an attached metric resets, updates and computes (Ignite's MetricUsage):
//   EpochWise:        reset at EPOCH_STARTED, update at ITERATION_COMPLETED, result at
//                     EPOCH_COMPLETED (the default).
//   RunningEpochWise: reset at STARTED, update at ITERATION_COMPLETED, result at EPOCH_COMPLETED.
//   BatchWise:        reset at ITERATION_STARTED, update and result at ITERATION_COMPLETED.
//   RunningBatchWise: reset at STARTED, update and result at ITERATION_COMPLETED.
//   SingleEpochRunningBatchWise: reset at EPOCH_STARTED, update and result at
//                     ITERATION_COMPLETED (a running value that restarts each epoch).
enum class Usage { EpochWise, RunningEpochWise, BatchWise, RunningBatchWise,
                   SingleEpochRunningBatchWise };

// "EpochWise", ... for error messages.
const char* usage_name(Usage usage);

// Turns an engine's output into an Update. Accepted: a callable from the output type to
// Update, std::pair<Tensor, Tensor>, Tensor (y_pred only) or a number (a 0-d float64 y_pred).
// With none given: engine::Output<Tensor> gives {y_pred, y}, engine::Output<double> gives
// {loss}, a Tensor gives {output}, a number gives {number}.
namespace detail {

template <class T>
Update to_update(T&& value) {
  using V = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<V, Update>) {
    return std::forward<T>(value);
  } else if constexpr (std::is_same_v<V, std::pair<Tensor, Tensor>>) {
    return Update{value.first, value.second};
  } else if constexpr (std::is_same_v<V, Tensor>) {
    return Update{std::forward<T>(value), Tensor()};
  } else if constexpr (std::is_arithmetic_v<V>) {
    return Update{scalar_tensor(static_cast<double>(value), DType::Float64), Tensor()};
  } else {
    static_assert(std::is_same_v<V, Update>,
                  "metrics: an output transform must return Update, std::pair<Tensor, Tensor>, "
                  "Tensor or a number");
  }
}

template <class Output>
Update default_transform(const Output& output) {
  // One requires-expression, so that an output without y_pred (a number) is simply false.
  if constexpr (requires {
                  output.y;
                  requires std::is_same_v<std::remove_cvref_t<decltype(output.y_pred)>, Tensor>;
                }) {
    return Update{output.y_pred, output.y};
  } else if constexpr (requires { output.loss; }) {
    return to_update(output.loss);
  } else {
    return to_update(output);
  }
}

}  // namespace detail

// Reads the update of the current iteration from an engine (its typed output, transformed).
using Fetch = std::function<Update(engine::EngineBase&)>;

namespace detail {

// The default transform for the output type of engine E (see default_transform).
template <class E>
auto default_transform_for(E&) {
  using Output = std::remove_cvref_t<decltype(std::declval<E&>().state().output)>;
  return [](const Output& output) { return default_transform(output); };
}

// A Fetch reading E's typed output through `transform`.
template <class E, class Transform>
Fetch make_fetch(Transform transform) {
  static_assert(requires { typename E::OutputType; },
                "metrics: attach to an engine::Engine<Batch, Output>");
  return [t = std::move(transform)](engine::EngineBase& base) -> Update {
    return to_update(t(static_cast<E&>(base).state().output));
  };
}

template <class T>
concept NotUsage = !std::is_same_v<std::remove_cvref_t<T>, Usage> &&
                   !std::is_same_v<std::remove_cvref_t<T>, std::optional<Usage>>;

}  // namespace detail

class Metric {
 public:
  virtual ~Metric() = default;

  // Forget everything seen so far.
  virtual void reset() = 0;
  // Accumulate one batch. Throws ShapeError / ValueError naming the metric and the shapes for
  // input it cannot use.
  virtual void update(const Update& update) = 0;
  void update(const Tensor& y_pred, const Tensor& y = Tensor()) { update(Update{y_pred, y}); }
  // The value over everything since reset(): a 0-d float64 tensor for a scalar metric, else
  // a tensor (per-class values, a confusion matrix). Throws NotComputableError before any
  // update.
  virtual Tensor compute() const = 0;
  // A copy of this metric in its current state (attach() on a temporary keeps a copy).
  virtual std::unique_ptr<Metric> clone() const = 0;
  // The metric's name in error messages ("Accuracy").
  virtual std::string type_name() const = 0;

  // Attaches this object: the engine's handlers refer to it, so it must outlive the engine's
  // runs (or be detached). On a temporary (metrics::Accuracy().attach(e, "acc")) a copy is
  // attached and kept alive by the engine's handlers.
  // transform: see Update above; usage: see Usage above, default_usage() when not given.
  // Throws ValueError for a usage the metric does not support (RunningAverage).
  template <class E>
  Metric& attach(E& engine, const std::string& name, std::optional<Usage> usage = {}) & {
    return attach(engine, name, detail::default_transform_for(engine), usage);
  }
  template <class E, detail::NotUsage Transform>
  Metric& attach(E& engine, const std::string& name, Transform transform,
                 std::optional<Usage> usage = {}) & {
    attach_fetch(engine, name, detail::make_fetch<E>(std::move(transform)),
                 usage.value_or(default_usage()), nullptr);
    return *this;
  }
  template <class E>
  void attach(E& engine, const std::string& name, std::optional<Usage> usage = {}) && {
    std::move(*this).attach(engine, name, detail::default_transform_for(engine), usage);
  }
  template <class E, detail::NotUsage Transform>
  void attach(E& engine, const std::string& name, Transform transform,
              std::optional<Usage> usage = {}) && {
    std::shared_ptr<Metric> copy = clone();
    copy->attach_fetch(engine, name, detail::make_fetch<E>(std::move(transform)),
                       usage.value_or(default_usage()), copy);
  }

  // The usage of attach() when none is given: EpochWise (RunningAverage: RunningBatchWise).
  virtual Usage default_usage() const { return Usage::EpochWise; }

  // Removes the handlers this metric added to engine (all names it was attached under).
  void detach(engine::EngineBase& engine);
  // Whether this metric is attached to engine (under `name`, if given).
  bool is_attached(const engine::EngineBase& engine, const std::string& name = {}) const;

  // Computes and stores the result in engine.state().metrics: a one-element result under
  // `name`, a larger one element by element under "name/0", "name/1", ... (flattened).
  void completed(engine::EngineBase& engine, const std::string& name) const;

  // Wires reset/update/completed to the engine's events for `usage`. `owner` (may be null)
  // is captured by the handlers to keep a metric attached from a temporary alive. Metrics
  // that attach differently (RunningAverage) override this and register through add_handler.
  virtual void attach_fetch(engine::EngineBase& engine, const std::string& name, Fetch fetch,
                            Usage usage, std::shared_ptr<Metric> owner);

 protected:
  // Adds `handler` to `event` of engine (as engine.on, `label` for the event tracer) and
  // remembers it under (engine, name) for detach / is_attached.
  template <class Handler>
  void add_handler(engine::EngineBase& engine, const std::string& name, engine::Event event,
                   Handler handler, const std::string& label) {
    remember(engine, name, event, engine.on(event, std::move(handler), label));
  }

 private:
  void remember(const engine::EngineBase& engine, const std::string& name, engine::Event event,
                engine::RemovableHandle handle);

  // (engine, name) -> handles, for detach and is_attached. A copy of a metric starts
  // unattached. The event is kept to ask the engine whether the handler is still there: an
  // engine destroyed and another made at the same address must not count as attached.
  struct Registration {
    engine::Event event;
    engine::RemovableHandle handle;
  };
  struct Handles {
    Handles() = default;
    Handles(const Handles&) {}
    Handles& operator=(const Handles&) { return *this; }
    std::multimap<std::pair<const engine::EngineBase*, std::string>, Registration> map;
  };
  Handles handles_;
};

// Implements clone() and type_name() for a metric class D: class Accuracy : public
// MetricBase<Accuracy> { ... static constexpr const char* kName = "Accuracy"; };
template <class D>
class MetricBase : public Metric {
 public:
  std::unique_ptr<Metric> clone() const override {
    return std::make_unique<D>(static_cast<const D&>(*this));
  }
  std::string type_name() const override { return D::kName; }
};

// A metric held by value through a pointer: copying it clones the metric, so each copy has
// its own state. What RunningAverage and MetricsLambda keep their source metrics in.
// NOTE: a moved-from MetricCopy holds nothing: only assign to it or destroy it.
class MetricCopy {
 public:
  explicit MetricCopy(const Metric& metric) : metric_(metric.clone()) {}
  MetricCopy(const MetricCopy& other) : metric_(other.metric_->clone()) {}
  MetricCopy& operator=(const MetricCopy& other) {
    if (this != &other) metric_ = other.metric_->clone();
    return *this;
  }
  MetricCopy(MetricCopy&&) noexcept = default;
  MetricCopy& operator=(MetricCopy&&) noexcept = default;

  Metric& operator*() const { return *metric_; }
  Metric* operator->() const { return metric_.get(); }

 private:
  std::unique_ptr<Metric> metric_;
};

}  // namespace ignis::metrics

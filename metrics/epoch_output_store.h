// metrics::EpochOutputStore: keeps every (y_pred, y) of the current epoch (Ignite's
// EpochOutputStore), e.g. the predictions an inference run gathers. Not a Metric: it computes
// nothing and puts nothing into state().metrics.
//
//   metrics::EpochOutputStore store;
//   store.attach(inferer);                 // reset at EPOCH_STARTED, one entry per iteration
//   inferer.run(test_loader);
//   Tensor logits = store.y_pred();        // (N, C): the batches concatenated along dim 0
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "metrics/metric.h"

namespace ignis::metrics {

class EpochOutputStore {
 public:
  EpochOutputStore() = default;
  // Not copyable or movable: an attached store's handlers refer to this object.
  EpochOutputStore(const EpochOutputStore&) = delete;
  EpochOutputStore& operator=(const EpochOutputStore&) = delete;

  // Forgets what was stored.
  void reset() { data_.clear(); }
  // Appends one batch's (y_pred, y), detached from any graph (y may be undefined). Throws
  // ValueError for an undefined y_pred.
  void update(const Update& update);
  void update(const Tensor& y_pred, const Tensor& y = Tensor()) { update(Update{y_pred, y}); }

  // The stored pairs, in iteration order.
  const std::vector<Update>& data() const { return data_; }
  // The stored y_pred (y) concatenated along dim 0: batches (n_b, *) give (sum n_b, *); a 0-d
  // entry counts as one row. Throws NotComputableError when nothing is stored, ValueError
  // (y) when a batch has no y, ShapeError naming two batches whose sizes after dim 0 differ.
  Tensor y_pred() const;
  Tensor y() const;

  // Resets at EPOCH_STARTED and stores the engine's output (through `transform`, as
  // Metric::attach) at each ITERATION_COMPLETED.
  template <class E>
  EpochOutputStore& attach(E& engine) {
    return attach(engine, detail::default_transform_for(engine));
  }
  template <class E, class Transform>
  EpochOutputStore& attach(E& engine, Transform transform) {
    attach_fetch(engine, detail::make_fetch<E>(std::move(transform)));
    return *this;
  }
  void attach_fetch(engine::EngineBase& engine, Fetch fetch);
  // Removes this store's handlers from engine.
  void detach(engine::EngineBase& engine);
  bool is_attached(const engine::EngineBase& engine) const;

 private:
  Tensor concat(Tensor Update::*member, const char* what) const;

  std::vector<Update> data_;
  struct Registration {
    const engine::EngineBase* engine;
    engine::Event event;  // to ask the engine whether the handler is still there
    engine::RemovableHandle handle;
  };
  std::vector<Registration> handles_;
};

}  // namespace ignis::metrics

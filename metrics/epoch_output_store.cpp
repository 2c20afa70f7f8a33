// metrics::EpochOutputStore: storing an epoch's outputs and concatenating them.
// Not a Metric's life cycle (metric.cpp).
#include "metrics/epoch_output_store.h"

#include <algorithm>
#include <string>

#include "tensor/index_ops.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {

void EpochOutputStore::update(const Update& update) {
  if (!update.y_pred.defined()) {
    throw ValueError("EpochOutputStore: the output has no y_pred (it is undefined)");
  }
  data_.push_back(
      Update{update.y_pred.detach(), update.y.defined() ? update.y.detach() : Tensor()});
}

Tensor EpochOutputStore::concat(Tensor Update::*member, const char* what) const {
  if (data_.empty()) {
    throw NotComputableError(std::string("EpochOutputStore: no ") + what +
                             " stored (no iteration since the last reset)");
  }
  std::vector<Tensor> rows;
  rows.reserve(data_.size());
  for (size_t b = 0; b < data_.size(); ++b) {
    const Tensor& t = data_[b].*member;
    if (!t.defined()) {
      throw ValueError(std::string("EpochOutputStore: batch ") + std::to_string(b) + " has no " +
                       what);
    }
    rows.push_back(t.dim() == 0 ? raw::reshape(t, {1}) : t);
    const Shape& first = rows.front().sizes();
    const Shape& here = rows.back().sizes();
    if (!std::equal(first.begin() + 1, first.end(), here.begin() + 1, here.end())) {
      throw ShapeError(std::string("EpochOutputStore: ") + what + " of batch 0 is " +
                       shape_str(first) + " but of batch " + std::to_string(b) + " is " +
                       shape_str(here) + ": the sizes after dim 0 must agree");
    }
  }
  return raw::cat(rows, 0);
}

Tensor EpochOutputStore::y_pred() const { return concat(&Update::y_pred, "y_pred"); }
Tensor EpochOutputStore::y() const { return concat(&Update::y, "y"); }

void EpochOutputStore::attach_fetch(engine::EngineBase& engine, Fetch fetch) {
  using engine::Events;
  handles_.push_back({&engine, Events::EPOCH_STARTED,
                      engine.on(Events::EPOCH_STARTED, [this] { reset(); },
                                "EpochOutputStore.reset")});
  handles_.push_back({&engine, Events::ITERATION_COMPLETED,
                      engine.on(Events::ITERATION_COMPLETED,
                                [this, fetch](engine::EngineBase& e) { update(fetch(e)); },
                                "EpochOutputStore.update")});
}

void EpochOutputStore::detach(engine::EngineBase& engine) {
  for (Registration& r : handles_) {
    if (r.engine == &engine) r.handle.remove();
  }
  std::erase_if(handles_, [&engine](const Registration& r) { return r.engine == &engine; });
}

bool EpochOutputStore::is_attached(const engine::EngineBase& engine) const {
  return std::any_of(handles_.begin(), handles_.end(), [&engine](const Registration& r) {
    return r.engine == &engine && engine.has_event_handler(r.handle, r.event);
  });
}

}  // namespace ignis::metrics

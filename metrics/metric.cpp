// The Metric life cycle: the handlers each Usage registers, detach / is_attached bookkeeping,
// and storing results in the engine's state. Not the metrics themselves.
#include "metrics/metric.h"

#include <string>
#include <utility>

namespace ignis::metrics {

const char* usage_name(Usage usage) {
  switch (usage) {
    case Usage::EpochWise: return "EpochWise";
    case Usage::RunningEpochWise: return "RunningEpochWise";
    case Usage::BatchWise: return "BatchWise";
    case Usage::RunningBatchWise: return "RunningBatchWise";
    case Usage::SingleEpochRunningBatchWise: return "SingleEpochRunningBatchWise";
  }
  internal_error("usage_name: bad usage");
}

namespace {

// Where a usage resets the metric (see Usage).
engine::Event reset_event(Usage usage) {
  switch (usage) {
    case Usage::EpochWise:
    case Usage::SingleEpochRunningBatchWise:
      return engine::Events::EPOCH_STARTED;
    case Usage::RunningEpochWise:
    case Usage::RunningBatchWise:
      return engine::Events::STARTED;
    case Usage::BatchWise:
      return engine::Events::ITERATION_STARTED;
  }
  internal_error("reset_event: bad usage");
}

// Whether a usage stores a result after each iteration (else after each epoch).
bool stores_each_iteration(Usage usage) {
  return usage == Usage::BatchWise || usage == Usage::RunningBatchWise ||
         usage == Usage::SingleEpochRunningBatchWise;
}

}  // namespace

void Metric::detach(engine::EngineBase& engine) {
  for (auto it = handles_.map.begin(); it != handles_.map.end();) {
    if (it->first.first == &engine) {
      it->second.handle.remove();
      it = handles_.map.erase(it);
    } else {
      ++it;
    }
  }
}

bool Metric::is_attached(const engine::EngineBase& engine, const std::string& name) const {
  for (const auto& [key, registration] : handles_.map) {
    if (key.first == &engine && (name.empty() || key.second == name) &&
        engine.has_event_handler(registration.handle, registration.event)) {
      return true;
    }
  }
  return false;
}

void Metric::remember(const engine::EngineBase& engine, const std::string& name,
                      engine::Event event, engine::RemovableHandle handle) {
  handles_.map.emplace(std::make_pair(&engine, name), Registration{event, std::move(handle)});
}

void Metric::completed(engine::EngineBase& engine, const std::string& name) const {
  Tensor value = compute().to(DType::Float64).cpu().contiguous();
  auto& metrics = engine.state().metrics;
  if (value.numel() == 1) {
    metrics[name] = value.item<double>();
    return;
  }
  std::vector<double> values = value.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) metrics[name + "/" + std::to_string(i)] = values[i];
}

void Metric::attach_fetch(engine::EngineBase& engine, const std::string& name, Fetch fetch,
                          Usage usage, std::shared_ptr<Metric> owner) {
  using engine::Events;
  // Handlers capture `owner` (null for an lvalue attach) to keep a temporary's copy alive.
  auto on_reset = [this, owner] { reset(); };
  auto on_update = [this, owner, fetch](engine::EngineBase& e) { update(fetch(e)); };
  auto on_done = [this, owner, name](engine::EngineBase& e) { completed(e, name); };
  auto on_update_and_done = [this, owner, fetch, name](engine::EngineBase& e) {
    update(fetch(e));
    completed(e, name);
  };
  const std::string label = type_name() + "(" + name + ")";
  add_handler(engine, name, reset_event(usage), on_reset, label + ".reset");
  if (stores_each_iteration(usage)) {
    add_handler(engine, name, Events::ITERATION_COMPLETED, on_update_and_done, label + ".update");
  } else {
    add_handler(engine, name, Events::ITERATION_COMPLETED, on_update, label + ".update");
    add_handler(engine, name, Events::EPOCH_COMPLETED, on_done, label + ".completed");
  }
}

}  // namespace ignis::metrics

#include "metrics/metric.h"

#include <string>
#include <utility>

namespace ignis::metrics {

void Metric::detach(engine::EngineBase& engine) {
  for (auto it = handles_.map.begin(); it != handles_.map.end();) {
    if (it->first.first == &engine) {
      it->second.remove();
      it = handles_.map.erase(it);
    } else {
      ++it;
    }
  }
}

bool Metric::is_attached(const engine::EngineBase& engine, const std::string& name) const {
  for (const auto& [key, handle] : handles_.map) {
    if (key.first == &engine && (name.empty() || key.second == name)) return true;
  }
  return false;
}

void Metric::remember(const engine::EngineBase& engine, const std::string& name,
                      engine::RemovableHandle handle) {
  handles_.map.emplace(std::make_pair(&engine, name), std::move(handle));
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
  switch (usage) {
    case Usage::EpochWise:
      remember(engine, name, engine.on(Events::EPOCH_STARTED, on_reset, label + ".reset"));
      remember(engine, name, engine.on(Events::ITERATION_COMPLETED, on_update, label + ".update"));
      remember(engine, name, engine.on(Events::EPOCH_COMPLETED, on_done, label + ".completed"));
      break;
    case Usage::RunningEpochWise:
      remember(engine, name, engine.on(Events::STARTED, on_reset, label + ".reset"));
      remember(engine, name, engine.on(Events::ITERATION_COMPLETED, on_update, label + ".update"));
      remember(engine, name, engine.on(Events::EPOCH_COMPLETED, on_done, label + ".completed"));
      break;
    case Usage::BatchWise:
      remember(engine, name, engine.on(Events::ITERATION_STARTED, on_reset, label + ".reset"));
      remember(engine, name,
               engine.on(Events::ITERATION_COMPLETED, on_update_and_done, label + ".update"));
      break;
    case Usage::RunningBatchWise:
      remember(engine, name, engine.on(Events::STARTED, on_reset, label + ".reset"));
      remember(engine, name,
               engine.on(Events::ITERATION_COMPLETED, on_update_and_done, label + ".update"));
      break;
  }
}

}  // namespace ignis::metrics

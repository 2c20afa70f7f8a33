// Optimizer and scheduler state dicts <-> safetensors files (see checkpoint.h).
#include "optim/checkpoint.h"

#include <utility>

#include "tensor/error.h"

namespace ignis::optim {

void save(const StateDict& state, const std::filesystem::path& path) {
  NamedTensors tensors(state.begin(), state.end());
  save_safetensors(path, tensors);
}

StateDict load_state(const std::filesystem::path& path) {
  SafetensorsFile file = load_safetensors(path);
  StateDict state;
  for (auto& [name, tensor] : file.tensors) {
    if (!state.emplace(name, std::move(tensor)).second) {
      throw ValueError("optim::load_state: " + path.string() + " holds \"" + name + "\" twice");
    }
  }
  return state;
}

void save(const Optimizer& optimizer, const std::filesystem::path& path) {
  save(optimizer.state_dict(), path);
}
void save(const LRScheduler& scheduler, const std::filesystem::path& path) {
  save(scheduler.state_dict(), path);
}
void save(const ReduceLROnPlateau& scheduler, const std::filesystem::path& path) {
  save(scheduler.state_dict(), path);
}

void load(Optimizer& optimizer, const std::filesystem::path& path) {
  optimizer.load_state_dict(load_state(path));
}
void load(LRScheduler& scheduler, const std::filesystem::path& path) {
  scheduler.load_state_dict(load_state(path));
}
void load(ReduceLROnPlateau& scheduler, const std::filesystem::path& path) {
  scheduler.load_state_dict(load_state(path));
}

}  // namespace ignis::optim

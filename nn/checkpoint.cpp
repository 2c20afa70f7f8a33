// Module state_dict <-> safetensors files (see checkpoint.h). Not the format: tensor/io/.
#include "nn/checkpoint.h"

#include <utility>

namespace ignis::nn {

void save(const Module& module, const std::filesystem::path& path,
          const SafetensorsMetadata& metadata) {
  save_safetensors(path, module.state_dict(), metadata);
}

SafetensorsMetadata load(Module& module, const std::filesystem::path& path, bool strict) {
  SafetensorsFile file = load_safetensors(path);
  module.load_state_dict(file.tensors, strict);
  return std::move(file.metadata);
}

}  // namespace ignis::nn

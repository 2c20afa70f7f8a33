// Model checkpoints: a module's state_dict() saved to and loaded from a safetensors file, the
// format PyTorch's safetensors.torch.save_file / load_file read and write. Not the file format
// itself (tensor/io/safetensors.h) nor optimizer state (optim/checkpoint.h).
#pragma once

#include <filesystem>

#include "nn/module.h"
#include "tensor/io/safetensors.h"

namespace ignis::nn {

// Writes module.state_dict() (names "0.weight", "1.running_mean", ... as PyTorch's) with
// `metadata` to `path` atomically: a reader sees the old file or the whole new one. A file
// saved from an ignis model loads into its PyTorch twin with load_state_dict(strict=True).
// Throws ValueError for a tensor named "__metadata__", IOError when the file cannot be written
// (the previous file is then left as it was).
void save(const Module& module, const std::filesystem::path& path,
          const SafetensorsMetadata& metadata = {});

// Reads `path` and copies its tensors into module (Module::load_state_dict, converting dtype
// and device); returns the file's metadata. Throws ParseError for a file that is not valid
// safetensors (naming the file), ValueError naming every missing or unexpected key (strict)
// and every shape mismatch; the module is unchanged on error.
SafetensorsMetadata load(Module& module, const std::filesystem::path& path, bool strict = true);

}  // namespace ignis::nn

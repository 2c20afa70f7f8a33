// Optimizer and learning-rate scheduler checkpoints: their flat state dicts (optimizer.h,
// lr_scheduler.h) saved to and loaded from safetensors files. Not the file format
// (tensor/io/safetensors.h) nor model weights (nn/checkpoint.h).
//
// The file holds the state dict's entries as they are: "state.<i>.exp_avg" tensors,
// "state.<i>.step" and hyper-parameters as 0-d float64, "param_groups.<g>.params" as int64.
#pragma once

#include <filesystem>

#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"
#include "tensor/io/safetensors.h"

namespace ignis::optim {

// Writes state (in name order) to `path` atomically. Throws IOError when the file cannot be
// written, the previous file being left as it was.
void save(const StateDict& state, const std::filesystem::path& path);
// The tensors of `path` as a state dict. Throws ParseError for an invalid file (naming it)
// and ValueError for a name that appears twice.
StateDict load_state(const std::filesystem::path& path);

// save(x.state_dict(), path).
void save(const Optimizer& optimizer, const std::filesystem::path& path);
void save(const LRScheduler& scheduler, const std::filesystem::path& path);
void save(const ReduceLROnPlateau& scheduler, const std::filesystem::path& path);

// x.load_state_dict(load_state(path)): throws as load_state, then as the load_state_dict of
// x (ValueError naming a missing or unknown key, ShapeError for a buffer of the wrong shape);
// the object is unchanged on error.
void load(Optimizer& optimizer, const std::filesystem::path& path);
void load(LRScheduler& scheduler, const std::filesystem::path& path);
void load(ReduceLROnPlateau& scheduler, const std::filesystem::path& path);

}  // namespace ignis::optim

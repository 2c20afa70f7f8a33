// Checkpoint (Ignite's handlers.Checkpoint + DiskSaver, which ModelCheckpoint combines): saves
// named objects to a directory at engine events, keeping the last or the best n_saved. Not a
// file format: each object is written by the save function it comes with (nn::save, ...).
//
//   engine::Checkpoint checkpoint(
//       {{"model", [&](const auto& path) { nn::save(model, path); }},
//        {"optimizer", [&](const auto& path) { optim::save(optimizer, path); }},
//        {"trainer", engine::engine_state_saver(trainer)}},
//       {.dirname = "checkpoints", .n_saved = 2});
//   trainer.on(engine::Events::EPOCH_COMPLETED(engine::every(2)), checkpoint);
//   ...
//   engine::Checkpoint::load_objects(
//       {{"model", [&](const auto& path) { nn::load(model, path); }},
//        {"trainer", engine::engine_state_loader(trainer)}},
//       *checkpoint.last_checkpoint());
//
// One checkpoint is one file per object, all named alike (see CheckpointOptions::
// filename_pattern), written atomically as a set: a checkpoint is all its files or none.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/engine.h"

namespace ignis::engine {

using SaveFunction = std::function<void(const std::filesystem::path&)>;
using LoadFunction = std::function<void(const std::filesystem::path&)>;

// One object to save: a function that writes it as one whole file at the path it is given,
// and that file's extension (without the dot). Made from a bare callable, ext is
// "safetensors" (what nn::save and optim::save write).
struct Saver {
  template <class F>
  requires std::is_invocable_v<F&, const std::filesystem::path&> Saver(
      F save_function, std::string extension = "safetensors")  // NOLINT: implicit on purpose
      : save(std::move(save_function)), ext(std::move(extension)) {}

  SaveFunction save;
  std::string ext;
};

struct CheckpointOptions {
  std::filesystem::path dirname{};  // where the files go
  std::string filename_prefix{};
  int64_t n_saved = 1;  // checkpoints kept on disk; 0 keeps them all
  // score(engine), higher is better: keeps the n_saved best instead of the n_saved last.
  // For a loss, return -loss.
  std::function<double(EngineBase&)> score_function{};
  std::string score_name{};  // shown in file names as "<score_name>=<score>"; needs score_function
  // The step shown in file names (default: state().iteration), e.g. the trainer's epoch when
  // the handler runs on an evaluator: global_step_from_engine(trainer).
  std::function<int64_t(EngineBase&)> global_step_transform{};
  // Empty: Ignite's default, "{filename_prefix}_{name}_{global_step}_{score_name}={score}.{ext}"
  // with the parts that do not apply left out (and their '_'):
  //   {filename_prefix}_    only with a prefix;
  //   _{global_step}        with a global_step_transform, or without a score_function;
  //   _{score_name}={score} with a score_name, _{score} with a score_function and no name.
  // A custom pattern may use any of those six fields: {global_step} is then always there
  // (state().iteration without a transform), {score} empty without a score_function.
  // {score} is printed with 4 decimals, as Ignite does.
  std::string filename_pattern{};
  bool require_empty = true;      // refuse a directory that already holds files with our exts
  bool create_dir = true;         // create dirname (and its parents) when it does not exist
  bool greater_or_equal = false;  // a score equal to the worst kept one replaces it
};

class Checkpoint {
 public:
  // One saved checkpoint.
  struct Item {
    double priority;  // its score, or its global step without a score_function
    std::map<std::string, std::filesystem::path> files;  // object name -> its file
  };

  // Checks the options and the directory. Throws std::invalid_argument for no object, an
  // empty name or one with a '/', a save function that is empty, n_saved < 0, a score_name
  // without score_function, or a filename_pattern with an unknown {field} or, for several
  // objects, without {name}; std::runtime_error naming the directory when it does not exist
  // and create_dir is false, cannot be created, or holds files with one of the objects'
  // extensions while require_empty is true.
  Checkpoint(std::map<std::string, Saver> to_save, CheckpointOptions options);

  // The handler: trainer.on(Events::EPOCH_COMPLETED(every(2)), checkpoint). Scores the engine
  // (or takes its global step) and, when fewer than n_saved checkpoints are kept or this one
  // beats the worst kept, writes every object to "<file>.tmp" in dirname, renames them all
  // into place, then deletes the files of the checkpoint it pushes out. A checkpoint whose
  // file names are those of one already kept is skipped (Ignite's rule).
  // If a save function throws or writes no file, every temporary file is removed, the kept
  // checkpoints are untouched, and std::runtime_error naming the object and the file is
  // thrown, with the save function's exception nested in it (std::rethrow_if_nested).
  // Throws std::invalid_argument for a NaN score.
  // Copies share one state: the copy the engine holds updates what saved() here shows.
  void operator()(EngineBase& engine);

  // The checkpoints on disk, worst first (ascending priority; ties in the order saved).
  const std::vector<Item>& saved() const;
  // The best checkpoint by score, or the latest without a score_function (Ignite's
  // last_checkpoint: the highest priority); nullopt before the first save.
  std::optional<Item> last_checkpoint() const;
  // Forgets the saved list (not the files), for a new run with the same handler.
  void reset();

  // Calls each loader with its object's file in `checkpoint`. Throws std::invalid_argument
  // naming an object that `checkpoint` does not hold; a loader's exceptions pass through.
  static void load_objects(const std::map<std::string, LoadFunction>& to_load,
                           const Item& checkpoint);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

// Ignite's name for a Checkpoint that saves to a directory: here every Checkpoint does.
using ModelCheckpoint = Checkpoint;

// A global_step_transform giving `engine`'s epoch, for a handler on another engine (Ignite's
// global_step_from_engine). NOTE: refers to `engine`, which must outlive the handler's use.
std::function<int64_t(EngineBase&)> global_step_from_engine(const EngineBase& engine);

// Writes engine.state_dict() as one JSON object of integers,
//   {"epoch": 2, "epoch_length": 5, "iteration": 10, "max_epochs": 3, "seed": 0}
// to "<path>.tmp", then renames it to path. Throws std::runtime_error naming the file.
void save_engine_state(const EngineBase& engine, const std::filesystem::path& path);
// Reads what save_engine_state wrote. Throws std::runtime_error naming the file when it
// cannot be read or is not a flat JSON object of integers.
std::map<std::string, int64_t> load_engine_state(const std::filesystem::path& path);
// engine.load_state_dict(load_engine_state(path)); throws as both.
void load_engine_state(EngineBase& engine, const std::filesystem::path& path);

// The Saver / loader of an engine's state for a Checkpoint ("json" files).
// NOTE: they refer to `engine`, which must outlive them.
Saver engine_state_saver(const EngineBase& engine);
LoadFunction engine_state_loader(EngineBase& engine);

}  // namespace ignis::engine

// The engine's state (Ignite's engine.state) and the default output of a process function.
// Plain data: the engine fills it in, handlers and metrics read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace ignis::engine {

// What the state of any engine holds, whatever its batch and output types.
struct State {
  int64_t epoch = 0;      // the epoch in progress, 1-based; 0 before the first EPOCH_STARTED
  int64_t iteration = 0;  // iterations done over the whole run, 1-based inside ITERATION_*
  std::optional<int64_t> epoch_length;  // iterations per epoch; unknown until the first epoch
                                        // ends for data with no size and no epoch_length
  int64_t max_epochs = 0;               // 0 before the first run
  uint64_t seed = 0;                    // for the user's loader and generators; saved in state_dict
  std::map<std::string, double> metrics;  // scalar results of attached metrics, by name
  // Seconds, keyed by event name as in Ignite: "EPOCH_COMPLETED" (the last epoch, handlers
  // included) and "COMPLETED" (the whole run).
  std::map<std::string, double> times;
};

// The state of an Engine<Batch, Output>: the base state plus the typed batch and output.
template <class Batch, class Output>
struct EngineState : State {
  std::optional<Batch> batch;  // the batch in process; empty before the first one
  Output output{};             // what the process function returned for the last batch
};

// The output most process functions return; T is the prediction type (a Tensor for ignis
// models). A trainer sets .loss, an evaluator .y_pred and .y:
//   return engine::Output{.loss = loss.item<float>()};        // Output<double>
//   return engine::Output{.y_pred = logits, .y = targets};    // Output<Tensor>
// Any default-constructible type works as an engine's output; this one is a convention that
// metrics understand.
template <class T = double>
struct Output {
  double loss = 0.0;
  T y_pred{};
  T y{};
};

}  // namespace ignis::engine

// EarlyStopping (Ignite's handlers.EarlyStopping): stops the trainer when a score has not
// improved for `patience` evaluations. Not a checkpointer: it keeps no weights.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/engine.h"

namespace ignis::engine {

class EarlyStopping {
 public:
  // score(engine): higher is better (return -loss for a loss). A score counts as an
  // improvement when it exceeds best + min_delta. With cumulative_delta, best is only updated
  // by improvements, so small gains add up against min_delta; without it, any higher score
  // becomes the best even when it is no improvement (Ignite's rule).
  // Throws std::invalid_argument if patience < 1 or min_delta < 0.
  EarlyStopping(int64_t patience, std::function<double(EngineBase&)> score, EngineBase& trainer,
                double min_delta = 0.0, bool cumulative_delta = false);

  // Scores `engine` (usually the evaluator, at its COMPLETED); after `patience` evaluations
  // without improvement calls trainer.terminate().
  void operator()(EngineBase& engine);
  // evaluator.on(event, *this) without the copy.
  // NOTE: the handler refers to this object: it must outlive the engine's runs.
  RemovableHandle attach(EngineBase& evaluator, const EventsList& event = Events::COMPLETED);

  int64_t counter() const { return counter_; }
  std::optional<double> best_score() const { return best_score_; }

  // {"counter", "best_score"} (best_score absent before the first call), for checkpoints.
  std::map<std::string, double> state_dict() const;
  void load_state_dict(const std::map<std::string, double>& dict);

 private:
  int64_t patience_;
  std::function<double(EngineBase&)> score_;
  EngineBase& trainer_;
  double min_delta_;
  bool cumulative_delta_;
  int64_t counter_ = 0;
  std::optional<double> best_score_;
};

}  // namespace ignis::engine

// EarlyStopping: patience counting over evaluation scores, as in Ignite. Not a checkpointer.
#include "engine/handlers/early_stopping.h"

#include <stdexcept>

namespace ignis::engine {

EarlyStopping::EarlyStopping(int64_t patience, std::function<double(EngineBase&)> score,
                             EngineBase& trainer, double min_delta, bool cumulative_delta)
    : patience_(patience),
      score_(std::move(score)),
      trainer_(trainer),
      min_delta_(min_delta),
      cumulative_delta_(cumulative_delta) {
  if (patience < 1) {
    throw std::invalid_argument("EarlyStopping: patience must be >= 1, got " +
                                std::to_string(patience));
  }
  if (min_delta < 0.0) {
    throw std::invalid_argument("EarlyStopping: min_delta must be >= 0, got " +
                                std::to_string(min_delta));
  }
  if (!score_) throw std::invalid_argument("EarlyStopping: no score function");
}

void EarlyStopping::operator()(EngineBase& engine) {
  const double score = score_(engine);
  if (!best_score_) {
    best_score_ = score;
  } else if (score <= *best_score_ + min_delta_) {
    if (!cumulative_delta_ && score > *best_score_) best_score_ = score;
    ++counter_;
    if (counter_ >= patience_) trainer_.terminate();
  } else {
    best_score_ = score;
    counter_ = 0;
  }
}

RemovableHandle EarlyStopping::attach(EngineBase& evaluator, const EventsList& event) {
  return evaluator.on(event, [this](EngineBase& e) { (*this)(e); }, "EarlyStopping");
}

std::map<std::string, double> EarlyStopping::state_dict() const {
  std::map<std::string, double> dict = {{"counter", static_cast<double>(counter_)}};
  if (best_score_) dict["best_score"] = *best_score_;
  return dict;
}

void EarlyStopping::load_state_dict(const std::map<std::string, double>& dict) {
  auto counter = dict.find("counter");
  if (counter == dict.end()) {
    throw std::invalid_argument("EarlyStopping::load_state_dict: missing 'counter'");
  }
  counter_ = static_cast<int64_t>(counter->second);
  auto best = dict.find("best_score");
  best_score_ = best == dict.end() ? std::nullopt : std::optional<double>(best->second);
}

}  // namespace ignis::engine

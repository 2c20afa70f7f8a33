// Timer (Ignite's handlers.Timer): measures the time between engine events, e.g. the average
// time per iteration. Not a profiler: it reads a clock when handlers fire, nothing finer.
#pragma once

#include <functional>
#include <optional>

#include "engine/engine.h"

namespace ignis::engine {

class Timer {
 public:
  // average: value() divides the total by the number of step() calls. clock: seconds from
  // any origin; default a steady clock (tests pass their own).
  explicit Timer(bool average = false, std::function<double()> clock = {});

  // reset() on `start`, pause() on `pause`, resume() on `resume`, step() on `step` (the last
  // two optional). Average time per iteration:
  //   timer.attach(trainer, Events::EPOCH_STARTED, Events::EPOCH_COMPLETED,
  //                Events::ITERATION_STARTED, Events::ITERATION_COMPLETED);
  // with pause also on ITERATION_COMPLETED to time only the process function.
  // NOTE: the handlers refer to this Timer: it must outlive the engine's runs.
  void attach(EngineBase& engine, const EventsList& start = Events::STARTED,
              const EventsList& pause = Events::COMPLETED,
              std::optional<EventsList> resume = std::nullopt,
              std::optional<EventsList> step = std::nullopt);

  void reset();   // total = 0, steps = 0, running
  void pause();   // stop counting (no effect when paused)
  void resume();  // count again (no effect when running)
  void step();    // one more step for the average
  // Seconds counted (running time included), divided by max(steps, 1) when averaging.
  double value() const;

 private:
  double elapsed() const;

  bool average_;
  std::function<double()> clock_;
  double t0_ = 0.0;
  double total_ = 0.0;
  double steps_ = 0.0;
  bool running_ = true;
};

}  // namespace ignis::engine

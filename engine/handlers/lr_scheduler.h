// LR-scheduler handler: calls a scheduler's step() on an engine event. Knows no optimizer:
// anything with step() works (optim's schedulers, or a lambda-holding struct).
#pragma once

#include "engine/engine.h"

namespace ignis::engine {

template <class Scheduler>
concept SteppableScheduler = requires(Scheduler& scheduler) {
  scheduler.step();
};

// scheduler.step() at every `event` (default: each EPOCH_COMPLETED, PyTorch's per-epoch
// schedulers; use Events::ITERATION_COMPLETED for per-iteration ones).
// NOTE: the handler refers to `scheduler`: it must outlive the engine's runs.
template <SteppableScheduler Scheduler>
RemovableHandle attach_lr_scheduler(EngineBase& engine, Scheduler& scheduler,
                                    const EventsList& event = Events::EPOCH_COMPLETED) {
  return engine.on(event, [&scheduler] { scheduler.step(); }, "LRScheduler");
}

}  // namespace ignis::engine

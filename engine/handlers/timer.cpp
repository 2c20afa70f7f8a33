// Timer: a pausable stopwatch driven by engine events. Not a profiler.
#include "engine/handlers/timer.h"

#include <algorithm>
#include <chrono>

namespace ignis::engine {

Timer::Timer(bool average, std::function<double()> clock)
    : average_(average), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      using Clock = std::chrono::steady_clock;
      return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
    };
  }
  reset();
}

void Timer::attach(EngineBase& engine, const EventsList& start, const EventsList& pause,
                   std::optional<EventsList> resume, std::optional<EventsList> step) {
  engine.on(start, [this] { reset(); }, "Timer.reset");
  engine.on(pause, [this] { this->pause(); }, "Timer.pause");
  if (resume)
    engine.on(*resume, [this] { this->resume(); }, "Timer.resume");
  if (step)
    engine.on(*step, [this] { this->step(); }, "Timer.step");
}

void Timer::reset() {
  t0_ = clock_();
  total_ = 0.0;
  steps_ = 0.0;
  running_ = true;
}

void Timer::pause() {
  if (!running_) return;
  total_ += elapsed();
  running_ = false;
}

void Timer::resume() {
  if (running_) return;
  running_ = true;
  t0_ = clock_();
}

void Timer::step() { steps_ += 1.0; }

double Timer::value() const {
  double total = total_;
  if (running_) total += elapsed();
  return total / (average_ ? std::max(steps_, 1.0) : 1.0);
}

double Timer::elapsed() const { return clock_() - t0_; }

}  // namespace ignis::engine

// TerminateOnNan (Ignite's handlers.TerminateOnNan): stops the run when the process function
// returns a NaN or infinite value. Not a NaN finder: it sees only one chosen number.
#pragma once

#include <cmath>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "engine/engine.h"

namespace ignis::engine {

class TerminateOnNan {
 public:
  // Adds an ITERATION_COMPLETED handler that calls engine.terminate() when
  // transform(state().output) is not finite. The default transform reads the output itself
  // when it is a number, and output.loss when it has one; for other outputs a transform is
  // needed (else std::invalid_argument).
  // Afterwards, triggered() says whether it stopped the run.
  // NOTE: the handler refers to this object: it must outlive the engine's runs.
  template <class Batch, class Output>
  RemovableHandle attach(
      Engine<Batch, Output>& engine,
      std::type_identity_t<std::function<double(const Output&)>> transform = {}) {
    if (!transform) transform = default_transform<Output>();
    if (!transform) {
      throw std::invalid_argument(
          "TerminateOnNan::attach: the output is not a number and has no .loss: pass a transform");
    }
    return engine.on(
        Events::ITERATION_COMPLETED,
        [this, transform](Engine<Batch, Output>& e) {
          if (!std::isfinite(transform(e.state().output))) {
            triggered_ = true;
            e.terminate();
          }
        },
        "TerminateOnNan");
  }

  bool triggered() const { return triggered_; }

 private:
  // Empty when the output is neither a number nor has a .loss.
  template <class Output>
  static std::function<double(const Output&)> default_transform() {
    if constexpr (std::is_arithmetic_v<Output>) {
      return [](const Output& out) { return static_cast<double>(out); };
    } else if constexpr (requires(const Output& out) { static_cast<double>(out.loss); }) {
      return [](const Output& out) { return static_cast<double>(out.loss); };
    } else {
      return {};
    }
  }

  bool triggered_ = false;
};

}  // namespace ignis::engine

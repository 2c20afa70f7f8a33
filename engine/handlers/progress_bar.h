// ProgressBar: one updating line per epoch on a terminal (epoch, iteration/total, it/s, ETA,
// running loss, chosen metrics); off a terminal, a plain line every few percent, the epoch's
// last one (with the metrics) at EPOCH_COMPLETED. Not a logger.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/engine.h"

namespace ignis::engine {

struct ProgressBarOptions {
  std::ostream* stream = nullptr;  // nullptr: std::cerr
  // Whether to redraw one line with '\r'. Default: when the stream is std::cerr or std::cout
  // and that is a terminal.
  std::optional<bool> tty{};
  int percent_step = 10;                    // off a terminal: a line every percent_step percent
  std::vector<std::string> metric_names{};  // state().metrics shown after the loss, when present
  double loss_smoothing = 0.98;     // running loss = a * previous + (1 - a) * new (Ignite's alpha)
  std::function<double()> clock{};  // seconds; default a steady clock (tests pass their own)
};

class ProgressBar {
 public:
  // Throws std::invalid_argument if percent_step is not in [1, 100] or loss_smoothing not in
  // [0, 1).
  explicit ProgressBar(ProgressBarOptions options = {});

  // Shows engine's progress. loss maps the output to the number shown as "loss" (running
  // average); default: output.loss when the output has one, the output when it is a number,
  // else no loss.
  // NOTE: the handlers refer to this object: it must outlive the engine's runs.
  template <class Batch, class Output>
  void attach(Engine<Batch, Output>& engine,
              std::type_identity_t<std::function<double(const Output&)>> loss = {}) {
    if (!loss) {
      if constexpr (requires(const Output& out) { static_cast<double>(out.loss); }) {
        loss = [](const Output& out) { return static_cast<double>(out.loss); };
      } else if constexpr (std::is_arithmetic_v<Output>) {
        loss = [](const Output& out) { return static_cast<double>(out); };
      }
    }
    engine.on(
        Events::EPOCH_STARTED, [this](EngineBase& e) { epoch_started(e.state()); }, "ProgressBar");
    engine.on(
        Events::ITERATION_COMPLETED,
        [this, loss](Engine<Batch, Output>& e) {
          std::optional<double> value;
          if (loss) value = loss(e.state().output);
          iteration_completed(e.state(), value);
        },
        "ProgressBar");
    engine.on(
        Events::EPOCH_COMPLETED | Events::TERMINATE,
        [this](EngineBase& e) { epoch_completed(e.state()); }, "ProgressBar");
  }

  // The steps attach() wires, public for engines whose output the bar cannot read.
  void epoch_started(const State& state);
  void iteration_completed(const State& state, std::optional<double> loss);
  // The epoch's last line, with the metrics; also at TERMINATE for a cut epoch (once).
  void epoch_completed(const State& state);

 private:
  // "Epoch [2/5] 30/100 [30%] 12.5 it/s ETA 0:06 loss=0.1234 accuracy=0.9".
  std::string line(const State& state, bool with_metrics) const;
  int64_t done_in_epoch(const State& state) const;

  ProgressBarOptions options_;
  std::ostream* out_;
  bool tty_;
  double epoch_start_time_ = 0.0;
  int64_t epoch_start_iteration_ = 0;
  std::optional<double> running_loss_;
  int64_t last_bucket_ = 0;       // off a terminal: the last percent_step bucket printed
  double last_draw_time_ = -1.0;  // on a terminal: when the line was last redrawn
  bool epoch_open_ = false;       // between EPOCH_STARTED and the epoch's last line
};

}  // namespace ignis::engine

// ProgressBar: the line's text and when to print it. Not a logger: nothing is kept.
#include "engine/handlers/progress_bar.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <stdexcept>

namespace ignis::engine {

namespace {

// On a terminal the line is redrawn at most this often (the last iteration always).
constexpr double kRedrawSeconds = 0.1;

std::string format_number(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(seconds));
  char buffer[64];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld",
                  static_cast<long long>(total / 3600), static_cast<long long>(total / 60 % 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  }
  return buffer;
}

bool stream_is_tty(const std::ostream* stream) {
  if (stream == &std::cerr || stream == &std::clog) return isatty(STDERR_FILENO) == 1;
  if (stream == &std::cout) return isatty(STDOUT_FILENO) == 1;
  return false;
}

}  // namespace

ProgressBar::ProgressBar(ProgressBarOptions options)
    : options_(std::move(options)),
      out_(options_.stream ? options_.stream : &std::cerr),
      tty_(options_.tty.value_or(stream_is_tty(out_))) {
  if (options_.percent_step < 1 || options_.percent_step > 100) {
    throw std::invalid_argument("ProgressBar: percent_step must be in [1, 100], got " +
                                std::to_string(options_.percent_step));
  }
  if (!(options_.loss_smoothing >= 0.0 && options_.loss_smoothing < 1.0)) {
    throw std::invalid_argument("ProgressBar: loss_smoothing must be in [0, 1), got " +
                                std::to_string(options_.loss_smoothing));
  }
  if (!options_.clock) {
    options_.clock = [] {
      using Clock = std::chrono::steady_clock;
      return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
    };
  }
}

void ProgressBar::epoch_started(const State& state) {
  epoch_start_time_ = options_.clock();
  epoch_start_iteration_ = state.iteration;
  last_bucket_ = 0;
  last_draw_time_ = -1.0;
  epoch_open_ = true;
}

// Iterations done in this epoch; with a known epoch length this also holds for an epoch
// resumed in its middle.
int64_t ProgressBar::done_in_epoch(const State& state) const {
  if (state.epoch_length && state.iteration > 0)
    return (state.iteration - 1) % *state.epoch_length + 1;
  return state.iteration - epoch_start_iteration_;
}

void ProgressBar::iteration_completed(const State& state, std::optional<double> loss) {
  if (loss) {
    const double a = options_.loss_smoothing;
    running_loss_ = running_loss_ ? a * *running_loss_ + (1.0 - a) * *loss : *loss;
  }
  const int64_t done = done_in_epoch(state);
  if (tty_) {
    const double now = options_.clock();
    const bool last = state.epoch_length && done == *state.epoch_length;
    if (last || last_draw_time_ < 0.0 || now - last_draw_time_ >= kRedrawSeconds) {
      *out_ << '\r' << line(state, false) << "\x1b[K" << std::flush;
      last_draw_time_ = now;
    }
    return;
  }
  // The last line waits for EPOCH_COMPLETED, where the metrics are known.
  if (!state.epoch_length || done == *state.epoch_length) return;
  const int64_t bucket = done * 100 / *state.epoch_length / options_.percent_step;
  if (bucket > last_bucket_) {
    *out_ << line(state, false) << '\n';
    last_bucket_ = bucket;
  }
}

void ProgressBar::epoch_completed(const State& state) {
  if (!epoch_open_) return;
  epoch_open_ = false;
  if (tty_) {
    *out_ << '\r' << line(state, true) << "\x1b[K\n" << std::flush;
  } else {
    *out_ << line(state, true) << '\n';
  }
  running_loss_.reset();
}

std::string ProgressBar::line(const State& state, bool with_metrics) const {
  const int64_t done = done_in_epoch(state);
  std::string text = "Epoch [" + std::to_string(state.epoch) + "/" +
                     std::to_string(state.max_epochs) + "] " + std::to_string(done) + "/";
  text += state.epoch_length ? std::to_string(*state.epoch_length) : "?";
  if (state.epoch_length) {
    text += " [" + std::to_string(done * 100 / *state.epoch_length) + "%]";
  }
  const double elapsed = options_.clock() - epoch_start_time_;
  const int64_t done_here = state.iteration - epoch_start_iteration_;
  if (elapsed > 0.0 && done_here > 0) {
    const double rate = static_cast<double>(done_here) / elapsed;
    text += " " + format_number("%.1f", rate) + " it/s";
    if (state.epoch_length) {
      text += " ETA " + format_duration(static_cast<double>(*state.epoch_length - done) / rate);
    }
  }
  if (running_loss_) text += " loss=" + format_number("%.4g", *running_loss_);
  if (with_metrics) {
    for (const std::string& name : options_.metric_names) {
      auto found = state.metrics.find(name);
      if (found != state.metrics.end())
        text += " " + name + "=" + format_number("%.4g", found->second);
    }
  }
  return text;
}

}  // namespace ignis::engine

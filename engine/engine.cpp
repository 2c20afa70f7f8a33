// EngineBase: handler registry, event firing, the run loop (a coroutine so interrupt() can
// suspend it) and state_dict. Not the typed batch / output handling: see Engine in engine.h.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string_view>

namespace ignis::engine {

namespace detail {

struct HandlerEntry {
  uint64_t id;
  std::optional<EventFilter> filter;
  std::function<void(EngineBase&)> fn;
  std::string name;
  bool removed = false;
};

// Handlers by event name; an event is registered when it has an entry here.
struct HandlerRegistry {
  std::map<std::string, std::vector<std::shared_ptr<HandlerEntry>>, std::less<>> handlers;
  uint64_t next_id = 1;
};

}  // namespace detail

namespace {

// Thrown by check_point; caught by the run loop, never seen by users (as in Ignite 0.5).
struct TerminateSignal {};
struct TerminateEpochSignal {};

double now_seconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

}  // namespace

void RemovableHandle::remove() {
  auto registry = registry_.lock();
  if (!registry) return;
  for (const auto& [event, id] : entries_) {
    auto found = registry->handlers.find(event);
    if (found == registry->handlers.end()) continue;
    auto& list = found->second;
    for (auto& entry : list) {
      if (entry->id == id) entry->removed = true;
    }
    std::erase_if(list, [id](const auto& entry) { return entry->id == id; });
  }
  entries_.clear();
}

EngineBase::EngineBase() : registry_(std::make_shared<detail::HandlerRegistry>()) {
  for (Event event : builtin_events()) registry_->handlers[std::string(event.name())];
  if (const char* trace = std::getenv("IGNIS_TRACE_EVENTS");
      trace && std::string_view(trace) == "1") {
    tracer_ = &std::cerr;
  }
}

EngineBase::~EngineBase() {
  if (run_) run_.destroy();
}

RemovableHandle EngineBase::add_handler(const EventsList& events,
                                        std::function<void(EngineBase&)> fn, std::string name) {
  RemovableHandle handle;
  handle.registry_ = registry_;
  for (const FilteredEvent& event : events.events()) {
    auto found = registry_->handlers.find(event.event().name());
    if (found == registry_->handlers.end()) {
      throw std::invalid_argument("Engine::on: unknown event '" +
                                  std::string(event.event().name()) +
                                  "': register it first with register_events");
    }
    const uint64_t id = registry_->next_id++;
    found->second.push_back(
        std::make_shared<detail::HandlerEntry>(detail::HandlerEntry{id, event.filter(), fn, name}));
    handle.entries_.emplace_back(found->first, id);
  }
  return handle;
}

void EngineBase::register_events(std::initializer_list<Event> events) {
  for (Event event : events) registry_->handlers[std::string(event.name())];
}

void EngineBase::fire_event(Event event) {
  if (!registry_->handlers.contains(event.name())) {
    throw std::invalid_argument("Engine::fire_event: unknown event '" + std::string(event.name()) +
                                "': register it first with register_events");
  }
  fire(event);
}

bool EngineBase::has_event_handler(const RemovableHandle& handle, Event event) const {
  auto found = registry_->handlers.find(event.name());
  if (found == registry_->handlers.end()) return false;
  for (const auto& [name, id] : handle.entries_) {
    if (name != event.name()) continue;
    for (const auto& entry : found->second) {
      if (entry->id == id) return true;
    }
  }
  return false;
}

bool EngineBase::has_event_handler(Event event) const {
  auto found = registry_->handlers.find(event.name());
  return found != registry_->handlers.end() && !found->second.empty();
}

void EngineBase::terminate(bool skip_completed) {
  should_terminate_ = true;
  skip_completed_ = skip_completed;
}

void EngineBase::terminate_epoch() { should_terminate_epoch_ = true; }

void EngineBase::interrupt() { should_interrupt_ = true; }

int64_t EngineBase::event_count(Event event) const {
  switch (event_counter(event)) {
    case EventCounter::kIteration:
      return state().iteration;
    case EventCounter::kEpoch:
      return state().epoch;
    case EventCounter::kFirings:
      break;
  }
  auto found = firings_.find(event.name());
  return found == firings_.end() ? 0 : found->second;
}

void EngineBase::fire(Event event) {
  if (event_counter(event) == EventCounter::kFirings) {
    auto found = firings_.find(event.name());
    if (found == firings_.end()) found = firings_.emplace(std::string(event.name()), 0).first;
    ++found->second;
  }
  auto found = registry_->handlers.find(event.name());
  if (found == registry_->handlers.end() || found->second.empty()) return;
  // A copy: handlers may add or remove handlers of this very event.
  const std::vector<std::shared_ptr<detail::HandlerEntry>> entries = found->second;
  const int64_t count = event_count(event);
  int position = 0;
  for (const auto& entry : entries) {
    ++position;
    if (entry->removed) continue;
    if (entry->filter && !(*entry->filter)(*this, count)) continue;
    if (tracer_) {
      *tracer_ << "[epoch " << state().epoch << " iter " << state().iteration << "] "
               << event.name() << " -> handler #" << position;
      if (!entry->name.empty()) *tracer_ << " (" << entry->name << ")";
      if (entry->filter) *tracer_ << " [" << entry->filter->description() << "]";
      *tracer_ << '\n';
    }
    entry->fn(*this);
  }
}

void EngineBase::handle_exception(std::exception_ptr error) {
  if (!has_event_handler(Events::EXCEPTION_RAISED)) {
    exception_escaped_ = true;
    std::rethrow_exception(error);
  }
  exception_ = error;
  try {
    fire(Events::EXCEPTION_RAISED);
  } catch (...) {
    exception_ = nullptr;
    exception_escaped_ = true;
    throw;
  }
  exception_ = nullptr;
}

bool EngineBase::is_done() const {
  const State& s = state();
  if (s.epoch_length && s.max_epochs > 0 && s.iteration >= *s.epoch_length * s.max_epochs) {
    return true;
  }
  return s.max_epochs > 0 && s.epoch >= s.max_epochs;
}

bool EngineBase::check_point(bool in_epoch) {
  if (should_terminate_) throw TerminateSignal{};
  if (should_terminate_epoch_) {
    should_terminate_epoch_ = false;
    if (in_epoch) throw TerminateEpochSignal{};
  }
  if (should_interrupt_) {
    fire(Events::INTERRUPT);
    should_interrupt_ = false;
    return true;
  }
  return false;
}

bool EngineBase::next_batch() {
  if (!fetch_batch()) return false;
  ++batches_from_iter_;
  return true;
}

// Starts the data for the current epoch and returns how many of its iterations are done: 0,
// except when going on from a state (terminate, load_state_dict) in the middle of an epoch,
// where it skips the batches already processed.
int64_t EngineBase::setup_data_iter() {
  restart_data_iter();
  batches_from_iter_ = 0;
  data_iter_ready_ = true;
  const State& s = state();
  if (!resume_pending_ || !s.epoch_length) return 0;
  resume_pending_ = false;
  const int64_t done_in_epoch = s.iteration % *s.epoch_length;
  const int64_t skip = data_length_ ? s.iteration % *data_length_ : done_in_epoch;
  for (int64_t i = 0; i < skip; ++i) {
    if (!next_batch()) break;
  }
  return done_in_epoch;
}

detail::RunTask EngineBase::run_as_gen() {
  should_terminate_ = skip_completed_ = should_terminate_epoch_ = should_interrupt_ = false;
  exception_escaped_ = ended_by_terminate_ = false;
  firings_.clear();
  State& s = state();
  s.times["EPOCH_COMPLETED"] = 0.0;
  s.times["COMPLETED"] = 0.0;
  try {
    const double run_start = now_seconds();
    try {
      fire(Events::STARTED);
      if (check_point(false)) co_yield 0;

      while (!is_done() && !should_terminate_) {
        ++s.epoch;
        double start = now_seconds();
        double epoch_time = 0.0;
        int64_t iter_counter = 0;
        try {
          fire(Events::EPOCH_STARTED);
          epoch_time = now_seconds() - start;
          if (check_point(true)) co_yield 0;
          start = now_seconds();
          if (!data_iter_ready_) iter_counter = setup_data_iter();
          bool should_exit = false;
          bool after_stop = false;  // the data just restarted: GET_BATCH_STARTED already fired
          while (true) {
            if (!after_stop) {
              fire(Events::GET_BATCH_STARTED);
              if (check_point(true)) co_yield 0;
            }
            if (!next_batch()) {
              if (!s.epoch_length) {
                if (iter_counter == 0) {
                  throw std::invalid_argument("Engine::run: the data gave no batch");
                }
                s.epoch_length = iter_counter;
                data_length_ = iter_counter;
                reset_data_iter();
                break;
              }
              if (should_exit) {
                should_terminate_ = true;  // the data gives nothing even after a restart
                break;
              }
              fire(Events::DATALOADER_STOP_ITERATION);
              if (check_point(true)) co_yield 0;
              restart_data_iter();
              batches_from_iter_ = 0;
              should_exit = true;
              after_stop = true;
              continue;
            }
            fire(Events::GET_BATCH_COMPLETED);
            if (check_point(true)) co_yield 0;
            ++iter_counter;
            should_exit = after_stop = false;

            ++s.iteration;
            fire(Events::ITERATION_STARTED);
            if (check_point(true)) co_yield 0;
            process_batch();
            fire(Events::ITERATION_COMPLETED);
            if (check_point(true)) co_yield 0;

            if (s.epoch_length && iter_counter == *s.epoch_length) {
              // One epoch is one pass: the next epoch begins the data again, with no
              // DATALOADER_STOP_ITERATION.
              if (data_length_ == s.epoch_length && batches_from_iter_ == *data_length_) {
                reset_data_iter();
              }
              break;
            }
          }
        } catch (const TerminateEpochSignal&) {
          fire(Events::TERMINATE_SINGLE_EPOCH);
          reset_data_iter();
        } catch (const TerminateSignal&) {
          throw;
        } catch (...) {
          if (exception_escaped_) throw;
          reset_data_iter();
          handle_exception(std::current_exception());
        }
        epoch_time += now_seconds() - start;
        s.times["EPOCH_COMPLETED"] = epoch_time;
        start = now_seconds();
        fire(Events::EPOCH_COMPLETED);
        s.times["EPOCH_COMPLETED"] = epoch_time + (now_seconds() - start);
        if (check_point(false)) co_yield 0;
      }
    } catch (const TerminateSignal&) {
      ended_by_terminate_ = true;
      fire(Events::TERMINATE);
    }
    s.times["COMPLETED"] = now_seconds() - run_start;
    if (!skip_completed_) {
      fire(Events::COMPLETED);
      s.times["COMPLETED"] = now_seconds() - run_start;
    }
  } catch (...) {
    reset_data_iter();
    if (exception_escaped_) throw;
    handle_exception(std::current_exception());
  }
  reset_data_iter();
}

void EngineBase::run_loop(std::optional<int64_t> max_epochs, std::optional<int64_t> epoch_length,
                          std::optional<int64_t> data_length) {
  State& s = state();
  if (max_epochs && *max_epochs < 1) {
    throw std::invalid_argument("Engine::run: max_epochs must be >= 1, got " +
                                std::to_string(*max_epochs));
  }
  if (epoch_length && *epoch_length < 1) {
    throw std::invalid_argument("Engine::run: epoch_length must be >= 1, got " +
                                std::to_string(*epoch_length));
  }
  if (data_length && *data_length < 1) {
    throw std::invalid_argument("Engine::run: the data is empty");
  }
  data_length_ = data_length;
  // Ignite's order: a given max_epochs / epoch_length first overrides a defined state, then a
  // state with nothing left to run (and no interrupted run) starts over.
  if (s.max_epochs > 0) {
    if (max_epochs) {
      if (*max_epochs < s.epoch) {
        throw std::invalid_argument("Engine::run: max_epochs (" + std::to_string(*max_epochs) +
                                    ") is below the epoch reached (" + std::to_string(s.epoch) +
                                    "); set state().max_epochs = 0 to start over");
      }
      s.max_epochs = *max_epochs;
    }
    if (epoch_length && s.epoch_length && *epoch_length != *s.epoch_length) {
      throw std::invalid_argument("Engine::run: epoch_length (" + std::to_string(*epoch_length) +
                                  ") differs from the state's (" + std::to_string(*s.epoch_length) +
                                  ")");
    }
  }
  // A run cut by terminate() inside its last epoch has iterations left: it goes on.
  const bool iterations_left =
      ended_by_terminate_ && s.epoch_length && s.iteration < *s.epoch_length * s.max_epochs;
  if (s.max_epochs == 0 || (is_done() && !run_ && !iterations_left)) {
    resume_pending_ = false;
    s.iteration = 0;
    s.epoch = 0;
    s.max_epochs = max_epochs.value_or(1);
    s.epoch_length = epoch_length ? epoch_length : data_length;
    reset_data_iter();
  } else if (!run_) {
    // Going on after terminate() or load_state_dict: the epoch in progress is the one after
    // the completed ones, so a cut epoch is run again from its next iteration.
    if (!s.epoch_length) s.epoch_length = epoch_length ? epoch_length : data_length;
    if (s.epoch_length) s.epoch = s.iteration / *s.epoch_length;
    resume_pending_ = true;
  }
  if (!run_) run_ = run_as_gen().handle;
  run_.resume();
  if (run_.done()) {
    std::exception_ptr error = run_.promise().error;
    run_.destroy();
    run_ = {};
    if (error) std::rethrow_exception(error);
  }
}

std::map<std::string, int64_t> EngineBase::state_dict() const {
  const State& s = state();
  std::map<std::string, int64_t> dict = {{"epoch", s.epoch},
                                         {"iteration", s.iteration},
                                         {"max_epochs", s.max_epochs},
                                         {"seed", static_cast<int64_t>(s.seed)}};
  if (s.epoch_length) dict["epoch_length"] = *s.epoch_length;
  return dict;
}

void EngineBase::load_state_dict(const std::map<std::string, int64_t>& dict) {
  auto get = [&dict](const char* key) -> std::optional<int64_t> {
    auto found = dict.find(key);
    if (found == dict.end()) return std::nullopt;
    if (found->second < 0) {
      throw std::invalid_argument(std::string("Engine::load_state_dict: '") + key +
                                  "' is negative: " + std::to_string(found->second));
    }
    return found->second;
  };
  auto require = [&get](const char* key) {
    std::optional<int64_t> value = get(key);
    if (!value) {
      throw std::invalid_argument(std::string("Engine::load_state_dict: missing '") + key + "'");
    }
    return *value;
  };
  State& s = state();
  const int64_t iteration = require("iteration");
  const int64_t max_epochs = require("max_epochs");
  const std::optional<int64_t> epoch_length = get("epoch_length");
  if (epoch_length && *epoch_length < 1) {
    throw std::invalid_argument("Engine::load_state_dict: 'epoch_length' must be >= 1, got " +
                                std::to_string(*epoch_length));
  }
  const int64_t epoch = epoch_length ? iteration / *epoch_length : require("epoch");
  s.iteration = iteration;
  s.max_epochs = max_epochs;
  s.epoch_length = epoch_length;
  s.epoch = epoch;
  if (std::optional<int64_t> seed = get("seed")) s.seed = static_cast<uint64_t>(*seed);
  if (run_) run_.destroy();
  run_ = {};
  reset_data_iter();
  resume_pending_ = true;
}

}  // namespace ignis::engine

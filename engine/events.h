// The engine's events (Ignite's Events), event filters (every, once, before, after, a predicate)
// and event lists (a | b). Only names and predicates: firing them is EngineBase's job (engine.h).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ignis::engine {

class EngineBase;
class FilteredEvent;

// A filter decides, each time its event fires, whether the handler runs. It sees the engine
// and the event's count: state().iteration for ITERATION_* and GET_BATCH_*, state().epoch for
// EPOCH_*, STARTED and COMPLETED, and the number of firings in this run for the other events
// (user events included).
class EventFilter {
 public:
  using Predicate = std::function<bool(EngineBase&, int64_t)>;

  // Any callable (EngineBase&, int64_t event_count) -> bool.
  template <class F>
  requires std::is_invocable_r_v<bool, F&, EngineBase&, int64_t> EventFilter(
      F predicate, std::string description = "custom filter")  // NOLINT: implicit on purpose
      : predicate_(std::move(predicate)), description_(std::move(description)) {}

  bool operator()(EngineBase& engine, int64_t event_count) const {
    return predicate_(engine, event_count);
  }
  // For the event tracer: "every(100)", "once(5)", "every(2) & after(3)".
  const std::string& description() const { return description_; }

  // Both filters must pass: every(2) & after(10).
  friend EventFilter operator&(EventFilter a, EventFilter b);

 private:
  Predicate predicate_;
  std::string description_;
};

EventFilter operator&(EventFilter a, EventFilter b);

// Ignite's filters. every(n): count % n == 0. once(n): count == n. once({a, b}): count is one
// of them. before(n): count < n. after(n): count > n. Throw std::invalid_argument if n < 1
// (every) or n < 0 (the others).
EventFilter every(int64_t n);
EventFilter once(int64_t n);
EventFilter once(std::initializer_list<int64_t> counts);
EventFilter before(int64_t n);
EventFilter after(int64_t n);

// An event is its name. The built-in ones are the constants of Events; a user event is
// `constexpr engine::Event kBackwardStarted{"BACKWARD_STARTED"};`, registered on an engine
// with register_events before handlers are added or it is fired.
// NOTE: the name is a string_view: make it a string literal (or outlive every use).
class Event {
 public:
  constexpr explicit Event(std::string_view name) : name_(name) {}
  constexpr std::string_view name() const { return name_; }

  // Events::ITERATION_COMPLETED(every(100)): the same event, with a filter.
  FilteredEvent operator()(EventFilter filter) const;

  friend constexpr bool operator==(const Event&, const Event&) = default;

 private:
  std::string_view name_;
};

// An event and an optional filter: what one handler registration listens to.
class FilteredEvent {
 public:
  FilteredEvent(Event event) : event_(event) {}  // NOLINT: implicit on purpose
  FilteredEvent(Event event, EventFilter filter) : event_(event), filter_(std::move(filter)) {}

  Event event() const { return event_; }
  const std::optional<EventFilter>& filter() const { return filter_; }

 private:
  Event event_;
  std::optional<EventFilter> filter_;
};

// Several events for one handler: Events::EPOCH_COMPLETED | Events::COMPLETED.
class EventsList {
 public:
  EventsList(Event event) : events_{FilteredEvent(event)} {}      // NOLINT: implicit on purpose
  EventsList(FilteredEvent event) : events_{std::move(event)} {}  // NOLINT: implicit on purpose

  const std::vector<FilteredEvent>& events() const { return events_; }
  friend EventsList operator|(EventsList a, const EventsList& b);

 private:
  std::vector<FilteredEvent> events_;
};

EventsList operator|(EventsList a, const EventsList& b);

// The built-in events, fired in this order by Engine::run (see engine.h for the full sequence).
struct Events {
  static constexpr Event STARTED{"STARTED"};
  static constexpr Event EPOCH_STARTED{"EPOCH_STARTED"};
  static constexpr Event GET_BATCH_STARTED{"GET_BATCH_STARTED"};
  static constexpr Event GET_BATCH_COMPLETED{"GET_BATCH_COMPLETED"};
  static constexpr Event ITERATION_STARTED{"ITERATION_STARTED"};
  static constexpr Event ITERATION_COMPLETED{"ITERATION_COMPLETED"};
  static constexpr Event EPOCH_COMPLETED{"EPOCH_COMPLETED"};
  static constexpr Event COMPLETED{"COMPLETED"};
  static constexpr Event EXCEPTION_RAISED{"EXCEPTION_RAISED"};
  static constexpr Event TERMINATE{"TERMINATE"};
  static constexpr Event TERMINATE_SINGLE_EPOCH{"TERMINATE_SINGLE_EPOCH"};
  static constexpr Event INTERRUPT{"INTERRUPT"};
  static constexpr Event DATALOADER_STOP_ITERATION{"DATALOADER_STOP_ITERATION"};
};

// All built-in events, in the order above.
const std::vector<Event>& builtin_events();

// Which state counter a filter on this event sees.
enum class EventCounter { kIteration, kEpoch, kFirings };
EventCounter event_counter(Event event);

}  // namespace ignis::engine

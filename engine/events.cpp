// Event filters and event lists: the predicates behind every(), once(), before(), after().
// Not the firing of events: see engine.cpp.
#include "engine/events.h"

#include <algorithm>
#include <stdexcept>

namespace ignis::engine {

namespace {

void check_count(const char* filter, int64_t n, int64_t minimum) {
  if (n < minimum) {
    throw std::invalid_argument(std::string(filter) + ": expected n >= " + std::to_string(minimum) +
                                ", got " + std::to_string(n));
  }
}

}  // namespace

EventFilter operator&(EventFilter a, EventFilter b) {
  std::string description = a.description_ + " & " + b.description_;
  return EventFilter([a = std::move(a.predicate_), b = std::move(b.predicate_)](
                         EngineBase& e, int64_t count) { return a(e, count) && b(e, count); },
                     std::move(description));
}

EventFilter every(int64_t n) {
  check_count("every", n, 1);
  return EventFilter([n](EngineBase&, int64_t count) { return count % n == 0; },
                     "every(" + std::to_string(n) + ")");
}

EventFilter once(int64_t n) {
  check_count("once", n, 0);
  return EventFilter([n](EngineBase&, int64_t count) { return count == n; },
                     "once(" + std::to_string(n) + ")");
}

EventFilter once(std::initializer_list<int64_t> counts) {
  std::vector<int64_t> values(counts);
  std::string description = "once({";
  for (size_t i = 0; i < values.size(); ++i) {
    check_count("once", values[i], 0);
    description += (i ? ", " : "") + std::to_string(values[i]);
  }
  description += "})";
  return EventFilter(
      [values](EngineBase&, int64_t count) {
        return std::find(values.begin(), values.end(), count) != values.end();
      },
      std::move(description));
}

EventFilter before(int64_t n) {
  check_count("before", n, 0);
  return EventFilter([n](EngineBase&, int64_t count) { return count < n; },
                     "before(" + std::to_string(n) + ")");
}

EventFilter after(int64_t n) {
  check_count("after", n, 0);
  return EventFilter([n](EngineBase&, int64_t count) { return count > n; },
                     "after(" + std::to_string(n) + ")");
}

FilteredEvent Event::operator()(EventFilter filter) const {
  return FilteredEvent(*this, std::move(filter));
}

EventsList operator|(EventsList a, const EventsList& b) {
  a.events_.insert(a.events_.end(), b.events_.begin(), b.events_.end());
  return a;
}

const std::vector<Event>& builtin_events() {
  static const std::vector<Event> events = {Events::STARTED,
                                            Events::EPOCH_STARTED,
                                            Events::GET_BATCH_STARTED,
                                            Events::GET_BATCH_COMPLETED,
                                            Events::ITERATION_STARTED,
                                            Events::ITERATION_COMPLETED,
                                            Events::EPOCH_COMPLETED,
                                            Events::COMPLETED,
                                            Events::EXCEPTION_RAISED,
                                            Events::TERMINATE,
                                            Events::TERMINATE_SINGLE_EPOCH,
                                            Events::INTERRUPT,
                                            Events::DATALOADER_STOP_ITERATION};
  return events;
}

EventCounter event_counter(Event event) {
  if (event == Events::ITERATION_STARTED || event == Events::ITERATION_COMPLETED ||
      event == Events::GET_BATCH_STARTED || event == Events::GET_BATCH_COMPLETED) {
    return EventCounter::kIteration;
  }
  if (event == Events::EPOCH_STARTED || event == Events::EPOCH_COMPLETED ||
      event == Events::STARTED || event == Events::COMPLETED) {
    return EventCounter::kEpoch;
  }
  return EventCounter::kFirings;
}

}  // namespace ignis::engine

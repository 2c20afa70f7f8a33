// The Ignite-style training loop: Engine<Batch, Output> runs a process function over data for
// some epochs and fires Events to handlers. It knows nothing of models, tensors or loaders.
//
// How to attach a metric (what metrics/ does): register three handlers on the engine and
// keep the metric's running sums in the metric object.
//   engine.on(Events::EPOCH_STARTED, [&] { metric.reset(); });
//   engine.on(Events::ITERATION_COMPLETED,
//             [&](auto& e) { metric.update(e.state().output); });   // typed: Output
//   engine.on(Events::EPOCH_COMPLETED,
//             [&](EngineBase& e) { e.state().metrics[name] = metric.compute(); });
// A handler written with `auto&` (or Engine<B, O>&) sees the typed state: state().output has
// the process function's return type, state().batch the batch type. Scalar results go into
// state().metrics[name]; non-scalar ones stay in the metric object.
//
// Event sequence of run(data, max_epochs) (Ignite 0.5 semantics):
//   STARTED
//   per epoch: EPOCH_STARTED,
//     per batch: GET_BATCH_STARTED, GET_BATCH_COMPLETED, ITERATION_STARTED, ITERATION_COMPLETED
//     (DATALOADER_STOP_ITERATION when the data runs out before epoch_length batches: the
//     data is restarted and the epoch goes on), EPOCH_COMPLETED
//   COMPLETED
// terminate():       after the handlers of the current event: TERMINATE, then COMPLETED (not
//                    with terminate(true)); no EPOCH_COMPLETED for the cut epoch.
// terminate_epoch(): after the handlers of the current event: TERMINATE_SINGLE_EPOCH, then
//                    EPOCH_COMPLETED; the next epoch starts on restarted data.
// interrupt():       after the handlers of the current event: INTERRUPT, and run() returns;
//                    the next run() goes on from exactly that point.
// An exception from the process function or a handler fires EXCEPTION_RAISED if it has
// handlers (they read it with exception() or take it as a parameter), else propagates out
// of run(). As in Ignite, a handled exception inside an epoch ends that epoch (then
// EPOCH_COMPLETED, and the run goes on unless a handler calls terminate()); one outside an
// epoch ends the run, without COMPLETED.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/events.h"
#include "engine/state.h"

namespace ignis::engine {

namespace detail {

struct HandlerRegistry;

// The run loop is a coroutine (like Ignite's generator) so that interrupt() can suspend it
// anywhere and the next run() resumes it there.
struct RunTask {
  struct promise_type {
    std::exception_ptr error;
    RunTask get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int) noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  std::coroutine_handle<promise_type> handle;
};

}  // namespace detail

// Returned by on(): remove() takes the handler off every event it was added to. Safe to call
// twice, or after the engine is gone.
class RemovableHandle {
 public:
  RemovableHandle() = default;
  void remove();

 private:
  friend class EngineBase;
  std::weak_ptr<detail::HandlerRegistry> registry_;
  std::vector<std::pair<std::string, uint64_t>> entries_;  // (event name, handler id)
};

// The part of an engine that does not depend on the batch and output types: events,
// handlers, the run loop, terminate / interrupt, state_dict. Handlers that need no typed
// field take an EngineBase&.
class EngineBase {
 public:
  EngineBase();
  virtual ~EngineBase();
  EngineBase(const EngineBase&) = delete;
  EngineBase& operator=(const EngineBase&) = delete;

  virtual State& state() = 0;
  virtual const State& state() const = 0;

  // Adds handler for each event of `events` (an Event, a filtered event, or a | list), after
  // the handlers already there: handlers fire in registration order. handler is one of
  //   () | (EngineBase&) | (EngineBase&, std::exception_ptr) | (EngineBase&, const std::exception&)
  // (the last two for EXCEPTION_RAISED). It is copied: pass std::ref(obj) to keep one object.
  // `name` is shown by the event tracer. Throws std::invalid_argument for an unregistered event.
  template <class Handler>
  RemovableHandle on(const EventsList& events, Handler handler, std::string name = {});

  // Makes user events known to this engine: register_events({kBackwardStarted}).
  void register_events(std::initializer_list<Event> events);
  // Fires a registered event now (usually a user event, from the process function).
  // Throws std::invalid_argument for an unregistered event.
  void fire_event(Event event);

  // Whether the handler behind `handle` is still registered on `event`.
  bool has_event_handler(const RemovableHandle& handle, Event event) const;
  // Whether `event` has any handler.
  bool has_event_handler(Event event) const;

  // Stop the run after the handlers of the current event (TERMINATE, then COMPLETED unless
  // skip_completed). A later run() goes on from the state reached.
  void terminate(bool skip_completed = false);
  // End the current epoch after the handlers of the current event (TERMINATE_SINGLE_EPOCH,
  // EPOCH_COMPLETED); the run goes on with the next epoch.
  void terminate_epoch();
  // Suspend the run after the handlers of the current event (INTERRUPT); run() returns and
  // the next run() resumes exactly there.
  void interrupt();
  // Whether a run is suspended by interrupt().
  bool interrupted() const { return static_cast<bool>(run_); }

  // The exception being handled, inside EXCEPTION_RAISED handlers; null elsewhere.
  std::exception_ptr exception() const { return exception_; }

  // {"epoch", "iteration", "epoch_length" (when known), "max_epochs", "seed"}.
  std::map<std::string, int64_t> state_dict() const;
  // Restores a state_dict for resuming: needs "iteration" and "max_epochs", and
  // "epoch_length" or "epoch". With epoch_length, epoch is iteration / epoch_length (the
  // epochs completed), so a mid-epoch state resumes inside its epoch; the data is then
  // restarted and its first iteration % epoch_length batches are skipped, so a loader whose
  // order depends only on (seed, epoch) yields the same batches as an uninterrupted run.
  // Throws std::invalid_argument naming a missing or negative entry.
  void load_state_dict(const std::map<std::string, int64_t>& dict);

  // Event tracer for learners: one line per handler call,
  //   [epoch 1 iter 3] ITERATION_COMPLETED -> handler #2 (ProgressBar)
  // on `stream`; nullptr turns it off. On by default (on std::cerr) when the environment
  // variable IGNIS_TRACE_EVENTS is 1.
  void set_tracer(std::ostream* stream) { tracer_ = stream; }

 protected:
  // Checks the arguments of run() and runs or resumes the loop (see Engine::run).
  void run_loop(std::optional<int64_t> max_epochs, std::optional<int64_t> epoch_length,
                std::optional<int64_t> data_length);
  RemovableHandle add_handler(const EventsList& events, std::function<void(EngineBase&)> fn,
                              std::string name);
  void reset_data_iter() { data_iter_ready_ = false; }

  // The typed side, implemented by Engine<Batch, Output>.
  virtual void restart_data_iter() = 0;  // begin() again (after set_epoch(epoch), if any)
  virtual bool fetch_batch() = 0;        // next batch into state().batch; false at the end
  virtual void process_batch() = 0;      // state().output = process(*this, *state().batch)

 private:
  detail::RunTask run_as_gen();
  bool is_done() const;
  // After each event: throws the terminate signals, or fires INTERRUPT and returns true (the
  // loop then suspends).
  bool check_point(bool in_epoch);
  int64_t setup_data_iter();
  bool next_batch();
  void fire(Event event);
  void handle_exception(std::exception_ptr error);
  int64_t event_count(Event event) const;

  std::shared_ptr<detail::HandlerRegistry> registry_;
  std::coroutine_handle<detail::RunTask::promise_type> run_;
  bool should_terminate_ = false;
  bool skip_completed_ = false;
  bool should_terminate_epoch_ = false;
  bool should_interrupt_ = false;
  bool data_iter_ready_ = false;
  bool exception_escaped_ = false;
  bool resume_pending_ = false;         // the next data setup skips the epoch's done batches
  bool ended_by_terminate_ = false;     // the last run stopped at terminate(), maybe mid-epoch
  int64_t batches_from_iter_ = 0;       // batches taken since the data was (re)started
  std::optional<int64_t> data_length_;  // batches in one pass over the data, when known
  std::exception_ptr exception_;
  std::map<std::string, int64_t, std::less<>> firings_;  // per event, in this run
  std::ostream* tracer_ = nullptr;
};

namespace detail {

template <class>
inline constexpr bool kAlwaysFalse = false;

// Turns any accepted handler signature into one std::function<void(EngineBase&)>; Self is the
// engine type the handler may ask for.
template <class Self, class Handler>
std::function<void(EngineBase&)> wrap_handler(Handler handler) {
  if constexpr (std::is_invocable_v<Handler&, Self&>) {
    return [h = std::move(handler)](EngineBase& e) mutable { h(static_cast<Self&>(e)); };
  } else if constexpr (std::is_invocable_v<Handler&>) {
    return [h = std::move(handler)](EngineBase&) mutable { h(); };
  } else if constexpr (std::is_invocable_v<Handler&, Self&, std::exception_ptr>) {
    return [h = std::move(handler)](EngineBase& e) mutable {
      h(static_cast<Self&>(e), e.exception());
    };
  } else if constexpr (std::is_invocable_v<Handler&, Self&, const std::exception&>) {
    return [h = std::move(handler)](EngineBase& e) mutable {
      try {
        std::rethrow_exception(e.exception());
      } catch (const std::exception& error) {
        h(static_cast<Self&>(e), error);
      } catch (...) {
        h(static_cast<Self&>(e), std::runtime_error("a non-standard exception"));
      }
    };
  } else {
    static_assert(kAlwaysFalse<Handler>,
                  "Engine::on: a handler takes (), (Engine&) or, for EXCEPTION_RAISED, "
                  "(Engine&, std::exception_ptr) or (Engine&, const std::exception&)");
  }
}

// Batch and Output of a process function (Engine-or-EngineBase&, const Batch&) -> Output.
template <class F>
struct ProcessSignature : ProcessSignature<decltype(&F::operator())> {};
template <class C, class R, class E, class B>
struct ProcessSignature<R (C::*)(E&, const B&) const> {
  using Batch = B;
  using Output = R;
};
template <class C, class R, class E, class B>
struct ProcessSignature<R (C::*)(E&, const B&)> {
  using Batch = B;
  using Output = R;
};
template <class R, class E, class B>
struct ProcessSignature<R (*)(E&, const B&)> {
  using Batch = B;
  using Output = R;
};

}  // namespace detail

template <class Handler>
RemovableHandle EngineBase::on(const EventsList& events, Handler handler, std::string name) {
  return add_handler(events, detail::wrap_handler<EngineBase>(std::move(handler)), std::move(name));
}

// An engine whose process function maps a Batch to an Output. Deduced from a lambda:
//   engine::Engine trainer([&](engine::EngineBase& e, const data::Batch& b) {
//     ...; return engine::Output{.loss = loss.item<float>()};
//   });                                          // Engine<data::Batch, engine::Output<double>>
// Not copyable or movable: handlers hold references to it.
template <class Batch, class Output>
class Engine final : public EngineBase {
 public:
  using BatchType = Batch;
  using OutputType = Output;

  // process: (Engine&, const Batch&) -> Output or (EngineBase&, const Batch&) -> Output.
  template <class Process>
  requires std::is_invocable_r_v<Output, Process&, Engine&, const Batch&>
  explicit Engine(Process process)
      : process_([p = std::move(process)](Engine& e, const Batch& b) mutable { return p(e, b); }) {
    static_assert(std::is_default_constructible_v<Output>,
                  "Engine: the output type must be default-constructible");
  }

  EngineState<Batch, Output>& state() override { return state_; }
  const EngineState<Batch, Output>& state() const override { return state_; }

  // As EngineBase::on, and the handler may also take an Engine<Batch, Output>& (or auto&).
  template <class Handler>
  RemovableHandle on(const EventsList& events, Handler handler, std::string name = {}) {
    return add_handler(events, detail::wrap_handler<Engine>(std::move(handler)), std::move(name));
  }

  // Runs the process function over `data` for max_epochs epochs (1 on a fresh run) and
  // returns the state. data is
  //   - a range (begin/end), iterated again at each epoch: a loader whose begin() reshuffles.
  //     If it has set_epoch(int64_t), that is called with state().epoch before each begin();
  //   - or a callable returning std::optional<Batch>, std::nullopt meaning "no more data"
  //     (a stream). It is called again after a nullopt when the epoch is not finished.
  // epoch_length: iterations per epoch; default: the range's size, or the batches the first
  // epoch got from the data. If the data runs out before epoch_length batches,
  // DATALOADER_STOP_ITERATION fires and the data restarts.
  // Calling run again (Ignite's rules): on a finished engine, starts over from epoch 0; on an
  // interrupted one, resumes at the interruption point; on a terminated one or after
  // load_state_dict, goes on from the state; a larger max_epochs extends the run.
  // NOTE: the engine keeps a pointer to data only while run() is on the stack; pass the same
  // object again to resume an interrupted run where its iterator was, another to restart it.
  // Throws std::invalid_argument for empty data, max_epochs below the epoch reached, or an
  // epoch_length that differs from the state's; rethrows exceptions not handled by an
  // EXCEPTION_RAISED handler.
  template <class Data>
  EngineState<Batch, Output>& run(Data&& data, std::optional<int64_t> max_epochs = std::nullopt,
                                  std::optional<int64_t> epoch_length = std::nullopt) {
    // The same object as the last run keeps its iterator (an interrupted run resumes on it).
    const void* identity = std::is_lvalue_reference_v<Data> ? &data : nullptr;
    if (identity == nullptr || identity != data_identity_) {
      reset_data_iter();
      bind_data(data);
    }
    data_identity_ = identity;
    std::optional<int64_t> length;
    if constexpr (std::ranges::sized_range<std::remove_reference_t<Data>>) {
      length = static_cast<int64_t>(std::ranges::size(data));
    }
    run_loop(max_epochs, epoch_length, length);
    return state_;
  }

 private:
  template <class Data>
  void bind_data(Data& data) {
    if constexpr (std::ranges::range<Data>) {
      using Iterator = std::ranges::iterator_t<Data>;
      using Sentinel = std::ranges::sentinel_t<Data>;
      auto position = std::make_shared<std::optional<std::pair<Iterator, Sentinel>>>();
      restart_ = [this, &data, position] {
        if constexpr (requires { data.set_epoch(int64_t{}); }) data.set_epoch(state_.epoch);
        position->emplace(std::ranges::begin(data), std::ranges::end(data));
      };
      next_ = [this, position]() -> bool {
        auto& [it, end] = **position;
        if (it == end) return false;
        state_.batch = *it;
        ++it;
        return true;
      };
    } else {
      static_assert(std::is_invocable_r_v<std::optional<Batch>, Data&>,
                    "Engine::run: data must be a range of batches or a callable returning "
                    "std::optional<Batch>");
      restart_ = [] {};
      next_ = [this, &data]() -> bool {
        std::optional<Batch> batch = data();
        if (!batch) return false;
        state_.batch = std::move(*batch);
        return true;
      };
    }
  }

  void restart_data_iter() override { restart_(); }
  bool fetch_batch() override { return next_(); }
  void process_batch() override { state_.output = process_(*this, *state_.batch); }

  std::function<Output(Engine&, const Batch&)> process_;
  EngineState<Batch, Output> state_;
  std::function<void()> restart_;
  std::function<bool()> next_;
  const void* data_identity_ = nullptr;
};

template <class Process>
Engine(Process) -> Engine<typename detail::ProcessSignature<Process>::Batch,
                          typename detail::ProcessSignature<Process>::Output>;

}  // namespace ignis::engine

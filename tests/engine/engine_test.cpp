// Tests of Engine: event sequences and counts (as tables), filters, handler signatures and
// removal, terminate / terminate_epoch / interrupt, exceptions, resuming, streaming data.
#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ignis::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The process function returns its batch, so outputs show which batches ran.
using IntEngine = Engine<int, int>;

IntEngine make_engine() {
  return IntEngine([](EngineBase&, const int& batch) { return batch; });
}

// Records every built-in event but EXCEPTION_RAISED (a handler there changes the run) as
// "NAME <epoch>.<iteration>".
struct Recorder {
  std::vector<std::string> events;
  void attach(EngineBase& engine) {
    for (Event event : builtin_events()) {
      if (event == Events::EXCEPTION_RAISED) continue;
      engine.on(event, [this, event](EngineBase& e) {
        events.push_back(std::string(event.name()) + " " + std::to_string(e.state().epoch) + "." +
                         std::to_string(e.state().iteration));
      });
    }
  }
};

// The events of one batch at (epoch, iteration after it).
std::vector<std::string> batch_events(int epoch, int iteration) {
  const std::string before = std::to_string(epoch) + "." + std::to_string(iteration - 1);
  const std::string after = std::to_string(epoch) + "." + std::to_string(iteration);
  return {"GET_BATCH_STARTED " + before, "GET_BATCH_COMPLETED " + before,
          "ITERATION_STARTED " + after, "ITERATION_COMPLETED " + after};
}

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

TEST(Engine, DeducesBatchAndOutputFromTheProcessFunction) {
  struct Batch {
    int x;
  };
  Engine trainer([](EngineBase&, const Batch& b) { return Output{.loss = 0.5 * b.x}; });
  static_assert(std::is_same_v<decltype(trainer), Engine<Batch, Output<double>>>);
  Engine typed([](Engine<Batch, Output<std::vector<int>>>&, const Batch& b) {
    return Output{.y_pred = std::vector<int>{b.x}, .y = std::vector<int>{b.x}};
  });
  static_assert(std::is_same_v<decltype(typed), Engine<Batch, Output<std::vector<int>>>>);
  std::vector<Batch> data = {{1}, {2}};
  trainer.run(data);
  EXPECT_DOUBLE_EQ(trainer.state().output.loss, 1.0);
  EXPECT_EQ(trainer.state().batch->x, 2);
}

TEST(Engine, FiresTheFullEventSequence) {
  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  std::vector<int> data = {10, 20};
  engine.run(data, 2);
  EXPECT_THAT(recorder.events,
              ElementsAreArray(concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"},
                                       batch_events(1, 1),
                                       batch_events(1, 2),
                                       {"EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2"},
                                       batch_events(2, 3),
                                       batch_events(2, 4),
                                       {"EPOCH_COMPLETED 2.4", "COMPLETED 2.4"}})));
  EXPECT_EQ(engine.state().output, 20);
  EXPECT_EQ(engine.state().epoch_length, 2);
  EXPECT_GE(engine.state().times.at("COMPLETED"), engine.state().times.at("EPOCH_COMPLETED"));
}

// For each filter: the counts at which the handler ran, over 3 epochs of 4 iterations.
struct FilterCase {
  const char* name;
  FilteredEvent event;
  std::vector<int64_t> expected;
};

TEST(Engine, FiltersRunHandlersAtTheExpectedCounts) {
  const std::vector<FilterCase> cases = {
      {"every(2)", Events::ITERATION_COMPLETED(every(2)), {2, 4, 6, 8, 10, 12}},
      {"every(5)", Events::ITERATION_STARTED(every(5)), {5, 10}},
      {"once(5)", Events::ITERATION_COMPLETED(once(5)), {5}},
      {"once({3, 7})", Events::ITERATION_COMPLETED(once({3, 7})), {3, 7}},
      {"before(3)", Events::ITERATION_COMPLETED(before(3)), {1, 2}},
      {"after(10)", Events::ITERATION_COMPLETED(after(10)), {11, 12}},
      {"every(2) & after(6)", Events::ITERATION_COMPLETED(every(2) & after(6)), {8, 10, 12}},
      {"after(2) & before(6)", Events::ITERATION_COMPLETED(after(2) & before(6)), {3, 4, 5}},
      {"predicate",
       Events::ITERATION_COMPLETED([](EngineBase&, int64_t n) { return n % 5 == 1; }),
       {1, 6, 11}},
      {"epoch every(2)", Events::EPOCH_COMPLETED(every(2)), {2}},
      {"epoch once(1)", Events::EPOCH_STARTED(once(1)), {1}},
      {"epoch after(1)", Events::EPOCH_STARTED(after(1)), {2, 3}},
      {"no filter", Events::EPOCH_COMPLETED, {1, 2, 3}},
      {"started", Events::STARTED, {0}},
      {"completed once(3)", Events::COMPLETED(once(3)), {3}},
      // GET_BATCH_* fire before the iteration counter moves: counts 0..11.
      {"get batch every(4)", Events::GET_BATCH_COMPLETED(every(4)), {0, 4, 8}},
  };
  for (const FilterCase& c : cases) {
    IntEngine engine = make_engine();
    std::vector<int64_t> seen;
    const bool iteration_counter = event_counter(c.event.event()) == EventCounter::kIteration;
    engine.on(c.event, [&](EngineBase& e) {
      seen.push_back(iteration_counter ? e.state().iteration : e.state().epoch);
    });
    std::vector<int> data = {1, 2, 3, 4};
    engine.run(data, 3);
    EXPECT_THAT(seen, ElementsAreArray(c.expected)) << c.name;
  }
}

TEST(Engine, FilterArgumentsAreChecked) {
  EXPECT_THAT([] { every(0); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("every: expected n >= 1, got 0")));
  EXPECT_THAT([] { once(-1); }, ThrowsMessage<std::invalid_argument>(HasSubstr("once")));
  EXPECT_THAT([] { before(-2); }, ThrowsMessage<std::invalid_argument>(HasSubstr("got -2")));
}

TEST(Engine, EventListsRegisterOneHandlerOnEachEvent) {
  IntEngine engine = make_engine();
  std::vector<std::string> seen;
  engine.on(
      Events::EPOCH_COMPLETED | Events::COMPLETED | Events::ITERATION_COMPLETED(once(3)),
      [&](EngineBase& e) {
        seen.push_back(std::to_string(e.state().epoch) + "." + std::to_string(e.state().iteration));
      });
  std::vector<int> data = {1, 2};
  engine.run(data, 2);
  EXPECT_THAT(seen, ElementsAre("1.2", "2.3", "2.4", "2.4"));
}

TEST(Engine, HandlersFireInRegistrationOrderWithEverySignature) {
  IntEngine engine = make_engine();
  std::vector<std::string> seen;
  engine.on(Events::COMPLETED, [&] { seen.push_back("no argument"); });
  engine.on(Events::COMPLETED, [&](EngineBase&) { seen.push_back("base"); });
  engine.on(Events::COMPLETED,
            [&](IntEngine& e) { seen.push_back("typed " + std::to_string(e.state().output)); });
  engine.on(Events::COMPLETED,
            [&](auto& e) { seen.push_back("auto " + std::to_string(*e.state().batch)); });
  EngineBase& base = engine;
  base.on(Events::COMPLETED,
          [&](EngineBase& e) { seen.push_back("via base " + std::to_string(e.state().epoch)); });
  std::vector<int> data = {7};
  engine.run(data);
  EXPECT_THAT(seen, ElementsAre("no argument", "base", "typed 7", "auto 7", "via base 1"));
}

TEST(Engine, RemovedHandlersNoLongerFire) {
  IntEngine engine = make_engine();
  int calls = 0;
  RemovableHandle handle;
  handle = engine.on(Events::ITERATION_COMPLETED | Events::COMPLETED, [&](EngineBase& e) {
    ++calls;
    if (e.state().iteration == 3) handle.remove();
  });
  EXPECT_TRUE(engine.has_event_handler(handle, Events::ITERATION_COMPLETED));
  EXPECT_TRUE(engine.has_event_handler(handle, Events::COMPLETED));
  EXPECT_FALSE(engine.has_event_handler(handle, Events::EPOCH_COMPLETED));
  std::vector<int> data = {1, 2, 3, 4, 5};
  engine.run(data);
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(engine.has_event_handler(handle, Events::ITERATION_COMPLETED));
  EXPECT_FALSE(engine.has_event_handler(Events::COMPLETED));
  handle.remove();  // twice is fine
}

TEST(Engine, HandleOutlivesItsEngine) {
  RemovableHandle handle;
  {
    IntEngine engine = make_engine();
    handle = engine.on(Events::COMPLETED, [] {});
  }
  handle.remove();
}

TEST(Engine, UserEventsAreRegisteredFiredAndFiltered) {
  static constexpr Event kBackwardStarted{"BACKWARD_STARTED"};
  IntEngine engine([](EngineBase& e, const int& batch) {
    e.fire_event(kBackwardStarted);
    return batch;
  });
  EXPECT_THAT([&] { engine.on(kBackwardStarted, [] {}); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("unknown event 'BACKWARD_STARTED'")));
  engine.register_events({kBackwardStarted});
  std::vector<int64_t> all, filtered;
  engine.on(kBackwardStarted, [&](EngineBase& e) { all.push_back(e.state().iteration); });
  engine.on(kBackwardStarted(every(2)),
            [&](EngineBase& e) { filtered.push_back(e.state().iteration); });
  std::vector<int> data = {1, 2, 3, 4, 5};
  engine.run(data);
  EXPECT_THAT(all, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(filtered, ElementsAre(2, 4));
  EXPECT_THAT(
      [&] { engine.fire_event(Event("NOPE")); },
      ThrowsMessage<std::invalid_argument>(HasSubstr("Engine::fire_event: unknown event 'NOPE'")));
}

TEST(Engine, TerminateFiresTerminateThenCompleted) {
  IntEngine engine = make_engine();
  Recorder recorder;
  engine.on(Events::ITERATION_COMPLETED(once(3)), [](EngineBase& e) { e.terminate(); });
  recorder.attach(engine);  // after the terminating handler: still called for iteration 3
  std::vector<int> data = {1, 2};
  engine.run(data, 5);
  EXPECT_THAT(recorder.events,
              ElementsAreArray(concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"},
                                       batch_events(1, 1),
                                       batch_events(1, 2),
                                       {"EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2"},
                                       batch_events(2, 3),
                                       {"TERMINATE 2.3", "COMPLETED 2.3"}})));
  // Running again goes on from the state: the cut epoch 2 resumes at its second batch.
  recorder.events.clear();
  engine.run(data);
  EXPECT_THAT(std::vector<std::string>(recorder.events.begin(), recorder.events.begin() + 6),
              ElementsAreArray(concat({{"STARTED 1.3", "EPOCH_STARTED 2.3"}, batch_events(2, 4)})));
  EXPECT_EQ(engine.state().output, 2);
  EXPECT_EQ(engine.state().iteration, 10);
  EXPECT_EQ(recorder.events.back(), "COMPLETED 5.10");
}

TEST(Engine, TerminateCanSkipCompleted) {
  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  engine.on(Events::EPOCH_STARTED, [](EngineBase& e) { e.terminate(/*skip_completed=*/true); });
  std::vector<int> data = {1, 2};
  engine.run(data, 3);
  EXPECT_THAT(recorder.events, ElementsAre("STARTED 0.0", "EPOCH_STARTED 1.0", "TERMINATE 1.0"));
}

TEST(Engine, TerminateAtEpochCompletedEndsTheRun) {
  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  engine.on(Events::EPOCH_COMPLETED(once(1)), [](EngineBase& e) { e.terminate(); });
  std::vector<int> data = {1};
  engine.run(data, 3);
  EXPECT_THAT(
      recorder.events,
      ElementsAreArray(concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"},
                               batch_events(1, 1),
                               {"EPOCH_COMPLETED 1.1", "TERMINATE 1.1", "COMPLETED 1.1"}})));
}

TEST(Engine, TerminateEpochEndsOnlyTheCurrentEpoch) {
  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  std::vector<int> batches;
  engine.on(Events::ITERATION_COMPLETED,
            [&](IntEngine& e) { batches.push_back(e.state().output); });
  engine.on(Events::ITERATION_COMPLETED(once(2)), [](EngineBase& e) { e.terminate_epoch(); });
  std::vector<int> data = {1, 2, 3};
  engine.run(data, 2);
  EXPECT_THAT(recorder.events,
              ElementsAreArray(concat(
                  {{"STARTED 0.0", "EPOCH_STARTED 1.0"},
                   batch_events(1, 1),
                   batch_events(1, 2),
                   {"TERMINATE_SINGLE_EPOCH 1.2", "EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2"},
                   batch_events(2, 3),
                   batch_events(2, 4),
                   batch_events(2, 5),
                   {"EPOCH_COMPLETED 2.5", "COMPLETED 2.5"}})));
  EXPECT_THAT(batches, ElementsAre(1, 2, 1, 2, 3));  // the data restarts with the next epoch
}

TEST(Engine, InterruptSuspendsAndRunResumesAtTheSamePoint) {
  std::vector<int> data = {1, 2, 3};
  IntEngine reference = make_engine();
  Recorder expected;
  expected.attach(reference);
  reference.run(data, 2);

  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  engine.on(Events::ITERATION_COMPLETED(once(2)) | Events::EPOCH_COMPLETED(once(1)),
            [](EngineBase& e) { e.interrupt(); });
  engine.run(data, 2);
  EXPECT_TRUE(engine.interrupted());
  EXPECT_EQ(engine.state().iteration, 2);
  EXPECT_EQ(recorder.events.back(), "INTERRUPT 1.2");
  engine.run(data);
  EXPECT_EQ(recorder.events.back(), "INTERRUPT 1.3");
  engine.run(data);
  EXPECT_FALSE(engine.interrupted());
  std::erase_if(recorder.events, [](const std::string& s) { return s.starts_with("INTERRUPT"); });
  EXPECT_EQ(recorder.events, expected.events);
}

TEST(Engine, UnhandledExceptionPropagatesWithoutCompleted) {
  IntEngine engine([](EngineBase&, const int& batch) {
    if (batch == 2) throw std::runtime_error("bad batch 2");
    return batch;
  });
  Recorder recorder;
  recorder.attach(engine);
  std::vector<int> data = {1, 2, 3};
  EXPECT_THAT([&] { engine.run(data); },
              ThrowsMessage<std::runtime_error>(HasSubstr("bad batch 2")));
  EXPECT_EQ(recorder.events.back(), "ITERATION_STARTED 1.2");
  // A handler that throws is no different.
  IntEngine other = make_engine();
  other.on(Events::EPOCH_COMPLETED, [] { throw std::logic_error("handler failed"); });
  EXPECT_THAT([&] { other.run(data); },
              ThrowsMessage<std::logic_error>(HasSubstr("handler failed")));
}

TEST(Engine, HandledExceptionEndsTheEpochAndTheRunGoesOn) {
  IntEngine engine([](EngineBase& e, const int& batch) {
    if (e.state().iteration == 2) throw std::runtime_error("bad batch");
    return batch;
  });
  Recorder recorder;
  recorder.attach(engine);
  std::vector<std::string> messages;
  engine.on(Events::EXCEPTION_RAISED, [&](EngineBase&, const std::exception& error) {
    messages.push_back(error.what());
    recorder.events.push_back("EXCEPTION_RAISED");
  });
  std::vector<int> data = {1, 2, 3};
  engine.run(data, 2);
  EXPECT_THAT(messages, ElementsAre("bad batch"));
  EXPECT_THAT(recorder.events,
              ElementsAreArray(concat(
                  {{"STARTED 0.0", "EPOCH_STARTED 1.0"},
                   batch_events(1, 1),
                   {"GET_BATCH_STARTED 1.1", "GET_BATCH_COMPLETED 1.1", "ITERATION_STARTED 1.2",
                    "EXCEPTION_RAISED", "EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2"},
                   batch_events(2, 3),
                   batch_events(2, 4),
                   batch_events(2, 5),
                   {"EPOCH_COMPLETED 2.5", "COMPLETED 2.5"}})));
}

TEST(Engine, ExceptionHandlerCanTerminateOrRethrow) {
  std::vector<int> data = {1, 2, 3};
  auto failing = [] {
    return IntEngine([](EngineBase&, const int& batch) {
      if (batch == 2) throw std::runtime_error("bad batch");
      return batch;
    });
  };
  IntEngine terminating = failing();
  Recorder recorder;
  recorder.attach(terminating);
  terminating.on(Events::EXCEPTION_RAISED, [&](EngineBase& e, std::exception_ptr error) {
    EXPECT_TRUE(error);
    recorder.events.push_back("EXCEPTION_RAISED");
    e.terminate();
  });
  terminating.run(data, 3);
  EXPECT_THAT(
      std::vector<std::string>(recorder.events.end() - 4, recorder.events.end()),
      ElementsAre("EXCEPTION_RAISED", "EPOCH_COMPLETED 1.2", "TERMINATE 1.2", "COMPLETED 1.2"));

  IntEngine rethrowing = failing();
  int calls = 0;
  rethrowing.on(Events::EXCEPTION_RAISED, [&](EngineBase&, std::exception_ptr error) {
    ++calls;
    std::rethrow_exception(error);
  });
  EXPECT_THAT([&] { rethrowing.run(data); },
              ThrowsMessage<std::runtime_error>(HasSubstr("bad batch")));
  EXPECT_EQ(calls, 1);
}

TEST(Engine, HandledExceptionOutsideAnEpochEndsTheRun) {
  IntEngine engine = make_engine();
  Recorder recorder;
  recorder.attach(engine);
  engine.on(Events::STARTED, [] { throw std::runtime_error("setup failed"); });
  engine.on(Events::EXCEPTION_RAISED, [&](EngineBase& e) {
    EXPECT_TRUE(e.exception());
    recorder.events.push_back("EXCEPTION_RAISED");
  });
  std::vector<int> data = {1};
  engine.run(data, 2);
  EXPECT_THAT(recorder.events, ElementsAre("STARTED 0.0", "EXCEPTION_RAISED"));
  EXPECT_FALSE(engine.exception());
}

// A loader whose order depends only on (seed, epoch), told the epoch by the engine.
class ShuffledLoader {
 public:
  ShuffledLoader(int size, uint64_t seed) : items_(size), seed_(seed) {}
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  std::vector<int>::const_iterator begin() {
    std::iota(items_.begin(), items_.end(), 0);
    std::mt19937_64 rng(seed_ * 1000 + static_cast<uint64_t>(epoch_));
    std::shuffle(items_.begin(), items_.end(), rng);
    return items_.cbegin();
  }
  std::vector<int>::const_iterator end() const { return items_.cend(); }
  size_t size() const { return items_.size(); }

 private:
  std::vector<int> items_;
  uint64_t seed_;
  int64_t epoch_ = 0;
};

TEST(Engine, ResumingFromAStateDictRepeatsTheUninterruptedRun) {
  for (int64_t stop : {2, 5, 7, 10}) {
    ShuffledLoader loader(5, 42);
    IntEngine full = make_engine();
    std::vector<std::string> trace;
    std::map<std::string, int64_t> saved;
    full.on(Events::ITERATION_COMPLETED, [&](IntEngine& e) {
      trace.push_back(std::to_string(e.state().epoch) + "." + std::to_string(e.state().iteration) +
                      ":" + std::to_string(e.state().output));
      if (e.state().iteration == stop) saved = e.state_dict();
    });
    full.run(loader, 3);

    EXPECT_EQ(saved.at("iteration"), stop);
    EXPECT_EQ(saved.at("epoch_length"), 5);
    EXPECT_EQ(saved.at("max_epochs"), 3);
    ShuffledLoader fresh(5, 42);
    IntEngine resumed = make_engine();
    resumed.load_state_dict(saved);
    std::vector<std::string> rest;
    resumed.on(Events::ITERATION_COMPLETED, [&](IntEngine& e) {
      rest.push_back(std::to_string(e.state().epoch) + "." + std::to_string(e.state().iteration) +
                     ":" + std::to_string(e.state().output));
    });
    resumed.run(fresh);
    EXPECT_EQ(rest, std::vector<std::string>(trace.begin() + stop, trace.end())) << "stop " << stop;
  }
}

TEST(Engine, LoadStateDictChecksItsEntries) {
  IntEngine engine = make_engine();
  EXPECT_THAT(
      [&] {
        engine.load_state_dict({{"max_epochs", 2}});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("missing 'iteration'")));
  EXPECT_THAT(
      [&] {
        engine.load_state_dict({{"iteration", -1}, {"max_epochs", 2}});
      },
      ThrowsMessage<std::invalid_argument>(HasSubstr("'iteration' is negative: -1")));
  engine.load_state_dict({{"iteration", 3}, {"max_epochs", 2}, {"epoch", 1}, {"seed", 9}});
  EXPECT_EQ(engine.state().epoch, 1);
  EXPECT_EQ(engine.state().seed, 9u);
}

// A stream of 0..9, then std::nullopt once, then 0..9 again.
struct Stream {
  int next = 0;
  std::optional<int> operator()() {
    if (next == 10) {
      next = 0;
      return std::nullopt;
    }
    return next++;
  }
};

TEST(Engine, StreamingDataWithEpochLengthRestartsWhenItRunsOut) {
  Stream stream;
  IntEngine engine = make_engine();
  std::vector<int> batches;
  int stops = 0, get_batch_started = 0;
  engine.on(Events::ITERATION_COMPLETED,
            [&](IntEngine& e) { batches.push_back(e.state().output); });
  engine.on(Events::DATALOADER_STOP_ITERATION, [&] { ++stops; });
  engine.on(Events::GET_BATCH_STARTED, [&] { ++get_batch_started; });
  engine.run(stream, 3, 4);
  EXPECT_THAT(batches, ElementsAre(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1));
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(get_batch_started, 12);
  EXPECT_EQ(engine.state().iteration, 12);
}

TEST(Engine, StreamingDataWithoutEpochLengthLearnsItFromTheFirstEpoch) {
  Stream stream;
  IntEngine engine = make_engine();
  int stops = 0;
  engine.on(Events::DATALOADER_STOP_ITERATION, [&] { ++stops; });
  engine.run(stream, 2);
  EXPECT_EQ(engine.state().epoch_length, 10);
  EXPECT_EQ(engine.state().iteration, 20);
  EXPECT_EQ(stops, 0);
}

TEST(Engine, EpochLengthShorterThanTheDataContinuesTheIterator) {
  // As in Ignite: 20 batches, epochs of 10, 5 epochs: the data runs out at epochs 3 and 5.
  std::vector<int> data(20);
  std::iota(data.begin(), data.end(), 0);
  IntEngine engine = make_engine();
  int stops = 0;
  std::vector<int> firsts;
  engine.on(Events::DATALOADER_STOP_ITERATION, [&] { ++stops; });
  engine.on(Events::ITERATION_COMPLETED, [&](IntEngine& e) {
    if ((e.state().iteration - 1) % 10 == 0) firsts.push_back(e.state().output);
  });
  engine.run(data, 5, 10);
  EXPECT_EQ(stops, 2);
  EXPECT_THAT(firsts, ElementsAre(0, 10, 0, 10, 0));
}

TEST(Engine, RunAgainRestartsAFinishedEngineOrExtendsIt) {
  std::vector<int> data = {1, 2};
  IntEngine engine = make_engine();
  int started = 0;
  engine.on(Events::EPOCH_STARTED, [&] { ++started; });
  engine.run(data, 2);
  engine.run(data, 2);  // finished: from scratch
  EXPECT_EQ(started, 4);
  EXPECT_EQ(engine.state().iteration, 4);
  engine.run(data, 3);  // a larger max_epochs goes on
  EXPECT_EQ(started, 5);
  EXPECT_EQ(engine.state().iteration, 6);
  EXPECT_THAT([&] { engine.run(data, 2); }, ThrowsMessage<std::invalid_argument>(HasSubstr(
                                                "max_epochs (2) is below the epoch reached (3)")));
  EXPECT_THAT([&] { engine.run(data, 5, 7); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("epoch_length (7) differs from the state's (2)")));
  engine.state().max_epochs = 0;  // start over
  engine.run(data);
  EXPECT_EQ(engine.state().iteration, 2);
}

TEST(Engine, RejectsEmptyDataAndBadArguments) {
  IntEngine engine = make_engine();
  std::vector<int> empty;
  EXPECT_THAT([&] { engine.run(empty); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("the data is empty")));
  std::vector<int> data = {1};
  EXPECT_THAT([&] { engine.run(data, 0); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("max_epochs must be >= 1, got 0")));
  auto nothing = [] { return std::optional<int>(); };
  EXPECT_THAT([&] { engine.run(nothing); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("the data gave no batch")));
}

TEST(Engine, TracerPrintsOneLinePerHandlerCall) {
  IntEngine engine = make_engine();
  std::ostringstream trace;
  engine.set_tracer(&trace);
  engine.on(Events::ITERATION_COMPLETED, [] {});
  engine.on(Events::ITERATION_COMPLETED(every(2)), [] {}, "logger");
  engine.on(Events::COMPLETED, [] {}, "done");
  std::vector<int> data = {1, 2};
  engine.run(data);
  EXPECT_EQ(trace.str(),
            "[epoch 1 iter 1] ITERATION_COMPLETED -> handler #1\n"
            "[epoch 1 iter 2] ITERATION_COMPLETED -> handler #1\n"
            "[epoch 1 iter 2] ITERATION_COMPLETED -> handler #2 (logger) [every(2)]\n"
            "[epoch 1 iter 2] COMPLETED -> handler #1 (done)\n");
}

TEST(Engine, TracerIsOnWhenTheEnvironmentAsks) {
  ::setenv("IGNIS_TRACE_EVENTS", "1", 1);
  IntEngine engine = make_engine();
  ::unsetenv("IGNIS_TRACE_EVENTS");
  engine.on(Events::STARTED, [] {}, "hello");
  ::testing::internal::CaptureStderr();
  engine.run(std::vector<int>{1});  // a temporary is fine for one run
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "[epoch 0 iter 0] STARTED -> handler #1 (hello)\n");
}


// ---- Audit additions: counts per kind of run, interrupt / terminate at every event, handler
// changes during a firing, exceptions from the data, resuming on a seeded loader. ----

// How often each built-in event fires in one kind of run (0 for those not listed).
struct CountCase {
  const char* name;
  std::function<void(IntEngine&)> run;  // adds its handlers, then runs
  std::map<std::string, int> expected;
};

TEST(Engine, EventCountsForEachKindOfRun) {
  const std::vector<CountCase> cases = {
      {"3 epochs of 4",
       [](IntEngine& e) { e.run(std::vector<int>{1, 2, 3, 4}, 3); },
       {{"STARTED", 1}, {"EPOCH_STARTED", 3}, {"GET_BATCH_STARTED", 12},
        {"GET_BATCH_COMPLETED", 12}, {"ITERATION_STARTED", 12}, {"ITERATION_COMPLETED", 12},
        {"EPOCH_COMPLETED", 3}, {"COMPLETED", 1}}},
      // Epochs of 3 over 4 batches: the data runs out in epochs 2 and 3; the GET_BATCH_STARTED
      // before a restart is not fired again.
      {"epoch_length 3 over 4 batches",
       [](IntEngine& e) { e.run(std::vector<int>{1, 2, 3, 4}, 3, 3); },
       {{"STARTED", 1}, {"EPOCH_STARTED", 3}, {"GET_BATCH_STARTED", 9},
        {"GET_BATCH_COMPLETED", 9}, {"ITERATION_STARTED", 9}, {"ITERATION_COMPLETED", 9},
        {"DATALOADER_STOP_ITERATION", 2}, {"EPOCH_COMPLETED", 3}, {"COMPLETED", 1}}},
      {"terminate at iteration 6",
       [](IntEngine& e) {
         e.on(Events::ITERATION_COMPLETED(once(6)), [](EngineBase& b) { b.terminate(); });
         e.run(std::vector<int>{1, 2, 3, 4}, 3);
       },
       {{"STARTED", 1}, {"EPOCH_STARTED", 2}, {"GET_BATCH_STARTED", 6},
        {"GET_BATCH_COMPLETED", 6}, {"ITERATION_STARTED", 6}, {"ITERATION_COMPLETED", 6},
        {"EPOCH_COMPLETED", 1}, {"TERMINATE", 1}, {"COMPLETED", 1}}},
      {"terminate_epoch after 2 iterations of each epoch",
       [](IntEngine& e) {
         e.on(Events::ITERATION_COMPLETED(every(2)), [](EngineBase& b) { b.terminate_epoch(); });
         e.run(std::vector<int>{1, 2, 3, 4}, 3);
       },
       {{"STARTED", 1}, {"EPOCH_STARTED", 3}, {"GET_BATCH_STARTED", 6},
        {"GET_BATCH_COMPLETED", 6}, {"ITERATION_STARTED", 6}, {"ITERATION_COMPLETED", 6},
        {"TERMINATE_SINGLE_EPOCH", 3}, {"EPOCH_COMPLETED", 3}, {"COMPLETED", 1}}},
      // The failed iteration 6 ends epoch 2; epoch 3 runs its 4 batches.
      {"handled exception at iteration 6",
       [](IntEngine& e) {
         e.on(Events::ITERATION_STARTED(once(6)), [] { throw std::runtime_error("boom"); });
         e.run(std::vector<int>{1, 2, 3, 4}, 3);
       },
       {{"STARTED", 1}, {"EPOCH_STARTED", 3}, {"GET_BATCH_STARTED", 10},
        {"GET_BATCH_COMPLETED", 10}, {"ITERATION_STARTED", 10}, {"ITERATION_COMPLETED", 9},
        {"EXCEPTION_RAISED", 1}, {"EPOCH_COMPLETED", 3}, {"COMPLETED", 1}}},
      {"interrupt at iteration 5, then run again",
       [](IntEngine& e) {
         e.on(Events::ITERATION_COMPLETED(once(5)), [](EngineBase& b) { b.interrupt(); });
         std::vector<int> data = {1, 2, 3, 4};
         e.run(data, 3);
         e.run(data);
       },
       {{"STARTED", 1}, {"EPOCH_STARTED", 3}, {"GET_BATCH_STARTED", 12},
        {"GET_BATCH_COMPLETED", 12}, {"ITERATION_STARTED", 12}, {"ITERATION_COMPLETED", 12},
        {"INTERRUPT", 1}, {"EPOCH_COMPLETED", 3}, {"COMPLETED", 1}}},
      // A stream of 10 with no epoch_length: the first epoch asks once more to find its end.
      {"stream without epoch_length",
       [](IntEngine& e) { e.run(Stream{}, 2); },
       {{"STARTED", 1}, {"EPOCH_STARTED", 2}, {"GET_BATCH_STARTED", 21},
        {"GET_BATCH_COMPLETED", 20}, {"ITERATION_STARTED", 20}, {"ITERATION_COMPLETED", 20},
        {"EPOCH_COMPLETED", 2}, {"COMPLETED", 1}}},
  };
  for (const CountCase& c : cases) {
    IntEngine engine = make_engine();
    std::map<std::string, int> counts, expected;
    for (Event event : builtin_events()) {
      counts[std::string(event.name())] = 0;
      expected[std::string(event.name())] = 0;
      engine.on(event, [&counts, event] { ++counts[std::string(event.name())]; });
    }
    for (const auto& [name, count] : c.expected) expected.at(name) = count;
    c.run(engine);
    EXPECT_EQ(counts, expected) << c.name;
  }
}

// Interrupting at any event and calling run() again until done gives the uninterrupted run's
// events and batches (epochs of 2 over 3 batches, so the data also runs out mid-epoch).
// NOTE: not DATALOADER_STOP_ITERATION: resuming there fires GET_BATCH_STARTED a second time.
TEST(Engine, InterruptAtAnyEventThenResumeRepeatsTheUninterruptedRun) {
  struct Traced {
    IntEngine engine = make_engine();
    Recorder recorder;
    std::vector<int> batches;
    Traced() {
      recorder.attach(engine);
      engine.on(Events::ITERATION_COMPLETED,
                [this](IntEngine& e) { batches.push_back(e.state().output); });
    }
  };
  std::vector<int> data = {1, 2, 3};
  Traced reference;
  reference.engine.run(data, 3, 2);
  EXPECT_THAT(reference.batches, ElementsAre(1, 2, 3, 1, 2, 3));

  const std::vector<std::pair<FilteredEvent, int>> cases = {  // (event, interrupts)
      {Events::STARTED, 1},
      {Events::EPOCH_STARTED(once(2)), 1},
      {Events::GET_BATCH_STARTED(once(2)), 1},
      {Events::GET_BATCH_COMPLETED(every(2)), 3},
      {Events::ITERATION_STARTED(once(5)), 1},
      {Events::ITERATION_COMPLETED, 6},
      {Events::EPOCH_COMPLETED(before(3)), 2},
      {Events::DATALOADER_STOP_ITERATION, 1},
  };
  for (const auto& [event, interrupts] : cases) {
    Traced traced;
    traced.engine.on(event, [](EngineBase& e) { e.interrupt(); });
    int runs = 0;
    traced.engine.run(data, 3, 2);
    while (traced.engine.interrupted() && runs < 20) {
      traced.engine.run(data);
      ++runs;
    }
    const std::string name(event.event().name());
    EXPECT_EQ(runs, interrupts) << name;
    std::vector<std::string> events = traced.recorder.events;
    std::erase_if(events, [](const std::string& s) { return s.starts_with("INTERRUPT"); });
    EXPECT_EQ(events, reference.recorder.events) << name;
    EXPECT_EQ(traced.batches, reference.batches) << name;
  }
}

// terminate() or terminate_epoch() called once, from the first firing of `event` that passes
// its filter: the whole event sequence, over 2 epochs of the batches {1, 2}.
struct StopCase {
  const char* name;
  FilteredEvent event;
  bool whole_run;  // terminate() if true, else terminate_epoch()
  std::vector<std::string> expected;
  std::vector<int> batches;  // the batches processed
};

TEST(Engine, TerminateAndTerminateEpochFromEachEvent) {
  const std::vector<StopCase> cases = {
      {"terminate at STARTED", Events::STARTED, true,
       {"STARTED 0.0", "TERMINATE 0.0", "COMPLETED 0.0"}, {}},
      {"terminate at EPOCH_STARTED 2", Events::EPOCH_STARTED(once(2)), true,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"}, batch_events(1, 1), batch_events(1, 2),
               {"EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2", "TERMINATE 2.2", "COMPLETED 2.2"}}),
       {1, 2}},
      {"terminate at GET_BATCH_STARTED 1", Events::GET_BATCH_STARTED(once(1)), true,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"}, batch_events(1, 1),
               {"GET_BATCH_STARTED 1.1", "TERMINATE 1.1", "COMPLETED 1.1"}}),
       {1}},
      {"terminate at GET_BATCH_COMPLETED 1", Events::GET_BATCH_COMPLETED(once(1)), true,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"}, batch_events(1, 1),
               {"GET_BATCH_STARTED 1.1", "GET_BATCH_COMPLETED 1.1", "TERMINATE 1.1",
                "COMPLETED 1.1"}}),
       {1}},
      // The process function does not run for the iteration that was started.
      {"terminate at ITERATION_STARTED 2", Events::ITERATION_STARTED(once(2)), true,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"}, batch_events(1, 1),
               {"GET_BATCH_STARTED 1.1", "GET_BATCH_COMPLETED 1.1", "ITERATION_STARTED 1.2",
                "TERMINATE 1.2", "COMPLETED 1.2"}}),
       {1}},
      {"terminate_epoch at EPOCH_STARTED 1", Events::EPOCH_STARTED(once(1)), false,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0", "TERMINATE_SINGLE_EPOCH 1.0",
                "EPOCH_COMPLETED 1.0", "EPOCH_STARTED 2.0"},
               batch_events(2, 1), batch_events(2, 2), {"EPOCH_COMPLETED 2.2", "COMPLETED 2.2"}}),
       {1, 2}},
      {"terminate_epoch at GET_BATCH_STARTED 1", Events::GET_BATCH_STARTED(once(1)), false,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0"}, batch_events(1, 1),
               {"GET_BATCH_STARTED 1.1", "TERMINATE_SINGLE_EPOCH 1.1", "EPOCH_COMPLETED 1.1",
                "EPOCH_STARTED 2.1"},
               batch_events(2, 2), batch_events(2, 3), {"EPOCH_COMPLETED 2.3", "COMPLETED 2.3"}}),
       {1, 1, 2}},
      {"terminate_epoch at ITERATION_STARTED 1", Events::ITERATION_STARTED(once(1)), false,
       concat({{"STARTED 0.0", "EPOCH_STARTED 1.0", "GET_BATCH_STARTED 1.0",
                "GET_BATCH_COMPLETED 1.0", "ITERATION_STARTED 1.1", "TERMINATE_SINGLE_EPOCH 1.1",
                "EPOCH_COMPLETED 1.1", "EPOCH_STARTED 2.1"},
               batch_events(2, 2), batch_events(2, 3), {"EPOCH_COMPLETED 2.3", "COMPLETED 2.3"}}),
       {1, 2}},
  };
  for (const StopCase& c : cases) {
    IntEngine engine = make_engine();
    const bool whole_run = c.whole_run;
    engine.on(c.event, [whole_run, called = false](EngineBase& e) mutable {
      if (called) return;
      called = true;
      if (whole_run) {
        e.terminate();
      } else {
        e.terminate_epoch();
      }
    });
    Recorder recorder;
    recorder.attach(engine);
    std::vector<int> batches;
    engine.on(Events::ITERATION_COMPLETED,
              [&](IntEngine& e) { batches.push_back(e.state().output); });
    std::vector<int> data = {1, 2};
    engine.run(data, 2);
    EXPECT_THAT(recorder.events, ElementsAreArray(c.expected)) << c.name;
    EXPECT_THAT(batches, ElementsAreArray(c.batches)) << c.name;
  }
}

TEST(Engine, HandlersAddedOrRemovedDuringAFiringTakeEffectFromTheNextOne) {
  IntEngine engine = make_engine();
  std::vector<std::string> seen;
  RemovableHandle later;
  engine.on(Events::ITERATION_COMPLETED, [&](EngineBase& e) {
    seen.push_back("first " + std::to_string(e.state().iteration));
    if (e.state().iteration == 2) later.remove();  // before it runs in this very firing
    if (e.state().iteration == 1) {
      e.on(Events::ITERATION_COMPLETED,
           [&](EngineBase& b) { seen.push_back("added " + std::to_string(b.state().iteration)); });
    }
  });
  later = engine.on(Events::ITERATION_COMPLETED, [&](EngineBase& e) {
    seen.push_back("later " + std::to_string(e.state().iteration));
  });
  std::vector<int> data = {1, 2, 3};
  engine.run(data);
  EXPECT_THAT(seen, ElementsAre("first 1", "later 1", "first 2", "added 2", "first 3", "added 3"));
}

TEST(Engine, ExceptionsFromTheDataAreHandledLikeOthers) {
  // Call n gives n - 1, except the third call, which throws.
  auto make_stream = [] {
    return [calls = 0]() mutable -> std::optional<int> {
      if (++calls == 3) throw std::runtime_error("cannot read batch 3");
      return calls - 1;
    };
  };
  IntEngine handled = make_engine();
  Recorder recorder;
  recorder.attach(handled);
  std::vector<int> batches;
  handled.on(Events::ITERATION_COMPLETED,
             [&](IntEngine& e) { batches.push_back(e.state().output); });
  handled.on(Events::EXCEPTION_RAISED, [&](EngineBase&, const std::exception& error) {
    recorder.events.push_back(std::string("EXCEPTION_RAISED ") + error.what());
  });
  auto stream = make_stream();
  handled.run(stream, 2, 3);
  EXPECT_THAT(batches, ElementsAre(0, 1, 3, 4, 5));
  EXPECT_THAT(std::vector<std::string>(recorder.events.begin() + 10, recorder.events.begin() + 14),
              ElementsAre("GET_BATCH_STARTED 1.2", "EXCEPTION_RAISED cannot read batch 3",
                          "EPOCH_COMPLETED 1.2", "EPOCH_STARTED 2.2"));

  IntEngine unhandled = make_engine();
  auto other = make_stream();
  EXPECT_THAT([&] { unhandled.run(other, 2, 3); },
              ThrowsMessage<std::runtime_error>(HasSubstr("cannot read batch 3")));
  EXPECT_EQ(unhandled.state().iteration, 2);
}

// A run stopped at `stop` by interrupt() or terminate() and run again on the same seeded
// loader goes through the same (epoch, iteration, batch) sequence as an uninterrupted one.
// Stop 12 is inside the last epoch: a terminated run still has iterations left and goes on.
TEST(Engine, InterruptedOrTerminatedRunsGoOnWithTheSameBatches) {
  auto trace_of = [](IntEngine& engine, std::vector<std::string>& trace) {
    engine.on(Events::ITERATION_COMPLETED, [&trace](IntEngine& e) {
      trace.push_back(std::to_string(e.state().epoch) + "." + std::to_string(e.state().iteration) +
                      ":" + std::to_string(e.state().output));
    });
  };
  ShuffledLoader loader(5, 7);
  IntEngine full = make_engine();
  std::vector<std::string> expected;
  trace_of(full, expected);
  full.run(loader, 3);

  for (int64_t stop : {1, 4, 5, 6, 10, 12}) {
    for (bool terminate : {false, true}) {
      ShuffledLoader fresh(5, 7);
      IntEngine engine = make_engine();
      std::vector<std::string> trace;
      trace_of(engine, trace);
      engine.on(Events::ITERATION_COMPLETED(once(stop)), [terminate](EngineBase& e) {
        if (terminate) {
          e.terminate();
        } else {
          e.interrupt();
        }
      });
      engine.run(fresh, 3);
      EXPECT_EQ(engine.state().iteration, stop);
      engine.run(fresh);
      EXPECT_EQ(trace, expected) << "stop " << stop << (terminate ? " terminate" : " interrupt");
    }
  }
}

}  // namespace
}  // namespace ignis::engine

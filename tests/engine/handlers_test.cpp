// Tests of engine/handlers: ProgressBar's lines (off and on a terminal), Timer, EarlyStopping,
// TerminateOnNan, the LR-scheduler handler and CsvLogger's atomic rewrites.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/handlers/csv_logger.h"
#include "engine/handlers/early_stopping.h"
#include "engine/handlers/lr_scheduler.h"
#include "engine/handlers/progress_bar.h"
#include "engine/handlers/terminate_on_nan.h"
#include "engine/handlers/timer.h"

namespace ignis::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Each batch takes half a second on a fake clock; the loss is 0.5.
struct TimedRun {
  double now = 0.0;
  Engine<int, Output<double>> engine{[this](EngineBase&, const int&) {
    now += 0.5;
    return Output{.loss = 0.5};
  }};
  std::function<double()> clock() {
    return [this] { return now; };
  }
};

TEST(ProgressBar, OffATerminalPrintsALineEveryStepPercent) {
  TimedRun run;
  std::ostringstream out;
  ProgressBar bar({.stream = &out, .tty = false, .percent_step = 20, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(10);
  run.engine.run(data, 2);
  EXPECT_THAT(lines_of(out.str()),
              ElementsAre("Epoch [1/2] 2/10 [20%] 2.0 it/s ETA 0:04 loss=0.5",
                          "Epoch [1/2] 4/10 [40%] 2.0 it/s ETA 0:03 loss=0.5",
                          "Epoch [1/2] 6/10 [60%] 2.0 it/s ETA 0:02 loss=0.5",
                          "Epoch [1/2] 8/10 [80%] 2.0 it/s ETA 0:01 loss=0.5",
                          "Epoch [1/2] 10/10 [100%] 2.0 it/s ETA 0:00 loss=0.5",
                          "Epoch [2/2] 2/10 [20%] 2.0 it/s ETA 0:04 loss=0.5",
                          "Epoch [2/2] 4/10 [40%] 2.0 it/s ETA 0:03 loss=0.5",
                          "Epoch [2/2] 6/10 [60%] 2.0 it/s ETA 0:02 loss=0.5",
                          "Epoch [2/2] 8/10 [80%] 2.0 it/s ETA 0:01 loss=0.5",
                          "Epoch [2/2] 10/10 [100%] 2.0 it/s ETA 0:00 loss=0.5"));
}

TEST(ProgressBar, DefaultStepIsTenPercentAndMetricsCloseTheEpoch) {
  TimedRun run;
  run.engine.on(Events::EPOCH_COMPLETED,
                [](EngineBase& e) { e.state().metrics["accuracy"] = 0.75; });
  std::ostringstream out;
  ProgressBar bar(
      {.stream = &out, .tty = false, .metric_names = {"accuracy"}, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(25);
  run.engine.run(data);
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 10u);  // 10% .. 90%, then 100% with the metrics
  EXPECT_EQ(lines[0], "Epoch [1/1] 3/25 [12%] 2.0 it/s ETA 0:11 loss=0.5");
  EXPECT_EQ(lines[9], "Epoch [1/1] 25/25 [100%] 2.0 it/s ETA 0:00 loss=0.5 accuracy=0.75");
}

TEST(ProgressBar, ACutEpochGetsItsLastLineAtTerminate) {
  TimedRun run;
  run.engine.on(Events::ITERATION_COMPLETED(once(3)), [](EngineBase& e) { e.terminate(); });
  std::ostringstream out;
  ProgressBar bar({.stream = &out, .tty = false, .percent_step = 50, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(4);
  run.engine.run(data, 2);
  EXPECT_THAT(lines_of(out.str()), ElementsAre("Epoch [1/2] 2/4 [50%] 2.0 it/s ETA 0:01 loss=0.5",
                                               "Epoch [1/2] 3/4 [75%] 2.0 it/s ETA 0:01 loss=0.5"));
}

TEST(ProgressBar, OnATerminalRedrawsOneLinePerEpoch) {
  TimedRun run;
  std::ostringstream out;
  ProgressBar bar({.stream = &out, .tty = true, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(4);
  run.engine.run(data, 2);
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'),
            10);  // per epoch: 4 redraws, the final line
  EXPECT_THAT(text, HasSubstr("\rEpoch [2/2] 4/4 [100%] 2.0 it/s ETA 0:00 loss=0.5\x1b[K\n"));
}

TEST(ProgressBar, RejectsBadOptions) {
  EXPECT_THAT(
      [] { ProgressBar bar({.percent_step = 0}); },
      ThrowsMessage<std::invalid_argument>(HasSubstr("percent_step must be in [1, 100], got 0")));
}

TEST(Timer, AveragesTimePerIteration) {
  TimedRun run;
  Timer timer(/*average=*/true, run.clock());
  timer.attach(run.engine, Events::EPOCH_STARTED, Events::EPOCH_COMPLETED,
               Events::ITERATION_STARTED, Events::ITERATION_COMPLETED);
  std::vector<int> data(4);
  run.engine.run(data);
  EXPECT_DOUBLE_EQ(timer.value(), 0.5);

  Timer total(/*average=*/false, run.clock());
  total.attach(run.engine);
  run.engine.run(data);
  EXPECT_DOUBLE_EQ(total.value(), 2.0);
  run.now += 10.0;
  EXPECT_DOUBLE_EQ(total.value(), 2.0);  // paused at COMPLETED
  total.resume();
  run.now += 1.0;
  EXPECT_DOUBLE_EQ(total.value(), 3.0);
}

// EarlyStopping over a sequence of scores, one per epoch; the epoch where it stops the trainer.
struct EarlyStoppingCase {
  std::vector<double> scores;
  int64_t patience;
  double min_delta;
  bool cumulative_delta;
  int64_t stop_epoch;  // 0: never
};

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  const std::vector<EarlyStoppingCase> cases = {
      {{1, 2, 3, 4, 5}, 2, 0.0, false, 0},
      {{1, 0.9, 0.8, 2, 2}, 2, 0.0, false, 3},
      {{1, 0.9, 2, 1.5, 1.5, 1.5}, 3, 0.0, false, 6},
      {{1, 1, 1}, 1, 0.0, false, 2},
      {{1, 1.06, 1.12, 1.18}, 3, 0.1, false, 4},
      {{1, 1.06, 1.12, 1.18}, 3, 0.1, true, 0},
  };
  for (const EarlyStoppingCase& c : cases) {
    Engine<int, int> trainer([](EngineBase&, const int& b) { return b; });
    EarlyStopping stopper(
        c.patience, [&](EngineBase& e) { return c.scores.at(e.state().epoch - 1); }, trainer,
        c.min_delta, c.cumulative_delta);
    stopper.attach(trainer, Events::EPOCH_COMPLETED);
    int64_t stopped_at = 0;
    trainer.on(Events::TERMINATE, [&](EngineBase& e) { stopped_at = e.state().epoch; });
    std::vector<int> data = {1};
    trainer.run(data, static_cast<int64_t>(c.scores.size()));
    EXPECT_EQ(stopped_at, c.stop_epoch) << "patience " << c.patience << " min_delta " << c.min_delta
                                        << " cumulative " << c.cumulative_delta;
  }
}

TEST(EarlyStopping, ChecksArgumentsAndSavesItsState) {
  Engine<int, int> trainer([](EngineBase&, const int& b) { return b; });
  auto score = [](EngineBase&) { return 1.0; };
  EXPECT_THAT([&] { EarlyStopping(0, score, trainer); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("patience must be >= 1, got 0")));
  EXPECT_THAT([&] { EarlyStopping(1, score, trainer, -0.5); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("min_delta must be >= 0")));
  EarlyStopping stopper(5, score, trainer);
  stopper(trainer);
  stopper(trainer);
  EXPECT_EQ(stopper.counter(), 1);
  EarlyStopping restored(5, score, trainer);
  restored.load_state_dict(stopper.state_dict());
  EXPECT_EQ(restored.counter(), 1);
  EXPECT_EQ(restored.best_score(), 1.0);
}

TEST(TerminateOnNan, StopsAtTheFirstNonFiniteLoss) {
  Engine<int, Output<double>> trainer([](EngineBase&, const int& b) {
    return Output{.loss = b == 3 ? std::numeric_limits<double>::quiet_NaN() : 1.0};
  });
  TerminateOnNan nan_guard;
  nan_guard.attach(trainer);
  std::vector<int> data = {1, 2, 3, 4, 5};
  trainer.run(data);
  EXPECT_TRUE(nan_guard.triggered());
  EXPECT_EQ(trainer.state().iteration, 3);

  Engine<int, std::pair<double, double>> custom([](EngineBase&, const int& b) {
    return std::pair<double, double>(1.0, b == 2 ? INFINITY : 0.0);
  });
  TerminateOnNan second;
  second.attach(custom, [](const std::pair<double, double>& out) { return out.second; });
  custom.run(data);
  EXPECT_EQ(custom.state().iteration, 2);
}

TEST(LRScheduler, StepsOnTheChosenEvent) {
  struct Scheduler {
    int steps = 0;
    void step() { ++steps; }
  } per_epoch, per_iteration;
  Engine<int, int> trainer([](EngineBase&, const int& b) { return b; });
  attach_lr_scheduler(trainer, per_epoch);
  attach_lr_scheduler(trainer, per_iteration, Events::ITERATION_COMPLETED);
  std::vector<int> data = {1, 2, 3};
  trainer.run(data, 4);
  EXPECT_EQ(per_epoch.steps, 4);
  EXPECT_EQ(per_iteration.steps, 12);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CsvLogger, RewritesTheWholeFileAfterEachEpoch) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("ignis_csv_logger_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "log.csv";

  Engine<int, int> trainer([](EngineBase&, const int& b) { return b; });
  trainer.on(Events::EPOCH_COMPLETED, [](EngineBase& e) {
    auto& m = e.state().metrics;
    m["loss"] = 1.0 / static_cast<double>(e.state().epoch);
    if (e.state().epoch == 1)
      m["accuracy, top-1"] = 0.5;
    else
      m.erase("accuracy, top-1");
    if (e.state().epoch == 3) m["extra"] = 1.0;
  });
  CsvLogger logger(path);
  logger.attach(trainer);
  std::vector<std::string> contents;
  trainer.on(Events::EPOCH_COMPLETED, [&] {
    contents.push_back(read_file(path));
    EXPECT_FALSE(std::filesystem::exists(dir / "log.csv.tmp"));
  });
  std::vector<int> data = {1};
  trainer.run(data, 3);
  EXPECT_THAT(
      contents,
      ElementsAre("epoch,\"accuracy, top-1\",loss\n1,0.5,1\n",
                  "epoch,\"accuracy, top-1\",loss\n1,0.5,1\n2,,0.5\n",
                  "epoch,\"accuracy, top-1\",loss\n1,0.5,1\n2,,0.5\n3,,0.3333333333333333\n"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  std::filesystem::remove_all(dir);
}

TEST(CsvLogger, NamesTheFileItCannotWrite) {
  CsvLogger logger(std::filesystem::path("no_such_directory_for_ignis") / "log.csv");
  EXPECT_THAT(
      [&] {
        logger.log_row(1, {{"loss", 1.0}});
      },
      ThrowsMessage<std::runtime_error>(HasSubstr("CsvLogger: cannot write")));
}


// ---- Audit additions: ProgressBar off a terminal with an unknown epoch length, no loss,
// missing metrics, a resumed epoch, and the default stream. ----

TEST(ProgressBar, OffATerminalAnEpochOfUnknownLengthPrintsOnlyItsLastLine) {
  TimedRun run;
  std::ostringstream out;
  ProgressBar bar({.stream = &out, .tty = false, .percent_step = 50, .clock = run.clock()});
  bar.attach(run.engine);
  int next = 0;  // a stream of 4 batches, then the end of the data
  auto stream = [&next]() -> std::optional<int> {
    if (next == 4) {
      next = 0;
      return std::nullopt;
    }
    return next++;
  };
  run.engine.run(stream, 2);
  EXPECT_THAT(lines_of(out.str()),
              ElementsAre("Epoch [1/2] 4/4 [100%] 2.0 it/s ETA 0:00 loss=0.5",
                          "Epoch [2/2] 2/4 [50%] 2.0 it/s ETA 0:01 loss=0.5",
                          "Epoch [2/2] 4/4 [100%] 2.0 it/s ETA 0:00 loss=0.5"));
}

TEST(ProgressBar, OffATerminalShowsNoLossWithoutOneAndOnlyTheMetricsPresent) {
  double now = 0.0;
  Engine<int, std::string> engine([&now](EngineBase&, const int&) {
    now += 1.0;
    return std::string("no loss here");
  });
  engine.on(Events::EPOCH_COMPLETED, [](EngineBase& e) {
    e.state().metrics["a"] = 1.0;
    e.state().metrics["b"] = 0.125;
  });
  std::ostringstream out;
  ProgressBar bar({.stream = &out,
                   .tty = false,
                   .percent_step = 50,
                   .metric_names = {"b", "missing", "a"},
                   .clock = [&now] { return now; }});
  bar.attach(engine);
  std::vector<int> data(2);
  engine.run(data);
  EXPECT_THAT(lines_of(out.str()),
              ElementsAre("Epoch [1/1] 1/2 [50%] 1.0 it/s ETA 0:01",
                          "Epoch [1/1] 2/2 [100%] 1.0 it/s ETA 0:00 b=0.125 a=1"));
}

TEST(ProgressBar, OffATerminalAResumedEpochCountsFromWhereItWas) {
  TimedRun run;
  run.engine.load_state_dict({{"iteration", 3}, {"epoch_length", 10}, {"max_epochs", 1}});
  std::ostringstream out;
  ProgressBar bar({.stream = &out, .tty = false, .percent_step = 20, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(10);
  run.engine.run(data);
  EXPECT_THAT(lines_of(out.str()),
              ElementsAre("Epoch [1/1] 4/10 [40%] 2.0 it/s ETA 0:03 loss=0.5",
                          "Epoch [1/1] 6/10 [60%] 2.0 it/s ETA 0:02 loss=0.5",
                          "Epoch [1/1] 8/10 [80%] 2.0 it/s ETA 0:01 loss=0.5",
                          "Epoch [1/1] 10/10 [100%] 2.0 it/s ETA 0:00 loss=0.5"));
}

TEST(ProgressBar, DefaultsToPlainLinesOnStderrOffATerminal) {
  if (isatty(STDERR_FILENO) == 1) GTEST_SKIP() << "stderr is a terminal";
  TimedRun run;
  ProgressBar bar({.percent_step = 50, .clock = run.clock()});
  bar.attach(run.engine);
  std::vector<int> data(2);
  ::testing::internal::CaptureStderr();
  run.engine.run(data);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "Epoch [1/1] 1/2 [50%] 2.0 it/s ETA 0:01 loss=0.5\n"
            "Epoch [1/1] 2/2 [100%] 2.0 it/s ETA 0:00 loss=0.5\n");
}

}  // namespace
}  // namespace ignis::engine

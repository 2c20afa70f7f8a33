// Tests of metrics::RunningAverage: the moving average of the output and of a metric, with
// each supported usage, epoch_bound, and its errors.
#include "metrics/running_average.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/engine.h"
#include "metrics/regression.h"
#include "tensor/factory.h"

namespace ignis::metrics {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;
using ::testing::ThrowsMessage;

// A trainer whose loss is its batch: Output<double>{.loss = b}.
using Trainer = engine::Engine<int, engine::Output<double>>;
Trainer make_trainer() {
  return Trainer(
      [](engine::EngineBase&, const int& b) { return engine::Output{.loss = double(b)}; });
}

// An evaluator whose batch b predicts [b, b] for targets [0, 0]: batch MSE b^2.
using Evaluator = engine::Engine<int, engine::Output<Tensor>>;
Evaluator make_evaluator() {
  return Evaluator([](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{.y_pred = full({2}, b, {.dtype = kFloat64}),
                                  .y = zeros({2}, {.dtype = kFloat64})};
  });
}

const std::vector<int> kData = {2, 4, 6};

// The value under `name` after each firing of `event`.
template <class E>
std::vector<double> record(E& engine, engine::Event event, const std::string& name,
                           int max_epochs) {
  std::vector<double> seen;
  engine.on(event,
            [&seen, name](engine::EngineBase& e) { seen.push_back(e.state().metrics[name]); });
  engine.run(kData, max_epochs);
  return seen;
}

TEST(RunningAverage, OfTheOutputFollowsIgnitesFormula) {
  Trainer trainer = make_trainer();
  RunningAverage({.alpha = 0.5}).attach(trainer, "loss", [](const engine::Output<double>& o) {
    return o.loss;
  });
  // 2, 0.5 * 2 + 0.5 * 4 = 3, 0.5 * 3 + 0.5 * 6 = 4.5; then on across the epoch boundary.
  EXPECT_THAT(record(trainer, engine::Events::ITERATION_COMPLETED, "loss", 2),
              Pointwise(DoubleEq(), {2.0, 3.0, 4.5, 3.25, 3.625, 4.8125}));
}

TEST(RunningAverage, DefaultsToAlpha098AndTheLoss) {
  Trainer trainer = make_trainer();
  RunningAverage().attach(trainer, "loss");
  EXPECT_THAT(record(trainer, engine::Events::ITERATION_COMPLETED, "loss", 1),
              Pointwise(DoubleEq(), {2.0, 0.98 * 2.0 + 0.02 * 4.0,
                                     0.98 * (0.98 * 2.0 + 0.02 * 4.0) + 0.02 * 6.0}));
}

TEST(RunningAverage, OfAMetricUsesItsValueOnEachBatchAlone) {
  Evaluator evaluator = make_evaluator();
  RunningAverage(MeanSquaredError(), {.alpha = 0.5}).attach(evaluator, "mse");
  // batch MSEs 4, 16, 36
  EXPECT_THAT(record(evaluator, engine::Events::ITERATION_COMPLETED, "mse", 1),
              Pointwise(DoubleEq(), {4.0, 10.0, 23.0}));
}

TEST(RunningAverage, EpochBoundRestartsEachEpoch) {
  Trainer bound = make_trainer();
  RunningAverage({.alpha = 0.5, .epoch_bound = true}).attach(bound, "loss");
  EXPECT_THAT(record(bound, engine::Events::ITERATION_COMPLETED, "loss", 2),
              Pointwise(DoubleEq(), {2.0, 3.0, 4.5, 2.0, 3.0, 4.5}));
  Trainer usage = make_trainer();
  RunningAverage({.alpha = 0.5}).attach(usage, "loss", Usage::SingleEpochRunningBatchWise);
  EXPECT_THAT(record(usage, engine::Events::ITERATION_COMPLETED, "loss", 2),
              Pointwise(DoubleEq(), {2.0, 3.0, 4.5, 2.0, 3.0, 4.5}));
  Trainer unbound = make_trainer();
  RunningAverage({.alpha = 0.5, .epoch_bound = false})
      .attach(unbound, "loss", Usage::SingleEpochRunningBatchWise);  // epoch_bound wins
  EXPECT_THAT(record(unbound, engine::Events::ITERATION_COMPLETED, "loss", 2),
              Pointwise(DoubleEq(), {2.0, 3.0, 4.5, 3.25, 3.625, 4.8125}));
}

TEST(RunningAverage, RunningEpochWiseAveragesEpochValues) {
  // Epoch 1 runs batches 2, 4, 6 (MSE 56 / 3), epoch 2 the same: the average stays.
  Evaluator evaluator = make_evaluator();
  RunningAverage(MeanSquaredError(), {.alpha = 0.5}).attach(evaluator, "mse",
                                                            Usage::RunningEpochWise);
  EXPECT_THAT(record(evaluator, engine::Events::EPOCH_COMPLETED, "mse", 2),
              Pointwise(DoubleEq(), {56.0 / 3.0, 56.0 / 3.0}));
  // Of the output, the epoch's last output is folded in: 6, then 6.
  Trainer trainer = make_trainer();
  RunningAverage({.alpha = 0.5}).attach(trainer, "loss", Usage::RunningEpochWise);
  EXPECT_THAT(record(trainer, engine::Events::EPOCH_COMPLETED, "loss", 2),
              Pointwise(DoubleEq(), {6.0, 6.0}));
  EXPECT_EQ(trainer.state().metrics.size(), 1u);
}

TEST(RunningAverage, RunningEpochWiseWithChangingEpochs) {
  // Epoch e gives the batches 2e, 4e, 6e through the engine's epoch.
  Evaluator evaluator([](engine::EngineBase& e, const int& b) {
    const double v = double(b * e.state().epoch);
    return engine::Output<Tensor>{.y_pred = full({1}, v, {.dtype = kFloat64}),
                                  .y = zeros({1}, {.dtype = kFloat64})};
  });
  RunningAverage(MeanAbsoluteError(), {.alpha = 0.25}).attach(evaluator, "mae",
                                                              Usage::RunningEpochWise);
  // epoch MAEs 4 and 8: 4, then 0.25 * 4 + 0.75 * 8 = 7
  EXPECT_THAT(record(evaluator, engine::Events::EPOCH_COMPLETED, "mae", 2),
              Pointwise(DoubleEq(), {4.0, 7.0}));
}

TEST(RunningAverage, StandaloneUpdateIsOneStep) {
  RunningAverage average(MeanSquaredError(), {.alpha = 0.5});
  EXPECT_THROW(average.compute(), NotComputableError);
  average.update(tensor({1.0, 3.0}), tensor({0.0, 0.0}));  // MSE 5
  average.update(tensor({1.0}), tensor({0.0}));            // MSE 1
  EXPECT_DOUBLE_EQ(average.compute().item<double>(), 3.0);
  RunningAverage copy = average;
  copy.update(tensor({3.0}), tensor({0.0}));  // 0.5 * 3 + 0.5 * 9
  EXPECT_DOUBLE_EQ(copy.compute().item<double>(), 6.0);
  EXPECT_DOUBLE_EQ(average.compute().item<double>(), 3.0);
  average.reset();
  EXPECT_THROW(average.compute(), NotComputableError);
}

TEST(RunningAverage, OfATensorOutputKeepsItsShape) {
  RunningAverage average({.alpha = 0.5});
  average.update(tensor({2.0f, 4.0f}));
  average.update(tensor({4.0f, 0.0f}));
  const Tensor value = average.compute();
  EXPECT_EQ(value.dtype(), kFloat64);
  EXPECT_THAT(value.to_vector<double>(), ElementsAre(3.0, 2.0));
  EXPECT_THAT([&] { average.update(tensor({1.0, 2.0, 3.0})); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "RunningAverage: the source's value is (3,) but the running value is (2,)")));
}

TEST(RunningAverage, RejectsBadAlphaAndUsages) {
  EXPECT_THAT([] { RunningAverage({.alpha = 0.0}); },
              ThrowsMessage<ValueError>(HasSubstr("RunningAverage: alpha must be in (0, 1]")));
  EXPECT_THROW(RunningAverage({.alpha = 1.5}), ValueError);
  EXPECT_NO_THROW(RunningAverage({.alpha = 1.0}));
  Trainer trainer = make_trainer();
  EXPECT_THAT([&] { RunningAverage().attach(trainer, "loss", Usage::EpochWise); },
              ThrowsMessage<ValueError>(HasSubstr("RunningAverage: usage EpochWise is not "
                                                  "supported")));
  EXPECT_THROW(RunningAverage().attach(trainer, "loss", Usage::BatchWise), ValueError);
  EXPECT_FALSE(trainer.has_event_handler(engine::Events::ITERATION_COMPLETED));
  RunningAverage average;
  EXPECT_THAT([&] { average.update(Tensor()); },
              ThrowsMessage<ValueError>(HasSubstr("RunningAverage: the output to average is "
                                                  "undefined")));
}

TEST(RunningAverage, DetachesLikeAnyMetric) {
  Trainer trainer = make_trainer();
  RunningAverage average({.alpha = 0.5});
  average.attach(trainer, "loss", Usage::RunningEpochWise);
  EXPECT_TRUE(average.is_attached(trainer, "loss"));
  average.detach(trainer);
  EXPECT_FALSE(average.is_attached(trainer));
  EXPECT_FALSE(trainer.has_event_handler(engine::Events::EPOCH_STARTED));
  EXPECT_FALSE(trainer.has_event_handler(engine::Events::STARTED));
}

}  // namespace
}  // namespace ignis::metrics

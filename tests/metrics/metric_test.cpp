// Tests of the Metric life cycle: attach with each Usage, detach / is_attached, attaching a
// temporary, output transforms, non-scalar results, NotComputableError through run().
// The metrics themselves are tested in their own files.
#include "metrics/metric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "metrics/regression.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"

namespace ignis::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The sum of every y_pred element since reset(); NotComputableError before any update.
class SumOfPredictions : public MetricBase<SumOfPredictions> {
 public:
  static constexpr const char* kName = "SumOfPredictions";
  void reset() override {
    sum_ = 0.0;
    updates_ = 0;
  }
  using Metric::update;
  void update(const Update& update) override {
    sum_ += raw::sum(update.y_pred.to(kFloat64)).item<double>();
    ++updates_;
  }
  Tensor compute() const override {
    if (updates_ == 0) throw NotComputableError("SumOfPredictions: no update");
    return scalar_tensor(sum_, kFloat64);
  }
  int updates() const { return updates_; }

 private:
  double sum_ = 0.0;
  int updates_ = 0;
};

// The last y_pred, as given: a non-scalar result.
class LastPrediction : public MetricBase<LastPrediction> {
 public:
  static constexpr const char* kName = "LastPrediction";
  void reset() override { last_ = Tensor(); }
  using Metric::update;
  void update(const Update& update) override { last_ = update.y_pred; }
  Tensor compute() const override { return last_; }

 private:
  Tensor last_;
};

// The process function returns its batch as the output: a number, read as a 0-d y_pred.
using NumberEngine = engine::Engine<int, double>;
NumberEngine make_number_engine() {
  return NumberEngine([](engine::EngineBase&, const int& batch) { return double(batch); });
}

const std::vector<int> kData = {1, 2, 3};

// The value stored under `name` after each firing of `event` (handlers registered after the
// metric's run after it).
std::vector<double> record(NumberEngine& engine, engine::Event event, const std::string& name,
                           int max_epochs) {
  std::vector<double> seen;
  engine.on(event,
            [&seen, name](engine::EngineBase& e) { seen.push_back(e.state().metrics[name]); });
  engine.run(kData, max_epochs);
  return seen;
}

TEST(MetricAttach, EpochWiseResetsEachEpochAndStoresAtItsEnd) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum");
  EXPECT_THAT(record(engine, engine::Events::EPOCH_COMPLETED, "sum", 2), ElementsAre(6.0, 6.0));
  EXPECT_EQ(sum.updates(), 3);
  EXPECT_DOUBLE_EQ(sum.compute().item<double>(), 6.0);
}

TEST(MetricAttach, RunningEpochWiseKeepsSummingAcrossEpochs) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum", Usage::RunningEpochWise);
  EXPECT_THAT(record(engine, engine::Events::EPOCH_COMPLETED, "sum", 2), ElementsAre(6.0, 12.0));
}

TEST(MetricAttach, BatchWiseGivesEachBatchAlone) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum", Usage::BatchWise);
  EXPECT_THAT(record(engine, engine::Events::ITERATION_COMPLETED, "sum", 2),
              ElementsAre(1.0, 2.0, 3.0, 1.0, 2.0, 3.0));
}

TEST(MetricAttach, RunningBatchWiseAccumulatesOverTheRun) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum", Usage::RunningBatchWise);
  EXPECT_THAT(record(engine, engine::Events::ITERATION_COMPLETED, "sum", 2),
              ElementsAre(1.0, 3.0, 6.0, 7.0, 9.0, 12.0));
}

TEST(MetricAttach, SingleEpochRunningBatchWiseRestartsEachEpoch) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum", Usage::SingleEpochRunningBatchWise);
  EXPECT_THAT(record(engine, engine::Events::ITERATION_COMPLETED, "sum", 2),
              ElementsAre(1.0, 3.0, 6.0, 1.0, 3.0, 6.0));
}

TEST(MetricAttach, ASecondRunStartsOverForEpochWise) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum", Usage::RunningEpochWise);
  engine.run(kData, 1);
  engine.run(std::vector<int>{10}, 1);
  EXPECT_DOUBLE_EQ(engine.state().metrics["sum"], 10.0);
}

TEST(MetricAttach, DetachRemovesEveryHandlerOfThatEngine) {
  NumberEngine engine = make_number_engine();
  NumberEngine other = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum").attach(engine, "again", Usage::BatchWise);
  sum.attach(other, "sum");
  EXPECT_TRUE(sum.is_attached(engine));
  EXPECT_TRUE(sum.is_attached(engine, "sum"));
  EXPECT_TRUE(sum.is_attached(engine, "again"));
  EXPECT_FALSE(sum.is_attached(engine, "missing"));

  sum.detach(engine);
  EXPECT_FALSE(sum.is_attached(engine));
  EXPECT_FALSE(sum.is_attached(engine, "sum"));
  EXPECT_TRUE(sum.is_attached(other, "sum"));
  EXPECT_FALSE(engine.has_event_handler(engine::Events::ITERATION_COMPLETED));
  EXPECT_FALSE(engine.has_event_handler(engine::Events::EPOCH_STARTED));
  engine.run(kData);
  EXPECT_TRUE(engine.state().metrics.empty());
  EXPECT_EQ(sum.updates(), 0);

  other.run(kData);
  EXPECT_DOUBLE_EQ(other.state().metrics["sum"], 6.0);
}

TEST(MetricAttach, ACopyStartsDetachedWithTheSameState) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions sum;
  sum.attach(engine, "sum");
  engine.run(kData);
  const SumOfPredictions copy = sum;
  EXPECT_FALSE(copy.is_attached(engine));
  EXPECT_DOUBLE_EQ(copy.compute().item<double>(), 6.0);
  const std::unique_ptr<Metric> clone = sum.clone();
  EXPECT_FALSE(clone->is_attached(engine));
  EXPECT_EQ(clone->type_name(), "SumOfPredictions");
  EXPECT_DOUBLE_EQ(clone->compute().item<double>(), 6.0);
}

TEST(MetricAttach, ATemporaryIsCopiedAndKeptAliveByTheEngine) {
  NumberEngine engine = make_number_engine();
  SumOfPredictions().attach(engine, "sum");
  SumOfPredictions().attach(engine, "batch", Usage::BatchWise);
  engine.run(kData, 2);
  EXPECT_DOUBLE_EQ(engine.state().metrics["sum"], 6.0);
  EXPECT_DOUBLE_EQ(engine.state().metrics["batch"], 3.0);
}

TEST(MetricAttach, AMetricOutlivesItsEngine) {
  SumOfPredictions sum;
  {
    NumberEngine engine = make_number_engine();
    sum.attach(engine, "sum");
    engine.run(kData);
  }
  EXPECT_FALSE(sum.is_attached(make_number_engine()));
  EXPECT_DOUBLE_EQ(sum.compute().item<double>(), 6.0);
}

// ---- output transforms ----

using TensorEngine = engine::Engine<int, engine::Output<Tensor>>;
TensorEngine make_tensor_engine() {
  // y_pred = [b, b], y = [10 b, 10 b].
  return TensorEngine([](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{.loss = 100.0 * b,
                                  .y_pred = full({2}, b, {.dtype = kFloat64}),
                                  .y = full({2}, 10 * b, {.dtype = kFloat64})};
  });
}

TEST(MetricTransform, OutputOfTensorsGivesYPredAndY) {
  TensorEngine engine = make_tensor_engine();
  SumOfPredictions().attach(engine, "sum");
  MeanSquaredError().attach(engine, "mse");
  engine.run(kData);
  EXPECT_DOUBLE_EQ(engine.state().metrics["sum"], 12.0);
  // errors 9b per element: (81 + 324 + 729) / 3
  EXPECT_DOUBLE_EQ(engine.state().metrics["mse"], 378.0);
}

TEST(MetricTransform, EachAcceptedReturnType) {
  TensorEngine engine = make_tensor_engine();
  using Out = engine::Output<Tensor>;
  SumOfPredictions().attach(engine, "update",
                            [](const Out& o) { return Update{o.y, o.y_pred}; });
  SumOfPredictions().attach(engine, "pair",
                            [](const Out& o) { return std::make_pair(o.y, o.y_pred); });
  SumOfPredictions().attach(engine, "tensor", [](const Out& o) { return o.y; });
  SumOfPredictions().attach(engine, "number", [](const Out& o) { return o.loss; });
  SumOfPredictions().attach(engine, "int", [](const Out&) { return 1; }, Usage::RunningEpochWise);
  engine.run(kData);
  auto& m = engine.state().metrics;
  EXPECT_DOUBLE_EQ(m["update"], 120.0);
  EXPECT_DOUBLE_EQ(m["pair"], 120.0);
  EXPECT_DOUBLE_EQ(m["tensor"], 120.0);
  EXPECT_DOUBLE_EQ(m["number"], 600.0);
  EXPECT_DOUBLE_EQ(m["int"], 3.0);
}

TEST(MetricTransform, OutputOfNumbersGivesTheLoss) {
  using LossEngine = engine::Engine<int, engine::Output<double>>;
  LossEngine engine([](engine::EngineBase&, const int& b) {
    return engine::Output{.loss = 0.5 * b};
  });
  SumOfPredictions().attach(engine, "loss");
  engine.run(kData);
  EXPECT_DOUBLE_EQ(engine.state().metrics["loss"], 3.0);
}

TEST(MetricCompleted, ANonScalarResultIsStoredElementByElement) {
  TensorEngine engine([](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{.y_pred = tensor({{1.0 * b, 2.0}, {3.0, 4.0}})};
  });
  LastPrediction().attach(engine, "last");
  LastPrediction().attach(engine, "one", [](const engine::Output<Tensor>& o) {
    return o.y_pred.slice(0, 0, 1).slice(1, 0, 1);
  });
  engine.run(kData);
  auto& m = engine.state().metrics;
  EXPECT_EQ(m.count("last"), 0u);
  EXPECT_DOUBLE_EQ(m["last/0"], 3.0);
  EXPECT_DOUBLE_EQ(m["last/1"], 2.0);
  EXPECT_DOUBLE_EQ(m["last/2"], 3.0);
  EXPECT_DOUBLE_EQ(m["last/3"], 4.0);
  EXPECT_EQ(m.count("last/4"), 0u);
  EXPECT_DOUBLE_EQ(m["one"], 3.0);  // a (1, 1) result is stored as a scalar
}

// ---- NotComputableError ----

TensorEngine make_empty_output_engine() {
  return TensorEngine([](engine::EngineBase&, const int&) {
    return engine::Output<Tensor>{.y_pred = zeros({0}, {.dtype = kFloat64}),
                                  .y = zeros({0}, {.dtype = kFloat64})};
  });
}

TEST(MetricNotComputable, AnEmptyEpochPropagatesOutOfRun) {
  TensorEngine engine = make_empty_output_engine();
  MeanSquaredError().attach(engine, "mse");
  EXPECT_THAT([&] { engine.run(kData); },
              ThrowsMessage<NotComputableError>(HasSubstr("MeanSquaredError")));
  EXPECT_EQ(engine.state().metrics.count("mse"), 0u);
}

TEST(MetricNotComputable, AnExceptionRaisedHandlerTakesIt) {
  TensorEngine engine = make_empty_output_engine();
  MeanSquaredError().attach(engine, "mse");
  std::vector<std::string> caught;
  bool completed = false;
  engine.on(engine::Events::EXCEPTION_RAISED, [&](engine::EngineBase&, const std::exception& e) {
    caught.push_back(e.what());
  });
  engine.on(engine::Events::COMPLETED, [&] { completed = true; });
  EXPECT_NO_THROW(engine.run(kData, 2));
  ASSERT_EQ(caught.size(), 1u);
  EXPECT_THAT(caught[0], HasSubstr("MeanSquaredError must have at least one example"));
  EXPECT_FALSE(completed);  // raised outside an iteration: the run ends there
}

TEST(MetricNotComputable, ComputeBeforeUpdateThrows) {
  EXPECT_THROW(SumOfPredictions().compute(), NotComputableError);
  EXPECT_THROW(MeanSquaredError().compute(), NotComputableError);
}

}  // namespace
}  // namespace ignis::metrics

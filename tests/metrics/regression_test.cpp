// Tests of MeanSquaredError, MeanAbsoluteError and RootMeanSquaredError: sklearn reference
// values over several batches (tests/reference/regression_metric_fixtures.txt), shapes, dtypes
// and error messages.
#include "metrics/regression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "support/fixture.h"
#include "tensor/factory.h"

namespace ignis::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<test::FixtureCase> regression_cases() {
  std::vector<test::FixtureCase> cases;
  for (test::FixtureCase& c : test::load_fixtures(std::string(IGNIS_TEST_DATA_DIR) +
                                                  "/reference/regression_metric_fixtures.txt")) {
    if (c.name.rfind("regression", 0) == 0) cases.push_back(std::move(c));
  }
  return cases;
}

// Feeds every batch of `c` to `metric` and returns its value.
double run_batches(Metric& metric, const test::FixtureCase& c) {
  metric.reset();
  for (int b = 0;; ++b) {
    const Tensor y_pred = test::find_tensor(c.inputs, "y_pred_" + std::to_string(b));
    if (!y_pred.defined()) break;
    metric.update(y_pred, test::find_tensor(c.inputs, "y_" + std::to_string(b)));
  }
  const Tensor value = metric.compute();
  EXPECT_EQ(value.dim(), 0);
  EXPECT_EQ(value.dtype(), kFloat64);
  return value.item<double>();
}

double want(const test::FixtureCase& c, const std::string& name) {
  return test::find_tensor(c.outputs, name).item<double>();
}

TEST(RegressionMetrics, MatchSklearnOverSeveralBatches) {
  const std::vector<test::FixtureCase> cases = regression_cases();
  ASSERT_EQ(cases.size(), 3u);
  for (const test::FixtureCase& c : cases) {
    SCOPED_TRACE(c.id());
    MeanSquaredError mse;
    MeanAbsoluteError mae;
    RootMeanSquaredError rmse;
    EXPECT_NEAR(run_batches(mse, c), want(c, "mse"), 1e-12 * want(c, "mse"));
    EXPECT_NEAR(run_batches(mae, c), want(c, "mae"), 1e-12 * want(c, "mae"));
    EXPECT_NEAR(run_batches(rmse, c), want(c, "rmse"), 1e-12 * want(c, "rmse"));
  }
}

TEST(RegressionMetrics, MatchSklearnWhenAttached) {
  const test::FixtureCase c = regression_cases().at(1);  // (N, 2) batches
  std::vector<int> batches;
  while (test::find_tensor(c.inputs, "y_pred_" + std::to_string(batches.size())).defined()) {
    batches.push_back(static_cast<int>(batches.size()));
  }
  engine::Engine evaluator([&c](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{
        .y_pred = test::find_tensor(c.inputs, "y_pred_" + std::to_string(b)),
        .y = test::find_tensor(c.inputs, "y_" + std::to_string(b))};
  });
  MeanSquaredError().attach(evaluator, "mse");
  MeanAbsoluteError().attach(evaluator, "mae");
  RootMeanSquaredError().attach(evaluator, "rmse");
  evaluator.run(batches, 2);
  for (const char* name : {"mse", "mae", "rmse"}) {
    EXPECT_NEAR(evaluator.state().metrics[name], want(c, name), 1e-12 * want(c, name)) << name;
  }
}

TEST(RegressionMetrics, AverageOverEveryElementNotEveryRow) {
  MeanSquaredError mse;
  mse.update(tensor({{1.0, 2.0}, {3.0, 4.0}}), tensor({{0.0, 0.0}, {0.0, 0.0}}));
  EXPECT_DOUBLE_EQ(mse.compute().item<double>(), 30.0 / 4.0);
  mse.update(tensor({2.0, 2.0}).view({1, 2}), tensor({0.0, 0.0}).view({1, 2}));
  EXPECT_DOUBLE_EQ(mse.compute().item<double>(), 38.0 / 6.0);
  mse.reset();
  mse.update(tensor({3.0}), tensor({1.0}));
  EXPECT_DOUBLE_EQ(mse.compute().item<double>(), 4.0);
}

TEST(RegressionMetrics, TakeAnyDtypeAndAColumnAgainstAVector) {
  MeanAbsoluteError mae;
  mae.update(tensor({1, 5, 2}), tensor({1.5f, 4.5f, 3.5f}));  // int64 and float32
  EXPECT_DOUBLE_EQ(mae.compute().item<double>(), 2.5 / 3.0);
  RootMeanSquaredError rmse;
  rmse.update(tensor({1.0f, 2.0f}).view({2, 1}), tensor({4.0, 6.0}));  // (2, 1) and (2)
  rmse.update(tensor({0.0}), tensor({0.0}).view({1, 1}));              // (1) and (1, 1)
  EXPECT_DOUBLE_EQ(rmse.compute().item<double>(), std::sqrt(25.0 / 3.0));
}

TEST(RegressionMetrics, ThrowOnShapesThatDiffer) {
  MeanSquaredError mse;
  EXPECT_THAT([&] { mse.update(zeros({4, 2}), zeros({8})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("MeanSquaredError: y_pred is (4, 2) and y is (8,): they must have "
                            "the same shape")));
  MeanAbsoluteError mae;
  EXPECT_THAT([&] { mae.update(zeros({3}), zeros({3, 2})); },
              ThrowsMessage<ShapeError>(HasSubstr("MeanAbsoluteError: y_pred is (3,) and y is "
                                                  "(3, 2)")));
  EXPECT_THAT([&] { mae.update(zeros({3})); },
              ThrowsMessage<ValueError>(HasSubstr("MeanAbsoluteError: needs y_pred and y")));
  EXPECT_THROW(mae.compute(), NotComputableError);
}

TEST(RegressionMetrics, ComputeBeforeAnyElementThrowsNamingTheMetric) {
  RootMeanSquaredError rmse;
  EXPECT_THAT([&] { rmse.compute(); },
              ThrowsMessage<NotComputableError>(HasSubstr("RootMeanSquaredError must have at "
                                                          "least one example")));
  rmse.update(zeros({0}), zeros({0}));
  EXPECT_THROW(rmse.compute(), NotComputableError);
}

TEST(RegressionMetrics, AccumulateWithoutRecordingAGraph) {
  MeanSquaredError mse;
  const Tensor y_pred = tensor({1.0, 2.0}).requires_grad_();
  mse.update(y_pred, tensor({0.0, 0.0}));
  const Tensor value = mse.compute();
  EXPECT_FALSE(value.requires_grad());
  EXPECT_DOUBLE_EQ(value.item<double>(), 2.5);
}

}  // namespace
}  // namespace ignis::metrics

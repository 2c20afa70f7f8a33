// Tests of MetricsLambda and the metric arithmetic operators: values against hand-computed
// ones, operands held as copies, attach, and errors passing through.
#include "metrics/metrics_lambda.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "autograd/math.h"
#include "engine/engine.h"
#include "metrics/regression.h"
#include "tensor/factory.h"

namespace ignis::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// y_pred [1, 3], y [0, 0]: MSE 5, MAE 2.
void feed(Metric& metric) { metric.update(tensor({1.0, 3.0}), tensor({0.0, 0.0})); }

double value(const Metric& metric) { return metric.compute().item<double>(); }

TEST(MetricsLambda, CombinesMetricsWithMetrics) {
  MeanSquaredError mse;
  MeanAbsoluteError mae;
  MetricsLambda sum = mse + mae;
  MetricsLambda difference = mse - mae;
  MetricsLambda product = mse * mae;
  MetricsLambda quotient = mse / mae;
  for (Metric* m : std::vector<Metric*>{&sum, &difference, &product, &quotient}) feed(*m);
  EXPECT_DOUBLE_EQ(value(sum), 7.0);
  EXPECT_DOUBLE_EQ(value(difference), 3.0);
  EXPECT_DOUBLE_EQ(value(product), 10.0);
  EXPECT_DOUBLE_EQ(value(quotient), 2.5);
  EXPECT_EQ(sum.compute().dtype(), kFloat64);
  EXPECT_EQ(sum.type_name(), "MetricsLambda");
}

TEST(MetricsLambda, CombinesMetricsWithNumbersOnEitherSide) {
  MeanSquaredError mse;  // 5 once fed
  std::vector<MetricsLambda> all = {mse + 1.0, mse - 1.0, mse * 2.0, mse / 2.0,
                                    1.0 + mse, 1.0 - mse, 2.0 * mse, 10.0 / mse};
  std::vector<double> values;
  for (MetricsLambda& m : all) {
    feed(m);
    values.push_back(value(m));
  }
  EXPECT_THAT(values, ElementsAre(6.0, 4.0, 10.0, 2.5, 6.0, -4.0, 10.0, 2.0));
}

TEST(MetricsLambda, F1FromTwoMetrics) {
  // "precision" 5 and "recall" 2 stand in: 2 p r / (p + r) = 20 / 7.
  MeanSquaredError precision;
  MeanAbsoluteError recall;
  auto f1 = precision * recall * 2.0 / (precision + recall);
  feed(f1);
  EXPECT_DOUBLE_EQ(value(f1), 20.0 / 7.0);
}

TEST(MetricsLambda, HoldsCopiesOfItsOperands) {
  MeanSquaredError mse;
  feed(mse);
  MetricsLambda half = mse / 2.0;
  EXPECT_DOUBLE_EQ(value(half), 2.5);  // the copy has the state mse had
  half.update(tensor({0.0, 0.0}), tensor({0.0, 0.0}));
  EXPECT_DOUBLE_EQ(value(half), 1.25);
  EXPECT_DOUBLE_EQ(value(mse), 5.0);  // the original is left alone
  half.reset();
  EXPECT_THROW(half.compute(), NotComputableError);
  EXPECT_DOUBLE_EQ(value(mse), 5.0);
  const std::unique_ptr<Metric> clone = (mse * 1.0).clone();
  EXPECT_DOUBLE_EQ(value(*clone), 5.0);
}

TEST(MetricsLambda, TakesAnyFunctionOfSeveralMetrics) {
  MetricsLambda stacked(
      [](const Tensor& a, const Tensor& b, const Tensor& c) {
        return (a - b * c).unsqueeze(0) * tensor({1.0, -1.0});
      },
      MeanSquaredError(), MeanAbsoluteError(), RootMeanSquaredError());
  feed(stacked);
  const std::vector<double> got = stacked.compute().to_vector<double>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NEAR(got[0], 5.0 - 2.0 * std::sqrt(5.0), 1e-12);
  EXPECT_NEAR(got[1], -(5.0 - 2.0 * std::sqrt(5.0)), 1e-12);
}

TEST(MetricsLambda, AttachesAsOneMetric) {
  engine::Engine evaluator([](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{.y_pred = full({2}, b, {.dtype = kFloat64}),
                                  .y = zeros({2}, {.dtype = kFloat64})};
  });
  (MeanSquaredError() + MeanAbsoluteError()).attach(evaluator, "sum");
  MetricsLambda([](const Tensor& a) { return a.unsqueeze(0).expand({2}); }, MeanAbsoluteError())
      .attach(evaluator, "pair");
  evaluator.run(std::vector<int>{1, 2, 3}, 2);
  auto& m = evaluator.state().metrics;
  EXPECT_DOUBLE_EQ(m["sum"], 14.0 / 3.0 + 2.0);  // MSE (1 + 4 + 9) / 3, MAE 2
  EXPECT_DOUBLE_EQ(m["pair/0"], 2.0);
  EXPECT_DOUBLE_EQ(m["pair/1"], 2.0);
  EXPECT_EQ(m.size(), 3u);  // nothing stored for the operands
  EXPECT_EQ(evaluator.state().metrics.count("mse"), 0u);
}

TEST(MetricsLambda, PassesOperandErrorsThrough) {
  MeanSquaredError mse;
  MetricsLambda twice = mse * 2.0;
  EXPECT_THAT([&] { twice.compute(); },
              ThrowsMessage<NotComputableError>(HasSubstr("MeanSquaredError")));
  EXPECT_THAT([&] { twice.update(zeros({2}), zeros({3})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("MeanSquaredError: y_pred is (2,) and y is (3,)")));
}

}  // namespace
}  // namespace ignis::metrics

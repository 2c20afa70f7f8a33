// Tests of metrics::Loss: the batch-size-weighted mean against PyTorch's cross_entropy over
// several batches, how the loss function is held (reference, copy, moved), batch sizes,
// no-grad evaluation and error messages.
#include "metrics/loss.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/math.h"
#include "engine/engine.h"
#include "nn/loss.h"
#include "support/fixture.h"
#include "tensor/factory.h"

namespace ignis::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

test::FixtureCase cross_entropy_case() {
  for (test::FixtureCase& c : test::load_fixtures(std::string(IGNIS_TEST_DATA_DIR) +
                                                  "/reference/regression_metric_fixtures.txt")) {
    if (c.name == "cross_entropy") return c;
  }
  throw std::runtime_error("no cross_entropy case in regression_metric_fixtures.txt");
}

double feed(Loss& loss, const test::FixtureCase& c) {
  for (int b = 0;; ++b) {
    const Tensor y_pred = test::find_tensor(c.inputs, "y_pred_" + std::to_string(b));
    if (!y_pred.defined()) break;
    loss.update(y_pred, test::find_tensor(c.inputs, "y_" + std::to_string(b)));
  }
  return loss.compute().item<double>();
}

// Mean of y_pred: a loss whose value is easy to follow.
Tensor mean_of_prediction(const Tensor& y_pred, const Tensor&) { return y_pred.mean(); }

TEST(LossMetric, MatchesCrossEntropyOverAllBatches) {
  const test::FixtureCase c = cross_entropy_case();
  const double want = test::find_tensor(c.outputs, "loss").item<double>();
  nn::CrossEntropyLoss criterion;
  Loss by_reference(criterion);
  EXPECT_NEAR(feed(by_reference, c), want, 1e-12);
  Loss moved(nn::CrossEntropyLoss{});
  EXPECT_NEAR(feed(moved, c), want, 1e-12);
  Loss wrapped(std::ref(criterion));
  EXPECT_NEAR(feed(wrapped, c), want, 1e-12);
}

TEST(LossMetric, WeightsEachBatchByItsSize) {
  Loss loss(mean_of_prediction);
  loss.update(tensor({1.0, 1.0, 1.0}), tensor({0, 0, 0}));  // mean 1, 3 examples
  loss.update(tensor({5.0}), tensor({0}));                  // mean 5, 1 example
  const Tensor value = loss.compute();
  EXPECT_EQ(value.dim(), 0);
  EXPECT_EQ(value.dtype(), kFloat64);
  EXPECT_DOUBLE_EQ(value.item<double>(), 2.0);
  loss.reset();
  EXPECT_THAT([&] { loss.compute(); },
              ThrowsMessage<NotComputableError>(HasSubstr("Loss must have at least one example")));
}

TEST(LossMetric, TakesABatchSizeFunction) {
  Loss loss(mean_of_prediction, [](const Tensor& y) { return y.size(1); });
  loss.update(tensor({2.0f}), zeros({1, 3}));
  loss.update(tensor({6.0f}), zeros({1, 1}));
  EXPECT_DOUBLE_EQ(loss.compute().item<double>(), 3.0);
  Loss negative(mean_of_prediction, [](const Tensor&) { return int64_t{-1}; });
  EXPECT_THAT([&] { negative.update(tensor({1.0}), tensor({1.0})); },
              ThrowsMessage<ValueError>(HasSubstr("Loss: batch_size returned -1")));
}

TEST(LossMetric, RunsTheLossWithoutGrad) {
  bool grad_enabled = true;
  Loss loss([&grad_enabled](const Tensor& y_pred, const Tensor&) {
    grad_enabled = GradMode::is_enabled();
    return (y_pred * y_pred).mean();
  });
  const Tensor y_pred = tensor({1.0, 3.0}).requires_grad_();
  loss.update(y_pred, tensor({0, 0}));
  EXPECT_FALSE(grad_enabled);
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_FALSE(loss.compute().requires_grad());
  EXPECT_DOUBLE_EQ(loss.compute().item<double>(), 5.0);
}

TEST(LossMetric, CopiesShareAMovedModuleAndKeepTheirOwnSums) {
  Loss loss(nn::MSELoss{});
  loss.update(tensor({2.0}), tensor({0.0}));
  const std::unique_ptr<Metric> copy = loss.clone();
  copy->update(tensor({0.0}), tensor({0.0}));
  EXPECT_DOUBLE_EQ(loss.compute().item<double>(), 4.0);
  EXPECT_DOUBLE_EQ(copy->compute().item<double>(), 2.0);
}

TEST(LossMetric, AttachedToAnEvaluator) {
  nn::CrossEntropyLoss criterion;
  engine::Engine evaluator([](engine::EngineBase&, const int& b) {
    // Two examples per batch, the logits favouring class b % 2.
    const Tensor logits =
        b % 2 == 0 ? tensor({{2.0, 0.0}, {2.0, 0.0}}) : tensor({{0.0, 2.0}, {0.0, 2.0}});
    return engine::Output<Tensor>{.y_pred = logits, .y = tensor({0, 1})};
  });
  Loss(criterion).attach(evaluator, "loss");
  evaluator.run(std::vector<int>{0, 1, 2});
  // Each batch: one example right, one wrong: (log(1 + e^-2) + log(1 + e^2)) / 2.
  const double want = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(2.0))) / 2.0;
  EXPECT_NEAR(evaluator.state().metrics["loss"], want, 1e-12);
}

TEST(LossMetric, ThrowsOnBadLossOrTargets) {
  Loss elementwise([](const Tensor& y_pred, const Tensor&) { return y_pred * 2.0; });
  EXPECT_THAT([&] { elementwise.update(zeros({4, 3}), zeros({4})); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "Loss: loss_fn must return the batch's mean loss as a 0-d tensor, got (4, 3) "
                  "for y_pred (4, 3) and y (4,)")));
  Loss loss(mean_of_prediction);
  EXPECT_THAT([&] { loss.update(zeros({4}), scalar_tensor(1.0)); },
              ThrowsMessage<ShapeError>(HasSubstr("Loss: y is 0-d, so it has no batch size")));
  EXPECT_THAT([&] { loss.update(zeros({4})); },
              ThrowsMessage<ValueError>(HasSubstr("Loss: needs y_pred and y")));
  nn::CrossEntropyLoss criterion;
  Loss cross_entropy(criterion);
  EXPECT_THROW(cross_entropy.update(zeros({4, 3}), zeros({5}, {.dtype = kInt64})), Error);
}

}  // namespace
}  // namespace ignis::metrics

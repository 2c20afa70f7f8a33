// Tests of metrics::EpochOutputStore: what an epoch stores, concatenation, attach / detach,
// and errors.
#include "metrics/epoch_output_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "engine/engine.h"
#include "tensor/factory.h"

namespace ignis::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Batch b gives y_pred (b, 2) filled with b and y (b) filled with 10 b.
using Evaluator = engine::Engine<int, engine::Output<Tensor>>;
Evaluator make_evaluator() {
  return Evaluator([](engine::EngineBase&, const int& b) {
    return engine::Output<Tensor>{.y_pred = full({b, 2}, b),
                                  .y = full({b}, 10 * b, {.dtype = kInt64})};
  });
}

TEST(EpochOutputStore, KeepsTheLastEpochsOutputs) {
  Evaluator evaluator = make_evaluator();
  EpochOutputStore store;
  store.attach(evaluator);
  EXPECT_TRUE(store.is_attached(evaluator));
  evaluator.run(std::vector<int>{1, 2}, 3);
  ASSERT_EQ(store.data().size(), 2u);  // reset at each epoch
  EXPECT_EQ(store.data()[1].y_pred.sizes(), (Shape{2, 2}));
  const Tensor y_pred = store.y_pred();
  EXPECT_EQ(y_pred.sizes(), (Shape{3, 2}));
  EXPECT_THAT(y_pred.to_vector<float>(), ElementsAre(1, 1, 2, 2, 2, 2));
  EXPECT_EQ(store.y().dtype(), kInt64);
  EXPECT_THAT(store.y().to_vector<int64_t>(), ElementsAre(10, 20, 20));
  EXPECT_TRUE(evaluator.state().metrics.empty());
}

TEST(EpochOutputStore, TakesATransform) {
  Evaluator evaluator = make_evaluator();
  EpochOutputStore store;
  store.attach(evaluator, [](const engine::Output<Tensor>& o) { return o.y; });
  evaluator.run(std::vector<int>{3, 1});
  EXPECT_THAT(store.y_pred().to_vector<int64_t>(), ElementsAre(30, 30, 30, 10));
  EXPECT_THAT([&] { store.y(); },
              ThrowsMessage<ValueError>(HasSubstr("EpochOutputStore: batch 0 has no y")));
}

TEST(EpochOutputStore, DetachStopsStoring) {
  Evaluator evaluator = make_evaluator();
  EpochOutputStore store;
  store.attach(evaluator);
  evaluator.run(std::vector<int>{1});
  store.detach(evaluator);
  EXPECT_FALSE(store.is_attached(evaluator));
  evaluator.run(std::vector<int>{2, 2});
  ASSERT_EQ(store.data().size(), 1u);
  EXPECT_EQ(store.y_pred().sizes(), (Shape{1, 2}));
}

TEST(EpochOutputStore, StandaloneAndDetachedFromTheGraph) {
  EpochOutputStore store;
  EXPECT_THAT([&] { store.y_pred(); },
              ThrowsMessage<NotComputableError>(HasSubstr("EpochOutputStore: no y_pred stored")));
  const Tensor x = tensor({1.0, 2.0}).requires_grad_();
  store.update(x);
  store.update(scalar_tensor(3.0, kFloat64));  // a 0-d entry is one row
  EXPECT_FALSE(store.data()[0].y_pred.requires_grad());
  EXPECT_FALSE(store.data()[0].y.defined());
  EXPECT_THAT(store.y_pred().to_vector<double>(), ElementsAre(1.0, 2.0, 3.0));
  store.reset();
  EXPECT_TRUE(store.data().empty());
  EXPECT_THROW(store.update(Tensor()), ValueError);
}

TEST(EpochOutputStore, ThrowsOnBatchesThatDoNotStack) {
  EpochOutputStore store;
  store.update(zeros({4, 3}));
  store.update(zeros({2, 5}));
  EXPECT_THAT([&] { store.y_pred(); },
              ThrowsMessage<ShapeError>(HasSubstr("EpochOutputStore: y_pred of batch 0 is (4, 3) "
                                                  "but of batch 1 is (2, 5)")));
}

}  // namespace
}  // namespace ignis::metrics

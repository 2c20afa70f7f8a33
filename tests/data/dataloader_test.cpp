// Tests of data/dataloader.h: bag and padded collation, batch counts, per-epoch shuffling as a
// function of (seed, epoch), prefetch (same batches, errors, early stops) and engine runs.
#include "data/dataloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "support/text_dataset.h"
#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

static_assert(std::ranges::input_range<DataLoader>);
static_assert(std::ranges::sized_range<DataLoader>);
static_assert(std::same_as<std::ranges::range_reference_t<DataLoader>, const Batch&>);

std::vector<int64_t> values(const Tensor& t) { return t.to_vector<int64_t>(); }

using Fixture = test::TextDatasetFixture;

// The rows of each batch of one pass.
std::vector<std::vector<int64_t>> pass_rows(DataLoader& loader) {
  std::vector<std::vector<int64_t>> rows;
  for (const Batch& batch : loader) rows.push_back(batch.rows);
  return rows;
}

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(CollateBatch, Bag) {
  const Fixture f(8);
  const std::vector<int64_t> rows = {6, 5, 3};  // 1, 0 and 3 tokens
  const Batch batch = collate_batch(f.dataset, rows, Collate::Bag);
  std::vector<int64_t> expected_inputs = f.dataset.tokens(6);
  for (int64_t t : f.dataset.tokens(3)) expected_inputs.push_back(t);
  EXPECT_EQ(batch.inputs.sizes(), (Shape{4}));
  EXPECT_EQ(batch.inputs.dtype(), kInt64);
  EXPECT_EQ(values(batch.inputs), expected_inputs);
  EXPECT_THAT(values(batch.offsets), ElementsAre(0, 1, 1));
  EXPECT_THAT(values(batch.lengths), ElementsAre(1, 0, 3));
  EXPECT_THAT(values(batch.targets), ElementsAre(0, 2, 0));
  EXPECT_THAT(batch.rows, ElementsAre(6, 5, 3));
  EXPECT_EQ(batch.size(), 3);
}

TEST(CollateBatch, Padded) {
  const Fixture f(8);
  const std::vector<int64_t> rows = {2, 0, 4};  // 2, 0 and 4 tokens
  const Batch batch = collate_batch(f.dataset, rows, Collate::Padded);
  EXPECT_EQ(batch.inputs.sizes(), (Shape{3, 4}));
  const std::vector<int64_t>& r2 = f.dataset.tokens(2);
  const std::vector<int64_t>& r4 = f.dataset.tokens(4);
  const int64_t pad = Vocabulary::kPadIndex;
  EXPECT_THAT(values(batch.inputs), ElementsAre(r2[0], r2[1], pad, pad,  //
                                                pad, pad, pad, pad,      //
                                                r4[0], r4[1], r4[2], r4[3]));
  EXPECT_FALSE(batch.offsets.defined());
  EXPECT_THAT(values(batch.lengths), ElementsAre(2, 0, 4));
  EXPECT_THAT(values(batch.targets), ElementsAre(2, 0, 1));
}

TEST(CollateBatch, UnlabelledHasNoTargetsAndEmptyRowsGiveEmptyInputs) {
  const Fixture f(6, /*labelled=*/false);
  const std::vector<int64_t> rows = {0, 5};  // both empty
  const Batch bag = collate_batch(f.dataset, rows, Collate::Bag);
  EXPECT_FALSE(bag.targets.defined());
  EXPECT_EQ(bag.inputs.sizes(), (Shape{0}));
  EXPECT_THAT(values(bag.offsets), ElementsAre(0, 0));
  const Batch padded = collate_batch(f.dataset, rows, Collate::Padded);
  EXPECT_EQ(padded.inputs.sizes(), (Shape{2, 0}));
  const std::vector<int64_t> bad = {6};
  EXPECT_THAT([&] { collate_batch(f.dataset, bad, Collate::Bag); },
              ThrowsMessage<IndexError>(HasSubstr("row 6 out of range for size 6")));
}

TEST(DataLoader, SizeAndArgumentChecks) {
  const Fixture f(10);
  EXPECT_EQ(DataLoader(f.dataset, {.batch_size = 3}).size(), 4);
  EXPECT_EQ(DataLoader(f.dataset, {.batch_size = 3, .drop_last = true}).size(), 3);
  EXPECT_EQ(DataLoader(f.dataset, {.batch_size = 5, .drop_last = true}).size(), 2);
  EXPECT_EQ(DataLoader(f.dataset, {.batch_size = 64}).size(), 1);
  EXPECT_EQ(DataLoader(f.dataset, {.batch_size = 64, .drop_last = true}).size(), 0);
  EXPECT_THAT([&] { DataLoader(f.dataset, {.batch_size = 0}); },
              ThrowsMessage<ValueError>(HasSubstr("DataLoader: batch_size must be >= 1, got 0")));
  DataLoader loader(f.dataset, {});
  EXPECT_THAT([&] { loader.set_epoch(-1); },
              ThrowsMessage<ValueError>(HasSubstr("epoch must be >= 0, got -1")));
}

TEST(DataLoader, SequentialBatchesAndDropLast) {
  const Fixture f(7);
  DataLoader loader(f.dataset, {.batch_size = 3});
  EXPECT_THAT(pass_rows(loader), ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4, 5),
                                             ElementsAre(6)));
  DataLoader dropping(f.dataset, {.batch_size = 3, .drop_last = true});
  EXPECT_THAT(pass_rows(dropping), ElementsAre(ElementsAre(0, 1, 2), ElementsAre(3, 4, 5)));
  const Fixture empty(0);
  DataLoader none(empty.dataset, {});
  EXPECT_TRUE(none.begin() == none.end());
  EXPECT_EQ(none.size(), 0);
}

TEST(DataLoader, ShuffleIsAFunctionOfSeedAndEpoch) {
  const Fixture f(23);
  const DataLoaderOptions options{.batch_size = 4, .shuffle = true, .seed = 9};
  DataLoader loader(f.dataset, options);
  // Without set_epoch, passes run over epochs 0, 1, 2.
  const auto e0 = pass_rows(loader), e1 = pass_rows(loader), e2 = pass_rows(loader);
  EXPECT_EQ(loader.epoch(), 3);
  EXPECT_EQ(flat(e0), shuffled_indices(23, 9, 0));
  EXPECT_EQ(flat(e1), shuffled_indices(23, 9, 1));
  EXPECT_EQ(flat(e2), shuffled_indices(23, 9, 2));
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0.size(), 6u);
  EXPECT_EQ(e0.back().size(), 3u);
  // A fresh loader told the epoch sees the same batches.
  DataLoader other(f.dataset, options);
  other.set_epoch(1);
  EXPECT_EQ(pass_rows(other), e1);
  other.set_epoch(1);
  EXPECT_EQ(pass_rows(other), e1);
  EXPECT_EQ(pass_rows(other), e2);
  // Another seed, another order.
  DataLoader reseeded(f.dataset, {.batch_size = 4, .shuffle = true, .seed = 10});
  EXPECT_NE(pass_rows(reseeded), e0);
  // drop_last drops the tail of each epoch's permutation.
  DataLoader dropping(f.dataset, {.batch_size = 4, .shuffle = true, .drop_last = true, .seed = 9});
  const auto d0 = pass_rows(dropping);
  ASSERT_EQ(d0.size(), 5u);
  std::vector<int64_t> head = shuffled_indices(23, 9, 0);
  head.resize(20);
  EXPECT_EQ(flat(d0), head);
}

void expect_same_batches(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.inputs.sizes(), b.inputs.sizes());
  EXPECT_EQ(values(a.inputs), values(b.inputs));
  EXPECT_EQ(values(a.lengths), values(b.lengths));
  EXPECT_EQ(a.offsets.defined(), b.offsets.defined());
  if (a.offsets.defined()) {
    EXPECT_EQ(values(a.offsets), values(b.offsets));
  }
  EXPECT_EQ(values(a.targets), values(b.targets));
}

TEST(DataLoader, PrefetchGivesTheSameBatches) {
  const Fixture f(101);
  for (Collate mode : {Collate::Bag, Collate::Padded}) {
    for (bool drop_last : {false, true}) {
      DataLoaderOptions options{.batch_size = 8, .shuffle = true, .drop_last = drop_last,
                                .seed = 3, .collate = mode};
      DataLoader plain(f.dataset, options);
      options.prefetch = true;
      DataLoader prefetching(f.dataset, options);
      for (int epoch = 0; epoch < 3; ++epoch) {
        std::vector<Batch> expected, got;
        for (const Batch& batch : plain) expected.push_back(batch);
        for (const Batch& batch : prefetching) got.push_back(batch);
        ASSERT_EQ(got.size(), expected.size());
        ASSERT_EQ(static_cast<int64_t>(got.size()), plain.size());
        for (size_t i = 0; i < got.size(); ++i) expect_same_batches(got[i], expected[i]);
      }
    }
  }
}

TEST(DataLoader, EarlyStoppedEpochsJoinCleanly) {
  const Fixture f(500);
  DataLoader loader(f.dataset, {.batch_size = 7, .shuffle = true, .prefetch = true});
  int64_t seen = 0;
  for (int epoch = 0; epoch < 300; ++epoch) {
    auto it = loader.begin();
    for (int k = 0; k < epoch % 6 && it != loader.end(); ++k, ++it) seen += it->size();
    if (epoch % 3 == 0) {
      auto moved = std::move(it);  // the pass moves with the iterator
      if (moved != loader.end()) seen += moved->size();
    }
  }
  EXPECT_GT(seen, 0);
  // Iterators that overlap (the engine begins a pass before dropping the last one).
  auto first = loader.begin();
  auto second = loader.begin();
  ++first;
  first = std::move(second);
  EXPECT_EQ(first->size(), 7);
}

TEST(BatchSource, StaysOneBatchAhead) {
  std::atomic<int64_t> made{0};
  detail::BatchSource source(
      [&made](int64_t i) {
        ++made;
        Batch batch;
        batch.rows = {i};
        return batch;
      },
      10, /*prefetch=*/true);
  Batch batch;
  ASSERT_TRUE(source.next(batch));
  EXPECT_THAT(batch.rows, ElementsAre(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(made.load(), 2);
  for (int64_t i = 1; i < 10; ++i) {
    ASSERT_TRUE(source.next(batch));
    EXPECT_THAT(batch.rows, ElementsAre(i));
  }
  EXPECT_FALSE(source.next(batch));
  EXPECT_EQ(made.load(), 10);
}

TEST(BatchSource, ExceptionsReachTheConsumerAtTheirBatch) {
  for (bool prefetch : {false, true}) {
    detail::BatchSource source(
        [](int64_t i) {
          if (i == 2) throw ValueError("collate: batch 2 is broken");
          Batch batch;
          batch.rows = {i};
          return batch;
        },
        5, prefetch);
    Batch batch;
    ASSERT_TRUE(source.next(batch));
    ASSERT_TRUE(source.next(batch));
    EXPECT_THAT(batch.rows, ElementsAre(1));
    EXPECT_THAT([&] { source.next(batch); },
                ThrowsMessage<ValueError>(HasSubstr("batch 2 is broken")));
  }
}

TEST(BatchSource, DestroyedWhileTheThreadWaitsOrWorks) {
  for (int round = 0; round < 200; ++round) {
    detail::BatchSource source(
        [](int64_t i) {
          if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::microseconds(200));
          Batch batch;
          batch.rows = {i};
          return batch;
        },
        100, /*prefetch=*/true);
    Batch batch;
    for (int k = 0; k < round % 4; ++k) ASSERT_TRUE(source.next(batch));
  }
}

// ---- engine runs ----

using Trainer = engine::Engine<Batch, engine::Output<double>>;

// A trainer that records the rows of each batch, per epoch.
struct Recording {
  std::map<int64_t, std::vector<std::vector<int64_t>>> rows_per_epoch;
  Trainer trainer{[this](engine::EngineBase& e, const Batch& batch) {
    rows_per_epoch[e.state().epoch].push_back(batch.rows);
    return engine::Output<double>{};
  }};
};

TEST(DataLoaderInEngine, EachEpochSeesEveryRowInANewOrder) {
  const Fixture f(50);
  for (bool prefetch : {false, true}) {
    DataLoader loader(f.dataset, {.batch_size = 8, .shuffle = true, .seed = 1,
                                  .prefetch = prefetch});
    Recording run;
    run.trainer.run(loader, 2);
    ASSERT_EQ(run.rows_per_epoch.size(), 2u);
    std::vector<int64_t> all(50);
    std::iota(all.begin(), all.end(), int64_t{0});
    for (const auto& [epoch, batches] : run.rows_per_epoch) {
      EXPECT_EQ(batches.size(), 7u);
      std::vector<int64_t> rows = flat(batches);
      EXPECT_NE(rows, all);
      std::sort(rows.begin(), rows.end());
      EXPECT_EQ(rows, all) << "epoch " << epoch;
      EXPECT_EQ(flat(batches), shuffled_indices(50, 1, static_cast<uint64_t>(epoch)));
    }
    EXPECT_NE(run.rows_per_epoch[1], run.rows_per_epoch[2]);
  }
}

TEST(DataLoaderInEngine, AResumedRunSeesTheSameBatches) {
  const Fixture f(45);
  const DataLoaderOptions options{.batch_size = 6, .shuffle = true, .seed = 4, .prefetch = true};
  DataLoader loader(f.dataset, options);
  Recording full;
  std::map<std::string, int64_t> saved;
  full.trainer.on(engine::Events::ITERATION_COMPLETED, [&](engine::EngineBase& e) {
    if (e.state().iteration == 8 + 3) saved = e.state_dict();  // 3 batches into epoch 2
  });
  full.trainer.run(loader, 3);
  ASSERT_EQ(saved.at("iteration"), 11);

  DataLoader fresh(f.dataset, options);
  Recording resumed;
  resumed.trainer.load_state_dict(saved);
  resumed.trainer.run(fresh);
  ASSERT_EQ(resumed.rows_per_epoch.size(), 2u);
  const auto& expected_2 = full.rows_per_epoch[2];
  EXPECT_EQ(resumed.rows_per_epoch[2],
            std::vector<std::vector<int64_t>>(expected_2.begin() + 3, expected_2.end()));
  EXPECT_EQ(resumed.rows_per_epoch[3], full.rows_per_epoch[3]);
}

}  // namespace
}  // namespace ignis::data

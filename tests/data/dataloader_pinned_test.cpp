// Tests of DataLoaderOptions::allocator (data/dataloader.h), the hook behind pinned batches:
// batches collated into another allocator's memory are the same batches, every block comes
// from that allocator and goes back to it, and its failures reach the consumer. Not the CUDA
// pinned allocator itself: tests/cuda/pinned_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "data/dataloader.h"
#include "support/text_dataset.h"
#include "tensor/error.h"

namespace ignis::data {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The CPU allocator, recording the blocks it has handed out and not yet taken back; refuses
// requests once `budget` blocks have been made. Thread-safe: the prefetch thread allocates.
class RecordingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    std::lock_guard lock(mutex_);
    if (made_ == budget) throw DeviceError("recording allocator: budget of blocks spent");
    void* ptr = cpu_allocator()->allocate(std::max<size_t>(nbytes, 1));  // distinct pointers
    live_.insert(ptr);
    ++made_;
    return ptr;
  }
  void deallocate(void* ptr, size_t nbytes) override {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(live_.erase(ptr), 1u) << "a block it did not hand out";
    cpu_allocator()->deallocate(ptr, std::max<size_t>(nbytes, 1));
  }
  bool owns(const void* ptr) {
    std::lock_guard lock(mutex_);
    return live_.count(const_cast<void*>(ptr)) == 1;
  }
  size_t live() {
    std::lock_guard lock(mutex_);
    return live_.size();
  }
  size_t made() {
    std::lock_guard lock(mutex_);
    return made_;
  }
  size_t budget = static_cast<size_t>(-1);

 private:
  std::mutex mutex_;
  std::set<void*> live_;
  size_t made_ = 0;
};

using Fixture = test::TextDatasetFixture;

void expect_same(const Tensor& got, const Tensor& expected, const char* name) {
  ASSERT_EQ(got.defined(), expected.defined()) << name;
  if (!expected.defined()) return;
  EXPECT_EQ(got.sizes(), expected.sizes()) << name;
  EXPECT_EQ(got.dtype(), kInt64) << name;
  EXPECT_TRUE(got.is_cpu()) << name;
  EXPECT_TRUE(got.is_contiguous()) << name;
  EXPECT_EQ(got.to_vector<int64_t>(), expected.to_vector<int64_t>()) << name;
}

// Every non-empty tensor of the batch lives in a block of `allocator`.
void expect_from(RecordingAllocator& allocator, const Batch& batch) {
  for (const Tensor* t : {&batch.inputs, &batch.offsets, &batch.lengths, &batch.targets}) {
    if (t->defined() && t->numel() > 0) {
      EXPECT_TRUE(allocator.owns(t->raw_data()));
    }
  }
}

TEST(DataLoaderAllocator, SameBatchesFromTheGivenAllocatorWhichGetsEveryBlockBack) {
  const Fixture f(53);
  for (Collate mode : {Collate::Bag, Collate::Padded}) {
    for (bool prefetch : {false, true}) {
      SCOPED_TRACE(std::string(mode == Collate::Bag ? "bag" : "padded") +
                   (prefetch ? ", prefetch" : ""));
      RecordingAllocator allocator;
      DataLoaderOptions options{.batch_size = 8, .shuffle = true, .seed = 5, .collate = mode,
                                .prefetch = prefetch};
      DataLoader plain(f.dataset, options);
      options.allocator = &allocator;
      DataLoader pinned(f.dataset, options);
      for (int epoch = 0; epoch < 2; ++epoch) {
        std::vector<Batch> expected, got;
        for (const Batch& batch : plain) expected.push_back(batch);
        for (const Batch& batch : pinned) {
          expect_from(allocator, batch);
          got.push_back(batch);
        }
        ASSERT_EQ(got.size(), expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
          EXPECT_EQ(got[i].rows, expected[i].rows);
          expect_same(got[i].inputs, expected[i].inputs, "inputs");
          expect_same(got[i].offsets, expected[i].offsets, "offsets");
          expect_same(got[i].lengths, expected[i].lengths, "lengths");
          expect_same(got[i].targets, expected[i].targets, "targets");
        }
        EXPECT_GT(allocator.live(), 0u);  // the batches kept in `got`
      }
      EXPECT_EQ(allocator.live(), 0u);  // every batch gone, every block handed back
      // Bag: lengths, inputs, offsets, targets; padded: no offsets.
      const size_t per_batch = mode == Collate::Bag ? 4 : 3;
      EXPECT_EQ(allocator.made(), 2 * static_cast<size_t>(plain.size()) * per_batch);
    }
  }
}

TEST(DataLoaderAllocator, CollateBatchUsesItForEveryTensorEvenEmptyOnes) {
  const Fixture f(8);
  RecordingAllocator allocator;
  const std::vector<int64_t> rows = {0, 5, 5};  // rows of 0 tokens only: N = 0
  const Batch batch = collate_batch(f.dataset, rows, Collate::Bag, &allocator);
  EXPECT_EQ(batch.inputs.numel(), 0);
  EXPECT_EQ(batch.offsets.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(batch.lengths.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(allocator.made(), 4u);
  expect_from(allocator, batch);
}

TEST(DataLoaderAllocator, ItsFailureReachesTheConsumerAtThatBatch) {
  const Fixture f(40);
  for (bool prefetch : {false, true}) {
    SCOPED_TRACE(prefetch ? "prefetch" : "no prefetch");
    RecordingAllocator allocator;
    allocator.budget = 4 * 2;  // two bag batches
    DataLoader loader(f.dataset, {.batch_size = 10, .prefetch = prefetch, .allocator = &allocator});
    auto it = loader.begin();
    ++it;
    EXPECT_THAT([&] { ++it; }, ThrowsMessage<DeviceError>(HasSubstr("budget of blocks spent")));
  }
}

}  // namespace
}  // namespace ignis::data

// Tests of the thread pool: coverage of every index, exceptions, nesting, thread counts.
#include "tensor/thread_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tensor/error.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Restores the thread count a test changes.
class ThreadPoolTest : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(saved_); }
  int saved_ = get_num_threads();
};

TEST_F(ThreadPoolTest, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 4, 7}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 5, 100, 1001, 100000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      parallel_for(0, n, 16, [&](int64_t lo, int64_t hi) {
        EXPECT_LT(lo, hi);
        for (int64_t i = lo; i < hi; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST_F(ThreadPoolTest, ChunksRespectTheGrainAndOffset) {
  set_num_threads(4);
  std::atomic<int> chunks{0};
  parallel_for(10, 110, 30, [&](int64_t lo, int64_t hi) {
    EXPECT_GE(lo, 10);
    EXPECT_LE(hi, 110);
    EXPECT_GE(hi - lo, 30);
    chunks.fetch_add(1);
  });
  EXPECT_EQ(chunks.load(), 3);  // min(4 threads, 100 / 30)
}

TEST_F(ThreadPoolTest, ExceptionsPropagateAfterAllChunks) {
  set_num_threads(4);
  std::atomic<int64_t> done{0};
  EXPECT_THAT(
      [&] {
        parallel_for(0, 400, 100, [&](int64_t lo, int64_t hi) {
          if (lo == 100) throw ValueError("chunk failed");
          done.fetch_add(hi - lo);
        });
      },
      ThrowsMessage<ValueError>(HasSubstr("chunk failed")));
  EXPECT_EQ(done.load(), 300);
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  parallel_for(0, 1000, 10, [&](int64_t lo, int64_t hi) { sum.fetch_add(hi - lo); });
  EXPECT_EQ(sum.load(), 1000);
}

TEST_F(ThreadPoolTest, NestedCallsRunInline) {
  set_num_threads(4);
  EXPECT_FALSE(in_parallel_region());
  std::atomic<int64_t> total{0};
  parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
    EXPECT_TRUE(in_parallel_region());
    for (int64_t i = lo; i < hi; ++i) {
      parallel_for(0, 100, 1, [&](int64_t a, int64_t b) { total.fetch_add(b - a); });
    }
  });
  EXPECT_EQ(total.load(), 800);
  EXPECT_FALSE(in_parallel_region());
}

TEST_F(ThreadPoolTest, ConcurrentCallersFromSeveralThreads) {
  set_num_threads(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        parallel_for(0, 1000, 10, [&](int64_t lo, int64_t hi) { total.fetch_add(hi - lo); });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 50 * 1000);
}

// The job that makes the pool start workers is run by them too, not left to the caller: every
// chunk waits (up to 10 s) until all of them have started, which only happens when each runs
// on a thread of its own. 16 threads: more than any other test uses, so that this job is the
// one that starts most of its workers.
TEST_F(ThreadPoolTest, NewWorkersTakePartInTheJobThatStartedThem) {
  constexpr int kThreads = 16;
  set_num_threads(kThreads);
  std::atomic<int> started{0};
  std::atomic<bool> gave_up{false};
  std::atomic<int> started_at_deadline{0};
  parallel_for(0, kThreads, 1, [&](int64_t, int64_t) {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < kThreads && !gave_up.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        started_at_deadline.store(started.load());
        gave_up.store(true);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  EXPECT_FALSE(gave_up.load()) << "only " << started_at_deadline.load() << " of " << kThreads
                               << " chunks ran at once";
}

TEST_F(ThreadPoolTest, SetNumThreadsValidates) {
  set_num_threads(5);
  EXPECT_EQ(get_num_threads(), 5);
  EXPECT_THAT([] { set_num_threads(0); },
              ThrowsMessage<ValueError>(HasSubstr("set_num_threads: expected n >= 1, got 0")));
}

}  // namespace
}  // namespace ignis

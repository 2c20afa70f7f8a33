// The caching CPU allocator: freed blocks, small and large, are reused by size class; each
// cache is bounded; the statistics add up; empty_cpu_cache() gives everything back.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/storage.h"

namespace ignis {
namespace {

bool cache_enabled() { return cpu_cache_stats().enabled; }

TEST(CpuAllocatorTest, ReusesFreedLargeBlocks) {
  if (!cache_enabled()) GTEST_SKIP() << "block cache off in sanitizer builds";
  empty_cpu_cache();
  const CpuCacheStats before = cpu_cache_stats();
  const void* first = nullptr;
  {
    Tensor a = empty({1 << 18});  // 1 MiB
    first = a.raw_data();
  }
  EXPECT_GE(cpu_cache_stats().cached_bytes, size_t{1} << 20);
  Tensor b = empty({(1 << 18) - 100});  // same size class
  EXPECT_EQ(b.raw_data(), first);
  EXPECT_EQ(cpu_cache_stats().hits, before.hits + 1);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % kCpuAlignment, 0u);
}

TEST(CpuAllocatorTest, ReusesFreedSmallBlocks) {
  if (!cache_enabled()) GTEST_SKIP() << "block cache off in sanitizer builds";
  empty_cpu_cache();
  const CpuCacheStats before = cpu_cache_stats();
  const void* first = nullptr;
  {
    Tensor a = empty({100});  // 400 bytes: the 448-byte class
    first = a.raw_data();
  }
  const CpuCacheStats freed = cpu_cache_stats();
  EXPECT_EQ(freed.cached_small_bytes, 448u);
  EXPECT_EQ(freed.cached_bytes, 448u);
  Tensor b = empty({110});  // 440 bytes: the same class
  EXPECT_EQ(b.raw_data(), first);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % kCpuAlignment, 0u);
  const CpuCacheStats after = cpu_cache_stats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses + 1);
  EXPECT_EQ(after.cached_small_bytes, 0u);
  Tensor c = empty({200});  // 800 bytes: another class, so a fresh block
  EXPECT_NE(c.raw_data(), b.raw_data());
  EXPECT_EQ(cpu_cache_stats().misses, before.misses + 2);
}

TEST(CpuAllocatorTest, ZeroAndOneByteTensorsGetAlignedBlocks) {
  Tensor none = empty({0});
  Tensor one = empty({1}, {.dtype = kUInt8});
  EXPECT_NE(none.storage()->data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(one.raw_data()) % kCpuAlignment, 0u);
  one.data_ptr<uint8_t>()[0] = 7;
  EXPECT_EQ(one.item<uint8_t>(), 7);
}

TEST(CpuAllocatorTest, StatisticsTrackBlocksInUse) {
  if (!cache_enabled()) GTEST_SKIP() << "block cache off in sanitizer builds";
  empty_cpu_cache();
  const CpuCacheStats before = cpu_cache_stats();
  {
    Tensor small = empty({16});      // 64 bytes
    Tensor large = empty({1 << 16});  // 256 KiB
    const CpuCacheStats held = cpu_cache_stats();
    EXPECT_EQ(held.allocated_bytes, before.allocated_bytes + 64 + (size_t{1} << 18));
    EXPECT_GE(held.peak_allocated_bytes, held.allocated_bytes);
    EXPECT_EQ(held.cached_bytes, 0u);
  }
  const CpuCacheStats after = cpu_cache_stats();
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.cached_bytes, 64 + (size_t{1} << 18));
  EXPECT_EQ(after.cached_small_bytes, 64u);
}

TEST(CpuAllocatorTest, SmallCacheIsBounded) {
  if (!cache_enabled()) GTEST_SKIP() << "block cache off in sanitizer builds";
  empty_cpu_cache();
  constexpr int64_t kFloats = 8 << 10;  // 32 KiB each
  const size_t count = kCpuSmallCacheBytes / (kFloats * 4) + 50;
  {
    std::vector<Tensor> blocks;
    for (size_t i = 0; i < count; ++i) blocks.push_back(empty({kFloats}));
  }
  const CpuCacheStats stats = cpu_cache_stats();
  EXPECT_EQ(stats.cached_small_bytes, kCpuSmallCacheBytes);
  EXPECT_EQ(stats.cached_bytes, kCpuSmallCacheBytes);
  empty_cpu_cache();
}

TEST(CpuAllocatorTest, ThreadsShareTheCache) {
  if (!cache_enabled()) GTEST_SKIP() << "block cache off in sanitizer builds";
  const size_t before = cpu_cache_stats().allocated_bytes;
  const auto churn = [] {
    for (int i = 0; i < 2000; ++i) {
      Tensor a = empty({i % 300 + 1});
      Tensor b = empty({(i % 7 + 1) << 14});
      raw::fill_(a, 1.0);
    }
  };
  std::thread other(churn);
  churn();
  other.join();
  EXPECT_EQ(cpu_cache_stats().allocated_bytes, before);
}

TEST(CpuAllocatorTest, EmptyCacheReleasesEverything) {
  { Tensor a = empty({1 << 20}); Tensor b = empty({10}); }
  empty_cpu_cache();
  EXPECT_EQ(cpu_cache_stats().cached_bytes, 0u);
  EXPECT_EQ(cpu_cache_stats().cached_small_bytes, 0u);
}

}  // namespace
}  // namespace ignis

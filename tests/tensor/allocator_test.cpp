// The caching CPU allocator: freed large blocks are reused, small ones go to malloc, and
// empty_cpu_cache() gives everything back.
#include <gtest/gtest.h>

#include "tensor/factory.h"
#include "tensor/storage.h"

namespace ignis {
namespace {

TEST(CpuAllocatorTest, ReusesFreedLargeBlocks) {
  if (!cpu_cache_stats().enabled) GTEST_SKIP() << "block cache off in sanitizer builds";
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

TEST(CpuAllocatorTest, SmallBlocksAreNotCached) {
  empty_cpu_cache();
  const CpuCacheStats before = cpu_cache_stats();
  { Tensor a = empty({64}); }
  EXPECT_EQ(cpu_cache_stats().cached_bytes, 0u);
  EXPECT_EQ(cpu_cache_stats().misses, before.misses);
}

TEST(CpuAllocatorTest, EmptyCacheReleasesEverything) {
  { Tensor a = empty({1 << 20}); }
  empty_cpu_cache();
  EXPECT_EQ(cpu_cache_stats().cached_bytes, 0u);
}

}  // namespace
}  // namespace ignis

// Tests of the CUDA runtime layer: the caching allocator's bookkeeping (size classes, reuse,
// statistics, the out-of-memory error) over host memory standing in for a device, which runs
// in every build; and, on a GPU, device tensors, transfers, the registered allocator and the
// device queries (skipped without one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cuda/allocator.h"
#include "tensor/backend.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

#include "support/cuda_test.h"

namespace ignis {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// ---- the caching allocator over a fake device of kFakeCapacity bytes ----

constexpr size_t kFakeCapacity = size_t{4} << 20;
size_t fake_used = 0;
int fake_mallocs = 0;

void* fake_malloc(int, size_t nbytes) {
  if (fake_used + nbytes > kFakeCapacity) return nullptr;
  fake_used += nbytes;
  ++fake_mallocs;
  // The size rides in front of the block, so that fake_free can give it back.
  auto* block = static_cast<size_t*>(std::malloc(nbytes + sizeof(size_t)));
  *block = nbytes;
  return block + 1;
}

void fake_free(int, void* ptr) {
  size_t* block = static_cast<size_t*>(ptr) - 1;
  fake_used -= *block;
  std::free(block);
}

void fake_info(int, size_t* free_bytes, size_t* total_bytes) {
  *free_bytes = kFakeCapacity - fake_used;
  *total_bytes = kFakeCapacity;
}

class CachingAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_used = 0;
    fake_mallocs = 0;
  }
  cuda::CachingAllocator allocator{3, {&fake_malloc, &fake_free, &fake_info}};
};

TEST(CachingAllocatorSizes, RoundsToSizeClasses) {
  using cuda::CachingAllocator;
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(512), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::round_size((size_t{1} << 20) - 1), size_t{1} << 20);
  const size_t mib = size_t{1} << 20;
  EXPECT_EQ(CachingAllocator::round_size(mib), mib);
  EXPECT_EQ(CachingAllocator::round_size(mib + 1), mib + mib / 4);
  EXPECT_EQ(CachingAllocator::round_size(3 * mib), 3 * mib);
  EXPECT_EQ(CachingAllocator::round_size(3 * mib + 1), 3 * mib + mib / 2);
  EXPECT_EQ(CachingAllocator::round_size(100 * mib), 112 * mib);  // 64 MiB classes step 16
}

TEST_F(CachingAllocatorTest, ZeroBytesIsNull) {
  EXPECT_EQ(allocator.allocate(0), nullptr);
  EXPECT_TRUE(allocator.deallocate(nullptr));
  EXPECT_EQ(fake_mallocs, 0);
}

TEST_F(CachingAllocatorTest, ReusesFreedBlocksOfTheSameClass) {
  void* a = allocator.allocate(1000);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(allocator.deallocate(a));
  void* b = allocator.allocate(900);  // same 1024-byte class
  EXPECT_EQ(b, a);
  void* c = allocator.allocate(2000);  // another class: a fresh block
  EXPECT_NE(c, a);
  const cuda::MemoryStats s = allocator.stats();
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.device_mallocs, 2u);
  EXPECT_EQ(fake_mallocs, 2);
  EXPECT_EQ(s.allocated_bytes, 1024u + 2048u);
  EXPECT_EQ(s.reserved_bytes, 1024u + 2048u);
  EXPECT_EQ(s.cached_bytes, 0u);
  allocator.deallocate(b);
  allocator.deallocate(c);
}

TEST_F(CachingAllocatorTest, TracksAllocatedReservedAndPeak) {
  void* a = allocator.allocate(4096);
  void* b = allocator.allocate(8192);
  allocator.deallocate(a);
  cuda::MemoryStats s = allocator.stats();
  EXPECT_EQ(s.allocated_bytes, 8192u);
  EXPECT_EQ(s.peak_allocated_bytes, 4096u + 8192u);
  EXPECT_EQ(s.cached_bytes, 4096u);
  EXPECT_EQ(s.reserved_bytes, 4096u + 8192u);
  allocator.empty_cache();  // frees the cached block, keeps b
  s = allocator.stats();
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_EQ(s.reserved_bytes, 8192u);
  EXPECT_EQ(s.peak_reserved_bytes, 4096u + 8192u);
  EXPECT_EQ(s.device_frees, 1u);
  EXPECT_EQ(fake_used, 8192u);
  allocator.deallocate(b);
}

TEST_F(CachingAllocatorTest, RejectsPointersItDidNotHandOut) {
  int local = 0;
  EXPECT_FALSE(allocator.deallocate(&local));
  void* a = allocator.allocate(100);
  EXPECT_TRUE(allocator.deallocate(a));
  EXPECT_FALSE(allocator.deallocate(a));  // already returned
}

TEST_F(CachingAllocatorTest, EmptiesTheCacheAndRetriesWhenTheDeviceIsFull) {
  const size_t mib = size_t{1} << 20;
  void* a = allocator.allocate(3 * mib);
  allocator.deallocate(a);  // 3 MiB cached, 1 MiB left on the device
  void* b = allocator.allocate(2 * mib);  // fails once, frees the cache, succeeds
  ASSERT_NE(b, nullptr);
  const cuda::MemoryStats s = allocator.stats();
  EXPECT_EQ(s.device_frees, 1u);
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_EQ(s.reserved_bytes, 2 * mib);
  allocator.deallocate(b);
}

TEST_F(CachingAllocatorTest, OutOfMemoryNamesTheSizesAndLeavesTheAllocatorUsable) {
  const size_t mib = size_t{1} << 20;
  void* a = allocator.allocate(mib);
  EXPECT_THAT([&] { allocator.allocate(5 * mib); },
              ThrowsMessage<DeviceError>(AllOf(
                  HasSubstr("cuda:3: out of memory: tried to allocate 5.00 MiB (5242880 bytes"),
                  HasSubstr("the device has 3.00 MiB free of 4.00 MiB"),
                  HasSubstr("ignis holds 1.00 MiB in tensors"))));
  void* b = allocator.allocate(mib);
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(allocator.stats().allocated_bytes, 2 * mib);
  allocator.deallocate(a);
  allocator.deallocate(b);
}

TEST_F(CachingAllocatorTest, DestructionReturnsCachedBlocks) {
  {
    cuda::CachingAllocator scoped{0, {&fake_malloc, &fake_free, &fake_info}};
    scoped.deallocate(scoped.allocate(10000));
    EXPECT_GT(fake_used, 0u);
  }
  EXPECT_EQ(fake_used, 0u);
}

// ---- on a GPU ----

class CudaRuntime : public test::CudaTest {};

#ifdef IGNIS_HAVE_CUDA
TEST(CudaBuild, BackendIsRegistered) { EXPECT_TRUE(cuda::is_compiled()); }
#endif

TEST(CudaBuild, CountsNoDeviceWithoutOne) {
  EXPECT_GE(cuda::device_count(), 0);
  EXPECT_EQ(cuda::is_available(), cuda::device_count() > 0);
  if (!cuda::is_compiled()) {
    EXPECT_EQ(cuda::device_count(), 0);
  }
}

TEST(CudaBuild, AllocatingWithoutADeviceIsADeviceError) {
  if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  const std::string why =
      cuda::is_compiled() ? "no CUDA device available" : "ignis was built without CUDA";
  EXPECT_THAT([] { zeros({2}, {.device = Device::cuda()}); },
              ThrowsMessage<DeviceError>(HasSubstr(why)));
}

TEST_F(CudaRuntime, RoundTripsEveryDType) {
  const Tensor base = arange(0, 1000, 1, TensorOptions{.dtype = kFloat64});
  for (DType dtype : {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64}) {
    const Tensor host = raw::to(raw::sub(base, wrap_scalar(500.0)), dtype);
    const Tensor device = raw::to(host, Device::cuda());
    EXPECT_EQ(device.device(), Device::cuda(0));
    EXPECT_EQ(device.dtype(), dtype);
    const Tensor back = raw::to(device, Device::cpu());
    EXPECT_EQ(back.to_vector<double>(), host.to_vector<double>()) << dtype_name(dtype);
  }
}

TEST_F(CudaRuntime, CopiesNonContiguousTensorsAcrossDevices) {
  const Tensor host = arange(0, 24, 1, TensorOptions{.dtype = kFloat32}).view({2, 3, 4});
  const Tensor permuted = raw::permute(host, {2, 0, 1});
  const Tensor device = raw::to(permuted, Device::cuda());
  EXPECT_EQ(raw::to(device, Device::cpu()).to_vector<float>(),
            raw::contiguous(permuted).to_vector<float>());
  // Into a non-contiguous destination on each side, with a dtype change.
  const Tensor dst = zeros({4, 6}, {.dtype = kFloat64, .device = Device::cuda()});
  raw::copy_(raw::transpose(dst, 0, 1), arange(0, 24, 1).view({6, 4}));
  EXPECT_EQ(raw::to(dst, Device::cpu()).to_vector<double>(),
            raw::contiguous(raw::transpose(raw::to(arange(0, 24, 1).view({6, 4}), kFloat64), 0, 1))
                .to_vector<double>());
}

TEST_F(CudaRuntime, ItemAndToVectorReadTheDevice) {
  const Tensor t = full({3}, 2.5, {.device = Device::cuda()});
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{2.5f, 2.5f, 2.5f}));
  EXPECT_EQ(raw::select(raw::add(t, wrap_scalar(1.0)), 0, 1).item<float>(), 3.5f);
}

TEST_F(CudaRuntime, OutOfMemoryIsADeviceErrorNotAnAbort) {
  const int64_t too_many = int64_t{1} << 50;  // 4 PiB of float32
  EXPECT_THAT([&] { empty({too_many}, {.device = Device::cuda()}); },
              ThrowsMessage<DeviceError>(AllOf(HasSubstr("cuda:0: out of memory"),
                                               HasSubstr("free of"))));
  // The device is still usable afterwards.
  EXPECT_EQ(full({2}, 7, {.device = Device::cuda()}).to_vector<float>(),
            (std::vector<float>{7.f, 7.f}));
}

TEST_F(CudaRuntime, WorkOnTheStreamRunsInIssueOrder) {
  // Freed blocks are handed out again at once: each step's temporaries reuse the last
  // step's, which is only right if kernels run in the order they were issued.
  Tensor host = arange(0, 100000, 1, TensorOptions{.dtype = kFloat32});
  Tensor device = raw::to(host, Device::cuda());
  for (int step = 0; step < 50; ++step) {
    host = raw::add(raw::mul(host, wrap_scalar(0.5)), wrap_scalar(1.0));
    device = raw::add(raw::mul(device, wrap_scalar(0.5)), wrap_scalar(1.0));
  }
  EXPECT_EQ(raw::to(device, Device::cpu()).to_vector<float>(), host.to_vector<float>());
}

#ifdef IGNIS_HAVE_CUDA
TEST_F(CudaRuntime, AllocatorCachesAndReportsStatistics) {
  cuda::synchronize();
  cuda::empty_cache();
  const cuda::MemoryStats before = cuda::memory_stats();
  EXPECT_EQ(before.cached_bytes, 0u);
  {
    const Tensor a = empty({1 << 20}, {.device = Device::cuda()});  // 4 MiB
    const cuda::MemoryStats during = cuda::memory_stats();
    EXPECT_EQ(during.allocated_bytes, before.allocated_bytes + (size_t{4} << 20));
    EXPECT_GE(during.peak_allocated_bytes, during.allocated_bytes);
  }
  const cuda::MemoryStats after = cuda::memory_stats();
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  EXPECT_EQ(after.cached_bytes, size_t{4} << 20);
  {
    const Tensor b = empty({1 << 20}, {.device = Device::cuda()});  // the cached block
    EXPECT_EQ(cuda::memory_stats().device_mallocs, after.device_mallocs);
    EXPECT_EQ(cuda::memory_stats().cache_hits, after.cache_hits + 1);
  }
  cuda::empty_cache();
  EXPECT_EQ(cuda::memory_stats().cached_bytes, 0u);
  EXPECT_THAT([] { cuda::memory_stats(cuda::device_count()); },
              ThrowsMessage<DeviceError>(HasSubstr("no CUDA device")));
}

TEST_F(CudaRuntime, DescribesTheDevice) {
  const cuda::DeviceInfo info = cuda::device_info();
  EXPECT_FALSE(info.name.empty());
  EXPECT_GE(info.major, 5);
  EXPECT_GT(info.multiprocessors, 0);
  EXPECT_GT(info.total_memory_bytes, size_t{1} << 30);
  EXPECT_GT(info.peak_bandwidth_gbps, 100.0);
  EXPECT_GT(info.driver_version, 0);
  std::cout << "[ device   ] " << info.name << ", sm_" << info.major << info.minor << ", "
            << info.multiprocessors << " SMs, " << (info.total_memory_bytes >> 30) << " GiB, "
            << info.peak_bandwidth_gbps << " GB/s peak, driver " << info.driver_version
            << ", runtime " << info.runtime_version << "\n";
}

TEST_F(CudaRuntime, Tf32IsOffByDefault) {
  EXPECT_FALSE(cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  EXPECT_TRUE(cuda::allow_tf32());
  cuda::set_allow_tf32(false);
}
#endif

}  // namespace
}  // namespace ignis

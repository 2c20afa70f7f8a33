// Tests of the pinned host allocator (cuda/pinned.h) and pinned batches: without a device it
// is the CPU allocator and the loader's batches are unchanged (runs in every CUDA build); on a
// GPU, batches collated into pinned memory are pinned, reach the device with the same values
// (also through cuda::to_device, which does not wait), and a freed block is reused only after
// the work queued before its free (skipped without).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "data/dataloader.h"
#include "tensor/backend.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"

#ifdef IGNIS_HAVE_CUDA
#include "cuda/cuda.h"
#include "cuda/pinned.h"
#endif

#include "support/cuda_test.h"
#include "support/text_dataset.h"

namespace ignis {
namespace {

#ifdef IGNIS_HAVE_CUDA

// Each pass's batches of `options` with and without the pinned allocator, compared field by
// field after `through` (identity, or a round trip through the device).
template <typename Through>
void expect_pinned_batches_match(const data::DataLoaderOptions& options, bool expect_pinned,
                                 Through through) {
  const test::TextDatasetFixture f(77);
  data::DataLoader plain(f.dataset, options);
  data::DataLoaderOptions pinned_options = options;
  pinned_options.allocator = cuda::pinned_allocator();
  data::DataLoader pinned(f.dataset, pinned_options);
  std::vector<data::Batch> expected;
  for (const data::Batch& batch : plain) expected.push_back(batch);
  size_t i = 0;
  for (const data::Batch& batch : pinned) {
    ASSERT_LT(i, expected.size());
    EXPECT_EQ(batch.rows, expected[i].rows);
    for (auto [got, want] : {std::pair{&batch.inputs, &expected[i].inputs},
                             std::pair{&batch.offsets, &expected[i].offsets},
                             std::pair{&batch.lengths, &expected[i].lengths},
                             std::pair{&batch.targets, &expected[i].targets}}) {
      ASSERT_EQ(got->defined(), want->defined());
      if (!got->defined()) continue;
      if (got->numel() > 0) {
        EXPECT_EQ(cuda::is_pinned(*got), expect_pinned);
      }
      EXPECT_EQ(through(*got).template to_vector<int64_t>(), want->template to_vector<int64_t>());
    }
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

TEST(PinnedWithoutDevice, IsTheCpuAllocatorAndLeavesBatchesUnchanged) {
  if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(cuda::pinned_allocator(), cpu_allocator());
  EXPECT_FALSE(cuda::is_pinned(arange(0, 10, 1)));
  EXPECT_FALSE(cuda::is_pinned(Tensor()));
  EXPECT_EQ(cuda::pinned_memory_stats().host_allocs, 0u);
  cuda::empty_pinned_cache();
  for (bool prefetch : {false, true}) {
    expect_pinned_batches_match({.batch_size = 8, .shuffle = true, .seed = 1, .prefetch = prefetch},
                                /*expect_pinned=*/false, [](const Tensor& t) { return t; });
  }
}

class CudaPinned : public test::CudaTest {};

TEST_F(CudaPinned, BatchesArePinnedAndReachTheDeviceWithTheSameValues) {
  for (data::Collate collate : {data::Collate::Bag, data::Collate::Padded}) {
    for (bool prefetch : {false, true}) {
      SCOPED_TRACE(prefetch ? "prefetch" : "no prefetch");
      expect_pinned_batches_match(
          {.batch_size = 8, .shuffle = true, .seed = 2, .collate = collate, .prefetch = prefetch},
          /*expect_pinned=*/true, [](const Tensor& t) {
            const Tensor device = cuda::to_device(t, Device::cuda());
            EXPECT_TRUE(device.is_cuda());
            return device.cpu();
          });
    }
  }
}

TEST_F(CudaPinned, EmptyPinnedIsAPinnedHostTensorThatCopiesBothWays) {
  const Tensor host = cuda::empty_pinned({3, 5}, kFloat64);
  EXPECT_TRUE(host.is_cpu());
  EXPECT_TRUE(host.is_contiguous());
  EXPECT_EQ(host.sizes(), (Shape{3, 5}));
  EXPECT_TRUE(cuda::is_pinned(host));
  raw::copy_(host, arange(0, 15, 1, TensorOptions{.dtype = kFloat64}).view({3, 5}));
  const Tensor device = host.to(Device::cuda());
  const Tensor back = cuda::empty_pinned({3, 5}, kFloat64);
  raw::copy_(back, raw::mul(device, wrap_scalar(2.0)));
  std::vector<double> expected(15);
  for (int i = 0; i < 15; ++i) expected[static_cast<size_t>(i)] = 2.0 * i;
  EXPECT_EQ(back.to_vector<double>(), expected);
}

TEST_F(CudaPinned, IsPinnedOnlyForPageLockedHostMemory) {
  EXPECT_FALSE(cuda::is_pinned(arange(0, 10, 1)));  // the CPU allocator's pageable memory
  EXPECT_FALSE(cuda::is_pinned(zeros({4}, {.device = Device::cuda()})));
  EXPECT_FALSE(cuda::is_pinned(Tensor()));
}

Tensor pinned_floats(int64_t n) { return cuda::empty_pinned({n}); }

TEST_F(CudaPinned, AFreedBlockWaitsForTheWorkQueuedBeforeItsFree) {
  const int64_t n = int64_t{1} << 20;
  cuda::synchronize();
  cuda::empty_pinned_cache();
  const cuda::PinnedMemoryStats start = cuda::pinned_memory_stats();
  EXPECT_EQ(start.cached_bytes, 0u);

  // Keep the stream busy (~tens of ms of kernels), then free a block and ask for its size:
  // the block is not reusable yet, so a new one is made.
  const Tensor big = zeros({int64_t{1} << 26}, {.device = Device::cuda()});
  pinned_floats(n);  // made and freed: reusable once the stream passes its free
  cuda::synchronize();
  for (int i = 0; i < 200; ++i) raw::exp(big);
  Tensor held = pinned_floats(n);  // the cached block: its event has long completed
  EXPECT_EQ(cuda::pinned_memory_stats().cache_hits, start.cache_hits + 1);
  held = Tensor();  // freed behind the 200 kernels
  const Tensor fresh = pinned_floats(n);
  EXPECT_EQ(cuda::pinned_memory_stats().host_allocs, start.host_allocs + 2);

  cuda::synchronize();
  const size_t hits = cuda::pinned_memory_stats().cache_hits;
  const Tensor reused = pinned_floats(n);  // now the block freed behind the kernels is free
  const cuda::PinnedMemoryStats after = cuda::pinned_memory_stats();
  EXPECT_EQ(after.cache_hits, hits + 1);
  EXPECT_EQ(after.allocated_bytes, start.allocated_bytes + 2 * static_cast<size_t>(n) * 4);
  EXPECT_TRUE(cuda::is_pinned(reused));
}

TEST_F(CudaPinned, ToDeviceQueuesTheCopyAndTheFreedSourceIsNotOverwrittenBeforeIt) {
  const int64_t n = int64_t{1} << 22;
  const Tensor big = zeros({int64_t{1} << 26}, {.device = Device::cuda()});
  Tensor host = pinned_floats(n);
  raw::copy_(host, arange(0, n, 1, TensorOptions{.dtype = kFloat32}));
  const std::vector<float> values = host.to_vector<float>();
  for (int i = 0; i < 200; ++i) raw::exp(big);  // the copy queues behind these
  const Tensor device = cuda::to_device(host, Device::cuda());
  EXPECT_TRUE(device.is_cuda());
  host = Tensor();  // freed while its copy has not run
  // Same size: were the freed block handed out again now, this would overwrite the source.
  const Tensor other = pinned_floats(n);
  raw::fill_(other, Scalar(-1.0));
  EXPECT_EQ(device.to_vector<float>(), values);
  // Not from the pool: through Tensor::to.
  const Tensor plain = arange(0, 5, 1, TensorOptions{.dtype = kFloat32});
  EXPECT_EQ(cuda::to_device(plain, Device::cuda()).to_vector<float>(), plain.to_vector<float>());
}

TEST_F(CudaPinned, EmptyCacheReturnsFreedBlocks) {
  { const Tensor t = pinned_floats(1000); }
  EXPECT_GT(cuda::pinned_memory_stats().cached_bytes, 0u);
  cuda::empty_pinned_cache();
  EXPECT_EQ(cuda::pinned_memory_stats().cached_bytes, 0u);
}

#else

TEST(PinnedWithoutCuda, NothingToTest) {
  GTEST_SKIP() << "built without the CUDA backend: cuda/pinned.h is not compiled";
}

#endif

}  // namespace
}  // namespace ignis

// The CUDA caching allocator registered for DeviceType::CUDA: one CachingAllocator
// (allocator.h) per device over cudaMalloc / cudaFree, and the memory_stats / empty_cache
// API of cuda.h. Not the caching logic itself: that is allocator.h.
#include "cuda/allocator.h"

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "cuda/runtime.h"
#include "tensor/storage.h"

namespace ignis::cuda {
namespace {

void* device_malloc(int device, size_t nbytes) {
  DeviceGuard guard(device);
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, nbytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so the next check does not report it
    return nullptr;
  }
  check(status, "cudaMalloc");
  return ptr;
}

void device_free(int device, void* ptr) {
  DeviceGuard guard(device);
  check(cudaFree(ptr), "cudaFree");
}

void device_info(int device, size_t* free_bytes, size_t* total_bytes) {
  DeviceGuard guard(device);
  check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

// The ignis::Allocator of CUDA storage: a CachingAllocator per device, made on first use.
class CudaAllocator final : public Allocator {
 public:
  // NOTE: Allocator::allocate takes no device, so the block is made on the current device
  // (cudaGetDevice), which is cuda:0 unless the caller set another.
  void* allocate(size_t nbytes) override {
    if (device_count_or_zero() == 0) {
      throw DeviceError("cuda allocator: cannot allocate " + std::to_string(nbytes) +
                        " bytes: no CUDA device available (ignis was built with CUDA, but "
                        "the driver reports no GPU)");
    }
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    return pool(device).allocate(nbytes);
  }

  void deallocate(void* ptr, size_t /*nbytes*/) override {
    if (ptr == nullptr) return;
    const auto devices = static_cast<size_t>(device_count_or_zero());
    for (size_t d = 0; d < devices; ++d) {
      if (created(d) && pools_[d]->deallocate(ptr)) return;
    }
    internal_error("cuda allocator: deallocate of a pointer it did not hand out");
  }

  CachingAllocator& pool(int device) {
    check_device_index(device, "cuda allocator");
    const auto d = static_cast<size_t>(device);
    if (d >= kMaxDevices) {
      throw DeviceError("cuda allocator: cuda:" + std::to_string(device) + " is beyond the " +
                        std::to_string(kMaxDevices) + " devices it supports");
    }
    std::lock_guard lock(mutex_);
    if (!pools_[d]) {
      pools_[d] = std::make_unique<CachingAllocator>(
          device, DeviceMemory{&device_malloc, &device_free, &device_info});
    }
    return *pools_[d];
  }

  bool created(size_t d) {
    if (d >= kMaxDevices) return false;
    std::lock_guard lock(mutex_);
    return pools_[d] != nullptr;
  }

 private:
  // Sized by a constant, not by cudaGetDeviceCount: the allocator is registered at load
  // time, when no CUDA call should run yet. pool() checks the index against the devices.
  static constexpr size_t kMaxDevices = 64;
  std::mutex mutex_;  // guards the creation of pools_, not their use
  std::array<std::unique_ptr<CachingAllocator>, kMaxDevices> pools_;
};

// NOTE: never destroyed: tensors held in static objects are freed after main returns, when
// a destroyed allocator (or a torn-down CUDA runtime) could not take them back.
CudaAllocator& the_allocator() {
  static CudaAllocator* allocator = new CudaAllocator();
  return *allocator;
}

struct Registrar {
  Registrar() { set_allocator(DeviceType::CUDA, &the_allocator()); }
};
const Registrar registrar;

}  // namespace

MemoryStats memory_stats(int index) {
  check_device_index(index, "memory_stats");
  CudaAllocator& allocator = the_allocator();
  if (!allocator.created(static_cast<size_t>(index))) return {};
  return allocator.pool(index).stats();
}

void empty_cache() {
  CudaAllocator& allocator = the_allocator();
  for (size_t d = 0; d < static_cast<size_t>(device_count_or_zero()); ++d) {
    if (allocator.created(d)) allocator.pool(static_cast<int>(d)).empty_cache();
  }
}

}  // namespace ignis::cuda

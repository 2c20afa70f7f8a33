// The CPU allocator (64-byte aligned, caching large blocks), the per-device allocator
// registry, and Storage. The CUDA backend brings its own allocator and registers it here.
#include "tensor/storage.h"

#include <array>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "tensor/error.h"

namespace ignis {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheBlocks = false;  // reused blocks would hide use-after-free from ASan
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kCacheBlocks = false;
#else
constexpr bool kCacheBlocks = true;
#endif
#else
constexpr bool kCacheBlocks = true;
#endif

// Blocks from this size up are cached: below it malloc's own bins are as fast, above it
// malloc maps fresh pages from the kernel for each allocation, and the training loop pays a
// page fault per 4 KiB for every gradient and temporary.
constexpr size_t kMinCachedBytes = size_t{64} << 10;
// At most this many bytes sit unused in the cache; a block freed beyond it goes back to malloc.
constexpr size_t kMaxCachedBytes = size_t{256} << 20;

// The size class of a cached block: nbytes rounded up to 4 steps per power of two (at most
// 25% waste), so blocks of nearby sizes are shared.
size_t size_class(size_t nbytes) {
  size_t power = kMinCachedBytes;
  while (power * 2 <= nbytes) power *= 2;
  const size_t step = power / 4;
  return (nbytes + step - 1) / step * step;
}

void* aligned_allocate(size_t nbytes) {
  // aligned_alloc wants a multiple of the alignment; 0 bytes still gets a real pointer.
  size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  if (rounded == 0) rounded = kCpuAlignment;
  void* ptr = std::aligned_alloc(kCpuAlignment, rounded);
  if (ptr == nullptr) {
    throw Error("cpu allocator: out of memory allocating " + std::to_string(nbytes) + " bytes");
  }
  return ptr;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (!kCacheBlocks || nbytes < kMinCachedBytes) return aligned_allocate(nbytes);
    const size_t size = size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* ptr = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= size;
        stats_.hits += 1;
        note_allocated(size);
        return ptr;
      }
      stats_.misses += 1;
    }
    void* ptr = aligned_allocate(size);
    std::lock_guard<std::mutex> lock(mutex_);
    note_allocated(size);
    return ptr;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!kCacheBlocks || nbytes < kMinCachedBytes) {
      std::free(ptr);
      return;
    }
    const size_t size = size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.allocated_bytes -= size;
    if (stats_.cached_bytes + size > kMaxCachedBytes) {
      std::free(ptr);
      return;
    }
    free_[size].push_back(ptr);
    stats_.cached_bytes += size;
  }

  CpuCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_) {
      for (void* ptr : blocks) std::free(ptr);
    }
    free_.clear();
    stats_.cached_bytes = 0;
  }

 private:
  void note_allocated(size_t size) {
    stats_.allocated_bytes += size;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) {
      stats_.peak_allocated_bytes = stats_.allocated_bytes;
    }
  }

  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;  // size class -> unused blocks
  CpuCacheStats stats_{.enabled = kCacheBlocks};
};

CpuAllocator& the_cpu_allocator() {
  // Never destroyed: tensors in static objects may be freed after main returns.
  static CpuAllocator* allocator = new CpuAllocator;
  return *allocator;
}

std::array<Allocator*, kNumDeviceTypes>& allocators() {
  static std::array<Allocator*, kNumDeviceTypes> table = {cpu_allocator(), nullptr};
  return table;
}

}  // namespace

Allocator* cpu_allocator() { return &the_cpu_allocator(); }

CpuCacheStats cpu_cache_stats() { return the_cpu_allocator().stats(); }

void empty_cpu_cache() { the_cpu_allocator().empty_cache(); }

Allocator* allocator_for(Device device) {
  Allocator* allocator = allocators()[static_cast<size_t>(device.type)];
  if (allocator == nullptr) {
    throw DeviceError("no allocator for " + device.str() + ": ignis was built without CUDA");
  }
  return allocator;
}

void set_allocator(DeviceType type, Allocator* allocator) {
  allocators()[static_cast<size_t>(type)] = allocator;
}

Storage::Storage(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(allocator_for(device)) {
  data_ = allocator_->allocate(nbytes);
}

Storage::Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> keep_alive)
    : data_(data), nbytes_(nbytes), device_(device), keep_alive_(std::move(keep_alive)) {}

Storage::~Storage() {
  if (allocator_ != nullptr) allocator_->deallocate(data_, nbytes_);
}

}  // namespace ignis

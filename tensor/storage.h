// Ref-counted, device-tagged byte buffers and the allocators that make them.
// Not typed: a Tensor gives the bytes a dtype, sizes and strides.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tensor/device.h"

namespace ignis {

// Hands out raw device memory. The CPU allocator aligns to 64 bytes (one cache line, one
// AVX-512 register); the CUDA backend registers its own caching allocator.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;         // throws Error on failure; nbytes may be 0
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
};

inline constexpr size_t kCpuAlignment = 64;

Allocator* cpu_allocator();

// The CPU allocator keeps freed blocks and hands them out again, so a training loop neither
// maps fresh pages for every gradient nor calls malloc for every small temporary. Sizes are
// rounded up to size classes (64-byte steps up to 256 bytes, then 4 classes per power of
// two). Small and large blocks are cached under separate bounds (kCpuSmallCacheBytes and
// kCpuLargeCacheBytes of unused blocks); blocks over 256 MiB are never cached. One mutex,
// uncontended in a training loop. Off in AddressSanitizer builds.
inline constexpr size_t kCpuLargeBlockBytes = size_t{64} << 10;   // smaller blocks are "small"
inline constexpr size_t kCpuSmallCacheBytes = size_t{16} << 20;   // bound on cached small blocks
inline constexpr size_t kCpuLargeCacheBytes = size_t{256} << 20;  // bound on cached large blocks
struct CpuCacheStats {
  bool enabled = false;             // false in sanitizer builds
  size_t allocated_bytes = 0;       // in cached-size blocks now in use
  size_t peak_allocated_bytes = 0;  // the most allocated_bytes has been
  size_t cached_bytes = 0;          // in free blocks kept for reuse, all sizes
  size_t cached_small_bytes = 0;    // the part of cached_bytes in blocks below 64 KiB
  size_t hits = 0;                  // allocations served from the cache
  size_t misses = 0;                // allocations that went to malloc
};
CpuCacheStats cpu_cache_stats();
// Returns every cached free block to the system.
void empty_cpu_cache();
// The allocator registered for `device`; throws DeviceError when none is (e.g. CUDA off).
Allocator* allocator_for(Device device);
void set_allocator(DeviceType type, Allocator* allocator);

// One buffer shared by every tensor that views it. `version` counts in-place writes to the
// buffer, so autograd can tell that a tensor saved for backward has been modified.
class Storage {
 public:
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere (no free on destruction).
  Storage(void* data, size_t nbytes, Device device, std::shared_ptr<void> keep_alive);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  Allocator* allocator_ = nullptr;     // null for wrapped memory
  std::shared_ptr<void> keep_alive_;   // owner of wrapped memory
  std::atomic<uint64_t> version_{0};
};

using StoragePtr = std::shared_ptr<Storage>;

}  // namespace ignis

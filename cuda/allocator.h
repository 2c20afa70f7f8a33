// The caching device allocator's bookkeeping: size classes, free-block bins, statistics and
// the out-of-memory error, over raw "device malloc / free / free-memory" calls given as
// function pointers. Header-only plain C++, so that its logic is tested without a GPU (with
// host memory standing in for the device); allocator.cpp plugs in cudaMalloc and registers it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/cuda.h"
#include "tensor/error.h"

namespace ignis::cuda {

// The raw memory calls of one device.
struct DeviceMemory {
  void* (*malloc)(int device, size_t nbytes) = nullptr;  // nullptr when out of memory
  void (*free)(int device, void* ptr) = nullptr;
  // Free and total bytes on the device, as cudaMemGetInfo.
  void (*info)(int device, size_t* free_bytes, size_t* total_bytes) = nullptr;
};

// Freed blocks by size class: the bins of CachingAllocator and of the pinned host pool.
using SizeBins = std::unordered_map<size_t, std::vector<void*>>;

// A cached block of exactly `size` (a size class) taken from its bin, or nullptr when the bin
// is empty.
inline void* take_cached(SizeBins& bins, size_t size) {
  const auto bin = bins.find(size);
  if (bin == bins.end() || bin->second.empty()) return nullptr;
  void* ptr = bin->second.back();
  bin->second.pop_back();
  return ptr;
}

// Hands out device blocks of a size class and keeps freed ones in per-class bins for reuse:
// a training step allocates the same sizes every step, so after the first step no call
// reaches cudaMalloc. A freed block may be handed out again at once: all ignis work on a
// device is on one stream, so a later kernel that writes it runs after the earlier readers.
// Thread-safe (one mutex: allocation is per op, never per element).
class CachingAllocator {
 public:
  // Blocks below 1 MiB are rounded up to 512 bytes; larger ones to 4 classes per power of
  // two (at most 25% of a block unused).
  static constexpr size_t kSmallQuantum = 512;
  static constexpr size_t kLargeThreshold = size_t{1} << 20;

  CachingAllocator(int device, DeviceMemory memory) : device_(device), memory_(memory) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator() { empty_cache(); }

  // The size class of a request: kSmallQuantum multiples below kLargeThreshold, then
  // 2^k, 1.25 2^k, 1.5 2^k, 1.75 2^k.
  static size_t round_size(size_t nbytes) {
    if (nbytes < kLargeThreshold) {
      return (nbytes + kSmallQuantum - 1) / kSmallQuantum * kSmallQuantum;
    }
    size_t power = kLargeThreshold;
    while (power * 2 <= nbytes) power *= 2;
    const size_t step = power / 4;
    return (nbytes + step - 1) / step * step;
  }

  // A block of at least nbytes (nullptr for 0). On a cudaMalloc failure the cache is
  // emptied and the call retried once; if that fails too, throws DeviceError naming the
  // device, the requested size and the free, total, allocated and cached bytes.
  void* allocate(size_t nbytes) {
    if (nbytes == 0) return nullptr;
    const size_t size = round_size(nbytes);
    std::lock_guard lock(mutex_);
    void* ptr = take_cached(free_, size);
    if (ptr != nullptr) {
      stats_.cached_bytes -= size;
      ++stats_.cache_hits;
    } else {
      ptr = memory_.malloc(device_, size);
      if (ptr == nullptr) {
        release_cached();
        ptr = memory_.malloc(device_, size);
      }
      if (ptr == nullptr) throw_out_of_memory(nbytes, size);
      ++stats_.device_mallocs;
      stats_.reserved_bytes += size;
      stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
    }
    live_.emplace(ptr, size);
    stats_.allocated_bytes += size;
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    return ptr;
  }

  // Returns a block from allocate() to its bin. False (nothing done) when ptr is not one
  // of this allocator's live blocks; nullptr is a no-op that returns true.
  bool deallocate(void* ptr) {
    if (ptr == nullptr) return true;
    std::lock_guard lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return false;
    const size_t size = it->second;
    live_.erase(it);
    free_[size].push_back(ptr);
    stats_.allocated_bytes -= size;
    stats_.cached_bytes += size;
    return true;
  }

  // Frees every cached block; blocks in use are kept.
  void empty_cache() {
    std::lock_guard lock(mutex_);
    release_cached();
  }

  MemoryStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  void release_cached() {
    for (auto& [size, blocks] : free_) {
      for (void* ptr : blocks) {
        memory_.free(device_, ptr);
        ++stats_.device_frees;
        stats_.reserved_bytes -= size;
        stats_.cached_bytes -= size;
      }
      blocks.clear();
    }
  }

  [[noreturn]] void throw_out_of_memory(size_t nbytes, size_t size) const {
    size_t free_bytes = 0, total_bytes = 0;
    memory_.info(device_, &free_bytes, &total_bytes);
    throw DeviceError("cuda:" + std::to_string(device_) + ": out of memory: tried to allocate " +
                      bytes_str(nbytes) + " (" + std::to_string(nbytes) + " bytes, " +
                      std::to_string(size) + " rounded); the device has " +
                      bytes_str(free_bytes) + " free of " + bytes_str(total_bytes) +
                      "; ignis holds " + bytes_str(stats_.allocated_bytes) + " in tensors and " +
                      bytes_str(stats_.cached_bytes) + " cached");
  }

  // "1.50 GiB", "512 B"
  static std::string bytes_str(size_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
      value /= 1024.0;
      ++unit;
    }
    if (unit == 0) return std::to_string(bytes) + " B";
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f %s", value, units[unit]);
    return text;
  }

  const int device_;
  const DeviceMemory memory_;
  mutable std::mutex mutex_;
  SizeBins free_;  // size class -> cached blocks
  std::unordered_map<void*, size_t> live_;               // block in use -> size class
  MemoryStats stats_;
};

}  // namespace ignis::cuda

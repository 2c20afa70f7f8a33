// The CPU allocator (64-byte aligned, caching freed blocks by size class), the per-device
// allocator registry, and Storage. The CUDA backend brings its own allocator and registers it here.
#include "tensor/storage.h"

#include <array>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>

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

// Small blocks (the activations, gradients and scalars of a small model) and large ones are
// cached under separate bounds, so that many small blocks cannot crowd out the large ones.
// Without the small cache a 784-64-10 MLP step at batch 32 spent about a sixth of its time in
// malloc/free (perf: its blocks of 1-64 KiB made glibc consolidate its fast bins every step).
// Above 64 KiB malloc maps fresh pages from the kernel for each allocation, and the training
// loop would pay a page fault per 4 KiB for every gradient and temporary.

// Size classes: multiples of 64 bytes up to 256, then 4 steps per power of two (at most 25%
// waste), so blocks of nearby sizes are shared. A block larger than the large cache's bound
// is never cached and gets no class.
constexpr int kMaxClassLog2 = 28;
static_assert(size_t{1} << kMaxClassLog2 == kCpuLargeCacheBytes);
constexpr size_t kNumClasses = 4 + 4 * (kMaxClassLog2 - 8);

size_t size_class(size_t nbytes) {
  if (nbytes <= 256) return nbytes <= kCpuAlignment ? kCpuAlignment : (nbytes + 63) / 64 * 64;
  const size_t step = std::bit_floor(nbytes) / 4;
  return (nbytes + step - 1) / step * step;
}

// The index of a size class: 0-3 for 64..256 bytes, then 4 per power of two above 256.
size_t class_index(size_t size) {
  if (size <= 256) return size / 64 - 1;
  const size_t power = std::bit_floor(size);
  const size_t log2 = static_cast<size_t>(std::bit_width(power)) - 1;
  return 3 + (log2 - 8) * 4 + (size - power) / (power / 4);
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

// A freed block is linked into its class's list through its own first bytes (every block
// is at least 64 bytes), so caching never allocates.
struct FreeBlock {
  FreeBlock* next;
};

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (!kCacheBlocks || nbytes > kCpuLargeCacheBytes) return aligned_allocate(nbytes);
    const size_t size = size_class(nbytes);
    const size_t index = class_index(size);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (FreeBlock* block = free_[index]) {
        free_[index] = block->next;
        cached_bytes(size) -= size;
        stats_.cached_bytes -= size;
        stats_.hits += 1;
        note_allocated(size);
        return block;
      }
      stats_.misses += 1;
      note_allocated(size);
    }
    try {
      return aligned_allocate(size);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.allocated_bytes -= size;
      throw;
    }
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!kCacheBlocks || nbytes > kCpuLargeCacheBytes) {
      std::free(ptr);
      return;
    }
    const size_t size = size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.allocated_bytes -= size;
      size_t& cached = cached_bytes(size);
      const size_t bound = size < kCpuLargeBlockBytes ? kCpuSmallCacheBytes : kCpuLargeCacheBytes;
      if (cached + size <= bound) {
        const size_t index = class_index(size);
        free_[index] = new (ptr) FreeBlock{free_[index]};
        cached += size;
        stats_.cached_bytes += size;
        return;
      }
    }
    std::free(ptr);
  }

  CpuCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    CpuCacheStats out = stats_;
    out.cached_small_bytes = cached_small_;
    return out;
  }

  void empty_cache() {
    std::array<FreeBlock*, kNumClasses> lists;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lists = free_;
      free_.fill(nullptr);
      stats_.cached_bytes = 0;
      cached_small_ = cached_large_ = 0;
    }
    for (FreeBlock* block : lists) {
      while (block != nullptr) std::free(std::exchange(block, block->next));
    }
  }

 private:
  void note_allocated(size_t size) {
    stats_.allocated_bytes += size;
    if (stats_.allocated_bytes > stats_.peak_allocated_bytes) {
      stats_.peak_allocated_bytes = stats_.allocated_bytes;
    }
  }

  size_t& cached_bytes(size_t size) {
    return size < kCpuLargeBlockBytes ? cached_small_ : cached_large_;
  }

  std::mutex mutex_;  // NOTE: uncontended in a training loop; one lock per allocate/free
  std::array<FreeBlock*, kNumClasses> free_{};  // class index -> list of unused blocks
  size_t cached_small_ = 0;                     // bytes in free blocks below kCpuLargeBlockBytes
  size_t cached_large_ = 0;
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

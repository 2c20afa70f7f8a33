// The pinned host allocator of pinned.h: size-class bins over cudaHostAlloc, one event per
// device that holds a freed block back until the copies queued before its free have finished,
// and to_device's copy that relies on it. Not the device allocator (allocator.cpp) and not
// Tensor::to's host <-> device copy (transfer_cuda in elementwise.cu).
#include "cuda/pinned.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cuda/allocator.h"
#include "cuda/runtime.h"
#include "tensor/error.h"

namespace ignis::cuda {
namespace {

// A freed block that copies queued before its free may still read: one event per device
// whose stream existed then, recorded on that stream at the free.
struct PendingBlock {
  void* ptr = nullptr;
  size_t size = 0;
  std::vector<std::pair<int, cudaEvent_t>> events;  // (device, event)
};

// cudaHostAlloc, nullptr when the host cannot page-lock that much. Portable: the pages are
// pinned for every device, not only the current one.
void* host_alloc(size_t nbytes) {
  void* ptr = nullptr;
  const cudaError_t status = cudaHostAlloc(&ptr, nbytes, cudaHostAllocPortable);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so the next check does not report it
    return nullptr;
  }
  check(status, "cudaHostAlloc");
  return ptr;
}

class PinnedAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    if (nbytes == 0) return nullptr;
    const size_t size = CachingAllocator::round_size(nbytes);
    std::lock_guard lock(mutex_);
    collect_finished(/*wait=*/false);
    void* ptr = take_cached(free_, size);
    if (ptr != nullptr) {
      stats_.cached_bytes -= size;
      ++stats_.cache_hits;
    } else {
      ptr = host_alloc(size);
      if (ptr == nullptr) {
        release_free_blocks();
        ptr = host_alloc(size);
      }
      if (ptr == nullptr) {
        throw DeviceError("pinned allocator: cannot page-lock " + std::to_string(nbytes) +
                          " bytes (" + std::to_string(size) + " rounded) of host memory; " +
                          std::to_string(stats_.allocated_bytes) + " bytes are pinned in use");
      }
      ++stats_.host_allocs;
    }
    live_.emplace(ptr, size);
    stats_.allocated_bytes += size;
    return ptr;
  }

  // Called from Storage's destructor, so it does not throw for a CUDA failure: when an event
  // cannot be recorded it waits for the devices instead, and the block is free at once.
  void deallocate(void* ptr, size_t /*nbytes*/) override {
    if (ptr == nullptr) return;
    std::lock_guard lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) internal_error("pinned allocator: deallocate of a pointer it did not hand out");
    PendingBlock block{ptr, it->second, {}};
    live_.erase(it);
    stats_.allocated_bytes -= block.size;
    stats_.cached_bytes += block.size;
    if (record_events(block.events)) {
      pending_.push_back(std::move(block));
    } else {
      free_[block.size].push_back(ptr);
    }
  }

  void empty_cache() {
    std::lock_guard lock(mutex_);
    collect_finished(/*wait=*/true);
    release_free_blocks();
  }

  // Whether `ptr` is the start of a block handed out and not yet freed.
  bool owns(const void* ptr) {
    std::lock_guard lock(mutex_);
    return live_.count(const_cast<void*>(ptr)) == 1;
  }

  PinnedMemoryStats stats() {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  // One event per device with a stream, recorded on it; false (and no events kept) when a
  // record fails, after waiting for every device.
  bool record_events(std::vector<std::pair<int, cudaEvent_t>>& events) {
    for (int device = 0; device < device_count_or_zero(); ++device) {
      if (!stream_created(device)) continue;  // nothing was ever queued there
      cudaEvent_t event = take_event(device);
      if (event == nullptr || cudaEventRecord(event, stream(device)) != cudaSuccess) {
        cudaGetLastError();
        if (event != nullptr) spare_events_[device].push_back(event);
        for (auto& [d, e] : events) spare_events_[d].push_back(e);
        events.clear();
        for (int d = 0; d < device_count_or_zero(); ++d) {
          if (stream_created(d)) cudaStreamSynchronize(stream(d));
        }
        cudaGetLastError();
        return false;
      }
      events.emplace_back(device, event);
    }
    return !events.empty();
  }

  // A spare event of `device`, or a new one; nullptr when cudaEventCreate fails.
  cudaEvent_t take_event(int device) {
    std::vector<cudaEvent_t>& spare = spare_events_[device];
    if (!spare.empty()) {
      cudaEvent_t event = spare.back();
      spare.pop_back();
      return event;
    }
    int previous = 0;
    if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    cudaEvent_t event = nullptr;
    if (cudaEventCreateWithFlags(&event, cudaEventDisableTiming) != cudaSuccess) {
      cudaGetLastError();
      event = nullptr;
    }
    cudaSetDevice(previous);
    return event;
  }

  // Moves the pending blocks whose events have all completed to their bins; with `wait`,
  // waits for every event first.
  // A failed event (the device is broken) counts as completed: no copy reads the block any
  // more. The first failure is thrown once the bookkeeping is consistent again.
  void collect_finished(bool wait) {
    std::vector<PendingBlock> still_pending;
    cudaError_t failure = cudaSuccess;
    for (PendingBlock& block : pending_) {
      bool done = true;
      for (auto& [device, event] : block.events) {
        const cudaError_t status = wait ? cudaEventSynchronize(event) : cudaEventQuery(event);
        if (status == cudaErrorNotReady) {
          // NOTE: cleared, or the next check_launch would report it as a kernel's failure.
          cudaGetLastError();
          done = false;
          break;
        }
        if (failure == cudaSuccess) failure = status;
      }
      if (!done) {
        still_pending.push_back(std::move(block));
        continue;
      }
      for (auto& [device, event] : block.events) spare_events_[device].push_back(event);
      free_[block.size].push_back(block.ptr);
    }
    pending_ = std::move(still_pending);
    check(failure, "pinned allocator: waiting for a copy from a freed block");
  }

  void release_free_blocks() {
    for (auto& [size, blocks] : free_) {
      for (void* ptr : blocks) {
        check(cudaFreeHost(ptr), "cudaFreeHost");
        stats_.cached_bytes -= size;
      }
      blocks.clear();
    }
  }

  std::mutex mutex_;
  SizeBins free_;  // size class -> reusable blocks
  std::unordered_map<void*, size_t> live_;               // block in use -> size class
  std::vector<PendingBlock> pending_;                    // freed, copies maybe still reading
  std::unordered_map<int, std::vector<cudaEvent_t>> spare_events_;  // device -> events
  PinnedMemoryStats stats_;
};

// NOTE: never destroyed, as the device allocator: batches held in static objects are freed
// after main returns, when a destroyed pool could not take them back.
PinnedAllocator& the_pinned_allocator() {
  static PinnedAllocator* allocator = new PinnedAllocator();
  return *allocator;
}

}  // namespace

Allocator* pinned_allocator() {
  if (device_count_or_zero() == 0) return cpu_allocator();
  return &the_pinned_allocator();
}

Tensor empty_pinned(const Shape& sizes, DType dtype) {
  return make_tensor(sizes, dtype, pinned_allocator());
}

Tensor to_device(const Tensor& host, Device device) {
  if (!host.is_cpu() || !device.is_cuda() || device_count_or_zero() == 0 ||
      !host.is_contiguous() || host.numel() == 0 ||
      !the_pinned_allocator().owns(host.storage()->data())) {
    return host.to(device);
  }
  check_device_index(device.index, "to_device");
  DeviceGuard guard(device);  // the device allocator allocates on the current device
  const Tensor out = make_tensor(host.sizes(), host.dtype(), device);
  check(cudaMemcpyAsync(out.raw_data(), host.raw_data(), host.nbytes(), cudaMemcpyHostToDevice,
                        stream(device.index)),
        "to_device (pinned host to device)");
  return out;
}

bool is_pinned(const Tensor& t) {
  if (!t.defined() || !t.is_cpu() || t.raw_data() == nullptr || device_count_or_zero() == 0) {
    return false;
  }
  cudaPointerAttributes attributes{};
  check(cudaPointerGetAttributes(&attributes, t.raw_data()), "is_pinned");
  return attributes.type == cudaMemoryTypeHost;
}

PinnedMemoryStats pinned_memory_stats() {
  if (device_count_or_zero() == 0) return {};
  return the_pinned_allocator().stats();
}

void empty_pinned_cache() {
  if (device_count_or_zero() == 0) return;
  the_pinned_allocator().empty_cache();
}

}  // namespace ignis::cuda

// The public face of the CUDA backend: device queries, memory statistics of the caching
// allocator, synchronisation and the TF32 switch. Plain C++ (no CUDA header), but the
// functions are defined in ignis_cuda: a CPU-only build has only is_available() & co.
// (tensor/backend.h), which answer "no CUDA".
#pragma once

#include <cstddef>
#include <string>

#include "tensor/backend.h"

namespace ignis::cuda {

// What one device's caching allocator holds (cuda/allocator.h). Sizes are in bytes, after
// rounding to the allocator's size classes.
struct MemoryStats {
  size_t allocated_bytes = 0;       // in blocks handed out and not yet returned
  size_t peak_allocated_bytes = 0;  // the most allocated_bytes has been
  size_t reserved_bytes = 0;        // obtained from cudaMalloc: allocated + cached
  size_t peak_reserved_bytes = 0;   // the most reserved_bytes has been
  size_t cached_bytes = 0;          // in free blocks kept for reuse
  size_t cache_hits = 0;            // allocations served from the cache
  size_t device_mallocs = 0;        // allocations that called cudaMalloc
  size_t device_frees = 0;          // blocks returned with cudaFree (empty_cache, retries)
};

// The caching allocator's statistics for device `index`; all zero before its first use.
// Throws DeviceError for an index that is not a device.
MemoryStats memory_stats(int index = 0);
// Returns every cached free block of every device to the driver (cudaFree). Blocks in use
// are kept. Waits for the device (cudaFree synchronises).
void empty_cache();
// Blocks the host until all work queued on every device's stream has finished.
void synchronize();

// Whether float32 GEMMs may use TF32 tensor cores (10-bit mantissa inputs): off by default,
// as in PyTorch, so that CUDA results match the CPU's to float32 rounding.
void set_allow_tf32(bool allow);
bool allow_tf32();

// What benchmarks and reports print about a device.
struct DeviceInfo {
  std::string name;                     // "NVIDIA H200"
  int major = 0, minor = 0;             // compute capability
  int multiprocessors = 0;
  size_t total_memory_bytes = 0;
  double peak_bandwidth_gbps = 0.0;     // 2 x memory clock x bus width, in GB/s
  int driver_version = 0;               // as cudaDriverGetVersion: 13000 for 13.0
  int runtime_version = 0;              // as cudaRuntimeGetVersion
};
// Throws DeviceError for an index that is not a device.
DeviceInfo device_info(int index = 0);

}  // namespace ignis::cuda

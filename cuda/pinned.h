// Page-locked ("pinned") host memory for the batches a program moves to a GPU: a caching
// allocator over cudaHostAlloc whose blocks are reused only once the copies queued from them
// have finished. Not a device allocator (cuda/allocator.h) and not the copy (transfer_cuda).
// Plain C++ (no CUDA header); defined in ignis_cuda, so only a CUDA build has it.
//
// Why: a copy from ordinary (pageable) memory goes through a driver staging buffer and the
// host waits for it; from page-locked memory the GPU reads the host buffer directly (DMA), at
// the bus's full speed, and the copy may run while the host prepares the next batch.
// Use: data::DataLoaderOptions{.allocator = cuda::pinned_allocator()} collates every batch
// into pinned memory, and cuda::to_device(batch.inputs, Device::cuda()) queues its copy
// without waiting (Tensor::to works too, but waits for the copy).
#pragma once

#include <cstddef>

#include "tensor/storage.h"
#include "tensor/tensor.h"

namespace ignis::cuda {

// The process's pinned host allocator, for CPU tensors (Device::cpu()). Blocks are rounded to
// the device allocator's size classes and cached for reuse. NOTE: a freed block is handed out
// again only after every device's stream has passed the point where it was freed (an event
// recorded then), so a copy queued from it before the free reads the right bytes.
// Without a CUDA device it is the plain CPU allocator (cpu_allocator()): programs that ask for
// pinned memory run unchanged on a machine with no GPU.
// allocate() throws DeviceError naming the size when cudaHostAlloc fails even after the
// cached blocks were released. Never destroyed: the driver unpins its pages at process exit.
Allocator* pinned_allocator();

// A contiguous, uninitialised CPU tensor in a block of pinned_allocator() (as
// torch.empty(..., pin_memory=True)); plain CPU memory without a device. Throws as allocate().
Tensor empty_pinned(const Shape& sizes, DType dtype = kFloat32);

// `host` (a CPU tensor) copied to CUDA device `device`. From a block of pinned_allocator()
// (a batch of a loader with that allocator) the copy is queued on the device's stream and the
// host does not wait for it: the block is not handed out again before the copy has run (see
// pinned_allocator). Any other tensor goes through Tensor::to, which waits for its copy.
// NOTE: the host must not write to `host` after the call (a loader's batches never change).
// Throws DeviceError for a device that is not a CUDA device of this machine.
Tensor to_device(const Tensor& host, Device device);

// Whether t's memory is page-locked host memory known to CUDA (from pinned_allocator(),
// cudaHostAlloc or cudaHostRegister). False for device tensors, pageable host memory, an
// undefined tensor and on a machine without a device.
bool is_pinned(const Tensor& t);

// What the pinned allocator holds, in bytes after rounding.
struct PinnedMemoryStats {
  size_t allocated_bytes = 0;  // in blocks handed out and not yet freed
  size_t cached_bytes = 0;     // in freed blocks, reusable or waiting for their copies
  size_t host_allocs = 0;      // calls to cudaHostAlloc
  size_t cache_hits = 0;       // allocations served from the cache
};
PinnedMemoryStats pinned_memory_stats();

// Returns the cached pinned blocks to the system (cudaFreeHost), after waiting for the copies
// still reading them. Blocks in use are kept.
void empty_pinned_cache();

}  // namespace ignis::cuda

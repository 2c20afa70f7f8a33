// The CUDA runtime layer every cuda/ file uses: status checks that throw DeviceError with the
// file and line, the device guard, and the one stream per device all work is queued on.
// Internal to cuda/ (it includes cuda_runtime.h); users see cuda/cuda.h.
#pragma once

#include <cuda_runtime.h>

#include <source_location>

#include "tensor/tensor.h"

namespace ignis::cuda {

// Throws DeviceError "<what>: <CUDA error name>: <description> (file:line)" unless
// status == cudaSuccess.
void check(cudaError_t status, const char* what,
           std::source_location loc = std::source_location::current());
// check(cudaGetLastError()) after a kernel launch: catches bad launch configurations at the
// launch site (errors inside the kernel surface at the next synchronising call).
void check_launch(const char* kernel, std::source_location loc = std::source_location::current());

// cudaGetDeviceCount, 0 without a driver or a device; computed once.
int device_count_or_zero();
// Throws DeviceError naming `op` unless 0 <= index < device_count().
void check_device_index(int index, const char* op);

// Makes `index` the current device for its lifetime and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  explicit DeviceGuard(Device device) : DeviceGuard(device.index) {}
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  int current_ = 0;
};

// The stream of device `index`: created on first use (blocking with respect to the legacy
// default stream, so that library calls on stream 0 stay ordered with ours), never destroyed.
// Every kernel and copy of ignis on that device is queued on it, so work runs in the order
// it was issued, and a block the caching allocator hands out again is free on that stream.
cudaStream_t stream(int index);
// Whether stream(index) has been created (false for an index that is not a device): work
// can have been queued on device `index` only if it has. Never creates the stream.
bool stream_created(int index);

// Multiprocessor count of device `index` (cached), for sizing grids.
int multiprocessor_count(int index);

// Typed pointer to element [0, ..., 0] of a tensor's device memory, for kernel arguments:
// Tensor::data_ptr<T>() refuses non-CPU storage. The dtype must be T (an internal check).
template <typename T>
T* device_data(const Tensor& t) {
  IGNIS_INTERNAL_ASSERT(t.dtype() == dtype_of<T>);
  return static_cast<T*>(t.raw_data());
}

}  // namespace ignis::cuda

// The CUDA runtime layer: status checks, device count (registered with tensor/backend.h at
// load time), the device guard, one stream per device, device queries, the TF32 switch.
// Not the allocator (allocator.cpp) and not the kernels.
#include "cuda/runtime.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "cuda/cuda.h"
#include "tensor/error.h"

namespace ignis::cuda {
namespace {

std::string where(const std::source_location& loc) {
  return std::string(loc.file_name()) + ":" + std::to_string(loc.line());
}

// One stream per device, created on first use.
struct Streams {
  std::unique_ptr<std::once_flag[]> created;
  std::unique_ptr<cudaStream_t[]> handles;
  std::unique_ptr<std::atomic<bool>[]> ready;  // set once handles[i] exists
};

Streams& streams() {
  static Streams s = [] {
    const int n = device_count_or_zero();
    Streams result;
    result.created = std::make_unique<std::once_flag[]>(static_cast<size_t>(n));
    result.handles = std::make_unique<cudaStream_t[]>(static_cast<size_t>(n));
    result.ready = std::make_unique<std::atomic<bool>[]>(static_cast<size_t>(n));
    return result;
  }();
  return s;
}

std::atomic<bool>& tf32_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

// Tells tensor/ at load time how to count devices, so cuda::is_available() works.
struct Registrar {
  Registrar() { register_cuda_device_count(&device_count_or_zero); }
};
const Registrar registrar;

}  // namespace

void check(cudaError_t status, const char* what, std::source_location loc) {
  if (status == cudaSuccess) return;
  throw DeviceError(std::string(what) + ": " + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status) + " (" + where(loc) + ")");
}

void check_launch(const char* kernel, std::source_location loc) {
  const cudaError_t status = cudaGetLastError();
  if (status == cudaSuccess) return;
  throw DeviceError(std::string(kernel) + ": kernel launch failed: " + cudaGetErrorName(status) +
                    ": " + cudaGetErrorString(status) + " (" + where(loc) + ")");
}

int device_count_or_zero() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: clear the error, report none
      return 0;
    }
    return n;
  }();
  return count;
}

void check_device_index(int index, const char* op) {
  const int n = device_count_or_zero();
  if (index < 0 || index >= n) {
    throw DeviceError(std::string(op) + ": no CUDA device cuda:" + std::to_string(index) +
                      " (this machine has " + std::to_string(n) + ")");
  }
}

DeviceGuard::DeviceGuard(int index) : current_(index) {
  check(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != index) check(cudaSetDevice(index), "cudaSetDevice");
}

DeviceGuard::~DeviceGuard() {
  // A destructor must not throw; a failure here would already have failed in the constructor.
  if (previous_ != current_) cudaSetDevice(previous_);
}

cudaStream_t stream(int index) {
  check_device_index(index, "cuda stream");
  Streams& s = streams();
  const auto i = static_cast<size_t>(index);
  std::call_once(s.created[i], [&] {
    DeviceGuard guard(index);
    check(cudaStreamCreateWithFlags(&s.handles[i], cudaStreamDefault), "cudaStreamCreate");
    s.ready[i].store(true, std::memory_order_release);
  });
  return s.handles[i];
}

bool stream_created(int index) {
  if (index < 0 || index >= device_count_or_zero()) return false;
  return streams().ready[static_cast<size_t>(index)].load(std::memory_order_acquire);
}

int multiprocessor_count(int index) {
  check_device_index(index, "cuda multiprocessor_count");
  static std::mutex mutex;
  static std::unique_ptr<int[]> counts;  // 0: not queried yet
  std::lock_guard lock(mutex);
  if (!counts) counts = std::make_unique<int[]>(static_cast<size_t>(device_count_or_zero()));
  int& count = counts[static_cast<size_t>(index)];
  if (count == 0) {
    check(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, index),
          "cudaDeviceGetAttribute");
  }
  return count;
}

void synchronize() {
  for (int i = 0; i < device_count_or_zero(); ++i) {
    DeviceGuard guard(i);
    check(cudaDeviceSynchronize(), "synchronize");
  }
}

void set_allow_tf32(bool allow) { tf32_flag().store(allow, std::memory_order_relaxed); }

bool allow_tf32() { return tf32_flag().load(std::memory_order_relaxed); }

DeviceInfo device_info(int index) {
  check_device_index(index, "device_info");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  int memory_clock_khz = 0;
  check(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, index),
        "cudaDeviceGetAttribute");
  DeviceInfo info;
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.total_memory_bytes = prop.totalGlobalMem;
  // Double data rate: two transfers per clock over the whole bus.
  info.peak_bandwidth_gbps =
      2.0 * memory_clock_khz * 1e3 * (prop.memoryBusWidth / 8.0) / 1e9;
  check(cudaDriverGetVersion(&info.driver_version), "cudaDriverGetVersion");
  check(cudaRuntimeGetVersion(&info.runtime_version), "cudaRuntimeGetVersion");
  return info;
}

}  // namespace ignis::cuda

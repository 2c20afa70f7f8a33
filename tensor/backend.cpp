// The registry behind ignis::cuda::is_available(): empty unless the CUDA backend registered.
#include "tensor/backend.h"

namespace ignis {
namespace {

using DeviceCountFn = int (*)();

// A function-local static, so registration from another library's static initialiser finds
// it constructed whatever the initialisation order.
DeviceCountFn& cuda_device_count_fn() {
  static DeviceCountFn fn = nullptr;
  return fn;
}

}  // namespace

namespace cuda {

bool is_compiled() { return cuda_device_count_fn() != nullptr; }

int device_count() {
  auto* fn = cuda_device_count_fn();
  return fn == nullptr ? 0 : fn();
}

bool is_available() { return device_count() > 0; }

}  // namespace cuda

void register_cuda_device_count(int (*device_count)()) { cuda_device_count_fn() = device_count; }

}  // namespace ignis

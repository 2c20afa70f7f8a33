// The per-device kernel tables. The CPU table is installed on first use (a function-local
// static, so no static-initialisation order issue); the CUDA backend calls register_kernels.
#include "tensor/dispatch.h"

#include <array>

#include "tensor/cpu/kernels.h"

namespace ignis {
namespace {

struct Registry {
  std::array<KernelTable, kNumDeviceTypes> tables;
  std::array<bool, kNumDeviceTypes> registered{};
};

Registry& registry() {
  static Registry instance = [] {
    Registry r;
    r.tables[static_cast<size_t>(DeviceType::CPU)] = cpu::make_cpu_kernel_table();
    r.registered[static_cast<size_t>(DeviceType::CPU)] = true;
    return r;
  }();
  return instance;
}

}  // namespace

const KernelTable& kernel_table(DeviceType type) {
  return registry().tables[static_cast<size_t>(type)];
}

void register_kernels(DeviceType type, const KernelTable& table) {
  registry().tables[static_cast<size_t>(type)] = table;
  registry().registered[static_cast<size_t>(type)] = true;
}

void throw_no_kernel(const char* op, Device device) {
  const bool registered = registry().registered[static_cast<size_t>(device.type)];
  const char* device_name = device.is_cpu() ? "cpu" : "cuda";
  throw DeviceError(std::string(op) + ": no " + device_name + " kernel (" +
                    (registered ? std::string("the ") + device_name + " backend lacks this op"
                                : std::string("ignis was built without CUDA")) +
                    ")");
}

}  // namespace ignis

// The CPU allocator (64-byte aligned), the per-device allocator registry, and Storage.
// Not a caching allocator: the CUDA backend brings its own and registers it here.
#include "tensor/storage.h"

#include <array>
#include <cstdlib>

#include "tensor/error.h"

namespace ignis {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    // aligned_alloc wants a multiple of the alignment; 0 bytes still gets a real pointer.
    size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (rounded == 0) rounded = kCpuAlignment;
    void* ptr = std::aligned_alloc(kCpuAlignment, rounded);
    if (ptr == nullptr) {
      throw Error("cpu allocator: out of memory allocating " + std::to_string(nbytes) + " bytes");
    }
    return ptr;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
};

std::array<Allocator*, kNumDeviceTypes>& allocators() {
  static std::array<Allocator*, kNumDeviceTypes> table = {cpu_allocator(), nullptr};
  return table;
}

}  // namespace

Allocator* cpu_allocator() {
  static CpuAllocator allocator;
  return &allocator;
}

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

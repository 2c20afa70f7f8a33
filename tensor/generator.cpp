// The default generator and the Box-Muller transform (Philox itself is inline in
// generator.h). Not the kernels themselves: see cpu/random_kernels.cpp.
#include "tensor/generator.h"

#include <cmath>
#include <mutex>
#include <numbers>

namespace ignis {
namespace {

std::mutex& generator_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) {
  std::lock_guard lock(generator_mutex());
  default_generator().manual_seed(seed);
}

PhiloxState advance_generator(Generator* gen, uint64_t n) {
  std::lock_guard lock(generator_mutex());
  return (gen != nullptr ? *gen : default_generator()).advance(n);
}

double philox_normal(const std::array<uint32_t, 4>& words) {
  const double u1 = philox_uniform_double({words[0], words[1], 0, 0});
  const double u2 = philox_uniform_double({words[2], words[3], 0, 0});
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace ignis

// The fixture of the CPU-vs-CUDA parity tests: skips each test, saying why, when no CUDA
// device can be used, and draws the inputs both devices compare on. Test support only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "tensor/backend.h"
#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace ignis::test {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::is_available()) {
      GTEST_SKIP() << "no CUDA device: "
                   << (cuda::is_compiled() ? "none visible to the driver"
                                           : "built without the CUDA backend");
    }
  }
};

// N(0, 1) values of `shape` drawn in float64 from `seed`, then converted to dtype, so float32
// and float64 cases see the same numbers.
inline Tensor normal(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {.dtype = kFloat64}, &gen).to(dtype);
}

}  // namespace ignis::test

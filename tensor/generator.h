// The random number generator: Philox4x32-10, counter based, so that element i of a random
// op depends only on (seed, offset + i): the same numbers on any platform, any thread count
// and any device. Not a general-purpose RNG API: ops consume it through random.h.
#pragma once

#include <array>
#include <cstdint>

namespace ignis {

// One Philox4x32-10 block: 4 random 32-bit words for a 128-bit counter and a 64-bit key.
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11); constants as there.
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter,
                                      std::array<uint32_t, 2> key);

// The contract every random kernel follows (CPU and CUDA alike):
//   element i of an op that starts at `offset` uses block philox(counter = {lo(offset + i),
//   hi(offset + i), 0, 0}, key = {lo(seed), hi(seed)}) -> words w0..w3;
//   uniform float32 = (w0 >> 8) * 2^-24,  uniform float64 = ((w0 << 21) ^ (w1 >> 11)) * 2^-53
//   (53 bits), normal = Box-Muller on (u1 from w0, w1; u2 from w2, w3) computed in float64;
//   the op then advances the offset by its element count.
struct PhiloxState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  void manual_seed(uint64_t seed) { state_ = {seed, 0}; }
  uint64_t seed() const { return state_.seed; }
  PhiloxState state() const { return state_; }
  void set_state(PhiloxState state) { state_ = state; }
  // Reserves `n` counters for one op and returns the state the op starts from.
  PhiloxState advance(uint64_t n) {
    PhiloxState start = state_;
    state_.offset += n;
    return start;
  }

 private:
  PhiloxState state_;
};

// The process-wide generator used when an op is given none.
Generator& default_generator();
void manual_seed(uint64_t seed);  // reseeds default_generator()

// Helpers for kernels, shared by CPU and (as __host__ __device__ copies) CUDA.
float philox_uniform_float(const std::array<uint32_t, 4>& words);   // [0, 1)
double philox_uniform_double(const std::array<uint32_t, 4>& words); // [0, 1)
double philox_normal(const std::array<uint32_t, 4>& words);         // N(0, 1)

}  // namespace ignis

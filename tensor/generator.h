// The random number generator: Philox4x32-10, counter based, so that element i of a random
// op depends only on (seed, offset + i): the same numbers on any platform, any thread count
// and any device. Not a general-purpose RNG API: ops consume it through random.h.
#pragma once

#include <array>
#include <cstdint>

namespace ignis {

// One Philox4x32-10 block: 4 random 32-bit words for a 128-bit counter and a 64-bit key.
// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11); constants as there.
// Inline: it sits in the inner loop of every random kernel.
inline std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter,
                                             std::array<uint32_t, 2> key) {
  constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;  // round multipliers
  constexpr uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;  // key increments (golden ratio, sqrt 3)
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kM0) * counter[0];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * counter[2];
    counter = {static_cast<uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<uint32_t>(p1),
               static_cast<uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<uint32_t>(p0)};
  }
  return counter;
}

// The contract every random kernel follows (CPU and CUDA alike):
//   element i of an op that starts at `offset` uses block philox(counter = {lo(offset + i),
//   hi(offset + i), 0, 0}, key = {lo(seed), hi(seed)}) -> words w0..w3;
//   uniform float32 = (w0 >> 8) * 2^-24,  uniform float64 = ((w0 << 21) ^ (w1 >> 11)) * 2^-53
//   (53 bits), normal = Box-Muller on (u1 from w0, w1; u2 from w2, w3) computed in float64:
//   sqrt(-2 log(1 - u1)) * cos(2 pi u2)  (1 - u1 is in (0, 1], so the log is finite);
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
// gen->advance(n), or default_generator().advance(n) when gen is null, under a process-wide
// mutex: what random ops call, so that ops on several threads never share counters.
PhiloxState advance_generator(Generator* gen, uint64_t n);

// Helpers for kernels, shared by CPU and (as __host__ __device__ copies) CUDA.
inline float philox_uniform_float(const std::array<uint32_t, 4>& words) {  // [0, 1)
  return static_cast<float>(words[0] >> 8) * 0x1.0p-24f;
}
inline double philox_uniform_double(const std::array<uint32_t, 4>& words) {  // [0, 1)
  const uint64_t bits = (static_cast<uint64_t>(words[0]) << 21) ^ (words[1] >> 11);
  return static_cast<double>(bits) * 0x1.0p-53;
}
double philox_normal(const std::array<uint32_t, 4>& words);  // N(0, 1)

}  // namespace ignis

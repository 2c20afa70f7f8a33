// Integer arithmetic that wraps around on overflow, as PyTorch's does, for the CPU kernels
// (elementwise and reductions). Not saturating, not checked.
#pragma once

#include <type_traits>

namespace ignis::cpu {

template <typename T>
inline constexpr bool kIsInt = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// NOTE: integer add/sub/mul/neg wrap around on overflow, as PyTorch's do; done in the
// unsigned type because signed overflow is undefined behaviour in C++.
template <typename T>
[[gnu::always_inline]] inline T wrapping_add(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a || b;  // as torch: True + True = True
  } else {
    return a + b;
  }
}

template <typename T>
[[gnu::always_inline]] inline T wrapping_sub(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a != b;  // arithmetic mod 2 (raw::binary rejects bool - bool, as torch)
  } else {
    return a - b;
  }
}

template <typename T>
[[gnu::always_inline]] inline T wrapping_mul(T a, T b) {
  if constexpr (kIsInt<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else {
    return a * b;
  }
}

}  // namespace ignis::cpu

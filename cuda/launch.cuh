// What the CUDA kernel files share: grid sizing, -inf and a NaN-propagating max in device
// code, and a pooling / convolution window as a kernel argument. Not a kernel.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tensor/conv.h"

namespace ignis::cuda {

inline constexpr int kWarp = 32;
inline constexpr int64_t kMaxGrid = int64_t{1} << 20;  // larger work loops over the grid

// Blocks for `items` work items, `per_block` of them to a block: at least 1, at most kMaxGrid.
inline unsigned grid_for(int64_t items, int64_t per_block) {
  return static_cast<unsigned>(std::clamp<int64_t>((items + per_block - 1) / per_block, 1,
                                                   kMaxGrid));
}

// -inf of a floating type. NOTE: not std::numeric_limits, whose constexpr functions device
// code may not call.
template <typename T>
__device__ T minus_infinity() {
  if constexpr (std::is_same_v<T, float>) {
    return __int_as_float(static_cast<int>(0xff800000u));
  } else {
    return __longlong_as_double(static_cast<long long>(0xfff0000000000000ull));
  }
}

// max that lets a NaN win, as the CPU kernels, so a row or window holding NaN gives NaN.
template <typename T>
__device__ T max_nan(T a, T b) {
  return (isnan(a) || a > b) ? a : b;
}

// Window2d's numbers, and the image and position grid sizes, as a kernel argument.
struct WindowGeometry {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t H, W, oh, ow;
};

inline WindowGeometry window_geometry(const Window2d& w, int64_t H, int64_t W) {
  return {w.kernel_size[0], w.kernel_size[1], w.stride[0], w.stride[1], w.padding[0],
          w.padding[1],     w.dilation[0],    w.dilation[1], H,         W,
          w.output_size(0, H), w.output_size(1, W)};
}

}  // namespace ignis::cuda

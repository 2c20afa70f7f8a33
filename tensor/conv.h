// Raw sliding-window primitives for NCHW images: unfold (im2col) and fold (col2im), as
// torch.nn.functional.unfold / fold. Not convolution itself: autograd/conv.h composes conv2d
// from unfold and a matmul.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace ignis {

// A 2-d sliding window: sizes per (height, width).
struct Window2d {
  std::array<int64_t, 2> kernel_size{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};

  // Number of window positions along dim d (0: height, 1: width) of an input of size n:
  // (n + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1,
  // 0 when the window does not fit.
  int64_t output_size(int d, int64_t n) const {
    const int64_t span = n + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1;
    return span < 0 ? 0 : span / stride[d] + 1;
  }
};

namespace raw {

// x (N, C, H, W) -> (N, C * kh * kw, L), L = oh * ow window positions (row-major).
// Row c * kh * kw + i * kw + j holds x[n, c, oy * sh - ph + i * dh, ox * sw - pw + j * dw]
// for position oy * ow + ox, 0 where it falls in the padding. Any dtype.
// Throws ShapeError unless x is 4-d and the window fits (oh, ow >= 1), ValueError for a
// kernel_size, stride or dilation < 1 or a negative padding.
Tensor unfold(const Tensor& x, const Window2d& window);

// The adjoint of unfold: cols (N, C * kh * kw, L) -> (N, C, H, W) with output_size (H, W),
// each column entry added into the pixel it was read from (padding entries dropped).
// Floating dtypes only (DTypeError). Throws ShapeError when cols' dim 1 is not a multiple of
// kh * kw or L differs from the number of window positions in (H, W).
Tensor fold(const Tensor& cols, std::array<int64_t, 2> output_size, const Window2d& window);

}  // namespace raw
}  // namespace ignis

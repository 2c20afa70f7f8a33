// Raw 2-d pooling over NCHW images: max_pool2d (values and argmax indices) and avg_pool2d,
// forward and backward, as torch's max_pool2d_with_indices / avg_pool2d (floor mode).
// Not differentiable: autograd/pool.h records them; nn::functional adds 3-d inputs.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "tensor/conv.h"
#include "tensor/tensor.h"

namespace ignis::raw {

// Glossary: N batch, C channels, (H, W) image, (oh, ow) window positions as in unfold:
// oh = (H + 2 ph - dh (kh - 1) - 1) / sh + 1.
//
// Errors shared by all four: ShapeError unless the image is 4-d or the window fits
// (oh, ow >= 1); ValueError for a kernel_size, stride or dilation < 1, a negative padding, or
// a padding above half the dilated kernel ((kh - 1) dh + 1 < 2 ph), as PyTorch; DTypeError
// for a non-floating input.

// x (N, C, H, W) -> {values (N, C, oh, ow), indices (N, C, oh, ow) int64}:
//   values[n, c, oy, ox] = max over the taps (oy sh - ph + i dh, ox sw - pw + j dw) inside
//   the image; indices = the winner's flat index y W + x in its (H, W) plane.
// Padding taps never win. A NaN wins over any number (the first NaN of the window); among
// equal maxima the first tap in row-major (i, j) order wins. A window with no tap inside the
// image (possible with dilation) gives -inf and index -1.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Window2d& window);

// The adjoint of max_pool2d's selection: dout (N, C, oh, ow), indices (N, C, oh, ow) int64
// from max_pool2d -> dx (N, C, H, W) with image_size (H, W):
//   dx[n, c, p] = sum of dout[n, c, q] over the positions q (in increasing order) whose
//   indices[n, c, q] == p; index -1 adds nothing.
// Throws ShapeError unless dout is 4-d with (oh, ow) the window's positions in image_size and
// indices are int64 of dout's shape; DTypeError unless dout is floating; DeviceError when
// dout and indices are on different devices.
Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices,
                           std::array<int64_t, 2> image_size, const Window2d& window);

// x (N, C, H, W) -> (N, C, oh, ow): the sum of the window's taps inside the image (row-major
// order) divided by kh kw (count_include_pad) or by the number of taps inside the image.
// window.dilation must be (1, 1) (ValueError), as torch.nn.functional.avg_pool2d.
Tensor avg_pool2d(const Tensor& x, const Window2d& window, bool count_include_pad);

// The adjoint of avg_pool2d: dout (N, C, oh, ow) -> dx (N, C, H, W) with image_size (H, W),
//   dx[n, c, y, x] = sum over the windows q containing (y, x), in increasing q, of
//   dout[n, c, q] / divisor(q).
// Throws ShapeError unless dout is 4-d with (oh, ow) the window's positions in image_size.
Tensor avg_pool2d_backward(const Tensor& dout, std::array<int64_t, 2> image_size,
                           const Window2d& window, bool count_include_pad);

}  // namespace ignis::raw

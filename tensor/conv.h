// Raw sliding-window ops for NCHW images: unfold (im2col) and fold (col2im), as
// torch.nn.functional.unfold / fold, and conv2d's forward and backward built from them and
// the gemm slot. Not differentiable: autograd/conv.h records conv2d with this backward.
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

// 2-d cross-correlation, as torch.nn.functional.conv2d (glossary: N batch, C / O input /
// output channels, g groups, K = C / g kh kw taps per output channel, L = oh ow positions):
//   out[n, o, y, x] = bias[o] + sum_{c < C/g, i, j}
//                     weight[o, c, i, j] * x[n, o / (O/g) C/g + c, y sh - ph + i dh,
//                                              x sw - pw + j dw]
// x (N, C, H, W), weight (O, C / g, kh, kw), bias (O) or undefined -> (N, O, oh, ow).
// Per chunk of samples: columns (n, g, K, L) by the unfold slot, out initialised with the
// broadcast bias, then one batched GEMM weight (g, O/g, K) @ columns accumulating into it;
// on a device whose table has a conv2d_forward slot (CUDA with cuDNN), that slot instead.
// Throws ShapeError naming the shapes when x or weight is not 4-d, C != weight's dim 1 * g,
// O is not a multiple of g, bias is not (O) or the window does not fit; ValueError for
// g < 1 or a bad stride/padding/dilation; DTypeError / DeviceError unless all are float32
// or float64 tensors of one dtype on one device.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0},
              std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);

// The gradients of conv2d's sum(out * dout) (shapes as conv2d; undefined when not asked):
//   dinput  = fold(weight^T @ dout) per group            (N, C, H, W)
//   dweight = sum_n dout[n] (O, L) @ columns[n]^T (L, K)  (O, C / g, kh, kw)
//   dbias   = sum over n, y, x of dout                    (O)
// dweight accumulates by GEMMs with beta = 1 into one partial per shard of samples (the
// shards are fixed by N alone), then sums the partials in order: bit-identical for any
// thread count. A device with the conv2d_backward_data / _filter slots (CUDA with cuDNN) runs
// those instead, and dbias as above. x's values are read only for dweight and the weight's
// only for dinput (the other may be a broadcast stand-in of its shape). Throws as conv2d,
// ShapeError when dout is not conv2d's output shape, DTypeError when it is not of x's dtype
// and device.
struct Conv2dGrads {
  Tensor dinput, dweight, dbias;
};
Conv2dGrads conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& weight,
                            std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                            std::array<int64_t, 2> dilation, int64_t groups, bool need_input,
                            bool need_weight, bool need_bias);

}  // namespace raw
}  // namespace ignis

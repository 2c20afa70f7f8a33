// Differentiable unfold / fold (each the other's backward) and conv2d as one recorded op
// (forward and backward by raw::conv2d / raw::conv2d_backward). Not the kernels: tensor/conv.h.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/conv.h"
#include "tensor/tensor.h"

namespace ignis {

// As raw::unfold (shapes, errors); backward: fold of the gradient.
Tensor unfold(const Tensor& x, const Window2d& window);
// As raw::fold (shapes, errors); backward: unfold of the gradient.
Tensor fold(const Tensor& cols, std::array<int64_t, 2> output_size, const Window2d& window);

// 2-d cross-correlation, as torch.nn.functional.conv2d:
//   out[n, o, y, x] = bias[o] + sum_{c in group(o), i, j}
//                     weight[o, c, i, j] * x[n, g(o) C/g + c, y sh - ph + i dh, x sw - pw + j dw]
// x (N, C, H, W), weight (O, C / groups, kh, kw), bias (O) or undefined -> (N, O, oh, ow).
// Computed as weight (g, O/g, C/g kh kw) @ unfold(x) (N, g, C/g kh kw, L) per chunk of
// samples (raw::conv2d). Backward: raw::conv2d_backward, only the gradients asked for;
// under create_graph the same formulas as differentiable ops (second derivatives).
// Throws ShapeError naming the shapes when x or weight is not 4-d, C != weight's dim 1 *
// groups, O is not a multiple of groups, or bias is not (O); ValueError for groups < 1;
// DTypeError unless float32 / float64 of one dtype.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0},
              std::array<int64_t, 2> dilation = {1, 1}, int64_t groups = 1);

}  // namespace ignis

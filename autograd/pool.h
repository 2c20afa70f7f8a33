// Differentiable max_pool2d and avg_pool2d on (N, C, H, W) images, each recorded with its
// backward slot as the gradient. Not the kernels (tensor/pool.h) nor the 3-d-input and
// Size2 conveniences of nn::functional.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/conv.h"
#include "tensor/tensor.h"

namespace ignis {

// As raw::max_pool2d's values (shapes, errors, NaN and tie rules): x (N, C, H, W) ->
// (N, C, oh, ow). Gradient: max_pool2d_backward with the saved argmax indices, so each
// window's gradient goes to its first maximal element.
Tensor max_pool2d(const Tensor& x, const Window2d& window);

// The gradient of max_pool2d as an op of dout (N, C, oh, ow) -> (N, C, H, W), indices as
// raw::max_pool2d returned them (raw::max_pool2d_backward's shapes and errors). Its own
// gradient picks dout's gradient at the indices (a gather), so double backward works on any
// device.
Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices,
                           std::array<int64_t, 2> image_size, const Window2d& window);

// As raw::avg_pool2d: x (N, C, H, W) -> (N, C, oh, ow). Gradient: avg_pool2d_backward.
Tensor avg_pool2d(const Tensor& x, const Window2d& window, bool count_include_pad);

// As raw::avg_pool2d_backward: dout (N, C, oh, ow) -> (N, C, H, W). Linear in dout; its
// gradient is avg_pool2d of the incoming gradient.
Tensor avg_pool2d_backward(const Tensor& dout, std::array<int64_t, 2> image_size,
                           const Window2d& window, bool count_include_pad);

}  // namespace ignis

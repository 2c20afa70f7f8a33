// Differentiable unfold, fold and conv2d (autograd/conv.h). Not the kernels: tensor/conv.h.
#include "autograd/conv.h"

#include <string>
#include <vector>

#include "autograd/function.h"
#include "autograd/linalg.h"
#include "autograd/math.h"

namespace ignis {

Tensor unfold(const Tensor& x, const Window2d& window) {
  Tensor out = raw::unfold(x, window);
  const std::array<int64_t, 2> image{x.size(2), x.size(3)};
  return autograd::record("unfold", {x}, out, [image, window](const Tensor& dout) {
    return std::vector<Tensor>{fold(dout, image, window)};
  });
}

Tensor fold(const Tensor& cols, std::array<int64_t, 2> output_size, const Window2d& window) {
  Tensor out = raw::fold(cols, output_size, window);
  return autograd::record("fold", {cols}, out, [window](const Tensor& dout) {
    return std::vector<Tensor>{unfold(dout, window)};
  });
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, int64_t groups) {
  const std::string shapes = "input " + x.shape_str() + ", weight " + weight.shape_str();
  if (x.dim() != 4 || weight.dim() != 4) {
    throw ShapeError("conv2d: expected a 4-d input (N, C, H, W) and a 4-d weight (O, C / groups, "
                     "kh, kw), got " + shapes);
  }
  if (groups < 1) throw ValueError("conv2d: groups must be >= 1, got " + std::to_string(groups));
  const int64_t N = x.size(0), C = x.size(1), O = weight.size(0);
  if (C != weight.size(1) * groups || O % groups != 0) {
    throw ShapeError("conv2d: " + shapes + " and groups=" + std::to_string(groups) +
                     " do not fit: expected input channels = weight.size(1) * groups and "
                     "out channels a multiple of groups");
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != O)) {
    throw ShapeError("conv2d: expected a bias of shape (" + std::to_string(O) + "), got " +
                     bias.shape_str());
  }
  const Window2d window{.kernel_size = {weight.size(2), weight.size(3)},
                        .stride = stride, .padding = padding, .dilation = dilation};
  const int64_t oh = window.output_size(0, x.size(2)), ow = window.output_size(1, x.size(3));
  Tensor cols = unfold(x, window);  // (N, C kh kw, L)
  const int64_t K = cols.size(1) / groups, L = cols.size(2);
  Tensor out;
  if (groups == 1) {
    out = matmul(weight.reshape({O, K}), cols);  // (N, O, L)
  } else {
    out = matmul(weight.reshape({groups, O / groups, K}), cols.view({N, groups, K, L}));
  }
  out = out.reshape({N, O, oh, ow});
  if (bias.defined()) out = out + bias.view({1, O, 1, 1});
  return out;
}

}  // namespace ignis

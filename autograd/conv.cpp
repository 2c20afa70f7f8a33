// Differentiable unfold, fold and conv2d (autograd/conv.h). Not the kernels: tensor/conv.h.
#include "autograd/conv.h"

#include <vector>

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/linalg.h"
#include "tensor/view_ops.h"

namespace ignis {

using autograd::detail::Grads;
using autograd::detail::wants_grad;

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

namespace {

// conv2d's backward as differentiable ops (the formulas of raw::conv2d_backward, with the
// per-sample weight gradients summed after): taken under create_graph, so that second
// derivatives flow. x is read only for dweight, weight only for dinput.
Grads conv2d_backward_composed(const Tensor& dout, const Tensor& x, const Tensor& weight,
                               const Window2d& window, int64_t groups, bool gx, bool gw,
                               bool gb) {
  const int64_t N = dout.size(0), O = dout.size(1), L = dout.size(2) * dout.size(3);
  const int64_t K = weight.size(1) * window.kernel_size[0] * window.kernel_size[1];
  const Tensor dy = dout.reshape({N, groups, O / groups, L});
  Tensor dx, dw, db;
  if (gx) {
    const Tensor w_t = weight.reshape({groups, O / groups, K}).transpose(1, 2);
    dx = fold(matmul(w_t, dy).reshape({N, groups * K, L}), {x.size(2), x.size(3)}, window);
  }
  if (gw) {
    const Tensor cols = unfold(x, window).view({N, groups, K, L}).transpose(2, 3);
    dw = matmul(dy, cols).sum({0}).reshape(weight.sizes());
  }
  if (gb) db = dout.sum({0, 2, 3});
  return Grads{dx, dw, db};
}

// What the backward passes for an operand it did not save: a broadcast scalar of its shape
// (and dout's dtype and device), whose values are never read.
Tensor stand_in(const Shape& sizes, const Tensor& dout) {
  return raw::expand(make_tensor({1, 1, 1, 1}, dout.dtype(), dout.device()), sizes);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, int64_t groups) {
  Tensor out = raw::conv2d(x, weight, bias, stride, padding, dilation, groups);
  if (!autograd::needs_grad({x, weight, bias})) return out;
  const bool gx = wants_grad(x), gw = wants_grad(weight), gb = wants_grad(bias);
  // dinput needs the weight, dweight the input: each is saved only when its use is asked.
  const auto save_if = [](bool needed, const Tensor& t) {
    return needed ? autograd::SavedTensor(t, "conv2d") : autograd::SavedTensor();
  };
  const Window2d window{.kernel_size = {weight.size(2), weight.size(3)},
                        .stride = stride, .padding = padding, .dilation = dilation};
  return autograd::record(
      "conv2d", {x, weight, bias}, out,
      [sx = save_if(gw, x), sw = save_if(gx, weight), x_sizes = x.sizes(),
       w_sizes = weight.sizes(), window, groups, gx, gw, gb](const Tensor& dout) {
        const Tensor x_saved = gw ? sx.get() : stand_in(x_sizes, dout);
        const Tensor w_saved = gx ? sw.get() : stand_in(w_sizes, dout);
        if (GradMode::is_enabled()) {
          return conv2d_backward_composed(dout, x_saved, w_saved, window, groups, gx, gw, gb);
        }
        raw::Conv2dGrads g =
            raw::conv2d_backward(dout, x_saved, w_saved, window.stride, window.padding,
                                 window.dilation, groups, gx, gw, gb);
        return Grads{g.dinput, g.dweight, g.dbias};
      });
}

}  // namespace ignis

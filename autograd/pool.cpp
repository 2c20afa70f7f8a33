// Differentiable max_pool2d / avg_pool2d and their backwards (autograd/pool.h). Not the
// kernels: tensor/pool.h.
#include "autograd/pool.h"

#include <vector>

#include "autograd/function.h"
#include "autograd/indexing.h"
#include "autograd/math.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

// g (N, C, H, W) picked at indices (N, C, oh, ow): g[n, c, indices[n, c, q]], 0 where the
// index is -1 (a window with no in-image tap).
Tensor pick_at(const Tensor& g, const Tensor& indices) {
  const int64_t N = g.size(0), C = g.size(1);
  const Shape out_shape = indices.sizes();
  const Tensor flat_index = raw::reshape(indices, {N, C, out_shape[2] * out_shape[3]});
  const Tensor valid = raw::binary(BinaryOp::Ge, flat_index, scalar_tensor(0, kInt64,
                                                                             indices.device()));
  const Tensor safe_index = raw::clamp(flat_index, Scalar(int64_t{0}), std::nullopt);
  const Tensor picked = gather(g.reshape({N, C, g.size(2) * g.size(3)}), 2, safe_index);
  return where(valid, picked, zeros_like(picked)).view(out_shape);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Window2d& window) {
  auto [values, indices] = raw::max_pool2d(x, window);
  const std::array<int64_t, 2> image{x.size(2), x.size(3)};
  return autograd::record("max_pool2d", {x}, values,
                          [indices, image, window](const Tensor& dout) {
                            return std::vector<Tensor>{
                                max_pool2d_backward(dout, indices, image, window)};
                          });
}

Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices,
                           std::array<int64_t, 2> image_size, const Window2d& window) {
  Tensor din = raw::max_pool2d_backward(dout, indices, image_size, window);
  return autograd::record("max_pool2d_backward", {dout}, din, [indices](const Tensor& ddin) {
    return std::vector<Tensor>{pick_at(ddin, indices)};
  });
}

Tensor avg_pool2d(const Tensor& x, const Window2d& window, bool count_include_pad) {
  Tensor out = raw::avg_pool2d(x, window, count_include_pad);
  const std::array<int64_t, 2> image{x.size(2), x.size(3)};
  return autograd::record("avg_pool2d", {x}, out,
                          [image, window, count_include_pad](const Tensor& dout) {
                            return std::vector<Tensor>{
                                avg_pool2d_backward(dout, image, window, count_include_pad)};
                          });
}

Tensor avg_pool2d_backward(const Tensor& dout, std::array<int64_t, 2> image_size,
                           const Window2d& window, bool count_include_pad) {
  Tensor din = raw::avg_pool2d_backward(dout, image_size, window, count_include_pad);
  return autograd::record("avg_pool2d_backward", {dout}, din,
                          [window, count_include_pad](const Tensor& ddin) {
                            return std::vector<Tensor>{
                                avg_pool2d(ddin, window, count_include_pad)};
                          });
}

}  // namespace ignis

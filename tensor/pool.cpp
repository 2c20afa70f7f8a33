// Raw max_pool2d / avg_pool2d and their backwards (tensor/pool.h): argument checks, output
// shapes, and the calls into the device kernels. Not the kernels: tensor/cpu/pool_kernels.cpp.
#include "tensor/pool.h"

#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis::raw {
namespace {

std::string pair_str(const std::array<int64_t, 2>& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

std::string window_str(const Window2d& w) {
  return "kernel_size " + pair_str(w.kernel_size) + ", stride " + pair_str(w.stride) +
         ", padding " + pair_str(w.padding) + ", dilation " + pair_str(w.dilation);
}

void check_floating(const Tensor& t, const char* op) {
  if (!t.is_floating_point()) {
    throw DTypeError(std::string(op) + ": expected a floating-point tensor, got " +
                     dtype_name(t.dtype()));
  }
}

// The window's checks (ValueError) and its positions (oh, ow) in an (H, W) image, >= 1
// (ShapeError otherwise); `what` names the image in messages.
std::array<int64_t, 2> checked_positions(const Window2d& w, std::array<int64_t, 2> image,
                                         const std::string& what, const char* op) {
  for (int d = 0; d < 2; ++d) {
    if (w.kernel_size[d] < 1 || w.stride[d] < 1 || w.dilation[d] < 1 || w.padding[d] < 0) {
      throw ValueError(std::string(op) + ": kernel_size, stride and dilation must be >= 1 and " +
                       "padding >= 0, got " + window_str(w));
    }
    if (w.padding[d] * 2 > (w.kernel_size[d] - 1) * w.dilation[d] + 1) {
      throw ValueError(std::string(op) + ": padding should be at most half of the kernel " +
                       "size, got " + window_str(w));
    }
  }
  const std::array<int64_t, 2> out{w.output_size(0, image[0]), w.output_size(1, image[1])};
  if (out[0] < 1 || out[1] < 1) {
    throw ShapeError(std::string(op) + ": a window of " + window_str(w) +
                     " does not fit the " + what);
  }
  return out;
}

void check_4d(const Tensor& t, const char* name, const char* op) {
  if (t.dim() != 4) {
    throw ShapeError(std::string(op) + ": expected a 4-d " + name + " (N, C, H, W), got " +
                     t.shape_str());
  }
}

// The positions (oh, ow) of the window in x (N, C, H, W), checked as above.
std::array<int64_t, 2> input_positions(const Tensor& x, const Window2d& w, const char* op) {
  check_4d(x, "input", op);
  check_floating(x, op);
  return checked_positions(w, {x.size(2), x.size(3)}, "input " + x.shape_str(), op);
}

// Checks that dout (N, C, oh, ow) matches the window's positions in image_size.
void check_grad(const Tensor& dout, std::array<int64_t, 2> image_size, const Window2d& w,
                const char* op) {
  check_4d(dout, "gradient", op);
  check_floating(dout, op);
  const auto [oh, ow] = checked_positions(w, image_size, "image " + pair_str(image_size), op);
  if (dout.size(2) != oh || dout.size(3) != ow) {
    throw ShapeError(std::string(op) + ": gradient " + dout.shape_str() + " does not match " +
                     "the " + pair_str({oh, ow}) + " window positions of an image of size " +
                     pair_str(image_size));
  }
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Window2d& window) {
  const char* op = "max_pool2d";
  const auto [oh, ow] = input_positions(x, window, op);
  const Shape shape{x.size(0), x.size(1), oh, ow};
  Tensor values = make_tensor(shape, x.dtype(), x.device());
  Tensor indices = make_tensor(shape, kInt64, x.device());
  if (values.numel() == 0) return {values, indices};
  get_kernel(&KernelTable::max_pool2d, x.device(), op)(contiguous(x), values, indices, window);
  return {values, indices};
}

Tensor max_pool2d_backward(const Tensor& dout, const Tensor& indices,
                           std::array<int64_t, 2> image_size, const Window2d& window) {
  const char* op = "max_pool2d_backward";
  check_grad(dout, image_size, window, op);
  if (indices.sizes() != dout.sizes() || indices.dtype() != kInt64) {
    throw ShapeError(std::string(op) + ": expected int64 indices of the gradient's shape " +
                     dout.shape_str() + ", got " + dtype_name(indices.dtype()) + " " +
                     indices.shape_str());
  }
  if (indices.device() != dout.device()) {
    throw DeviceError(std::string(op) + ": gradient on " + dout.device().str() +
                      ", indices on " + indices.device().str());
  }
  Tensor din = make_tensor({dout.size(0), dout.size(1), image_size[0], image_size[1]},
                           dout.dtype(), dout.device());
  if (din.numel() == 0) return din;
  get_kernel(&KernelTable::max_pool2d_backward, dout.device(), op)(
      contiguous(dout), contiguous(indices), din, window);
  return din;
}

Tensor avg_pool2d(const Tensor& x, const Window2d& window, bool count_include_pad) {
  const char* op = "avg_pool2d";
  if (window.dilation != std::array<int64_t, 2>{1, 1}) {
    throw ValueError(std::string(op) + ": dilation must be (1, 1), got " +
                     pair_str(window.dilation));
  }
  const auto [oh, ow] = input_positions(x, window, op);
  Tensor out = make_tensor({x.size(0), x.size(1), oh, ow}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  get_kernel(&KernelTable::avg_pool2d, x.device(), op)(contiguous(x), out, window,
                                                       count_include_pad);
  return out;
}

Tensor avg_pool2d_backward(const Tensor& dout, std::array<int64_t, 2> image_size,
                           const Window2d& window, bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  if (window.dilation != std::array<int64_t, 2>{1, 1}) {
    throw ValueError(std::string(op) + ": dilation must be (1, 1), got " +
                     pair_str(window.dilation));
  }
  check_grad(dout, image_size, window, op);
  Tensor din = make_tensor({dout.size(0), dout.size(1), image_size[0], image_size[1]},
                           dout.dtype(), dout.device());
  if (din.numel() == 0) return din;
  get_kernel(&KernelTable::avg_pool2d_backward, dout.device(), op)(contiguous(dout), din,
                                                                   window, count_include_pad);
  return din;
}

}  // namespace ignis::raw

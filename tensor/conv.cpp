// Raw unfold / fold (tensor/conv.h): argument checks, output shapes, and the calls into the
// device kernels. Not the kernels: tensor/cpu/conv_kernels.cpp.
#include "tensor/conv.h"

#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"

namespace ignis::raw {
namespace {

std::string pair_str(const std::array<int64_t, 2>& p) {
  std::string out = "(";
  out += std::to_string(p[0]);
  out += ", ";
  out += std::to_string(p[1]);
  return out + ")";
}

void check_window(const Window2d& w, const char* op) {
  for (int d = 0; d < 2; ++d) {
    if (w.kernel_size[d] < 1 || w.stride[d] < 1 || w.dilation[d] < 1 || w.padding[d] < 0) {
      throw ValueError(std::string(op) + ": kernel_size, stride and dilation must be >= 1 and " +
                       "padding >= 0, got kernel_size " + pair_str(w.kernel_size) +
                       ", stride " + pair_str(w.stride) + ", padding " + pair_str(w.padding) +
                       ", dilation " + pair_str(w.dilation));
    }
  }
}

// The number of window positions (oh, ow) in an (H, W) image; ShapeError when none fits.
std::array<int64_t, 2> positions(const Window2d& w, int64_t H, int64_t W, const char* op) {
  const std::array<int64_t, 2> out{w.output_size(0, H), w.output_size(1, W)};
  if (out[0] < 1 || out[1] < 1) {
    throw ShapeError(std::string(op) + ": a window of kernel_size " + pair_str(w.kernel_size) +
                     " with padding " + pair_str(w.padding) + " and dilation " +
                     pair_str(w.dilation) + " does not fit in an image of size (" +
                     std::to_string(H) + ", " + std::to_string(W) + ")");
  }
  return out;
}

}  // namespace

Tensor unfold(const Tensor& x, const Window2d& window) {
  const char* op = "unfold";
  if (x.dim() != 4) {
    throw ShapeError(std::string(op) + ": expected a 4-d input (N, C, H, W), got " +
                     x.shape_str());
  }
  check_window(window, op);
  const auto [oh, ow] = positions(window, x.size(2), x.size(3), op);
  const int64_t k = window.kernel_size[0] * window.kernel_size[1];
  Tensor out = make_tensor({x.size(0), x.size(1) * k, oh * ow}, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  get_kernel(&KernelTable::unfold, x.device(), op)(contiguous(x), out, window);
  return out;
}

Tensor fold(const Tensor& cols, std::array<int64_t, 2> output_size, const Window2d& window) {
  const char* op = "fold";
  if (cols.dim() != 3) {
    throw ShapeError(std::string(op) + ": expected a 3-d input (N, C * kh * kw, L), got " +
                     cols.shape_str());
  }
  if (!cols.is_floating_point()) {
    throw DTypeError(std::string(op) + ": expected a floating-point tensor, got " +
                     dtype_name(cols.dtype()));
  }
  check_window(window, op);
  const auto [oh, ow] = positions(window, output_size[0], output_size[1], op);
  const int64_t k = window.kernel_size[0] * window.kernel_size[1];
  if (cols.size(1) % k != 0 || cols.size(2) != oh * ow) {
    throw ShapeError(std::string(op) + ": input " + cols.shape_str() + " does not match " +
                     "kernel_size " + pair_str(window.kernel_size) + " and output_size " +
                     pair_str(output_size) + ": expected dim 1 a multiple of " +
                     std::to_string(k) + " and dim 2 equal to " + std::to_string(oh * ow));
  }
  Tensor out = make_tensor({cols.size(0), cols.size(1) / k, output_size[0], output_size[1]},
                           cols.dtype(), cols.device());
  if (out.numel() == 0) return out;
  get_kernel(&KernelTable::fold, cols.device(), op)(contiguous(cols), out, window);
  return out;
}

}  // namespace ignis::raw

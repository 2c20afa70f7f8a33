// Raw unfold / fold and conv2d's forward and backward (tensor/conv.h): argument checks,
// output shapes, the chunking of the batch, and the calls into the device kernels (unfold,
// fold, gemm; or a device's whole-convolution slots, e.g. cuDNN). Not the kernels:
// tensor/cpu/conv_kernels.cpp, the gemm, cuda/cudnn_conv.cpp.
#include "tensor/conv.h"

#include <algorithm>
#include <string>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

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

// conv2d's sizes (glossary in tensor/conv.h), checked once by conv2d_geometry.
struct ConvGeometry {
  int64_t N, C, H, W, O, g, Og, K, oh, ow, L;
  Window2d window;
  // A 1x1 window with stride 1 and no padding: the columns are the input itself.
  bool identity() const {
    return window.kernel_size == std::array<int64_t, 2>{1, 1} &&
           window.stride == std::array<int64_t, 2>{1, 1} &&
           window.padding == std::array<int64_t, 2>{0, 0};
  }
};

ConvGeometry conv2d_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                             std::array<int64_t, 2> dilation, int64_t groups) {
  const char* op = "conv2d";
  const std::string shapes = "input " + x.shape_str() + ", weight " + weight.shape_str();
  if (x.dim() != 4 || weight.dim() != 4) {
    throw ShapeError("conv2d: expected a 4-d input (N, C, H, W) and a 4-d weight (O, C / groups, "
                     "kh, kw), got " + shapes);
  }
  if (groups < 1) throw ValueError("conv2d: groups must be >= 1, got " + std::to_string(groups));
  const int64_t C = x.size(1), O = weight.size(0);
  if (C != weight.size(1) * groups || O % groups != 0) {
    throw ShapeError("conv2d: " + shapes + " and groups=" + std::to_string(groups) +
                     " do not fit: expected input channels = weight.size(1) * groups and "
                     "out channels a multiple of groups");
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != O)) {
    throw ShapeError("conv2d: expected a bias of shape (" + std::to_string(O) + "), got " +
                     bias.shape_str());
  }
  for (const Tensor* t : {&weight, &bias}) {
    if (!t->defined()) continue;
    if (t->device() != x.device()) {
      throw DeviceError("conv2d: expected tensors on one device, got input on " +
                        x.device().str() + " and a parameter on " + t->device().str());
    }
    if (t->dtype() != x.dtype()) {
      throw DTypeError(std::string("conv2d: expected tensors of one dtype, got input ") +
                       dtype_name(x.dtype()) + " and a parameter " + dtype_name(t->dtype()));
    }
  }
  if (x.dtype() != DType::Float32 && x.dtype() != DType::Float64) {
    throw DTypeError(std::string("conv2d: expected float32 or float64 tensors, got ") +
                     dtype_name(x.dtype()));
  }
  const Window2d window{.kernel_size = {weight.size(2), weight.size(3)},
                        .stride = stride, .padding = padding, .dilation = dilation};
  check_window(window, op);
  const auto [oh, ow] = positions(window, x.size(2), x.size(3), op);
  return ConvGeometry{.N = x.size(0), .C = C, .H = x.size(2), .W = x.size(3), .O = O,
                      .g = groups, .Og = O / groups,
                      .K = C / groups * window.kernel_size[0] * window.kernel_size[1],
                      .oh = oh, .ow = ow, .L = oh * ow, .window = window};
}

// The batch is cut into at most kMaxShards shards (a function of N alone: each holds one
// partial weight gradient, so the sum does not depend on the thread count), run in parallel
// on the CPU; each shard walks its samples in chunks whose columns take about kChunkBytes,
// so they are still in the cache when the GEMM reads them. Measured with conv_bench on the
// CNN's convs (1 thread): chunks of 2^17 to 2^30 bytes ran within 5% of each other, so the
// L2-sized one, the least memory, is kept.
constexpr int64_t kMaxShards = 16;
constexpr int64_t kChunkBytes = int64_t{1} << 19;

int64_t shard_count(const ConvGeometry& g) { return std::min(g.N, kMaxShards); }

int64_t chunk_samples(const ConvGeometry& g, const Tensor& x) {
  const int64_t bytes = g.g * g.K * g.L * static_cast<int64_t>(x.itemsize());
  return std::max<int64_t>(1, kChunkBytes / std::max<int64_t>(bytes, 1));
}

// Calls body(shard, n_begin, n_end) for every shard: in parallel on the CPU (each GEMM then
// runs on its shard's thread), one after the other on other devices. A single shard runs
// outside any parallel region, so its GEMMs may use every thread.
template <typename Body>
void for_each_shard(const ConvGeometry& g, Device device, Body&& body) {
  const int64_t shards = shard_count(g);
  const auto run = [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) body(s, s * g.N / shards, (s + 1) * g.N / shards);
  };
  if (device.is_cpu() && shards > 1) {
    parallel_for(0, shards, 1, run);
  } else {
    run(0, shards);
  }
}

// The columns (n, g, K, L) of samples [n0, n0 + n) of the contiguous x, written into
// `buffer` (at least n samples of columns), or x's own memory for an identity window.
Tensor columns(const ConvGeometry& g, const Tensor& x, const Tensor& buffer, int64_t n0,
               int64_t n) {
  const Tensor xc = narrow(x, 0, n0, n);
  if (g.identity()) return view(xc, {n, g.g, g.K, g.L});
  const Tensor cols = narrow(buffer, 0, 0, n);
  get_kernel(&KernelTable::unfold, x.device(), "conv2d")(xc, cols, g.window);
  return view(cols, {n, g.g, g.K, g.L});
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
              std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, int64_t groups) {
  const ConvGeometry g =
      conv2d_geometry(x_in, weight, bias, stride, padding, dilation, groups);
  Tensor out = make_tensor({g.N, g.O, g.oh, g.ow}, x_in.dtype(), x_in.device());
  if (out.numel() == 0) return out;
  if (g.K == 0) {  // no input channels: only the bias
    if (bias.defined()) {
      copy_(out, view(bias, {1, g.O, 1, 1}));
    } else {
      fill_(out, 0);
    }
    return out;
  }
  // A device with a whole-convolution kernel (cuDNN) runs it; an input with an empty
  // spatial dim (only padding to read) stays on the generic path.
  const auto forward_kernel = kernel_table(x_in.device().type).conv2d_forward;
  if (forward_kernel != nullptr && x_in.numel() > 0) {
    forward_kernel(contiguous(x_in), contiguous(weight),
                   bias.defined() ? contiguous(bias) : Tensor(), out, g.window, g.g);
    return out;
  }
  const Tensor x = contiguous(x_in);
  const Tensor w = reshape(weight, {g.g, g.Og, g.K});  // (g, O/g, K)
  // The bias broadcast along L once, so that each chunk's copy reads rows in order.
  const Tensor bias_rows =
      bias.defined() ? contiguous(expand(view(bias, {1, g.g, g.Og, 1}), {1, g.g, g.Og, g.L}))
                     : Tensor();  // (1, g, O/g, L)
  const int64_t chunk = chunk_samples(g, x);
  for_each_shard(g, x.device(), [&](int64_t, int64_t n_begin, int64_t n_end) {
    const Shape buffer_shape{std::min(chunk, n_end - n_begin), g.g * g.K, g.L};
    const Tensor buffer =
        g.identity() ? Tensor() : make_tensor(buffer_shape, x.dtype(), x.device());
    for (int64_t n0 = n_begin; n0 < n_end; n0 += chunk) {
      const int64_t n = std::min(chunk, n_end - n0);
      const Tensor cols = columns(g, x, buffer, n0, n);                   // (n, g, K, L)
      const Tensor y = view(narrow(out, 0, n0, n), {n, g.g, g.Og, g.L});  // (n, g, O/g, L)
      if (bias.defined()) copy_(y, bias_rows);
      matmul_into(y, w, cols, 1.0, bias.defined() ? 1.0 : 0.0);
    }
  });
  return out;
}

Conv2dGrads conv2d_backward(const Tensor& dout_in, const Tensor& x_in, const Tensor& weight,
                            std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                            std::array<int64_t, 2> dilation, int64_t groups, bool need_input,
                            bool need_weight, bool need_bias) {
  const ConvGeometry g =
      conv2d_geometry(x_in, weight, Tensor(), stride, padding, dilation, groups);
  const Shape out_shape{g.N, g.O, g.oh, g.ow};
  if (dout_in.sizes() != out_shape) {
    throw ShapeError("conv2d_backward: expected dout of the output's shape " +
                     shape_str(out_shape) + ", got " + dout_in.shape_str());
  }
  if (dout_in.dtype() != x_in.dtype() || dout_in.device() != x_in.device()) {
    throw DTypeError(std::string("conv2d_backward: expected dout of the input's dtype and "
                                 "device, got ") + dtype_name(dout_in.dtype()) + " on " +
                     dout_in.device().str());
  }
  const DType dtype = x_in.dtype();
  const Device device = x_in.device();
  Conv2dGrads grads;
  const Tensor dout = contiguous(dout_in);
  if (need_bias) {  // over L (rows), then over N (the reduce_strided slot): no transposed copy
    grads.dbias = sum(sum(view(dout, {g.N, g.O, g.L}), {2}), {0});
  }
  if (!need_input && !need_weight) return grads;
  if (need_input) grads.dinput = make_tensor(x_in.sizes(), dtype, device);
  if (g.N == 0 || g.K == 0) {  // nothing to sum
    if (need_input) fill_(grads.dinput, 0);
    if (need_weight) {
      grads.dweight = make_tensor(weight.sizes(), dtype, device);
      fill_(grads.dweight, 0);
    }
    return grads;
  }
  const KernelTable& table = kernel_table(device.type);
  if (table.conv2d_backward_data != nullptr && table.conv2d_backward_filter != nullptr &&
      x_in.numel() > 0) {
    if (need_input) {
      table.conv2d_backward_data(dout, contiguous(weight), grads.dinput, g.window, g.g);
    }
    if (need_weight) {
      grads.dweight = make_tensor(weight.sizes(), dtype, device);
      table.conv2d_backward_filter(dout, contiguous(x_in), grads.dweight, g.window, g.g);
    }
    return grads;
  }
  const int64_t shards = shard_count(g);
  Tensor partials;  // (shards, g, O/g, K): one weight gradient per shard
  if (need_weight) partials = make_tensor({shards, g.g, g.Og, g.K}, dtype, device);
  // x's values are read only for dweight, the weight's only for dinput.
  const Tensor x = need_weight ? contiguous(x_in) : Tensor();
  const Tensor w_t =
      need_input ? transpose(reshape(weight, {g.g, g.Og, g.K}), 1, 2) : Tensor();  // (g, K, O/g)
  const int64_t chunk = chunk_samples(g, x_in);
  for_each_shard(g, device, [&](int64_t s, int64_t n_begin, int64_t n_end) {
    const Shape buffer_shape{std::min(chunk, n_end - n_begin), g.g * g.K, g.L};
    const Tensor cols_buffer =
        need_weight && !g.identity() ? make_tensor(buffer_shape, dtype, device) : Tensor();
    const Tensor dcols_buffer =
        need_input && !g.identity() ? make_tensor(buffer_shape, dtype, device) : Tensor();
    const Tensor dw = need_weight ? select(partials, 0, s) : Tensor();  // (g, O/g, K)
    for (int64_t n0 = n_begin; n0 < n_end; n0 += chunk) {
      const int64_t n = std::min(chunk, n_end - n0);
      const Tensor dy = view(narrow(dout, 0, n0, n), {n, g.g, g.Og, g.L});  // (n, g, O/g, L)
      if (need_weight) {
        const Tensor cols = columns(g, x, cols_buffer, n0, n);  // (n, g, K, L)
        for (int64_t i = 0; i < n; ++i) {
          const double beta = n0 + i == n_begin ? 0.0 : 1.0;
          matmul_into(dw, select(dy, 0, i), transpose(select(cols, 0, i), 1, 2), 1.0, beta);
        }
      }
      if (need_input) {
        const Tensor dx = narrow(grads.dinput, 0, n0, n);  // (n, C, H, W)
        if (g.identity()) {
          matmul_into(view(dx, {n, g.g, g.K, g.L}), w_t, dy);
        } else {
          const Tensor dcols = narrow(dcols_buffer, 0, 0, n);  // (n, g K, L)
          matmul_into(view(dcols, {n, g.g, g.K, g.L}), w_t, dy);
          get_kernel(&KernelTable::fold, device, "conv2d")(dcols, dx, g.window);
        }
      }
    }
  });
  if (need_weight) {
    const Tensor dw = shards == 1 ? select(partials, 0, 0) : sum(partials, {0});
    grads.dweight = reshape(dw, weight.sizes());
  }
  return grads;
}

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

// nn::functional layers (nn/functional.h): convolution, pooling, dropout, embeddings and
// normalization, composed from differentiable ops. Not the losses: nn/loss_functional.cpp.
#include "nn/functional.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/reductions.h"
#include "tensor/conv.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::nn {

std::string Size2::str() const { return scalar ? std::to_string(h) : tuple_str(); }
std::string Size2::tuple_str() const {
  std::string out = "(";
  out += std::to_string(h);
  out += ", ";
  out += std::to_string(w);
  return out + ")";
}

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}

const char* embedding_bag_mode_name(EmbeddingBagMode mode) {
  switch (mode) {
    case EmbeddingBagMode::Sum: return "sum";
    case EmbeddingBagMode::Mean: return "mean";
    case EmbeddingBagMode::Max: return "max";
  }
  return "?";
}

namespace functional {
namespace {

// Runs a pooling body on x seen as (N, C, H, W): a 3-d (C, H, W) input gets a batch of one.
template <typename Body>
Tensor with_batch(const Tensor& x, const char* op, Body&& body) {
  if (x.dim() != 3 && x.dim() != 4) {
    throw ShapeError(std::string(op) +
                     ": expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got " + x.shape_str());
  }
  if (x.dim() == 3) return body(x.unsqueeze(0)).squeeze(0);
  return body(x);
}

// The pooling window; padding must be at most half the (dilated) kernel, as PyTorch.
Window2d pool_window(Size2 kernel_size, const std::optional<Size2>& stride, Size2 padding,
                     Size2 dilation, const char* op) {
  const Window2d w{.kernel_size = kernel_size.pair(),
                   .stride = stride ? stride->pair() : kernel_size.pair(),
                   .padding = padding.pair(),
                   .dilation = dilation.pair()};
  for (int d = 0; d < 2; ++d) {
    if (w.padding[d] * 2 > (w.kernel_size[d] - 1) * w.dilation[d] + 1) {
      throw ValueError(std::string(op) + ": padding should be at most half of the kernel size, " +
                       "got kernel_size " + kernel_size.tuple_str() + " and padding " +
                       padding.tuple_str());
    }
  }
  return w;
}

// A 1-d int64 tensor of `values` on `device`.
Tensor int64_tensor(const std::vector<int64_t>& values, Device device) {
  return raw::to(from_vector(values, Shape{static_cast<int64_t>(values.size())}), device);
}

// The (out, in) averaging matrix of adaptive pooling along one dim, of dtype/device of x.
Tensor adaptive_matrix(int64_t out, int64_t in, const Tensor& x) {
  std::vector<double> a(static_cast<size_t>(out * in), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (int64_t k = start; k < end; ++k) a[i * in + k] = 1.0 / static_cast<double>(end - start);
  }
  return raw::to(raw::to(from_vector(a, Shape{out, in}), x.dtype()), x.device());
}

// The bags of embedding_bag, read on the host: the kept (non-padding) entries in order, each
// with its flat position in input, its index and its bag, and the number kept per bag.
struct Bags {
  std::vector<int64_t> position, index, bag;
  std::vector<int64_t> sizes;  // (B)
};

// Bag b holds the flat entries [starts[b], starts[b + 1]); checks offsets and indices.
Bags make_bags(const Tensor& input, const Tensor& offsets, bool include_last_offset,
               std::optional<int64_t> padding_idx, int64_t V) {
  const char* op = "embedding_bag";
  if (input.is_floating_point() || input.dtype() == kBool) {
    throw DTypeError(std::string(op) + ": expected integer indices, got " +
                     dtype_name(input.dtype()));
  }
  const std::vector<int64_t> indices = input.to_vector<int64_t>();
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<int64_t> starts;
  if (input.dim() == 2) {
    if (offsets.defined()) {
      throw ValueError(std::string(op) + ": offsets must be undefined for a 2-d input " +
                       input.shape_str());
    }
    for (int64_t b = 0; b <= input.size(0); ++b) starts.push_back(b * input.size(1));
  } else if (input.dim() == 1) {
    if (!offsets.defined() || offsets.dim() != 1) {
      throw ShapeError(std::string(op) + ": a 1-d input needs 1-d offsets, got " +
                       (offsets.defined() ? offsets.shape_str() : std::string("none")));
    }
    starts = offsets.to_vector<int64_t>();
    if (!include_last_offset) starts.push_back(n);
    if (starts.size() < 2) {
      throw ShapeError(std::string(op) + ": include_last_offset needs at least 1 offset");
    }
    if (starts.front() != 0) {
      throw ValueError(std::string(op) + ": offsets[0] has to be 0, got " +
                       std::to_string(starts.front()));
    }
    for (size_t b = 1; b < starts.size(); ++b) {
      if (starts[b] < starts[b - 1] || starts[b] > n) {
        throw ValueError(std::string(op) + ": offsets must be non-decreasing and at most " +
                         std::to_string(n) + " (the number of indices), got " +
                         std::to_string(starts[b]) + " at position " + std::to_string(b));
      }
    }
  } else {
    throw ShapeError(std::string(op) + ": expected a 1-d or 2-d input, got " + input.shape_str());
  }
  std::optional<int64_t> pad;
  if (padding_idx) pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  Bags bags;
  bags.sizes.assign(starts.size() - 1, 0);
  for (size_t b = 0; b + 1 < starts.size(); ++b) {
    for (int64_t j = starts[b]; j < starts[b + 1]; ++j) {
      const int64_t i = indices[j];
      if (i < 0 || i >= V) {
        throw IndexError(std::string(op) + ": index " + std::to_string(i) +
                         " is out of range for " + std::to_string(V) + " embeddings");
      }
      if (pad && i == *pad) continue;
      bags.position.push_back(j);
      bags.index.push_back(i);
      bags.bag.push_back(static_cast<int64_t>(b));
      ++bags.sizes[b];
    }
  }
  return bags;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, Size2 dilation, int64_t groups) {
  return ignis::conv2d(x, weight, bias, stride.pair(), padding.pair(), dilation.pair(), groups);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  Size2 dilation) {
  const char* op = "max_pool2d";
  Window2d window = pool_window(kernel_size, stride, padding, dilation, op);
  return with_batch(x, op, [&](const Tensor& x4) {
    const int64_t N = x4.size(0), C = x4.size(1), H = x4.size(2), W = x4.size(3);
    const int64_t ph = window.padding[0], pw = window.padding[1];
    const int64_t oh = window.output_size(0, H), ow = window.output_size(1, W);
    if (oh < 1 || ow < 1) {
      throw ShapeError(std::string(op) + ": kernel_size " + kernel_size.tuple_str() +
                       " does not fit the input " + x4.shape_str());
    }
    // The argmax of each window, found on x padded with -inf, as a flat index into (H, W):
    // the same windows applied to a map of flat indices pick it out.
    Window2d unpadded = window;
    unpadded.padding = {0, 0};
    Tensor padded = full({N * C, 1, H + 2 * ph, W + 2 * pw},
                         -std::numeric_limits<double>::infinity(),
                         {.dtype = x4.dtype(), .device = x4.device()});
    raw::copy_(raw::narrow(raw::narrow(padded, 2, ph, H), 3, pw, W),
               raw::reshape(x4, {N * C, 1, H, W}));
    Tensor where_max = raw::argmax(raw::unfold(padded, unpadded), 1, true);  // (N C, 1, L)
    Tensor flat_map = zeros({1, 1, H + 2 * ph, W + 2 * pw},
                            {.dtype = kInt64, .device = x4.device()});
    raw::copy_(raw::narrow(raw::narrow(flat_map, 2, ph, H), 3, pw, W),
               raw::reshape(arange(H * W, TensorOptions{.dtype = kInt64, .device = x4.device()}),
                            {1, 1, H, W}));
    Tensor window_index = raw::expand(raw::unfold(flat_map, unpadded), {N * C, -1, -1});
    Tensor index = raw::reshape(raw::gather(window_index, 1, where_max), {N, C, oh * ow});
    return gather(x4.reshape({N, C, H * W}), 2, index).view({N, C, oh, ow});
  });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  bool count_include_pad) {
  const char* op = "avg_pool2d";
  const Window2d window = pool_window(kernel_size, stride, padding, 1, op);
  return with_batch(x, op, [&](const Tensor& x4) {
    const int64_t N = x4.size(0), C = x4.size(1), H = x4.size(2), W = x4.size(3);
    Tensor cols = unfold(x4.reshape({N * C, 1, H, W}), window);  // (N C, kh kw, L)
    const int64_t oh = window.output_size(0, H), ow = window.output_size(1, W);
    Tensor out;
    if (count_include_pad) {
      out = cols.mean({1});
    } else {
      Tensor ones_image = ones({1, 1, H, W}, {.dtype = x4.dtype(), .device = x4.device()});
      out = cols.sum({1}) / raw::sum(raw::unfold(ones_image, window), {1});
    }
    return out.view({N, C, oh, ow});
  });
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  const char* op = "adaptive_avg_pool2d";
  if (output_size.h < 1 || output_size.w < 1) {
    throw ValueError(std::string(op) + ": output_size must be >= 1, got " +
                     output_size.tuple_str());
  }
  return with_batch(x, op, [&](const Tensor& x4) {
    Tensor rows = adaptive_matrix(output_size.h, x4.size(2), x4);  // (oh, H)
    Tensor cols = adaptive_matrix(output_size.w, x4.size(3), x4);  // (ow, W)
    return matmul(matmul(rows, x4), cols.t());
  });
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ValueError("dropout: probability has to be between 0 and 1, got " + std::to_string(p));
  }
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  Tensor keep = bernoulli(x.sizes(), 1.0 - p, {.dtype = x.dtype(), .device = x.device()}, gen);
  return x * raw::mul(keep, Scalar(1.0 / (1.0 - p)));
}

Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx) {
  Tensor out = ignis::embedding(weight, input);
  if (!padding_idx) return out;
  const int64_t V = weight.size(0);
  const int64_t pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  if (pad < 0 || pad >= V) {
    throw IndexError("embedding: padding_idx " + std::to_string(*padding_idx) +
                     " is out of range for " + std::to_string(V) + " embeddings");
  }
  // The padding row's lookups come from a detached weight: same values, no gradient.
  Tensor is_pad = raw::unsqueeze(raw::binary(BinaryOp::Eq, raw::to(input, kInt64),
                                             scalar_tensor(pad, kInt64, input.device())),
                                 -1);
  return where(is_pad, out.detach(), out);
}

Tensor embedding_bag(const Tensor& input, const Tensor& weight, const Tensor& offsets,
                     EmbeddingBagMode mode, const Tensor& per_sample_weights,
                     bool include_last_offset, std::optional<int64_t> padding_idx) {
  const char* op = "embedding_bag";
  if (weight.dim() != 2) {
    throw ShapeError(std::string(op) + ": expected a 2-d weight (V, D), got " + weight.shape_str());
  }
  if (per_sample_weights.defined()) {
    if (mode != EmbeddingBagMode::Sum) {
      throw ValueError(std::string(op) + ": per_sample_weights are only supported for mode "
                       "'sum', got mode '" + embedding_bag_mode_name(mode) + "'");
    }
    if (per_sample_weights.sizes() != input.sizes()) {
      throw ShapeError(std::string(op) + ": per_sample_weights " + per_sample_weights.shape_str() +
                       " must have the shape of input " + input.shape_str());
    }
  }
  const int64_t D = weight.size(1);
  const Bags bags = make_bags(input, offsets, include_last_offset, padding_idx, weight.size(0));
  const int64_t B = static_cast<int64_t>(bags.sizes.size());
  const int64_t K = static_cast<int64_t>(bags.index.size());
  const Device device = weight.device();
  const TensorOptions like{.dtype = weight.dtype(), .device = device};
  Tensor rows = index_select(weight, 0, int64_tensor(bags.index, device));  // (K, D)
  if (per_sample_weights.defined()) {
    Tensor scale = index_select(per_sample_weights.reshape({-1}), 0,
                                int64_tensor(bags.position, device));
    rows = rows * scale.unsqueeze(1);
  }
  if (mode == EmbeddingBagMode::Max) {
    // Each bag padded to the longest with a -inf row; empty bags are set to 0 afterwards.
    const int64_t T = B == 0 ? 0 : *std::max_element(bags.sizes.begin(), bags.sizes.end());
    if (T == 0) return zeros({B, D}, like);
    std::vector<int64_t> slot(static_cast<size_t>(B * T), K), filled(static_cast<size_t>(B), 0);
    for (int64_t k = 0; k < K; ++k) slot[bags.bag[k] * T + filled[bags.bag[k]]++] = k;
    Tensor with_floor = cat({rows, full({1, D}, -std::numeric_limits<double>::infinity(), like)});
    Tensor padded = index_select(with_floor, 0, int64_tensor(slot, device)).view({B, T, D});
    std::vector<int64_t> empty(bags.sizes.size());
    for (size_t b = 0; b < empty.size(); ++b) empty[b] = bags.sizes[b] == 0;
    Tensor is_empty = raw::to(raw::to(from_vector(empty, Shape{B, 1}), kBool), device);
    return masked_fill(max(padded, 1).first, is_empty, 0.0);
  }
  Tensor bag_index =
      raw::contiguous(raw::expand(raw::unsqueeze(int64_tensor(bags.bag, device), 1), {K, D}));
  Tensor out = scatter_add(zeros({B, D}, like), 0, bag_index, rows);  // (B, D) sums
  if (mode == EmbeddingBagMode::Sum) return out;
  std::vector<double> divisor(bags.sizes.begin(), bags.sizes.end());
  for (double& d : divisor) d = std::max(d, 1.0);
  return out / raw::to(raw::to(from_vector(divisor, Shape{B, 1}), weight.dtype()), device);
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  const bool fits = k >= 1 && k <= x.dim() &&
                    std::equal(normalized_shape.begin(), normalized_shape.end(),
                               x.sizes().end() - k);
  if (!fits) {
    throw ShapeError("layer_norm: normalized_shape " + shape_str(normalized_shape) +
                     " must equal the last dims of the input " + x.shape_str());
  }
  for (const Tensor& t : {weight, bias}) {
    if (t.defined() && t.sizes() != normalized_shape) {
      throw ShapeError("layer_norm: weight and bias must have shape " +
                       shape_str(normalized_shape) + ", got " + t.shape_str());
    }
  }
  Shape dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  Tensor centered = x - x.mean(dims, true);
  Tensor y = centered * rsqrt((centered * centered).mean(dims, true) + eps);
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (x.dim() < 2) {
    throw ShapeError("batch_norm: expected an input (N, C, *), got " + x.shape_str());
  }
  const int64_t C = x.size(1);
  for (const Tensor& t : {running_mean, running_var, weight, bias}) {
    if (t.defined() && (t.dim() != 1 || t.size(0) != C)) {
      throw ShapeError("batch_norm: expected running stats, weight and bias of shape (" +
                       std::to_string(C) + ") for input " + x.shape_str() + ", got " +
                       t.shape_str());
    }
  }
  Shape dims{0}, channel_shape(static_cast<size_t>(x.dim()), 1);
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  channel_shape[1] = C;
  const bool batch_stats = training || !running_mean.defined() || !running_var.defined();
  Tensor mean, var;
  if (batch_stats) {
    const int64_t count = x.numel() / std::max<int64_t>(C, 1);
    if (training && count <= 1) {
      throw ValueError("batch_norm: expected more than 1 value per channel when training, got "
                       "input " + x.shape_str());
    }
    mean = x.mean(dims);
    var = ignis::var(x, dims, 0);
    if (training && running_mean.defined() && running_var.defined()) {
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      running_mean.mul_(1.0 - momentum).add_(mean.detach(), momentum);
      running_var.mul_(1.0 - momentum).add_(var.detach(), momentum * unbias);
    }
  } else {
    mean = running_mean;
    var = running_var;
  }
  Tensor y = (x - mean.view(channel_shape)) * rsqrt(var.view(channel_shape) + eps);
  if (weight.defined()) y = y * weight.view(channel_shape);
  if (bias.defined()) y = y + bias.view(channel_shape);
  return y;
}

}  // namespace functional
}  // namespace ignis::nn

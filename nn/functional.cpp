// nn::functional layers (nn/functional.h): convolution, pooling, dropout, embedding and
// normalization, composed from differentiable ops. Not the losses (nn/loss_functional.cpp),
// nor embedding_bag (nn/embedding_bag.cpp).
#include "nn/functional.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/pool.h"
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

// The (out, in) averaging matrix of adaptive pooling along one dim, of dtype/device of x.
Tensor adaptive_matrix(int64_t out, int64_t in, const Tensor& x) {
  std::vector<double> a(static_cast<size_t>(out * in), 0.0);
  for (int64_t i = 0; i < out; ++i) {
    const int64_t start = (i * in) / out, end = ((i + 1) * in + out - 1) / out;
    for (int64_t k = start; k < end; ++k) a[i * in + k] = 1.0 / static_cast<double>(end - start);
  }
  return raw::to(raw::to(from_vector(a, Shape{out, in}), x.dtype()), x.device());
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, Size2 dilation, int64_t groups) {
  return ignis::conv2d(x, weight, bias, stride.pair(), padding.pair(), dilation.pair(), groups);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  Size2 dilation) {
  const char* op = "max_pool2d";
  const Window2d window = pool_window(kernel_size, stride, padding, dilation, op);
  return with_batch(x, op, [&](const Tensor& x4) { return ignis::max_pool2d(x4, window); });
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  bool count_include_pad) {
  const char* op = "avg_pool2d";
  const Window2d window = pool_window(kernel_size, stride, padding, 1, op);
  return with_batch(x, op, [&](const Tensor& x4) {
    return ignis::avg_pool2d(x4, window, count_include_pad);
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

// The layers of nn (nn/layers.h): construction, PyTorch's default initialisation, forward
// through nn::functional, and extra_repr() as PyTorch prints it.
#include "nn/layers.h"

#include <cmath>

#include "nn/init.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis::nn {
namespace {

namespace F = functional;

// PyTorch's default for Linear and Conv weights: kaiming_uniform(a = sqrt(5)), which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias is drawn from the same interval.
void init_affine(const Tensor& weight, const Tensor& bias, Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (!bias.defined()) return;
  const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  init::uniform_(bias, -bound, bound, gen);
}

void require_positive(int64_t value, const char* what, const char* layer) {
  if (value <= 0) {
    throw ValueError(std::string(layer) + ": " + what + " must be > 0, got " +
                     std::to_string(value));
  }
}

// N(0, 1) embeddings with the padding row zeroed; returns the padding index wrapped.
std::optional<int64_t> init_embedding(const Tensor& weight, std::optional<int64_t> padding_idx,
                                      Generator* gen, const char* layer) {
  init::normal_(weight, 0.0, 1.0, gen);
  if (!padding_idx) return std::nullopt;
  const int64_t V = weight.size(0);
  const int64_t pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  if (pad < 0 || pad >= V) {
    throw IndexError(std::string(layer) + ": padding_idx " + std::to_string(*padding_idx) +
                     " must be within num_embeddings " + std::to_string(V));
  }
  init::zeros_(raw::select(weight, 0, pad));
  return pad;
}

std::string padding_repr(const std::optional<int64_t>& padding_idx) {
  return padding_idx ? ", padding_idx=" + std::to_string(*padding_idx) : "";
}

}  // namespace

// ---- Linear ----

Linear::Linear(int64_t in, int64_t out, bool with_bias, Generator* gen)
    : Linear(in, out, Activation::None, with_bias, gen) {}

Linear::Linear(int64_t in, int64_t out, Activation act, bool with_bias, Generator* gen)
    : Module("Linear"), in_features(in), out_features(out), activation(act) {
  if (in < 0 || out < 0) {
    throw ValueError("Linear: in_features and out_features must be >= 0, got " +
                     std::to_string(in) + " and " + std::to_string(out));
  }
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator* gen) { init_affine(weight, bias, gen); }

Tensor Linear::forward(const Tensor& input) {
  return F::linear(input, weight, bias, activation);
}

std::string Linear::extra_repr() const {
  std::string repr = "in_features=" + std::to_string(in_features) + ", out_features=" +
                     std::to_string(out_features) + ", bias=" + py_bool(bias.defined());
  if (activation != Activation::None)
    repr += ", activation=" + std::string(activation_name(activation));
  return repr;
}

// ---- Embedding ----

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> padding, Generator* gen)
    : Module("Embedding"), num_embeddings(num), embedding_dim(dim) {
  require_positive(num, "num_embeddings", "Embedding");
  require_positive(dim, "embedding_dim", "Embedding");
  weight = register_parameter("weight", empty({num, dim}));
  padding_idx = init_embedding(weight, padding, gen, "Embedding");
}

Tensor Embedding::forward(const Tensor& input) {
  return F::embedding(input, weight, padding_idx);
}

std::string Embedding::extra_repr() const {
  return std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim) +
         padding_repr(padding_idx);
}

// ---- EmbeddingBag ----

EmbeddingBag::EmbeddingBag(int64_t num, int64_t dim, EmbeddingBagOptions opts)
    : Module("EmbeddingBag"), num_embeddings(num), embedding_dim(dim), options(opts) {
  require_positive(num, "num_embeddings", "EmbeddingBag");
  require_positive(dim, "embedding_dim", "EmbeddingBag");
  weight = register_parameter("weight", empty({num, dim}));
  options.padding_idx = init_embedding(weight, opts.padding_idx, opts.generator, "EmbeddingBag");
}

Tensor EmbeddingBag::forward(const Tensor& input) { return forward(input, Tensor()); }

Tensor EmbeddingBag::forward(const Tensor& input, const Tensor& offsets,
                             const Tensor& per_sample_weights) {
  return F::embedding_bag(input, weight, offsets, options.mode, per_sample_weights,
                          options.include_last_offset, options.padding_idx);
}

std::string EmbeddingBag::extra_repr() const {
  std::string out = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim) +
                    ", mode='" + embedding_bag_mode_name(options.mode) + "'";
  if (options.include_last_offset) out += ", include_last_offset=True";
  return out + padding_repr(options.padding_idx);
}

// ---- Conv2d ----

Conv2d::Conv2d(int64_t in, int64_t out, Size2 kernel, Conv2dOptions opts)
    : Module("Conv2d"), in_channels(in), out_channels(out), kernel_size(kernel), options(opts) {
  require_positive(opts.groups, "groups", "Conv2d");
  if (in % opts.groups != 0 || out % opts.groups != 0) {
    throw ValueError("Conv2d: in_channels (" + std::to_string(in) + ") and out_channels (" +
                     std::to_string(out) + ") must be divisible by groups (" +
                     std::to_string(opts.groups) + ")");
  }
  weight = register_parameter("weight", empty({out, in / opts.groups, kernel.h, kernel.w}));
  if (opts.bias) bias = register_parameter("bias", empty({out}));
  reset_parameters(opts.generator);
}

void Conv2d::reset_parameters(Generator* gen) { init_affine(weight, bias, gen); }

Tensor Conv2d::forward(const Tensor& input) {
  return F::conv2d(input, weight, bias, options.stride, options.padding, options.dilation,
                   options.groups);
}

std::string Conv2d::extra_repr() const {
  std::string out = std::to_string(in_channels) + ", " + std::to_string(out_channels) +
                    ", kernel_size=" + kernel_size.tuple_str() +
                    ", stride=" + options.stride.tuple_str();
  if (options.padding.pair() != std::array<int64_t, 2>{0, 0}) {
    out += ", padding=" + options.padding.tuple_str();
  }
  if (options.dilation.pair() != std::array<int64_t, 2>{1, 1}) {
    out += ", dilation=" + options.dilation.tuple_str();
  }
  if (options.groups != 1) out += ", groups=" + std::to_string(options.groups);
  if (!options.bias) out += ", bias=False";
  return out;
}

// ---- pooling, flatten, dropout, activations ----

MaxPool2d::MaxPool2d(Size2 kernel, std::optional<Size2> stride_, Size2 padding_, Size2 dilation_)
    : Module("MaxPool2d"),
      kernel_size(kernel),
      stride(stride_.value_or(kernel)),
      padding(padding_),
      dilation(dilation_) {}

Tensor MaxPool2d::forward(const Tensor& input) {
  return F::max_pool2d(input, kernel_size, stride, padding, dilation);
}

std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + kernel_size.str() + ", stride=" + stride.str() +
         ", padding=" + padding.str() + ", dilation=" + dilation.str() + ", ceil_mode=False";
}

AvgPool2d::AvgPool2d(Size2 kernel, std::optional<Size2> stride_, Size2 padding_,
                     bool count_include_pad_)
    : Module("AvgPool2d"),
      kernel_size(kernel),
      stride(stride_.value_or(kernel)),
      padding(padding_),
      count_include_pad(count_include_pad_) {}

Tensor AvgPool2d::forward(const Tensor& input) {
  return F::avg_pool2d(input, kernel_size, stride, padding, count_include_pad);
}

std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + kernel_size.str() + ", stride=" + stride.str() +
         ", padding=" + padding.str();
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 size) : Module("AdaptiveAvgPool2d"), output_size(size) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  return F::adaptive_avg_pool2d(input, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + output_size.str(); }

Flatten::Flatten(int64_t start, int64_t end) : Module("Flatten"), start_dim(start), end_dim(end) {}

Tensor Flatten::forward(const Tensor& input) { return input.flatten(start_dim, end_dim); }

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

Dropout::Dropout(double p_, Generator* gen) : Module("Dropout"), p(p_), generator(gen) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ValueError("Dropout: probability has to be between 0 and 1, got " + py_float(p));
  }
}

Tensor Dropout::forward(const Tensor& input) {
  return F::dropout(input, p, is_training(), generator);
}

std::string Dropout::extra_repr() const { return "p=" + py_float(p) + ", inplace=False"; }

GELU::GELU(std::string approx) : Module("GELU"), approximate(std::move(approx)) {
  if (approximate != "none" && approximate != "tanh") {
    throw ValueError("GELU: approximate must be 'none' or 'tanh', got '" + approximate + "'");
  }
}

// ---- normalization ----

LayerNorm::LayerNorm(Shape shape, double eps_, bool affine)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps_),
      elementwise_affine(affine) {
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  return F::layer_norm(input, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  std::string shape = "(";
  for (size_t i = 0; i < normalized_shape.size(); ++i) {
    shape += (i ? ", " : "") + std::to_string(normalized_shape[i]);
  }
  shape += normalized_shape.size() == 1 ? ",)" : ")";
  return shape + ", eps=" + py_float(eps) + ", elementwise_affine=" + py_bool(elementwise_affine);
}

BatchNorm::BatchNorm(std::string name, int64_t features, BatchNormOptions opts,
                     std::vector<int64_t> input_dims)
    : Module(std::move(name)), num_features(features), options(opts),
      input_dims_(std::move(input_dims)) {
  require_positive(features, "num_features", this->name().c_str());
  if (options.affine) {
    weight = register_parameter("weight", ones({features}));
    bias = register_parameter("bias", zeros({features}));
  }
  if (options.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({features}));
    running_var = register_buffer("running_var", ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, {.dtype = kInt64}));
  }
}

Tensor BatchNorm::forward(const Tensor& input) {
  bool rank_ok = false;
  for (int64_t d : input_dims_) rank_ok = rank_ok || input.dim() == d;
  if (!rank_ok || input.size(1) != num_features) {
    throw ShapeError(name() + ": expected an input with " + std::to_string(num_features) +
                     " channels in dim 1 and " +
                     (input_dims_.size() == 1 ? "4 dims" : "2 or 3 dims") + ", got " +
                     input.shape_str());
  }
  double momentum = options.momentum.value_or(0.0);
  if (is_training() && options.track_running_stats) {
    num_batches_tracked.add_(1);
    if (!options.momentum) momentum = 1.0 / num_batches_tracked.item<double>();
  }
  return F::batch_norm(input, running_mean, running_var, weight, bias,
                       is_training() || !options.track_running_stats, momentum, options.eps);
}

std::string BatchNorm::extra_repr() const {
  return std::to_string(num_features) + ", eps=" + py_float(options.eps) + ", momentum=" +
         (options.momentum ? py_float(*options.momentum) : "None") +
         ", affine=" + py_bool(options.affine) +
         ", track_running_stats=" + py_bool(options.track_running_stats);
}

}  // namespace ignis::nn

// The layers of nn: value types deriving from Module (Sequential wraps them in shared_ptrs),
// each a thin owner of its parameters around nn::functional. Default initialisation matches
// PyTorch's in distribution, drawn from the given Generator (default_generator() when null).
// Not the losses (loss.h) nor the containers (container.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nn/functional.h"
#include "nn/module.h"
#include "tensor/generator.h"

namespace ignis::nn {

// y = x W^T + b. Init: W ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), b the same.
// With an activation, y = act(x W^T + b) in one fused op (F::linear with an Activation):
// Linear(784, 512, Activation::Relu) computes what Linear(784, 512) then ReLU() computes,
// bit for bit, with one pass over the output instead of two and the same parameters (but
// one module where the pair has two, so Sequential's parameter names differ).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);
  Linear(int64_t in_features, int64_t out_features, Activation activation, bool bias = true,
         Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;  // (*, in) -> (*, out)
  std::string extra_repr() const override;
  void reset_parameters(Generator* gen = nullptr);

  int64_t in_features, out_features;
  Activation activation = Activation::None;
  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features), or undefined
};

// A lookup table. Init N(0, 1), the padding_idx row zeroed (it gets no gradient).
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;  // int (*) -> (*, embedding_dim)
  std::string extra_repr() const override;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // wrapped to [0, num_embeddings)
  Tensor weight;                       // (num_embeddings, embedding_dim)
};

struct EmbeddingBagOptions {
  EmbeddingBagMode mode = EmbeddingBagMode::Mean;
  std::optional<int64_t> padding_idx{};
  bool include_last_offset = false;
  Generator* generator = nullptr;
};

// Sums, averages or maxes bags of embeddings (see functional::embedding_bag). Init N(0, 1),
// the padding_idx row zeroed.
class EmbeddingBag : public Module {
 public:
  EmbeddingBag(int64_t num_embeddings, int64_t embedding_dim, EmbeddingBagOptions options = {});
  using Module::operator();
  Tensor forward(const Tensor& input) override;  // (B, T) -> (B, embedding_dim)
  // Flat indices (n) and offsets (B, or B + 1 with include_last_offset) -> (B, embedding_dim).
  Tensor forward(const Tensor& input, const Tensor& offsets,
                 const Tensor& per_sample_weights = {});
  Tensor operator()(const Tensor& input, const Tensor& offsets,
                    const Tensor& per_sample_weights = {}) {
    return forward(input, offsets, per_sample_weights);
  }
  std::string extra_repr() const override;

  int64_t num_embeddings, embedding_dim;
  EmbeddingBagOptions options;
  Tensor weight;  // (num_embeddings, embedding_dim)
};

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;
  Size2 dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  Generator* generator = nullptr;
};

// 2-d convolution (cross-correlation). Init as Linear with fan_in = in / groups * kh * kw.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Conv2dOptions options = {});
  Tensor forward(const Tensor& input) override;  // (N, in, H, W) -> (N, out, oh, ow)
  std::string extra_repr() const override;
  void reset_parameters(Generator* gen = nullptr);

  int64_t in_channels, out_channels;
  Size2 kernel_size;
  Conv2dOptions options;
  Tensor weight;  // (out_channels, in_channels / groups, kh, kw)
  Tensor bias;    // (out_channels), or undefined
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                     Size2 padding = 0, Size2 dilation = 1);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Size2 kernel_size, stride, padding, dilation;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                     Size2 padding = 0, bool count_include_pad = true);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Size2 kernel_size, stride, padding;
  bool count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Size2 output_size;
};

// input.flatten(start_dim, end_dim).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t start_dim, end_dim;
};

// Zeroes elements with probability p in training mode (scaling the rest by 1 / (1 - p));
// the identity in eval mode. The mask comes from `gen` (default_generator() when null).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  double p;
  Generator* generator;
};

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& input) override { return relu(input); }
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& input) override { return leaky_relu(input, negative_slope); }
  std::string extra_repr() const override { return "negative_slope=" + py_float(negative_slope); }

  double negative_slope;
};

class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");  // "none" or "tanh" (ValueError otherwise)
  Tensor forward(const Tensor& input) override { return gelu(input, approximate); }
  std::string extra_repr() const override { return "approximate='" + approximate + "'"; }

  std::string approximate;
};

class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& input) override { return silu(input); }
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) override { return tanh(input); }
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) override { return sigmoid(input); }
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override { return softmax(input, dim); }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim); }

  int64_t dim;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& input) override { return log_softmax(input, dim); }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim); }

  int64_t dim;
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& input) override { return input; }
};

// Normalizes over the trailing normalized_shape dims. Init weight 1, bias 0.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight;  // normalized_shape, or undefined
  Tensor bias;    // normalized_shape, or undefined
};

struct BatchNormOptions {
  double eps = 1e-5;
  // Weight of the new batch statistic in the running ones; none: the cumulative average.
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

// Batch normalization over the channel dim 1 (see functional::batch_norm). Buffers
// running_mean (0), running_var (1) and num_batches_tracked (int64 0-d) when tracking.
// BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d (N, C, H, W) (ShapeError otherwise).
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  int64_t num_features;
  BatchNormOptions options;
  Tensor weight;               // (C), or undefined without affine
  Tensor bias;                 // (C), or undefined without affine
  Tensor running_mean;         // (C), or undefined without track_running_stats
  Tensor running_var;          // (C), or undefined without track_running_stats
  Tensor num_batches_tracked;  // int64 (), or undefined without track_running_stats

 protected:
  BatchNorm(std::string name, int64_t num_features, BatchNormOptions options,
            std::vector<int64_t> input_dims);

 private:
  std::vector<int64_t> input_dims_;  // the accepted input ranks
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm1d", num_features, options, {2, 3}) {}
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm2d", num_features, options, {4}) {}
};

}  // namespace ignis::nn

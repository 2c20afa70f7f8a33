// nn::functional: the stateless forms of the layers and losses, as torch.nn.functional.
// Each is composed from differentiable ops (its backward comes free), except cross_entropy
// (class-index targets: the fused softmax + NLL kernels of tensor/loss.h, forward and
// backward; probability targets: one composed op with its own backward), conv2d and the
// pools (their own ops: autograd/conv.h, autograd/pool.h), and embedding_bag's sum and mean,
// fused on any device whose table fills the embedding_bag slots (CPU, CUDA): a gather-reduce
// with a dense backward (nn/embedding_bag.cpp). Not the modules: layers.h, loss.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "autograd/conv.h"
#include "autograd/indexing.h"
#include "autograd/linalg.h"
#include "autograd/math.h"
#include "tensor/generator.h"
#include "tensor/tensor.h"

namespace ignis::nn {

// A (height, width) pair given as one number (both) or two: `2` or `{2, 3}`. Remembers which,
// so that modules print it back as PyTorch does ("kernel_size=2" vs "kernel_size=(2, 3)").
struct Size2 {
  Size2(int64_t both) : h(both), w(both), scalar(true) {}  // NOLINT: implicit on purpose
  Size2(int64_t height, int64_t width) : h(height), w(width), scalar(false) {}
  int64_t h, w;
  bool scalar;
  std::array<int64_t, 2> pair() const { return {h, w}; }
  std::string str() const;       // "2" or "(2, 3)", as given
  std::string tuple_str() const; // always "(2, 2)"
};

enum class Reduction { None, Mean, Sum };
enum class EmbeddingBagMode { Sum, Mean, Max };

const char* reduction_name(Reduction reduction);      // "none", "mean", "sum"
const char* embedding_bag_mode_name(EmbeddingBagMode mode);  // "sum", "mean", "max"

namespace functional {

// ---- activations: the differentiable ops of autograd/ under their torch.nn.functional names
using ignis::gelu;         // (x, approximate = "none" | "tanh")
using ignis::leaky_relu;   // (x, negative_slope = 0.01)
using ignis::log_softmax;  // (x, dim)
using ignis::relu;
using ignis::sigmoid;
using ignis::silu;
using ignis::softmax;      // (x, dim)
using ignis::tanh;

// ---- linear and convolution ----
// act(x (*, in) @ weight (out, in)^T + bias (out)) -> (*, out); act an Activation (None,
// Relu, Tanh, Sigmoid), fused into the GEMM on the CPU: linear(x, w, b, Activation::Relu)
// is relu(linear(x, w, b)) in one pass.
using ignis::Activation;
using ignis::linear;
// As ignis::conv2d (autograd/conv.h): x (N, C, H, W), weight (O, C / groups, kh, kw).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);

// ---- pooling: x (N, C, H, W) or (C, H, W) -> (N, C, oh, ow) or (C, oh, ow) ----
// Window positions as in unfold: oh = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (floor mode);
// stride defaults to kernel_size. Throws ShapeError for other ranks or a window that does
// not fit, ValueError when padding exceeds half the kernel (as PyTorch).
// out = max over the window (padding counts as -inf); the gradient goes to the first
// maximal element of each window (autograd/pool.h: the saved argmax indices and the
// max_pool2d_backward slot).
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0, Size2 dilation = 1);
// out = sum over the window / (kh kw), or / the number of non-padding elements when
// count_include_pad is false.
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0, bool count_include_pad = true);
// Output cell (i, j) averages rows [floor(i H / oh), ceil((i + 1) H / oh)) and the same for
// columns, as PyTorch; computed as A_h (oh, H) @ x @ A_w^T (W, ow).
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);

// ---- dropout ----
// training: x * m / (1 - p), m ~ Bernoulli(1 - p) from `gen` (default_generator() when
// null); otherwise x itself. Throws ValueError unless 0 <= p <= 1.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

// ---- embeddings ----
// weight[input]: input int (*), weight (V, D) -> (*, D). The row padding_idx (negative counts
// from V) is looked up as usual but gets no gradient. IndexError for an index outside [0, V).
Tensor embedding(const Tensor& input, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);
// Bags of embeddings reduced by `mode`: input is 2-d (B, T) (each row one bag; offsets must
// be undefined) or 1-d flat indices with offsets (B) giving each bag's start (offsets[0] = 0,
// non-decreasing), or (B + 1) with include_last_offset. Indices equal to padding_idx are left
// out of their bag (and of the mean's count). per_sample_weights (same shape as input) scales
// each embedding, mode Sum only. Empty bags give zeros. -> (B, D), on weight's device.
// input and offsets are read on the host to form the bags, so they may live on the CPU while
// weight is on a GPU (unlike PyTorch): that spares a copy there and back per batch.
// Throws ShapeError / ValueError / IndexError naming the offending argument.
Tensor embedding_bag(const Tensor& input, const Tensor& weight, const Tensor& offsets = {},
                     EmbeddingBagMode mode = EmbeddingBagMode::Mean,
                     const Tensor& per_sample_weights = {}, bool include_last_offset = false,
                     std::optional<int64_t> padding_idx = std::nullopt);

// ---- normalization ----
// Over the trailing dims named by normalized_shape (x's last dims must equal it, ShapeError):
// (x - mean) / sqrt(var + eps) * weight + bias, var biased; weight, bias normalized_shape or
// undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
// x (N, C, *): per channel c, (x - mean_c) / sqrt(var_c + eps) * weight[c] + bias[c].
// training (or running stats undefined): batch statistics over (N, *), biased var; with
// running stats defined and training, running = (1 - momentum) running + momentum stat
// (the unbiased var for running_var), updated in place. Otherwise the running statistics.
// Throws ValueError in training with one value per channel, ShapeError for wrong sizes.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

// ---- losses; every reduction: None keeps the per-element loss, Sum adds, Mean averages ----
struct CrossEntropyOptions {
  Tensor weight{};            // (C) class weights, or undefined
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;  // in [0, 1]
};
// input logits (N, C, d1, ...) or (C); target class indices (N, d1, ...) / () or class
// probabilities of input's shape. Per sample, with logp = log_softmax over C, eps the
// label smoothing and w the class weights (1 when undefined):
//   indices:  l = -(1 - eps) w[y] logp[y] - eps / C sum_c w[c] logp[c]  (0 where y ignored)
//   probs:    l = -sum_c w[c] ((1 - eps) t[c] + eps / C) logp[c]
// Mean divides the sum by sum of w[y] over non-ignored samples (indices), by the number of
// samples (probabilities), as PyTorch. Backward: dlogits = (softmax sum_c a_c - a) * dl,
// a the per-class coefficients above. Throws ShapeError / DTypeError / IndexError / ValueError.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options = {});
struct NLLLossOptions {
  Tensor weight{};
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};
// input log-probabilities (N, C, d1, ...) or (C); l = -w[y] input[y]; Mean divides by the sum
// of w[y] over non-ignored samples.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});
// Elementwise losses: input and target of one shape (ShapeError otherwise), d = input - target.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta  (beta = 0: l1_loss). ValueError for beta < 0.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::Mean, double beta = 1.0);
// |d| <= delta ? 0.5 d^2 : delta (|d| - 0.5 delta). ValueError for delta <= 0.
Tensor huber_loss(const Tensor& input, const Tensor& target,
                  Reduction reduction = Reduction::Mean, double delta = 1.0);
// -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)); x probabilities in [0, 1];
// weight broadcasts to input's shape.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::Mean);
struct BCEWithLogitsOptions {
  Tensor weight{};    // broadcasts to input's shape
  Tensor pos_weight{};  // broadcasts along the last dim (one per class)
  Reduction reduction = Reduction::Mean;
};
// -w (p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), p = pos_weight (1 when undefined),
// in the stable form (1 - y) x + (1 + (p - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsOptions& options = {});

}  // namespace functional
}  // namespace ignis::nn

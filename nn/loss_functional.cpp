// nn::functional losses (nn/functional.h): cross_entropy as one fused op with its own
// backward, the others composed from differentiable ops. Not the loss modules: nn/loss.h.
#include "nn/functional.h"

#include <string>
#include <vector>

#include "autograd/function.h"
#include "autograd/reductions.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::nn::functional {
namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return loss.sum();
    case Reduction::Mean: return loss.mean();
  }
  return loss;
}

void require_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  if (input.sizes() != target.sizes()) {
    throw ShapeError(std::string(op) + ": input " + input.shape_str() + " and target " +
                     target.shape_str() + " must have the same shape");
  }
}

// A classification problem seen as rows: the class dim moved last, flattened to (rows, C).
struct ClassRows {
  Shape perm;          // permutes input (N, C, d...) to (N, d..., C)
  Shape inverse_perm;  // and back
  Shape sample_shape;  // (N, d...): the per-sample loss shape
  int64_t classes = 0;
};

// Checks input (N, C, d...) or (C) against target and returns how to flatten them.
// prob_target: target has input's shape; otherwise it is integer (N, d...).
ClassRows class_rows(const Tensor& input, const Tensor& target, bool prob_target,
                     const Tensor& weight, const char* op) {
  if (input.dim() < 1) {
    throw ShapeError(std::string(op) + ": expected an input (N, C, d...) or (C), got " +
                     input.shape_str());
  }
  if (!input.is_floating_point()) {
    throw DTypeError(std::string(op) + ": expected a floating-point input, got " +
                     dtype_name(input.dtype()));
  }
  ClassRows rows;
  const bool unbatched = input.dim() == 1;
  rows.classes = input.size(unbatched ? 0 : 1);
  Shape expected;
  if (prob_target) {
    expected = input.sizes();
  } else {
    if (target.is_floating_point() || target.dtype() == kBool) {
      throw DTypeError(std::string(op) + ": expected integer class indices or a floating-point "
                       "target of the input's shape, got " + dtype_name(target.dtype()));
    }
    expected = input.sizes();
    expected.erase(expected.begin() + (unbatched ? 0 : 1));
  }
  if (target.sizes() != expected) {
    throw ShapeError(std::string(op) + ": expected a target of shape " + shape_str(expected) +
                     " for input " + input.shape_str() + ", got " + target.shape_str());
  }
  if (weight.defined() && (weight.dim() != 1 || weight.size(0) != rows.classes)) {
    throw ShapeError(std::string(op) + ": expected a weight of shape " +
                     shape_str({rows.classes}) + ", got " + weight.shape_str());
  }
  const int64_t nd = input.dim();
  if (unbatched) {
    rows.perm = {0};
    rows.inverse_perm = {0};
  } else {
    rows.perm.push_back(0);
    for (int64_t d = 2; d < nd; ++d) rows.perm.push_back(d);
    rows.perm.push_back(1);
    rows.inverse_perm.assign(static_cast<size_t>(nd), 0);
    for (int64_t d = 0; d < nd; ++d) rows.inverse_perm[rows.perm[d]] = d;
  }
  rows.sample_shape = input.sizes();
  rows.sample_shape.erase(rows.sample_shape.begin() + (unbatched ? 0 : 1));
  return rows;
}

// Class indices flattened to (rows) int64, with ignored entries set to 0; `keep` (rows, 1) of
// dtype is 1 where the target is not ignore_index. IndexError for an index outside [0, C).
std::pair<Tensor, Tensor> safe_targets(const Tensor& target, int64_t classes,
                                       int64_t ignore_index, DType dtype, const char* op) {
  Tensor y = raw::reshape(raw::to(target, kInt64), {-1});
  for (int64_t v : y.to_vector<int64_t>()) {
    if (v != ignore_index && (v < 0 || v >= classes)) {
      throw IndexError(std::string(op) + ": target " + std::to_string(v) +
                       " is out of bounds for " + std::to_string(classes) + " classes");
    }
  }
  Tensor ignored = raw::binary(BinaryOp::Eq, y, scalar_tensor(ignore_index, kInt64, y.device()));
  Tensor y_safe = raw::where(ignored, scalar_tensor(int64_t{0}, kInt64, y.device()), y);
  Tensor keep = raw::to(raw::unsqueeze(raw::unary(UnaryOp::LogicalNot, ignored), 1), dtype);
  return {y_safe, keep};
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options) {
  const char* op = "cross_entropy";
  const bool prob_target = target.is_floating_point();
  const ClassRows rows = class_rows(input, target, prob_target, options.weight, op);
  const double eps = options.label_smoothing;
  if (!(eps >= 0.0 && eps <= 1.0)) {
    throw ValueError(std::string(op) + ": label_smoothing must be in [0, 1], got " +
                     std::to_string(eps));
  }
  const int64_t C = rows.classes;
  const DType dtype = input.dtype();
  const Device device = input.device();
  auto flat = [&](const Tensor& t) { return raw::reshape(raw::permute(t, rows.perm), {-1, C}); };
  Tensor logp = raw::log_softmax(flat(input), 1);  // (R, C)
  // Per-class coefficients a (R, C): loss_r = -sum_c a[r, c] logp[r, c].
  Tensor class_weight = options.weight.defined()
                            ? raw::reshape(raw::to(raw::to(options.weight, dtype), device), {1, C})
                            : ones({1, C}, {.dtype = dtype, .device = device});
  Tensor coef, denominator;
  if (prob_target) {
    Tensor t = raw::to(flat(target), dtype);
    coef = raw::mul(raw::add(raw::mul(t, Scalar(1.0 - eps)), Scalar(eps / C)), class_weight);
    denominator = scalar_tensor(static_cast<double>(logp.size(0)), dtype, device);
  } else {
    auto [y, keep] = safe_targets(target, C, options.ignore_index, dtype, op);
    Tensor onehot = raw::to(raw::one_hot(y, C), dtype);
    Tensor weighted_keep = raw::mul(class_weight, keep);  // (R, C): w[c] where kept
    coef = raw::mul(raw::add(raw::mul(onehot, Scalar(1.0 - eps)), Scalar(eps / C)), weighted_keep);
    denominator = raw::sum(raw::mul(onehot, weighted_keep));  // sum of w[y] over kept rows
  }
  Tensor per_row = raw::neg(raw::sum(raw::mul(coef, logp), {1}));  // (R)
  Tensor out;
  switch (options.reduction) {
    case Reduction::None: out = raw::reshape(per_row, rows.sample_shape); break;
    case Reduction::Sum: out = raw::sum(per_row); break;
    case Reduction::Mean: out = raw::div(raw::sum(per_row), denominator); break;
  }
  Shape permuted = input.sizes();
  for (size_t d = 0; d < rows.perm.size(); ++d) permuted[d] = input.size(rows.perm[d]);
  // The backward recomputes the softmax from the saved input with differentiable ops (one
  // pass, as exp(logp) would be), so that second derivatives are exact too.
  return autograd::record(
      op, {input}, out,
      [saved = autograd::SavedTensor(input, op), coef, denominator, reduction = options.reduction,
       perm = rows.perm, permuted, inverse = rows.inverse_perm](const Tensor& dout) {
        Tensor g;  // the gradient of each row's loss, (R, 1)
        switch (reduction) {
          case Reduction::None: g = dout.reshape({-1, 1}); break;
          case Reduction::Sum: g = dout; break;
          case Reduction::Mean: g = dout / denominator; break;
        }
        Tensor probs = softmax(saved.get().permute(perm).reshape({-1, coef.size(1)}), 1);
        Tensor drows = (probs * coef.sum({1}, true) - coef) * g;
        return std::vector<Tensor>{drows.reshape(permuted).permute(inverse)};
      });
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  const char* op = "nll_loss";
  const ClassRows rows = class_rows(input, target, false, options.weight, op);
  const int64_t C = rows.classes;
  auto [y, keep] = safe_targets(target, C, options.ignore_index, input.dtype(), op);
  Tensor w = raw::reshape(keep, {-1});  // (R): w[y] where kept
  if (options.weight.defined()) {
    w = raw::mul(w, raw::index_select(raw::to(raw::to(options.weight, input.dtype()),
                                              input.device()), 0, y));
  }
  Tensor picked = gather(input.permute(rows.perm).reshape({-1, C}), 1, raw::unsqueeze(y, 1));
  Tensor per_row = -(picked.reshape({-1}) * w);
  switch (options.reduction) {
    case Reduction::None: return per_row.reshape(rows.sample_shape);
    case Reduction::Sum: return per_row.sum();
    case Reduction::Mean: return per_row.sum() / raw::sum(w);
  }
  return per_row;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  require_same_shape(input, target, "mse_loss");
  Tensor d = input - target;
  return reduce(d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  require_same_shape(input, target, "l1_loss");
  return reduce(abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction,
                      double beta) {
  require_same_shape(input, target, "smooth_l1_loss");
  if (beta < 0) {
    throw ValueError("smooth_l1_loss: beta must be >= 0, got " + std::to_string(beta));
  }
  if (beta == 0) return l1_loss(input, target, reduction);
  Tensor d = abs(input - target);
  return reduce(where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  require_same_shape(input, target, "huber_loss");
  if (delta <= 0) {
    throw ValueError("huber_loss: delta must be > 0, got " + std::to_string(delta));
  }
  Tensor d = abs(input - target);
  return reduce(where(d <= delta, d * d * 0.5, (d - 0.5 * delta) * delta), reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
  require_same_shape(input, target, "binary_cross_entropy");
  // NOTE: log is clamped at -100, as PyTorch, so a prediction of exactly 0 or 1 costs 100.
  Tensor log_p = clamp(log(input), -100.0, std::nullopt);
  Tensor log_q = clamp(log(1.0 - input), -100.0, std::nullopt);
  Tensor loss = -(target * log_p + (1.0 - target) * log_q);
  if (weight.defined()) loss = loss * weight;
  return reduce(loss, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsOptions& options) {
  require_same_shape(input, target, "binary_cross_entropy_with_logits");
  // log(1 + exp(-x)) = m + log(exp(-m) + exp(-x - m)), m = max(-x, 0): no overflow.
  Tensor m = clamp(-input, 0.0, std::nullopt);
  Tensor softplus_neg = m + log(exp(-m) + exp(-input - m));
  Tensor loss;
  if (options.pos_weight.defined()) {
    Tensor log_weight = (options.pos_weight - 1.0) * target + 1.0;
    loss = (1.0 - target) * input + log_weight * softplus_neg;
  } else {
    loss = (1.0 - target) * input + softplus_neg;
  }
  if (options.weight.defined()) loss = loss * options.weight;
  return reduce(loss, options.reduction);
}

}  // namespace ignis::nn::functional

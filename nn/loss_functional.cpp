// nn::functional losses (nn/functional.h): cross_entropy as one op with its own backward (on
// the fused kernels of tensor/loss.h for class indices), the others composed from
// differentiable ops. Not the loss modules: nn/loss.h.
#include "nn/functional.h"

#include <string>
#include <vector>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/reductions.h"
#include "tensor/factory.h"
#include "tensor/index_ops.h"
#include "tensor/loss.h"
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


// The rows of `t` (N, C, d...) as (R, C): the class dim moved last, then flattened.
Tensor flat_rows(const Tensor& t, const ClassRows& rows) {
  return raw::reshape(raw::permute(t, rows.perm), {-1, rows.classes});
}

// The shape of input permuted by rows.perm, where a (R, C) gradient is reshaped back to.
Shape permuted_shape(const Tensor& input, const ClassRows& rows) {
  Shape permuted = input.sizes();
  for (size_t d = 0; d < rows.perm.size(); ++d) permuted[d] = input.size(rows.perm[d]);
  return permuted;
}

// Class indices: the fused kernels (tensor/loss.h), forward and backward, one pass over the
// logits each. Under create_graph the backward is written with differentiable ops instead,
// dlogits = (softmax(x) sum_c a_c - a) g with the per-class coefficients a (R, C) of
// nn/functional.h, so that second derivatives are exact.
Tensor cross_entropy_indices(const Tensor& input, const Tensor& target, const ClassRows& rows,
                             const CrossEntropyOptions& options) {
  const char* op = "cross_entropy";
  const DType dtype = input.dtype();
  const Tensor y = raw::reshape(raw::to(target, kInt64), {-1});  // (R)
  const Tensor weight = options.weight.defined()
                            ? raw::to(raw::to(options.weight, dtype), input.device())
                            : Tensor();  // (C) or undefined
  const CrossEntropyParams params{.ignore_index = options.ignore_index,
                                  .label_smoothing = options.label_smoothing};
  const raw::CrossEntropyRows fused =
      raw::cross_entropy_forward(flat_rows(input, rows), y, weight, params);
  Tensor denominator;  // sum of w[y] over kept rows: what Mean divides by
  Tensor out;
  switch (options.reduction) {
    case Reduction::None: out = raw::reshape(fused.loss, rows.sample_shape); break;
    case Reduction::Sum: out = raw::sum(fused.loss); break;
    case Reduction::Mean:
      denominator = raw::sum(fused.row_weight);
      out = raw::div(raw::sum(fused.loss), denominator);
      break;
  }
  return autograd::record(
      op, {input}, out,
      [saved = autograd::SavedTensor(input, op), y, weight, params, lse = fused.lse, denominator,
       reduction = options.reduction, rows, permuted = permuted_shape(input, rows),
       op](const Tensor& dout) {
        const Tensor x = saved.get();
        const int64_t R = lse.size(0);
        Tensor drows;  // (R, C)
        if (GradMode::is_enabled()) {
          Tensor g;  // the gradient of each row's loss, broadcasting to (R, 1)
          switch (reduction) {
            case Reduction::None: g = dout.reshape({-1, 1}); break;
            case Reduction::Sum: g = dout; break;
            case Reduction::Mean: g = dout / denominator; break;
          }
          auto [y_safe, keep] =
              safe_targets(y, rows.classes, params.ignore_index, x.dtype(), op);
          const int64_t C = rows.classes;
          const Tensor class_weight =
              weight.defined() ? raw::reshape(weight, {1, C})
                               : ones({1, C}, {.dtype = x.dtype(), .device = x.device()});
          const double eps = params.label_smoothing;
          const Tensor onehot = raw::to(raw::one_hot(y_safe, C), x.dtype());
          const Tensor coef =
              raw::mul(raw::add(raw::mul(onehot, Scalar(1.0 - eps)), Scalar(eps / C)),
                       raw::mul(class_weight, keep));  // (R, C)
          const Tensor probs = softmax(x.permute(rows.perm).reshape({-1, C}), 1);
          drows = (probs * coef.sum({1}, true) - coef) * g;
        } else {
          Tensor g;  // (R): the gradient of each row's loss
          switch (reduction) {
            case Reduction::None: g = raw::reshape(dout, {-1}); break;
            case Reduction::Sum: g = raw::expand(dout, {R}); break;
            case Reduction::Mean: g = raw::expand(raw::div(dout, denominator), {R}); break;
          }
          drows = raw::cross_entropy_backward(flat_rows(x, rows), y, weight, params, lse, g);
        }
        return std::vector<Tensor>{drows.reshape(permuted).permute(rows.inverse_perm)};
      });
}

// Class probabilities: composed from raw ops, loss_r = -sum_c a[r, c] logp[r, c] with
// a = w ((1 - eps) t + eps / C); the backward recomputes the softmax from the saved input
// with differentiable ops (second derivatives exact too).
Tensor cross_entropy_probs(const Tensor& input, const Tensor& target, const ClassRows& rows,
                           const CrossEntropyOptions& options) {
  const char* op = "cross_entropy";
  const double eps = options.label_smoothing;
  const int64_t C = rows.classes;
  const DType dtype = input.dtype();
  const Device device = input.device();
  Tensor logp = raw::log_softmax(flat_rows(input, rows), 1);  // (R, C)
  Tensor class_weight = options.weight.defined()
                            ? raw::reshape(raw::to(raw::to(options.weight, dtype), device), {1, C})
                            : ones({1, C}, {.dtype = dtype, .device = device});
  Tensor t = raw::to(flat_rows(target, rows), dtype);
  Tensor coef = raw::mul(raw::add(raw::mul(t, Scalar(1.0 - eps)), Scalar(eps / C)), class_weight);
  Tensor per_row = raw::neg(raw::sum(raw::mul(coef, logp), {1}));  // (R)
  Tensor out;
  switch (options.reduction) {
    case Reduction::None: out = raw::reshape(per_row, rows.sample_shape); break;
    case Reduction::Sum: out = raw::sum(per_row); break;
    case Reduction::Mean:
      out = raw::div(raw::sum(per_row), scalar_tensor(static_cast<double>(logp.size(0)), dtype,
                                                      device));
      break;
  }
  return autograd::record(
      op, {input}, out,
      [saved = autograd::SavedTensor(input, op), coef, reduction = options.reduction, rows,
       permuted = permuted_shape(input, rows)](const Tensor& dout) {
        Tensor g;  // the gradient of each row's loss, (R, 1)
        switch (reduction) {
          case Reduction::None: g = dout.reshape({-1, 1}); break;
          case Reduction::Sum: g = dout; break;
          case Reduction::Mean: g = dout / static_cast<double>(coef.size(0)); break;
        }
        Tensor probs = softmax(saved.get().permute(rows.perm).reshape({-1, coef.size(1)}), 1);
        Tensor drows = (probs * coef.sum({1}, true) - coef) * g;
        return std::vector<Tensor>{drows.reshape(permuted).permute(rows.inverse_perm)};
      });
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
  return prob_target ? cross_entropy_probs(input, target, rows, options)
                     : cross_entropy_indices(input, target, rows, options);
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

// Input-type detection, one-hot conversion and ClassCounter (metrics/classification.h).
// Every step is a tensor op on the input's device; nothing here reads a value on the host
// except require_computable(), which compute() calls.
#include "metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {
namespace {

std::string both_shapes(const Tensor& y_pred, const Tensor& y) {
  return "y_pred " + y_pred.shape_str() + " and y " + y.shape_str();
}

Tensor compare(BinaryOp op, const Tensor& t, const Scalar& value) {
  return raw::binary(op, t, wrap_scalar(value, t.device()));
}

// (B, C, d1, ...) -> (N, C), N = B * d1 * ...: the class dim moved last, each position a row.
Tensor as_rows(const Tensor& t) {
  const int64_t classes = t.size(1);
  Shape order = {0};
  for (int64_t d = 2; d < t.dim(); ++d) order.push_back(d);
  order.push_back(1);
  const Tensor moved = t.dim() == 2 ? t : raw::permute(t, order);
  return raw::reshape(moved, {classes == 0 ? 0 : t.numel() / classes, classes});
}

// (N,) int64 class indices -> (N, C) bool, row i true at column index[i] (no true for an
// index outside [0, C): compared, never used to address memory).
Tensor one_hot_rows(const Tensor& index, int64_t num_classes) {
  const Tensor classes =
      arange(num_classes, TensorOptions{.dtype = kInt64, .device = index.device()});
  return raw::binary(BinaryOp::Eq, raw::unsqueeze(index, 1), classes);
}

// 0-d int64: how many values of y are neither 0 nor 1.
Tensor count_not_binary(const Tensor& y) {
  return raw::sum(raw::binary(BinaryOp::LogicalAnd, compare(BinaryOp::Ne, y, 0),
                              compare(BinaryOp::Ne, y, 1)));
}

[[noreturn]] void throw_no_type(const char* metric, const Tensor& y_pred, const Tensor& y) {
  throw ShapeError(std::string(metric) + ": " + both_shapes(y_pred, y) +
                   " fit no input type: expected y_pred (B, C, ...) with y (B, ...) "
                   "(multiclass), or both of one shape (binary, or multilabel with "
                   "is_multilabel)");
}

}  // namespace

const char* input_type_name(InputType type) {
  switch (type) {
    case InputType::Binary: return "binary";
    case InputType::Multiclass: return "multiclass";
    case InputType::Multilabel: return "multilabel";
  }
  internal_error("input_type_name: bad type");
}

const char* average_name(Average average) {
  switch (average) {
    case Average::None: return "none";
    case Average::Micro: return "micro";
    case Average::Macro: return "macro";
    case Average::Weighted: return "weighted";
    case Average::Samples: return "samples";
  }
  internal_error("average_name: bad average");
}

InputType detect_input_type(const char* metric, const Tensor& y_pred, const Tensor& y,
                            const InputSpec& spec) {
  const std::string name(metric);
  if (!y_pred.defined() || !y.defined()) {
    throw ValueError(name + ": update needs y_pred and y, got an undefined " +
                     (y_pred.defined() ? "y" : "y_pred"));
  }
  if (y_pred.device() != y.device()) {
    throw DeviceError(name + ": y_pred is on " + y_pred.device().str() + " but y is on " +
                      y.device().str());
  }
  if (y_pred.dim() == 0 || y.dim() == 0) {
    throw ShapeError(name + ": " + both_shapes(y_pred, y) + " need a batch dimension");
  }
  if (y_pred.size(0) != y.size(0)) {
    throw ShapeError(name + ": " + both_shapes(y_pred, y) + " have different batch sizes");
  }
  InputType type;
  if (y_pred.dim() == y.dim() + 1 && !spec.is_multilabel) {
    const Shape& p = y_pred.sizes();
    if (!std::equal(p.begin() + 2, p.end(), y.sizes().begin() + 1, y.sizes().end())) {
      throw ShapeError(name + ": " + both_shapes(y_pred, y) +
                       " differ after the class dim: multiclass input is y_pred (B, C, ...) "
                       "with y (B, ...)");
    }
    // Ignite's rule: a class dim of size 1 is binary input, (B, 1, ...) with y (B, ...).
    type = y_pred.size(1) == 1 ? InputType::Binary : InputType::Multiclass;
  } else if (y_pred.dim() == y.dim() && y_pred.sizes() == y.sizes()) {
    type = spec.is_multilabel ? InputType::Multilabel : InputType::Binary;
    if (type == InputType::Multilabel && y.dim() < 2) {
      throw ShapeError(name + ": multilabel input is y_pred and y of shape (B, C, ...), got " +
                       both_shapes(y_pred, y));
    }
  } else {
    throw_no_type(metric, y_pred, y);
  }
  if (spec.multiclass_only && type != InputType::Multiclass) {
    throw ShapeError(name + ": expects multiclass input, y_pred (B, C, ...) scores with C > 1 "
                     "and y (B, ...) class indices, got " + both_shapes(y_pred, y));
  }
  if (type == InputType::Multiclass) {
    if (!is_integral(y.dtype(), /*include_bool=*/false)) {
      throw DTypeError(name + ": multiclass targets must be integer class indices, got y " +
                       dtype_name(y.dtype()));
    }
    if (y_pred.dtype() == kBool) {
      throw DTypeError(name + ": multiclass y_pred must hold scores, got bool");
    }
  }
  const int64_t classes = type == InputType::Binary ? 2 : y_pred.size(1);
  if (spec.num_classes && *spec.num_classes != classes) {
    throw ShapeError(name + ": y_pred " + y_pred.shape_str() + " is " + input_type_name(type) +
                     " input with " + std::to_string(classes) + " classes, but num_classes is " +
                     std::to_string(*spec.num_classes));
  }
  return type;
}

OneHotBatch to_one_hot(const char* metric, const Update& update, const InputSpec& spec) {
  const Tensor& y_pred = update.y_pred;
  const Tensor& y = update.y;
  const InputType type = detect_input_type(metric, y_pred, y, spec);
  OneHotBatch batch;
  batch.type = type;
  switch (type) {
    case InputType::Binary: {
      const Tensor labels = raw::to(compare(BinaryOp::Gt, raw::flatten(y_pred), spec.threshold),
                                    kInt64);
      batch.target_index = raw::to(raw::flatten(y), kInt64);
      batch.pred = one_hot_rows(labels, 2);
      batch.target = one_hot_rows(batch.target_index, 2);
      batch.invalid = count_not_binary(y);
      break;
    }
    case InputType::Multiclass: {
      const int64_t classes = y_pred.size(1);
      batch.scores = as_rows(y_pred);
      batch.target_index = raw::to(raw::flatten(y), kInt64);
      batch.pred = one_hot_rows(raw::argmax(batch.scores, 1), classes);
      batch.target = one_hot_rows(batch.target_index, classes);
      batch.invalid = raw::sum(raw::binary(BinaryOp::LogicalOr,
                                           compare(BinaryOp::Lt, batch.target_index, 0),
                                           compare(BinaryOp::Ge, batch.target_index, classes)));
      break;
    }
    case InputType::Multilabel:
      batch.pred = compare(BinaryOp::Gt, as_rows(y_pred), spec.threshold);
      batch.target = compare(BinaryOp::Eq, as_rows(y), 1);
      batch.invalid = count_not_binary(y);
      break;
  }
  return batch;
}

Tensor safe_divide(const Tensor& num, const Tensor& den) {
  const Tensor n = raw::to(num, kFloat64);
  const Tensor d = raw::to(den, kFloat64);
  const Tensor zero = compare(BinaryOp::Eq, d, 0);
  const Tensor one = wrap_scalar(1, d.device());
  return raw::where(zero, wrap_scalar(0, d.device()), raw::div(n, raw::where(zero, one, d)));
}

Tensor fbeta_from_counts(const Tensor& tp, const Tensor& predicted, const Tensor& actual,
                         double beta) {
  if (std::isinf(beta)) return safe_divide(tp, actual);
  // The order of sklearn's precision_recall_fscore_support, so that results agree to the bit.
  const double beta2 = beta * beta;
  const Tensor num = raw::mul(raw::to(tp, kFloat64), 1.0 + beta2);
  const Tensor den = raw::add(raw::mul(raw::to(actual, kFloat64), beta2),
                              raw::to(predicted, kFloat64));
  return safe_divide(num, den);
}

void ClassCounter::reset() {
  type_.reset();
  num_classes_ = 0;
  num_samples_ = 0;
  true_positives_ = predicted_ = actual_ = exact_matches_ = invalid_ = Tensor();
}

OneHotBatch ClassCounter::update(const Update& update) {
  OneHotBatch batch = to_one_hot(metric_, update, spec_);
  const int64_t classes = batch.pred.size(1);
  const Device device = batch.pred.device();
  if (type_) {
    if (*type_ != batch.type) {
      throw ValueError(std::string(metric_) + ": the input type changed from " +
                       input_type_name(*type_) + " to " + input_type_name(batch.type) +
                       " (call reset() first)");
    }
    if (classes != num_classes_) {
      throw ValueError(std::string(metric_) + ": the number of classes changed from " +
                       std::to_string(num_classes_) + " to " + std::to_string(classes) +
                       " (call reset() first)");
    }
    if (device != true_positives_.device()) {
      throw DeviceError(std::string(metric_) + ": this batch is on " + device.str() +
                        " but the earlier ones were on " + true_positives_.device().str() +
                        " (call reset() first)");
    }
  } else {
    type_ = batch.type;
    num_classes_ = classes;
    const TensorOptions counts{.dtype = kInt64, .device = device};
    true_positives_ = zeros({classes}, counts);
    predicted_ = zeros({classes}, counts);
    actual_ = zeros({classes}, counts);
    exact_matches_ = zeros({}, counts);
    invalid_ = zeros({}, counts);
  }
  const Tensor hits = raw::binary(BinaryOp::LogicalAnd, batch.pred, batch.target);  // (N, C)
  const Tensor wrong = raw::sum(raw::binary(BinaryOp::Ne, batch.pred, batch.target), {1});
  true_positives_ = raw::add(true_positives_, raw::sum(hits, {0}));
  predicted_ = raw::add(predicted_, raw::sum(batch.pred, {0}));
  actual_ = raw::add(actual_, raw::sum(batch.target, {0}));
  exact_matches_ = raw::add(exact_matches_, raw::sum(compare(BinaryOp::Eq, wrong, 0)));
  invalid_ = raw::add(invalid_, batch.invalid);
  num_samples_ += batch.pred.size(0);
  return batch;
}

void ClassCounter::require_computable(bool check_targets) const {
  if (num_samples_ == 0) {
    throw NotComputableError(std::string(metric_) +
                             " must have at least one example before it can be computed");
  }
  if (!check_targets) return;
  const int64_t invalid = invalid_.item<int64_t>();
  if (invalid > 0) {
    const std::string expected =
        *type_ == InputType::Multiclass
            ? "class indices in [0, " + std::to_string(num_classes_) + ")"
            : std::string("0 or 1");
    throw ValueError(std::string(metric_) + ": " + std::to_string(invalid) +
                     " targets seen since reset() are not " + expected);
  }
}

}  // namespace ignis::metrics

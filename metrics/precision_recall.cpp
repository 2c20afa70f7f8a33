// Precision, Recall and Fbeta (metrics/precision_recall.h): one F-beta state on top of
// ClassCounter, precision and recall being its beta = 0 and beta = +inf ends.
#include "metrics/precision_recall.h"

#include <cmath>
#include <limits>
#include <string>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {
namespace detail {

FbetaState::FbetaState(const char* metric, double beta, Average average, bool is_multilabel,
                       double threshold)
    : beta_(beta),
      average_(average),
      counter_(metric, {.is_multilabel = is_multilabel, .threshold = threshold}) {
  if (average == Average::Samples && !is_multilabel) {
    throw ValueError(std::string(metric) +
                     ": average samples needs multilabel input (is_multilabel = true)");
  }
}

void FbetaState::reset() {
  counter_.reset();
  sample_scores_ = Tensor();
}

void FbetaState::update(const Update& update) {
  const OneHotBatch batch = counter_.update(update);
  if (average_ != Average::Samples) return;
  const Tensor hits = raw::binary(BinaryOp::LogicalAnd, batch.pred, batch.target);
  const Tensor scores = fbeta_from_counts(raw::sum(hits, {1}), raw::sum(batch.pred, {1}),
                                          raw::sum(batch.target, {1}), beta_);  // (N,)
  const Tensor sum = raw::sum(scores);
  sample_scores_ = sample_scores_.defined() ? raw::add(sample_scores_, sum) : sum;
}

Tensor FbetaState::compute() const {
  counter_.require_computable();
  const Tensor& tp = counter_.true_positives();  // (C,)
  const Tensor& predicted = counter_.predicted();
  const Tensor& actual = counter_.actual();
  switch (average_) {
    case Average::None: {
      const Tensor per_class = fbeta_from_counts(tp, predicted, actual, beta_);
      return counter_.type() == InputType::Binary ? raw::select(per_class, 0, 1) : per_class;
    }
    case Average::Micro:
      return fbeta_from_counts(raw::sum(tp), raw::sum(predicted), raw::sum(actual), beta_);
    case Average::Macro:
      return raw::mean(fbeta_from_counts(tp, predicted, actual, beta_));
    case Average::Weighted: {
      const Tensor per_class = fbeta_from_counts(tp, predicted, actual, beta_);
      return safe_divide(raw::sum(raw::mul(per_class, raw::to(actual, kFloat64))),
                         raw::sum(actual));
    }
    case Average::Samples: {
      const Tensor n = scalar_tensor(counter_.num_samples(), kFloat64, sample_scores_.device());
      return raw::div(sample_scores_, n);
    }
  }
  internal_error("FbetaState::compute: bad average");
}

}  // namespace detail

namespace {

double checked_beta(double beta) {
  if (!std::isfinite(beta) || beta <= 0) {
    throw ValueError(std::string(Fbeta::kName) + ": beta must be finite and positive, got " +
                     std::to_string(beta));
  }
  return beta;
}

}  // namespace

Precision::Precision(PrecisionRecallOptions options)
    : state_(kName, 0.0, options.average, options.is_multilabel, options.threshold) {}

Recall::Recall(PrecisionRecallOptions options)
    : state_(kName, std::numeric_limits<double>::infinity(), options.average,
             options.is_multilabel, options.threshold) {}

Fbeta::Fbeta(double beta, FbetaOptions options)
    : state_(kName, checked_beta(beta), options.average, options.is_multilabel,
             options.threshold) {}

}  // namespace ignis::metrics

// ConfusionMatrix (metrics/confusion_matrix.h): one matrix product of the one-hot targets and
// predictions per batch.
#include "metrics/confusion_matrix.h"

#include <string>

#include "tensor/elementwise.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"

namespace ignis::metrics {
namespace {

int64_t checked_classes(int64_t num_classes) {
  if (num_classes < 2) {
    throw ValueError(std::string(ConfusionMatrix::kName) +
                     ": num_classes must be at least 2, got " + std::to_string(num_classes));
  }
  return num_classes;
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int64_t num_classes, Average average)
    : average_(average),
      counter_(kName, {.multiclass_only = true, .num_classes = checked_classes(num_classes)}) {}

void ConfusionMatrix::reset() {
  counter_.reset();
  matrix_ = Tensor();
}

void ConfusionMatrix::update(const Update& update) {
  const OneHotBatch batch = counter_.update(update);
  // (C, N) @ (N, C): entry [t][p] counts the samples with target t and prediction p.
  const Tensor counts = raw::matmul(raw::t(raw::to(batch.target, kFloat64)),
                                    raw::to(batch.pred, kFloat64));
  matrix_ = matrix_.defined() ? raw::add(matrix_, counts) : counts;
}

Tensor ConfusionMatrix::compute() const {
  counter_.require_computable(/*check_targets=*/false);
  switch (average_) {
    case Average::None: return raw::to(matrix_, kInt64);
    case Average::Samples: return safe_divide(matrix_, raw::sum(matrix_));
    case Average::Recall: return safe_divide(matrix_, raw::sum(matrix_, {1}, true));
    case Average::Precision: return safe_divide(matrix_, raw::sum(matrix_, {0}, true));
  }
  internal_error("ConfusionMatrix::compute: bad average");
}

}  // namespace ignis::metrics

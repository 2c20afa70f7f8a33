// metrics::Loss: the batch-size-weighted accumulation of a loss function's values.
// Not the loss functions (nn/loss.h).
#include "metrics/loss.h"

#include <string>

#include "autograd/grad_mode.h"
#include "tensor/elementwise.h"

namespace ignis::metrics {

void Loss::reset() {
  sum_ = Tensor();
  count_ = 0;
}

void Loss::update(const Update& update) {
  if (!update.y_pred.defined() || !update.y.defined()) {
    throw ValueError(std::string("Loss: needs y_pred and y, got an undefined ") +
                     (update.y_pred.defined() ? "y" : "y_pred"));
  }
  Tensor loss;
  {
    NoGradGuard no_grad;
    loss = loss_fn_(update.y_pred, update.y);
  }
  if (!loss.defined() || loss.dim() != 0) {
    throw ShapeError("Loss: loss_fn must return the batch's mean loss as a 0-d tensor, got " +
                     (loss.defined() ? loss.shape_str() : std::string("an undefined tensor")) +
                     " for y_pred " + update.y_pred.shape_str() + " and y " +
                     update.y.shape_str());
  }
  int64_t n = 0;
  if (batch_size_) {
    n = batch_size_(update.y);
  } else if (update.y.dim() == 0) {
    throw ShapeError("Loss: y is 0-d, so it has no batch size; pass a batch_size function");
  } else {
    n = update.y.size(0);
  }
  if (n < 0) throw ValueError("Loss: batch_size returned " + std::to_string(n));
  const Tensor weighted = raw::mul(raw::to(loss, kFloat64), wrap_scalar(n, loss.device()));
  sum_ = sum_.defined() ? raw::add(sum_, weighted) : weighted;
  count_ += n;
}

Tensor Loss::compute() const {
  if (count_ == 0) {
    throw NotComputableError("Loss must have at least one example before it can be computed");
  }
  return raw::div(sum_, wrap_scalar(static_cast<double>(count_), sum_.device()));
}

}  // namespace ignis::metrics

// metrics::Loss: the average of a loss function over every example of an epoch (Ignite's
// Loss), weighted by batch size. Not a loss to train with: those are nn/loss.h's modules,
// which this metric can wrap.
//
//   nn::CrossEntropyLoss criterion;
//   metrics::Loss(criterion).attach(evaluator, "loss");   // holds a reference to criterion
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "metrics/metric.h"

namespace ignis::metrics {

// value = sum_b loss_fn(y_pred_b, y_b) * n_b / sum_b n_b over the batches b since reset(),
// n_b = batch_size(y_b) (default: y_b.size(0), Ignite's len(y)). loss_fn returns the mean
// loss of its batch as a 0-d tensor; it runs under NoGradGuard. The sums stay in float64
// tensors on the loss's device: update() reads nothing back to the host.
//
// loss_fn is any callable (const Tensor& y_pred, const Tensor& y) -> Tensor:
//   - an lvalue that cannot be copied (an nn module such as nn::CrossEntropyLoss) is held by
//     reference: it must outlive the metric and its copies (those attached from a temporary
//     included);
//   - a copyable one (a lambda, a function, std::ref(module)) is copied;
//   - an rvalue that cannot be copied (Loss(nn::CrossEntropyLoss())) is moved into storage
//     that the metric's copies share.
// update() throws ValueError for an undefined y_pred or y, or a negative batch size;
// ShapeError when loss_fn returns a tensor that is not 0-d, or when the default batch size
// meets a 0-d y; and whatever loss_fn throws. compute() throws NotComputableError before any
// example.
class Loss : public MetricBase<Loss> {
 public:
  static constexpr const char* kName = "Loss";
  using LossFn = std::function<Tensor(const Tensor& y_pred, const Tensor& y)>;
  using BatchSizeFn = std::function<int64_t(const Tensor& y)>;

  template <class F>
  requires std::is_invocable_r_v<Tensor, F&, const Tensor&, const Tensor&>
  explicit Loss(F&& loss_fn, BatchSizeFn batch_size = {})
      : loss_fn_(hold(std::forward<F>(loss_fn))), batch_size_(std::move(batch_size)) {}

  void reset() override;
  using Metric::update;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  template <class F>
  static LossFn hold(F&& fn) {
    if constexpr (std::is_copy_constructible_v<std::decay_t<F>>) {
      return LossFn(std::forward<F>(fn));
    } else if constexpr (std::is_lvalue_reference_v<F>) {
      auto* held = &fn;
      return [held](const Tensor& y_pred, const Tensor& y) -> Tensor { return (*held)(y_pred, y); };
    } else {
      auto held = std::make_shared<std::remove_cvref_t<F>>(std::move(fn));
      return [held](const Tensor& y_pred, const Tensor& y) -> Tensor { return (*held)(y_pred, y); };
    }
  }

  LossFn loss_fn_;
  BatchSizeFn batch_size_;  // empty: y.size(0)
  Tensor sum_;              // 0-d float64: sum of loss * n; undefined until the first update
  int64_t count_ = 0;       // sum of n
};

}  // namespace ignis::metrics

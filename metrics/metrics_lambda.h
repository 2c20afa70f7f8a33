// Metric arithmetic (Ignite's MetricsLambda): a metric whose value is a function of other
// metrics' values, and the operators + - * / that build one from metrics and numbers.
// Not a metric with state of its own: its operands hold it.
//
//   auto f1 = precision * recall * 2.0 / (precision + recall);   // a MetricsLambda
//   f1.attach(evaluator, "f1");
//   metrics::MetricsLambda([](const Tensor& a, const Tensor& b) { return a - b; }, m1, m2);
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "metrics/metric.h"

namespace ignis::metrics {

namespace detail {
template <class>
using AsTensor = const Tensor&;
}  // namespace detail

// value = fn(m_1.compute(), ..., m_k.compute()), fn run under NoGradGuard on the operands'
// values as they compute them (0-d float64 for scalar metrics). The operands are copies of
// the metrics given (so temporaries work, and the originals are left alone): update() and
// reset() go to every copy, with the same Update. Attaching a MetricsLambda attaches nothing
// else. Throws whatever the operands or fn throw (NotComputableError before any update).
class MetricsLambda : public MetricBase<MetricsLambda> {
 public:
  static constexpr const char* kName = "MetricsLambda";

  // fn: (const Tensor&, ...) -> Tensor, one argument per metric.
  template <class F, class... Ms>
  requires(sizeof...(Ms) > 0 && (std::derived_from<Ms, Metric> && ...) &&
           std::is_invocable_r_v<Tensor, F&, detail::AsTensor<Ms>...>)
  explicit MetricsLambda(F fn, const Ms&... metrics)
      : fn_(combine(std::move(fn), std::index_sequence_for<Ms...>())),
        operands_{MetricCopy(metrics)...} {}

  void reset() override;
  using Metric::update;
  void update(const Update& update) override;
  Tensor compute() const override;

 private:
  using Combine = std::function<Tensor(const std::vector<Tensor>& values)>;

  template <class F, std::size_t... I>
  static Combine combine(F fn, std::index_sequence<I...>) {
    return [fn = std::move(fn)](const std::vector<Tensor>& values) mutable -> Tensor {
      return fn(values[I]...);
    };
  }

  Combine fn_;
  std::vector<MetricCopy> operands_;
};

// Elementwise arithmetic of metric values, in float64: (a + b).compute() is
// a.compute() + b.compute(), broadcast as tensors (ShapeError when the shapes do not fit).
// A number stands for a constant: metric * 2.0, 1.0 - metric.
MetricsLambda operator+(const Metric& a, const Metric& b);
MetricsLambda operator-(const Metric& a, const Metric& b);
MetricsLambda operator*(const Metric& a, const Metric& b);
MetricsLambda operator/(const Metric& a, const Metric& b);
MetricsLambda operator+(const Metric& a, double b);
MetricsLambda operator-(const Metric& a, double b);
MetricsLambda operator*(const Metric& a, double b);
MetricsLambda operator/(const Metric& a, double b);
MetricsLambda operator+(double a, const Metric& b);
MetricsLambda operator-(double a, const Metric& b);
MetricsLambda operator*(double a, const Metric& b);
MetricsLambda operator/(double a, const Metric& b);

}  // namespace ignis::metrics

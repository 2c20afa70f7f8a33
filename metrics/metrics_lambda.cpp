// MetricsLambda's update / compute and the metric arithmetic operators.
// Not the metrics it combines.
#include "metrics/metrics_lambda.h"

#include "autograd/grad_mode.h"
#include "autograd/math.h"

namespace ignis::metrics {

void MetricsLambda::reset() {
  for (MetricCopy& operand : operands_) operand->reset();
}

void MetricsLambda::update(const Update& update) {
  for (MetricCopy& operand : operands_) operand->update(update);
}

Tensor MetricsLambda::compute() const {
  std::vector<Tensor> values;
  values.reserve(operands_.size());
  for (const MetricCopy& operand : operands_) values.push_back(operand->compute());
  NoGradGuard no_grad;
  return fn_(values);
}

namespace {

template <class Op>
MetricsLambda metric_op_metric(const Metric& a, const Metric& b, Op op) {
  return MetricsLambda(
      [op](const Tensor& x, const Tensor& y) { return op(x.to(kFloat64), y.to(kFloat64)); }, a, b);
}

template <class Op>
MetricsLambda metric_op_number(const Metric& a, double b, Op op) {
  return MetricsLambda([op, b](const Tensor& x) { return op(x.to(kFloat64), b); }, a);
}

template <class Op>
MetricsLambda number_op_metric(double a, const Metric& b, Op op) {
  return MetricsLambda([op, a](const Tensor& y) { return op(a, y.to(kFloat64)); }, b);
}

}  // namespace

MetricsLambda operator+(const Metric& a, const Metric& b) {
  return metric_op_metric(a, b, std::plus<>());
}
MetricsLambda operator-(const Metric& a, const Metric& b) {
  return metric_op_metric(a, b, std::minus<>());
}
MetricsLambda operator*(const Metric& a, const Metric& b) {
  return metric_op_metric(a, b, std::multiplies<>());
}
MetricsLambda operator/(const Metric& a, const Metric& b) {
  return metric_op_metric(a, b, std::divides<>());
}
MetricsLambda operator+(const Metric& a, double b) { return metric_op_number(a, b, std::plus<>()); }
MetricsLambda operator-(const Metric& a, double b) {
  return metric_op_number(a, b, std::minus<>());
}
MetricsLambda operator*(const Metric& a, double b) {
  return metric_op_number(a, b, std::multiplies<>());
}
MetricsLambda operator/(const Metric& a, double b) {
  return metric_op_number(a, b, std::divides<>());
}
MetricsLambda operator+(double a, const Metric& b) { return number_op_metric(a, b, std::plus<>()); }
MetricsLambda operator-(double a, const Metric& b) {
  return number_op_metric(a, b, std::minus<>());
}
MetricsLambda operator*(double a, const Metric& b) {
  return number_op_metric(a, b, std::multiplies<>());
}
MetricsLambda operator/(double a, const Metric& b) {
  return number_op_metric(a, b, std::divides<>());
}

}  // namespace ignis::metrics

// Loss modules (nn/loss.h): their buffers; the formulas are in nn/loss_functional.cpp.
#include "nn/loss.h"

namespace ignis::nn {

CrossEntropyLoss::CrossEntropyLoss(functional::CrossEntropyOptions opts)
    : Loss("CrossEntropyLoss"), options(std::move(opts)) {
  if (options.weight.defined()) register_buffer("weight", options.weight);
}

Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, options);
}

NLLLoss::NLLLoss(functional::NLLLossOptions opts) : Loss("NLLLoss"), options(std::move(opts)) {
  if (options.weight.defined()) register_buffer("weight", options.weight);
}

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target, options);
}

BCELoss::BCELoss(Tensor w, Reduction r) : Loss("BCELoss"), weight(std::move(w)), reduction(r) {
  if (weight.defined()) register_buffer("weight", weight);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(functional::BCEWithLogitsOptions opts)
    : Loss("BCEWithLogitsLoss"), options(std::move(opts)) {
  if (options.weight.defined()) register_buffer("weight", options.weight);
  if (options.pos_weight.defined()) register_buffer("pos_weight", options.pos_weight);
}

}  // namespace ignis::nn

// The multi-tensor driver's non-template part (see multi_tensor.h): the overlap and
// layout checks, and the bookkeeping of the tensors a step writes.
#include "optim/multi_tensor.h"


namespace ignis::optim::detail {

ByteRange byte_range(const Tensor& t) {
  const auto first = reinterpret_cast<uintptr_t>(t.raw_data());
  return {first, first + t.nbytes()};
}

bool disjoint(std::vector<ByteRange>& ranges) {
  std::erase_if(ranges, [](const ByteRange& r) { return r.first == r.second; });
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) return false;
  }
  return true;
}

namespace {

// param contiguous floating point, each defined tensor of others contiguous with its device
// and dtype.
bool same_layout(const Tensor& param, std::initializer_list<Tensor> others) {
  if (!param.is_contiguous() || !param.is_floating_point()) return false;
  for (const Tensor& t : others) {
    if (t.defined() && (t.device() != param.device() || !t.is_contiguous() ||
                        t.dtype() != param.dtype())) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool fusable(const Tensor& param, std::initializer_list<Tensor> others) {
  return param.is_cpu() && same_layout(param, others);
}

bool device_fusable(const Tensor& param, std::initializer_list<Tensor> others) {
  return !param.is_cpu() && same_layout(param, others);
}

StepTensors::StepTensors(size_t capacity) {
  params_.reserve(capacity);
  grads_.reserve(capacity);
  ranges_.reserve(4 * capacity);
}

void StepTensors::add(const Tensor& param, const Tensor& grad,
                      std::initializer_list<Tensor> buffers) {
  params_.push_back(param);
  grads_.push_back(grad);
  ranges_.push_back(byte_range(param));
  ranges_.push_back(byte_range(grad));
  for (const Tensor& t : buffers) {
    if (t.defined()) ranges_.push_back(byte_range(t));
  }
}

void StepTensors::finish(bool zero_grads, bool grads_zeroed_in_pass) const {
  for (const Tensor& p : params_) p.bump_version();
  if (!zero_grads) return;
  for (const Tensor& g : grads_) {
    if (grads_zeroed_in_pass) {
      g.bump_version();
    } else {
      raw::fill_(g, 0.0);
    }
  }
}

}  // namespace ignis::optim::detail

// The multi-tensor driver's non-template part (see multi_tensor.h): the overlap and
// layout checks.
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

bool fusable(const Tensor& param, std::initializer_list<Tensor> others) {
  if (!param.is_cpu() || !param.is_contiguous() || !param.is_floating_point()) return false;
  for (const Tensor& t : others) {
    if (t.defined() && (t.device() != param.device() || !t.is_contiguous() ||
                        t.dtype() != param.dtype())) {
      return false;
    }
  }
  return true;
}

}  // namespace ignis::optim::detail

// The multi-tensor driver of the fused optimizer steps: one parallel_for over the elements of
// many CPU parameters laid end to end, and the device slots (adam_step, sgd_step) over many
// device parameters. Internal to optim/; not the update rules (adam.cpp, sgd.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/tensor.h"
#include "tensor/thread_pool.h"

namespace ignis::optim::detail {

// Elements per chunk of a fused step: below twice this, a step runs on the calling thread.
constexpr int64_t kStepGrain = int64_t{1} << 16;

// Calls fn(s, begin, end) on elements [begin, end) of segment s, for every segment s
// (sizes[s] elements each, sizes >= 0), with ONE parallel_for over the concatenated range
// [0, sum(sizes)): many small segments cost one dispatch, a large one is split evenly, and a
// chunk that straddles segments calls fn once per piece. fn must be elementwise: the split
// depends on the thread count and must not change a result.
template <typename F>
void for_each_segment_chunk(const std::vector<int64_t>& sizes, int64_t grain, F&& fn) {
  std::vector<int64_t> starts(sizes.size() + 1, 0);  // starts[s]: first element of segment s
  for (size_t s = 0; s < sizes.size(); ++s) starts[s + 1] = starts[s] + sizes[s];
  parallel_for(0, starts.back(), grain, [&](int64_t lo, int64_t hi) {
    // The last segment starting at or before lo (skipping empty ones).
    auto s = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end() - 1, lo) -
                                 starts.begin() - 1);
    for (; lo < hi; ++s) {
      const int64_t end = std::min(hi, starts[s + 1]);
      if (end > lo) fn(s, lo - starts[s], end - starts[s]);
      lo = end;
    }
  });
}

// The bytes [first, one past the last) of a contiguous tensor's elements.
using ByteRange = std::pair<uintptr_t, uintptr_t>;
ByteRange byte_range(const Tensor& t);

// True when no two of `ranges` share a byte (empty ranges share none): zero-filling a
// gradient right after reading it is then safe within one pass. Sorts `ranges`.
bool disjoint(std::vector<ByteRange>& ranges);

// True when `param` is a contiguous floating-point CPU tensor and each defined tensor of
// `others` (its gradient, its state buffers) is contiguous with its device and dtype: what a
// fused pass can update through raw pointers.
bool fusable(const Tensor& param, std::initializer_list<Tensor> others);

// As fusable, for a parameter on any device but the CPU.
bool device_fusable(const Tensor& param, std::initializer_list<Tensor> others);

// The tensors one fused step writes: which parameters to mark written, which gradients to
// zero, and every buffer's bytes, to check that zeroing a gradient in the pass is safe.
class StepTensors {
 public:
  explicit StepTensors(size_t capacity);

  // Records `param`, whose update reads `grad` and writes `buffers` (undefined ones skipped).
  void add(const Tensor& param, const Tensor& grad, std::initializer_list<Tensor> buffers);

  // True when the gradients can be zero-filled in the pass: no tensor of the step overlaps
  // another (a gradient shared by two parameters must be read twice before it is zeroed).
  bool can_zero_grads_in_pass() { return disjoint(ranges_); }

  // After the pass: marks the parameters written, and when zero_grads, the gradients zeroed
  // (grads_zeroed_in_pass) or zero-fills them now.
  void finish(bool zero_grads, bool grads_zeroed_in_pass) const;

 private:
  std::vector<Tensor> params_, grads_;
  std::vector<ByteRange> ranges_;  // every buffer of the pass: params, grads, state
};

// The fusable parameters of one step of one group, as segments Segment<float> and
// Segment<double> (each with a member `int64_t n`, its element count, and the pointers and
// per-parameter constants of its update), run as one pass by run().
template <template <typename> class Segment>
class SegmentList {
 public:
  // Room for `capacity` parameters: adding them reallocates nothing.
  explicit SegmentList(size_t capacity) : tensors_(capacity) {}

  // Appends a segment of `param`, whose update reads `grad` and writes `buffers`.
  template <typename T>
  void add(const Segment<T>& segment, const Tensor& param, const Tensor& grad,
           std::initializer_list<Tensor> buffers) {
    if constexpr (std::is_same_v<T, float>) {
      f32_.push_back(segment);
    } else {
      f64_.push_back(segment);
    }
    tensors_.add(param, grad, buffers);
  }

  // See StepTensors.
  bool can_zero_grads_in_pass() { return tensors_.can_zero_grads_in_pass(); }

  // Calls fn(segment, begin, end) on elements [begin, end) of every segment (a generic
  // lambda taking const Segment<T>&), in one parallel_for over all of them (see
  // for_each_segment_chunk); then marks the parameters written, and zero-fills the gradients
  // when zero_grads (in the pass when grads_zeroed_in_pass, afterwards otherwise).
  template <typename F>
  void run(F&& fn, bool zero_grads, bool grads_zeroed_in_pass) const {
    std::vector<int64_t> sizes;
    sizes.reserve(f32_.size() + f64_.size());
    for (const Segment<float>& s : f32_) sizes.push_back(s.n);
    for (const Segment<double>& s : f64_) sizes.push_back(s.n);
    for_each_segment_chunk(sizes, kStepGrain, [&](size_t s, int64_t begin, int64_t end) {
      if (s < f32_.size()) {
        fn(f32_[s], begin, end);
      } else {
        fn(f64_[s - f32_.size()], begin, end);
      }
    });
    tensors_.finish(zero_grads, grads_zeroed_in_pass);
  }

 private:
  std::vector<Segment<float>> f32_;
  std::vector<Segment<double>> f64_;
  StepTensors tensors_;
};

// The device_fusable parameters of one step of one group, as segments of a device slot
// (AdamStepSegment with AdamStepConstants, SGDStepSegment with SGDStepConstants): run()
// calls the slot once per (device, dtype) batch, in the order the batches first appeared.
template <typename Segment, typename Constants>
class DeviceSegmentList {
 public:
  using Slot = void(Device, DType, const Constants&, std::span<const Segment>, bool);

  DeviceSegmentList(Slot* KernelTable::*slot, size_t capacity)
      : slot_(slot), tensors_(capacity) {}

  // True when `param` is device_fusable with `others` and its device's table fills the slot.
  bool accepts(const Tensor& param, std::initializer_list<Tensor> others) const {
    return device_fusable(param, others) && kernel_table(param.device().type).*slot_ != nullptr;
  }

  // Appends `segment` (of an accepted `param`, whose update reads `grad` and writes `buffers`).
  void add(const Segment& segment, const Tensor& param, const Tensor& grad,
           std::initializer_list<Tensor> buffers) {
    auto batch = std::find_if(batches_.begin(), batches_.end(), [&](const Batch& b) {
      return b.device == param.device() && b.dtype == param.dtype();
    });
    if (batch == batches_.end()) {
      batches_.push_back({param.device(), param.dtype(), {}});
      batch = batches_.end() - 1;
    }
    batch->segments.push_back(segment);
    tensors_.add(param, grad, buffers);
  }

  // See StepTensors.
  bool can_zero_grads_in_pass() { return tensors_.can_zero_grads_in_pass(); }

  // Runs the slot (named `op` in errors) on every batch with the group's constants, then
  // marks the parameters written and zero-fills the gradients when zero_grads (in the
  // kernels when grads_zeroed_in_pass, afterwards otherwise).
  void run(const Constants& constants, const char* op, bool zero_grads,
           bool grads_zeroed_in_pass) const {
    for (const Batch& b : batches_) {
      get_kernel(slot_, b.device, op)(b.device, b.dtype, constants, b.segments,
                                      zero_grads && grads_zeroed_in_pass);
    }
    tensors_.finish(zero_grads, grads_zeroed_in_pass);
  }

 private:
  struct Batch {
    Device device;
    DType dtype;
    std::vector<Segment> segments;
  };
  Slot* KernelTable::*slot_;
  std::vector<Batch> batches_;
  StepTensors tensors_;
};

}  // namespace ignis::optim::detail

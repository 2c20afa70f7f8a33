// The N-d strided loop every CPU map kernel is built on (copy, fill, elementwise): it walks
// an output shape and up to 4 operands' strides as rows of the innermost dimension, so the
// kernel's own loop is a tight 1-d loop over (pointers, row length, row strides).
// Not a kernel: it knows no dtype and no op. Internal to tensor/cpu/.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "tensor/tensor.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {

// Elements per parallel_for chunk for cheap elementwise work: big enough that a chunk
// outlasts the wake-up of a parked worker.
inline constexpr int64_t kElementwiseGrain = 32768;

// N operands viewed over one iteration shape, in bytes. Dims are coalesced: size-1 dims are
// dropped and a dim merges into its inner neighbour when every operand steps through the
// pair as one dim, so a contiguous tensor of any shape becomes a single row.
template <size_t N>
class StridedLoop {
 public:
  using Pointers = std::array<char*, N>;
  using Strides = std::array<int64_t, N>;  // bytes

  // `operands` must all have `sizes` as their shape (broadcast inputs already expanded, with
  // 0 strides); operand 0 is usually the output.
  StridedLoop(const Shape& sizes, const std::array<Tensor, N>& operands) {
    numel_ = numel_of(sizes);
    for (size_t k = 0; k < N; ++k) {
      IGNIS_INTERNAL_ASSERT(operands[k].sizes() == sizes);
      base_[k] = static_cast<char*>(operands[k].raw_data());
    }
    for (size_t d = 0; d < sizes.size(); ++d) {
      if (sizes[d] == 1) continue;
      Strides step;
      for (size_t k = 0; k < N; ++k) {
        step[k] = operands[k].strides()[d] * static_cast<int64_t>(operands[k].itemsize());
      }
      if (!sizes_.empty() && mergeable(step, sizes[d])) {
        // The previous (outer) dim and this one are a single dim of the combined size.
        sizes_.back() *= sizes[d];
        strides_.back() = step;
      } else {
        sizes_.push_back(sizes[d]);
        strides_.push_back(step);
      }
    }
  }

  int64_t numel() const { return numel_; }
  int64_t ndim() const { return static_cast<int64_t>(sizes_.size()); }
  // The coalesced view, for kernels that choose their own traversal (the tiled copy):
  // sizes outermost first, and per dim the byte strides of each operand.
  const Shape& sizes() const { return sizes_; }
  const Strides& strides(int64_t d) const { return strides_[static_cast<size_t>(d)]; }
  const Pointers& base() const { return base_; }

  // Calls row(pointers, strides, n) over the elements [begin, end) of the row-major order,
  // one call per (piece of a) row of the innermost dim.
  template <typename Row>
  void run(int64_t begin, int64_t end, Row&& row) const {
    if (begin >= end) return;
    if (sizes_.empty()) {  // one element (0-d or all sizes 1)
      row(base_, Strides{}, int64_t{1});
      return;
    }
    const size_t inner = sizes_.size() - 1;
    const int64_t row_size = sizes_[inner];
    const Strides& row_strides = strides_[inner];
    Shape index(sizes_.size());  // multi-index of `begin`
    int64_t rest = begin;
    for (size_t d = sizes_.size(); d-- > 0;) {
      index[d] = rest % sizes_[d];
      rest /= sizes_[d];
    }
    while (begin < end) {
      Pointers ptrs = base_;
      for (size_t d = 0; d < sizes_.size(); ++d) {
        for (size_t k = 0; k < N; ++k) ptrs[k] += index[d] * strides_[d][k];
      }
      const int64_t n = std::min(row_size - index[inner], end - begin);
      row(ptrs, row_strides, n);
      begin += n;
      index[inner] += n;
      for (size_t d = inner; d > 0 && index[d] == sizes_[d]; --d) {  // carry
        index[d] = 0;
        ++index[d - 1];
      }
    }
  }

  template <typename Row>
  void run(Row&& row) const {
    run(0, numel_, row);
  }

  // As run(), split over the thread pool in chunks of at least `grain` elements. Each element
  // is visited once, by one thread; the split never changes which operands an element reads.
  template <typename Row>
  void parallel_run(Row&& row, int64_t grain = kElementwiseGrain) const {
    if (numel_ <= grain) {
      run(0, numel_, row);
      return;
    }
    parallel_for(0, numel_, grain, [&](int64_t lo, int64_t hi) { run(lo, hi, row); });
  }

 private:
  bool mergeable(const Strides& inner_step, int64_t inner_size) const {
    for (size_t k = 0; k < N; ++k) {
      if (strides_.back()[k] != inner_step[k] * inner_size) return false;
    }
    return true;
  }

  int64_t numel_ = 0;
  Pointers base_{};
  Shape sizes_;                   // coalesced, outermost first
  std::vector<Strides> strides_;  // per coalesced dim, per operand
};

// One row of map_kernel: out[i] = f(in[i]...) for i < n, operand k at p[k] with byte
// stride s[k] (operand 0 is out). The contiguous case is a plain indexed loop, which the
// compiler vectorises when f allows.
template <typename Out, typename... In, typename F, size_t... K>
void map_row(const std::array<char*, sizeof...(In) + 1>& p,
             const std::array<int64_t, sizeof...(In) + 1>& s, int64_t n, F& f,
             std::index_sequence<K...>) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  const std::tuple<const In*...> in{reinterpret_cast<const In*>(p[K + 1])...};
  const bool contiguous = s[0] == static_cast<int64_t>(sizeof(Out)) &&
                          ((s[K + 1] == static_cast<int64_t>(sizeof(In))) && ...);
  if (contiguous) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(std::get<K>(in)[i]...);
  } else {
    for (int64_t i = 0; i < n; ++i) {
      *reinterpret_cast<Out*>(p[0] + i * s[0]) =
          f(*reinterpret_cast<const In*>(p[K + 1] + i * s[K + 1])...);
    }
  }
}

// out[i] = f(in[i]...) over tensors of out's shape (inputs may have 0 strides), in parallel
// chunks of at least `grain` elements (lower it for expensive f):
//   map_kernel<float, float, float>(out, [](float a, float b) { return a + b; }, {a, b});
template <typename Out, typename... In, typename F>
void map_kernel(const Tensor& out, F f, const std::array<Tensor, sizeof...(In)>& in,
                int64_t grain = kElementwiseGrain) {
  constexpr size_t N = sizeof...(In) + 1;
  std::array<Tensor, N> operands;
  operands[0] = out;
  std::copy(in.begin(), in.end(), operands.begin() + 1);
  StridedLoop<N> loop(out.sizes(), operands);
  loop.parallel_run([&](const std::array<char*, N>& p, const std::array<int64_t, N>& s, int64_t n) {
    map_row<Out, In...>(p, s, n, f, std::index_sequence_for<In...>{});
  }, grain);
}

}  // namespace ignis::cpu

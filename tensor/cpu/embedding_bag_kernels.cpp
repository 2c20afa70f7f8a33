// CPU kernels of the embedding_bag_forward / embedding_bag_backward slots (tensor/dispatch.h
// states the contract): the fused sum and mean bags. Not the reading of the bags on the host
// nor the argument checks: nn/embedding_bag.cpp hands over checked, contiguous tensors.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

// Glossary: V weight rows of width D, B bags, K kept entries over all bags.

// Rows per parallel chunk so that a chunk holds at least ~64K elements of width D.
int64_t row_grain(int64_t D) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(D, 1));
}

// divisor_b of the slot's contract: the bag's size, at least 1 (mean only).
template <typename T>
T bag_divisor(const int64_t* bag_first, int64_t b) {
  return static_cast<T>(static_cast<double>(std::max<int64_t>(bag_first[b + 1] - bag_first[b], 1)));
}

// out (B, D): each bag's rows added in entry order from 0, then divided (mean).
template <typename T>
void forward_cpu(const T* weight, const int64_t* index, const int64_t* bag_first, bool mean,
                 int64_t B, int64_t D, T* out) {
  const int64_t K = bag_first[B];
  const int64_t grain = std::max<int64_t>(1, row_grain(D) * B / std::max<int64_t>(K, 1));
  parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* o = out + b * D;
      std::fill(o, o + D, T(0));
      for (int64_t k = bag_first[b]; k < bag_first[b + 1]; ++k) {
        const T* w = weight + index[k] * D;
        for (int64_t d = 0; d < D; ++d) o[d] += w[d];
      }
      if (mean) {
        const T divisor = bag_divisor<T>(bag_first, b);
        for (int64_t d = 0; d < D; ++d) o[d] /= divisor;
      }
    }
  });
}

// dweight (V, D): each chunk of rows is zeroed in one memset, then each of its rows with
// entries gets its entries' scaled dout rows added in input order (the CSR order), so a row's
// sum is the same for every thread count.
template <typename T>
void backward_cpu(const T* dout, const int64_t* bag_first, const int64_t* rows,
                  const int64_t* row_first, const int64_t* row_bag, bool mean, int64_t B,
                  int64_t R, int64_t V, int64_t D, T* dweight) {
  std::vector<T> divided;  // (B, D) dout / divisor, once per bag (mean only)
  const T* scaled = dout;  // (B, D)
  if (mean) {
    divided.assign(dout, dout + B * D);
    for (int64_t b = 0; b < B; ++b) {
      const T divisor = bag_divisor<T>(bag_first, b);
      for (int64_t d = 0; d < D; ++d) divided[b * D + d] /= divisor;
    }
    scaled = divided.data();
  }
  parallel_for(0, V, row_grain(D), [&](int64_t r0, int64_t r1) {
    std::memset(dweight + r0 * D, 0, static_cast<size_t>((r1 - r0) * D) * sizeof(T));
    const int64_t j0 = std::lower_bound(rows, rows + R, r0) - rows;
    const int64_t j1 = std::lower_bound(rows + j0, rows + R, r1) - rows;
    for (int64_t j = j0; j < j1; ++j) {
      T* g = dweight + rows[j] * D;
      for (int64_t e = row_first[j]; e < row_first[j + 1]; ++e) {
        const T* s = scaled + row_bag[e] * D;
        for (int64_t d = 0; d < D; ++d) g[d] += s[d];
      }
    }
  });
}

}  // namespace

void embedding_bag_forward(const Tensor& weight, const Tensor& index, const Tensor& bag_first,
                           bool mean, const Tensor& out) {
  visit_floating(weight.dtype(), "embedding_bag", [&]<typename T>() {
    forward_cpu<T>(weight.data_ptr<T>(), index.data_ptr<int64_t>(),
                   bag_first.data_ptr<int64_t>(), mean, out.size(0), out.size(1),
                   out.data_ptr<T>());
  });
}

void embedding_bag_backward(const Tensor& dout, const Tensor& bag_first, const Tensor& rows,
                            const Tensor& row_first, const Tensor& row_bag, bool mean,
                            const Tensor& dweight) {
  visit_floating(dout.dtype(), "embedding_bag", [&]<typename T>() {
    backward_cpu<T>(dout.data_ptr<T>(), bag_first.data_ptr<int64_t>(), rows.data_ptr<int64_t>(),
                    row_first.data_ptr<int64_t>(), row_bag.data_ptr<int64_t>(), mean,
                    dout.size(0), rows.size(0), dweight.size(0), dweight.size(1),
                    dweight.data_ptr<T>());
  });
}

}  // namespace ignis::cpu

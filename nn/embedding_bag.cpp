// nn::functional::embedding_bag (nn/functional.h): fused CPU loops for the sum and mean modes
// (forward: gather and reduce each bag in one pass; backward: the dense (V, D) gradient zeroed
// and accumulated in one pass), each recorded with the other as its backward. The max mode,
// per_sample_weights and other devices are composed from differentiable ops. Not the plain
// embedding lookup: nn/functional.cpp.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/function.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis::nn::functional {
namespace {

// Glossary: V embeddings of width D, B bags, K kept (non-padding) entries over all bags.

// The bags, read on the host: the kept entries in input order (so bag b's entries are the
// contiguous run [first[b], first[b + 1])), each with its flat position in input, its row in
// the weight and its bag, and each bag's divisor (its size, at least 1, for mean; 1 for sum).
struct Bags {
  std::vector<int64_t> position, index, bag;  // (K)
  std::vector<int64_t> first;                 // (B + 1)
  std::vector<double> divisor;                // (B)
  int64_t num_embeddings = 0;                 // V
  bool mean = false;                          // divide each bag's sum by its divisor

  int64_t num_bags() const { return static_cast<int64_t>(divisor.size()); }
};

// Bag b holds the flat entries [starts[b], starts[b + 1]); checks offsets and indices.
Bags make_bags(const Tensor& input, const Tensor& offsets, bool include_last_offset,
               std::optional<int64_t> padding_idx, int64_t V, EmbeddingBagMode mode) {
  const char* op = "embedding_bag";
  if (input.is_floating_point() || input.dtype() == kBool) {
    throw DTypeError(std::string(op) + ": expected integer indices, got " +
                     dtype_name(input.dtype()));
  }
  const std::vector<int64_t> indices = input.to_vector<int64_t>();
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<int64_t> starts;
  if (input.dim() == 2) {
    if (offsets.defined()) {
      throw ValueError(std::string(op) + ": offsets must be undefined for a 2-d input " +
                       input.shape_str());
    }
    for (int64_t b = 0; b <= input.size(0); ++b) starts.push_back(b * input.size(1));
  } else if (input.dim() == 1) {
    if (!offsets.defined() || offsets.dim() != 1) {
      throw ShapeError(std::string(op) + ": a 1-d input needs 1-d offsets, got " +
                       (offsets.defined() ? offsets.shape_str() : std::string("none")));
    }
    starts = offsets.to_vector<int64_t>();
    if (!include_last_offset) starts.push_back(n);
    if (starts.size() < 2) {
      throw ShapeError(std::string(op) + ": include_last_offset needs at least 1 offset");
    }
    if (starts.front() != 0) {
      throw ValueError(std::string(op) + ": offsets[0] has to be 0, got " +
                       std::to_string(starts.front()));
    }
    for (size_t b = 1; b < starts.size(); ++b) {
      if (starts[b] < starts[b - 1] || starts[b] > n) {
        throw ValueError(std::string(op) + ": offsets must be non-decreasing and at most " +
                         std::to_string(n) + " (the number of indices), got " +
                         std::to_string(starts[b]) + " at position " + std::to_string(b));
      }
    }
  } else {
    throw ShapeError(std::string(op) + ": expected a 1-d or 2-d input, got " + input.shape_str());
  }
  std::optional<int64_t> pad;
  if (padding_idx) pad = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  const size_t num_bags = starts.size() - 1;
  Bags bags;
  bags.num_embeddings = V;
  bags.mean = mode == EmbeddingBagMode::Mean;
  bags.position.reserve(indices.size());
  bags.index.reserve(indices.size());
  bags.bag.reserve(indices.size());
  bags.first.reserve(num_bags + 1);
  bags.divisor.reserve(num_bags);
  for (size_t b = 0; b < num_bags; ++b) {
    bags.first.push_back(static_cast<int64_t>(bags.index.size()));
    for (int64_t j = starts[b]; j < starts[b + 1]; ++j) {
      const int64_t i = indices[j];
      if (i < 0 || i >= V) {
        throw IndexError(std::string(op) + ": index " + std::to_string(i) +
                         " is out of range for " + std::to_string(V) + " embeddings");
      }
      if (pad && i == *pad) continue;
      bags.position.push_back(j);
      bags.index.push_back(i);
      bags.bag.push_back(static_cast<int64_t>(b));
    }
    const auto size = static_cast<int64_t>(bags.index.size()) - bags.first.back();
    bags.divisor.push_back(bags.mean ? static_cast<double>(std::max<int64_t>(size, 1)) : 1.0);
  }
  bags.first.push_back(static_cast<int64_t>(bags.index.size()));
  return bags;
}

// A 1-d int64 tensor of `values` on `device`.
Tensor int64_tensor(const std::vector<int64_t>& values, Device device) {
  return raw::to(from_vector(values, Shape{static_cast<int64_t>(values.size())}), device);
}

// Rows per parallel chunk so that a chunk holds at least ~64K elements of width D.
int64_t row_grain(int64_t D) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(D, 1));
}

// out (B, D): out[b] = (sum over bag b's kept entries k of weight[index[k]]) / divisor[b]
// (no division for sum). Entries are added in input order from 0, as scatter_add would.
template <typename T>
void bag_reduce_cpu(const Bags& bags, const T* weight, T* out, int64_t D) {
  const int64_t B = bags.num_bags();
  const int64_t K = static_cast<int64_t>(bags.index.size());
  const int64_t grain = std::max<int64_t>(1, row_grain(D) * B / std::max<int64_t>(K, 1));
  parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* o = out + b * D;
      std::fill(o, o + D, T(0));
      for (int64_t k = bags.first[b]; k < bags.first[b + 1]; ++k) {
        const T* w = weight + bags.index[k] * D;
        for (int64_t d = 0; d < D; ++d) o[d] += w[d];
      }
      if (bags.mean) {
        const T divisor = static_cast<T>(bags.divisor[b]);
        for (int64_t d = 0; d < D; ++d) o[d] /= divisor;
      }
    }
  });
}

// dweight (V, D) = 0, then dweight[index[k]] += dout[bag[k]] / divisor[bag[k]] for every kept
// entry k in input order. Each chunk of rows zeroes and fills only its own rows, so a row's
// additions happen in the same order for every thread count (bit-identical results).
template <typename T>
void bag_scatter_cpu(const Bags& bags, const T* dout, T* dweight, int64_t D) {
  const int64_t B = bags.num_bags();
  const int64_t K = static_cast<int64_t>(bags.index.size());
  std::vector<T> scaled(dout, dout + B * D);  // (B, D) dout / divisor, once per bag
  if (bags.mean) {
    for (int64_t b = 0; b < B; ++b) {
      const T divisor = static_cast<T>(bags.divisor[b]);
      for (int64_t d = 0; d < D; ++d) scaled[b * D + d] /= divisor;
    }
  }
  parallel_for(0, bags.num_embeddings, row_grain(D), [&](int64_t r0, int64_t r1) {
    std::memset(dweight + r0 * D, 0, static_cast<size_t>((r1 - r0) * D) * sizeof(T));
    for (int64_t k = 0; k < K; ++k) {
      const int64_t r = bags.index[k];
      if (r < r0 || r >= r1) continue;
      T* g = dweight + r * D;
      const T* s = scaled.data() + bags.bag[k] * D;
      for (int64_t d = 0; d < D; ++d) g[d] += s[d];
    }
  });
}

Tensor bag_scatter(const Tensor& dout, const std::shared_ptr<const Bags>& bags);

// The fused forward on a CPU float weight (V, D) -> (B, D); its backward is bag_scatter.
Tensor bag_reduce(const Tensor& weight, const std::shared_ptr<const Bags>& bags) {
  const Tensor w = raw::contiguous(weight);
  const int64_t D = w.size(1);
  Tensor out = empty({bags->num_bags(), D}, {.dtype = w.dtype(), .device = w.device()});
  visit_floating(w.dtype(), "embedding_bag", [&]<typename T>() {
    bag_reduce_cpu<T>(*bags, w.data_ptr<T>(), out.data_ptr<T>(), D);
  });
  return autograd::record("embedding_bag", {weight}, out, [bags](const Tensor& dout) {
    return std::vector<Tensor>{bag_scatter(dout, bags)};
  });
}

// The fused backward: dout (B, D) -> the dense dweight (V, D); linear in dout, so its own
// backward is bag_reduce (second derivatives come free).
Tensor bag_scatter(const Tensor& dout, const std::shared_ptr<const Bags>& bags) {
  const Tensor g = raw::contiguous(dout);
  const int64_t D = g.size(1);
  Tensor dweight = empty({bags->num_embeddings, D}, {.dtype = g.dtype(), .device = g.device()});
  visit_floating(g.dtype(), "embedding_bag", [&]<typename T>() {
    bag_scatter_cpu<T>(*bags, g.data_ptr<T>(), dweight.data_ptr<T>(), D);
  });
  return autograd::record("embedding_bag_backward", {dout}, dweight,
                          [bags](const Tensor& ddweight) {
                            return std::vector<Tensor>{bag_reduce(ddweight, bags)};
                          });
}

// Any mode, any device, with per_sample_weights: index_select of the kept rows, then
// scatter_add per bag (sum, mean) or a max over bags padded with -inf rows.
Tensor embedding_bag_composite(const Bags& bags, const Tensor& weight,
                               const Tensor& per_sample_weights, EmbeddingBagMode mode) {
  const int64_t D = weight.size(1);
  const int64_t B = bags.num_bags();
  const int64_t K = static_cast<int64_t>(bags.index.size());
  const Device device = weight.device();
  const TensorOptions like{.dtype = weight.dtype(), .device = device};
  Tensor rows = index_select(weight, 0, int64_tensor(bags.index, device));  // (K, D)
  if (per_sample_weights.defined()) {
    Tensor scale = index_select(per_sample_weights.reshape({-1}), 0,
                                int64_tensor(bags.position, device));
    rows = rows * scale.unsqueeze(1);
  }
  if (mode == EmbeddingBagMode::Max) {
    // Each bag padded to the longest with a -inf row; empty bags are set to 0 afterwards.
    int64_t T = 0;
    for (int64_t b = 0; b < B; ++b) T = std::max(T, bags.first[b + 1] - bags.first[b]);
    if (T == 0) return zeros({B, D}, like);
    std::vector<int64_t> slot(static_cast<size_t>(B * T), K), empty_bag(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t k = bags.first[b]; k < bags.first[b + 1]; ++k) {
        slot[b * T + k - bags.first[b]] = k;
      }
      empty_bag[b] = bags.first[b + 1] == bags.first[b];
    }
    Tensor with_floor = cat({rows, full({1, D}, -std::numeric_limits<double>::infinity(), like)});
    Tensor padded = index_select(with_floor, 0, int64_tensor(slot, device)).view({B, T, D});
    Tensor is_empty = raw::to(raw::to(from_vector(empty_bag, Shape{B, 1}), kBool), device);
    return masked_fill(max(padded, 1).first, is_empty, 0.0);
  }
  Tensor bag_index =
      raw::contiguous(raw::expand(raw::unsqueeze(int64_tensor(bags.bag, device), 1), {K, D}));
  Tensor out = scatter_add(zeros({B, D}, like), 0, bag_index, rows);  // (B, D) sums
  if (!bags.mean) return out;
  return out / raw::to(raw::to(from_vector(bags.divisor, Shape{B, 1}), weight.dtype()), device);
}

}  // namespace

Tensor embedding_bag(const Tensor& input, const Tensor& weight, const Tensor& offsets,
                     EmbeddingBagMode mode, const Tensor& per_sample_weights,
                     bool include_last_offset, std::optional<int64_t> padding_idx) {
  const char* op = "embedding_bag";
  if (weight.dim() != 2) {
    throw ShapeError(std::string(op) + ": expected a 2-d weight (V, D), got " + weight.shape_str());
  }
  if (per_sample_weights.defined()) {
    if (mode != EmbeddingBagMode::Sum) {
      throw ValueError(std::string(op) + ": per_sample_weights are only supported for mode "
                       "'sum', got mode '" + embedding_bag_mode_name(mode) + "'");
    }
    if (per_sample_weights.sizes() != input.sizes()) {
      throw ShapeError(std::string(op) + ": per_sample_weights " + per_sample_weights.shape_str() +
                       " must have the shape of input " + input.shape_str());
    }
  }
  auto bags = std::make_shared<const Bags>(
      make_bags(input, offsets, include_last_offset, padding_idx, weight.size(0), mode));
  const bool fused = weight.is_cpu() && mode != EmbeddingBagMode::Max &&
                     !per_sample_weights.defined() &&
                     (weight.dtype() == kFloat32 || weight.dtype() == kFloat64);
  if (fused) return bag_reduce(weight, bags);
  return embedding_bag_composite(*bags, weight, per_sample_weights, mode);
}

}  // namespace ignis::nn::functional

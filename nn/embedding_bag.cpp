// nn::functional::embedding_bag (nn/functional.h): the bags read on the host, then the sum and
// mean modes through the fused embedding_bag_forward / embedding_bag_backward slots of the
// weight's device (tensor/cpu/embedding_bag_kernels.cpp, cuda/embedding_bag.cu), each recorded
// with the other as its backward. The max mode, per_sample_weights and devices without the
// slots are composed from differentiable ops. Not the plain embedding lookup: nn/functional.cpp.
#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/function.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "tensor/dispatch.h"
#include "tensor/factory.h"
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

// The bags as the embedding_bag slots take them (tensor/dispatch.h), on the weight's device:
// views of one int64 tensor, uploaded in one copy.
struct FusedBags {
  std::shared_ptr<const Bags> host;  // for the row-grouped order the backward builds
  Tensor index;                      // (K) each kept entry's weight row, in input order
  Tensor bag_first;                  // (B + 1) bag b is the entries [first[b], first[b + 1])
};

std::shared_ptr<const FusedBags> fused_bags(std::shared_ptr<const Bags> bags, Device device) {
  const auto K = static_cast<int64_t>(bags->index.size());
  const auto B1 = static_cast<int64_t>(bags->first.size());
  Tensor packed = empty({K + B1}, {.dtype = kInt64});  // [index (K) | bag_first (B + 1)]
  int64_t* p = packed.data_ptr<int64_t>();
  std::copy(bags->index.begin(), bags->index.end(), p);
  std::copy(bags->first.begin(), bags->first.end(), p + K);
  packed = raw::to(packed, device);
  return std::make_shared<const FusedBags>(
      FusedBags{std::move(bags), raw::narrow(packed, 0, 0, K), raw::narrow(packed, 0, K, B1)});
}

// The kept entries grouped by weight row, as the backward slot takes them (a compressed sparse
// row list of the R rows that have entries): rows (R) increasing, row_first (R + 1), row_bag
// (K) each entry's bag, each row's entries in input order; views of one int64 tensor on
// `device`, uploaded in one copy.
struct RowEntries {
  Tensor rows, row_first, row_bag;
};

// The entries are ordered by row with a least-significant-digit radix sort over 8-bit digits
// of the row: stable, so each row keeps its entries in input order, and linear in K (a pass
// per 8 bits of V - 1) with no work per weight row.
RowEntries entries_by_row(const Bags& bags, Device device) {
  const auto K = static_cast<int64_t>(bags.index.size());
  std::vector<int64_t> order(static_cast<size_t>(K)), sorted(static_cast<size_t>(K));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (int shift = 0; ((bags.num_embeddings - 1) >> shift) > 0; shift += 8) {
    std::array<int64_t, 257> start{};  // start[digit + 1] counts, then running sums
    for (const int64_t k : order) ++start[((bags.index[k] >> shift) & 255) + 1];
    std::partial_sum(start.begin(), start.end(), start.begin());
    for (const int64_t k : order) sorted[start[(bags.index[k] >> shift) & 255]++] = k;
    order.swap(sorted);
  }
  std::vector<int64_t> rows, row_first;
  for (int64_t e = 0; e < K; ++e) {
    const int64_t r = bags.index[order[e]];
    if (rows.empty() || rows.back() != r) {
      rows.push_back(r);
      row_first.push_back(e);
    }
  }
  row_first.push_back(K);
  const auto R = static_cast<int64_t>(rows.size());
  Tensor packed = empty({K + 2 * R + 1}, {.dtype = kInt64});  // [row_bag | rows | row_first]
  int64_t* p = packed.data_ptr<int64_t>();
  for (int64_t e = 0; e < K; ++e) p[e] = bags.bag[order[e]];
  std::copy(rows.begin(), rows.end(), p + K);
  std::copy(row_first.begin(), row_first.end(), p + K + R);
  packed = raw::to(packed, device);
  return {.rows = raw::narrow(packed, 0, K, R),
          .row_first = raw::narrow(packed, 0, K + R, R + 1),
          .row_bag = raw::narrow(packed, 0, 0, K)};
}

Tensor bag_scatter(const Tensor& dout, const std::shared_ptr<const FusedBags>& bags);

// The fused forward, weight (V, D) -> (B, D) through the embedding_bag_forward slot; its
// backward is bag_scatter.
Tensor bag_reduce(const Tensor& weight, const std::shared_ptr<const FusedBags>& bags) {
  const Tensor w = raw::contiguous(weight);
  Tensor out =
      empty({bags->host->num_bags(), w.size(1)}, {.dtype = w.dtype(), .device = w.device()});
  get_kernel(&KernelTable::embedding_bag_forward, w.device(), "embedding_bag")(
      w, bags->index, bags->bag_first, bags->host->mean, out);
  return autograd::record("embedding_bag", {weight}, out, [bags](const Tensor& dout) {
    return std::vector<Tensor>{bag_scatter(dout, bags)};
  });
}

// The fused backward, dout (B, D) -> the dense dweight (V, D) through the
// embedding_bag_backward slot; linear in dout, so its own backward is bag_reduce (second
// derivatives come free).
Tensor bag_scatter(const Tensor& dout, const std::shared_ptr<const FusedBags>& bags) {
  const Tensor g = raw::contiguous(dout);
  const RowEntries entries = entries_by_row(*bags->host, g.device());
  Tensor dweight =
      empty({bags->host->num_embeddings, g.size(1)}, {.dtype = g.dtype(), .device = g.device()});
  get_kernel(&KernelTable::embedding_bag_backward, g.device(), "embedding_bag")(
      g, bags->bag_first, entries.rows, entries.row_first, entries.row_bag, bags->host->mean,
      dweight);
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
  const KernelTable& kernels = kernel_table(weight.device().type);
  const bool fused = kernels.embedding_bag_forward != nullptr &&
                     kernels.embedding_bag_backward != nullptr && mode != EmbeddingBagMode::Max &&
                     !per_sample_weights.defined() &&
                     (weight.dtype() == kFloat32 || weight.dtype() == kFloat64);
  if (fused) return bag_reduce(weight, fused_bags(bags, weight.device()));
  return embedding_bag_composite(*bags, weight, per_sample_weights, mode);
}

}  // namespace ignis::nn::functional

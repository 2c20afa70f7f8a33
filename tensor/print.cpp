// Printing tensors as PyTorch does: nested brackets, one common width and precision per
// tensor (4 decimals, scientific when magnitudes span too much), the middle of each dim
// elided when there are more than 1000 elements, then dtype and shape.
// Not a serialisation format: see the safetensors code for that.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "tensor/elementwise.h"

namespace ignis {
namespace {

constexpr int64_t kSummarizeThreshold = 1000;  // more elements than this: elide
constexpr int64_t kEdgeItems = 3;              // shown at each end of an elided dim
constexpr int64_t kLineWidth = 80;
constexpr const char* kPrefix = "tensor(";

// The indices of a dim of `size` that are printed; -1 marks the "..." between the edges.
std::vector<int64_t> shown_indices(int64_t size, bool summarize) {
  std::vector<int64_t> out;
  if (summarize && size > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) out.push_back(i);
    out.push_back(-1);
    for (int64_t i = size - kEdgeItems; i < size; ++i) out.push_back(i);
  } else {
    for (int64_t i = 0; i < size; ++i) out.push_back(i);
  }
  return out;
}

// Formats every element of a contiguous host tensor to strings of one width.
class Printer {
 public:
  Printer(const Tensor& host, bool summarize) : host_(host), summarize_(summarize) {
    sizes_ = host.sizes();
    collect(0, 0);
    choose_float_format();
  }

  std::string format(int64_t linear) const {
    std::string text = visit_dtype(host_.dtype(), [&]<typename T>() {
      return format_value(static_cast<const T*>(host_.raw_data())[linear]);
    });
    return std::string(static_cast<size_t>(width_) - std::min(text.size(), size_t(width_)), ' ') +
           text;
  }

  // Writes dim `dim` of the block starting at element `base`.
  void write(std::ostream& os, size_t dim, int64_t base) const {
    const int64_t ndim = static_cast<int64_t>(sizes_.size());
    const int64_t indent =
        static_cast<int64_t>(std::string(kPrefix).size()) + static_cast<int64_t>(dim) + 1;
    const int64_t block =
        numel_of(Shape(sizes_.begin() + static_cast<int64_t>(dim) + 1, sizes_.end()));
    const std::vector<int64_t> indices = shown_indices(sizes_[dim], summarize_);
    os << '[';
    if (static_cast<int64_t>(dim) == ndim - 1) {
      const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / (width_ + 2));
      for (size_t j = 0; j < indices.size(); ++j) {
        if (j > 0) {
          os << ',';
          if (static_cast<int64_t>(j) % per_line == 0) {
            os << '\n' << std::string(static_cast<size_t>(indent), ' ');
          } else {
            os << ' ';
          }
        }
        if (indices[j] < 0) {
          os << " ...";  // as PyTorch: one space wider than the outer dims' "..."
        } else {
          os << format(base + indices[j]);
        }
      }
    } else {
      // A blank line between 2-d blocks, two between 3-d blocks, ... as PyTorch.
      std::string separator(1, ',');
      separator.append(static_cast<size_t>(ndim) - dim - 1, '\n');
      separator.append(static_cast<size_t>(indent), ' ');
      for (size_t j = 0; j < indices.size(); ++j) {
        if (j > 0) os << separator;
        if (indices[j] < 0) {
          os << "...";
        } else {
          write(os, dim + 1, base + indices[j] * block);
        }
      }
    }
    os << ']';
  }

 private:
  // Gathers the shown values' magnitudes (floats) to choose a format.
  void collect(size_t dim, int64_t base) {
    if (dim == sizes_.size()) {
      visit_dtype(host_.dtype(), [&]<typename T>() {
        if constexpr (std::is_floating_point_v<T>) {
          const double v = static_cast<const T*>(host_.raw_data())[base];
          if (std::isfinite(v) && v != 0) magnitudes_.push_back(std::fabs(v));
        }
      });
      shown_.push_back(base);
      return;
    }
    const int64_t block =
        numel_of(Shape(sizes_.begin() + static_cast<int64_t>(dim) + 1, sizes_.end()));
    for (int64_t i : shown_indices(sizes_[dim], summarize_)) {
      if (i >= 0) collect(dim + 1, base + i * block);
    }
  }

  void choose_float_format() {
    if (!magnitudes_.empty()) {
      const auto [lo, hi] = std::minmax_element(magnitudes_.begin(), magnitudes_.end());
      scientific_ = *hi > 1e8 || *lo < 1e-4 || *hi / *lo > 1000;
    }
    width_ = 0;
    for (int64_t linear : shown_) {
      const std::string text = visit_dtype(host_.dtype(), [&]<typename T>() {
        return format_value(static_cast<const T*>(host_.raw_data())[linear]);
      });
      width_ = std::max<int64_t>(width_, static_cast<int64_t>(text.size()));
    }
  }

  template <typename T>
  std::string format_value(T v) const {
    if constexpr (std::is_same_v<T, bool>) {
      return v ? "True" : "False";
    } else if constexpr (std::is_integral_v<T>) {
      return std::to_string(static_cast<int64_t>(v));
    } else {
      if (std::isnan(v)) return "nan";
      if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
      char buf[64];
      std::snprintf(buf, sizeof(buf), scientific_ ? "%.4e" : "%.4f", static_cast<double>(v));
      return buf;
    }
  }

  const Tensor& host_;
  bool summarize_;
  Shape sizes_;
  std::vector<int64_t> shown_;      // linear indices of the printed elements
  std::vector<double> magnitudes_;  // |v| of the printed finite nonzero floats
  bool scientific_ = false;
  int64_t width_ = 0;
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const Tensor host = raw::contiguous(raw::to(t, Device::cpu()));
  os << kPrefix;
  if (host.numel() == 0) {
    os << "[]";
  } else {
    Printer printer(host, host.numel() > kSummarizeThreshold);
    if (host.dim() == 0) {
      os << printer.format(0);
    } else {
      printer.write(os, 0, 0);
    }
  }
  os << ", dtype=" << dtype_name(t.dtype()) << ", shape=" << t.shape_str();
  if (!t.is_cpu()) os << ", device=" << t.device().str();
  return os << ')';
}

std::string Tensor::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

}  // namespace ignis

// A gtest assertion comparing two tensors value by value within |got - want| <= rtol |want| +
// atol, reporting the first mismatches with their indices. Test support only, header-only.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ignis::test {

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
};

inline std::string index_str(int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(index);
}

// Same dtype, same shape, and every value within tolerance (NaN never passes).
inline ::testing::AssertionResult tensors_close(const std::string& what, const Tensor& got,
                                                const Tensor& want, Tolerance tol) {
  if (!got.defined()) return ::testing::AssertionFailure() << what << ": undefined tensor";
  if (got.dtype() != want.dtype()) {
    return ::testing::AssertionFailure() << what << ": dtype " << dtype_name(got.dtype())
                                         << ", expected " << dtype_name(want.dtype());
  }
  if (got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure() << what << ": shape " << got.shape_str()
                                         << ", expected " << want.shape_str();
  }
  const std::vector<double> g = got.to_vector<double>();
  const std::vector<double> w = want.to_vector<double>();
  std::ostringstream report;
  report.precision(17);
  int64_t mismatches = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double allowed = tol.rtol * std::abs(w[i]) + tol.atol;
    const double diff = std::abs(g[i] - w[i]);
    if (diff <= allowed && !std::isnan(g[i])) continue;
    if (mismatches < 5) {
      report << "\n  at " << index_str(static_cast<int64_t>(i), want.sizes()) << ": got "
             << g[i] << ", expected " << w[i] << " (|diff| " << diff << ", allowed " << allowed
             << ")";
    }
    ++mismatches;
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " " << want.shape_str() << ": " << mismatches
                                       << " of " << w.size() << " values differ"
                                       << report.str();
}

}  // namespace ignis::test

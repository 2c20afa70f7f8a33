// Test support for tests/optim/: the cases of optim_fixtures.txt (written by
// tests/reference/make_optim_fixtures.py) and a tolerance check that reports the first
// mismatches. Header-only; not a library.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixture.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace ignis::test {

// Every case of optim_fixtures.txt, read once.
inline const std::vector<FixtureCase>& optim_fixtures() {
  static const std::vector<FixtureCase> cases =
      load_fixtures(std::string(IGNIS_TEST_DATA_DIR) + "/reference/optim_fixtures.txt");
  return cases;
}

// The case named `name` in `dtype`; throws ValueError if the file has none.
inline const FixtureCase& optim_case(const std::string& name, const std::string& dtype) {
  for (const FixtureCase& c : optim_fixtures()) {
    if (c.name == name && c.dtype == dtype) return c;
  }
  throw ValueError("optim_fixtures.txt has no case " + name + " " + dtype);
}

// Succeeds when |got - want| <= rtol * |want| + atol * scale for every element, scale being
// max(1, max |want|); else fails naming the first mismatching elements.
inline ::testing::AssertionResult all_close(const Tensor& got, const Tensor& want, double rtol,
                                            double atol) {
  if (got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << got.shape_str() << ", expected " << want.shape_str();
  }
  const std::vector<double> g = got.to_vector<double>();
  const std::vector<double> w = want.to_vector<double>();
  double scale = 1.0;
  for (double v : w) scale = std::max(scale, std::abs(v));
  std::ostringstream bad;
  int mismatches = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (std::abs(g[i] - w[i]) <= rtol * std::abs(w[i]) + atol * scale) continue;
    if (mismatches++ < 5) bad << " [" << i << "] got " << g[i] << " want " << w[i] << ";";
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << mismatches << " of " << w.size()
                                       << " elements differ:" << bad.str();
}

// The fixture tolerances: rtol 1e-5, atol 1e-6 in float32; rtol 1e-10, atol 1e-12 in float64.
inline ::testing::AssertionResult close_for_dtype(const Tensor& got, const Tensor& want) {
  return want.dtype() == kFloat32 ? all_close(got, want, 1e-5, 1e-6)
                                  : all_close(got, want, 1e-10, 1e-12);
}

}  // namespace ignis::test

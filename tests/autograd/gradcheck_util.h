// Helpers for the autograd tests: float64 leaves of a given layout (contiguous, transposed,
// strided, empty) and a gtest assertion around gradcheck. Not a test itself.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "autograd/math.h"
#include "tensor/factory.h"

namespace ignis::testing {

// How a test input is laid out in memory. Transposed and Strided give non-contiguous leaves.
enum class Layout { Contiguous, Transposed, Strided };

inline const std::vector<Layout> kLayouts = {Layout::Contiguous, Layout::Transposed,
                                             Layout::Strided};

inline const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Contiguous: return "contiguous";
    case Layout::Transposed: return "transposed";
    case Layout::Strided: return "strided";
  }
  return "?";
}

// Values: Normal ~ N(0, 1); Positive in [0.5, 1.5) (for log, sqrt, pow, ...).
enum class Values { Normal, Positive };

// A float64 leaf of `shape` that requires grad, laid out as asked (transposed needs >= 2
// dims; other shapes fall back to contiguous). Seeded: the same values on every run.
inline Tensor leaf(const Shape& shape, Layout layout = Layout::Contiguous,
                   Values values = Values::Normal, uint64_t seed = 1) {
  Generator gen(seed);
  auto make = [&](const Shape& s) {
    Tensor t = values == Values::Normal ? randn(s, {.dtype = kFloat64}, &gen)
                                        : rand(s, {.dtype = kFloat64}, &gen) + 0.5;
    return t;
  };
  NoGradGuard no_grad;
  Tensor t;
  if (layout == Layout::Transposed && shape.size() >= 2) {
    Shape swapped = shape;
    std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
    t = make(swapped).transpose(-1, -2);
  } else if (layout == Layout::Strided && !shape.empty()) {
    Shape wide = shape;
    wide.back() *= 2;
    t = make(wide).slice(-1, 0, wide.back(), 2);
  } else {
    t = make(shape);
  }
  t.requires_grad_();
  return t;
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

inline ::testing::AssertionResult gradcheck_ok(const Fn& fn, const std::vector<Tensor>& inputs,
                                                double eps = 1e-6, double atol = 1e-5,
                                                double rtol = 1e-3) {
  autograd::GradcheckResult result = autograd::gradcheck(fn, inputs, eps, atol, rtol);
  if (result.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.message;
}

}  // namespace ignis::testing

// Gradchecks of autograd/reductions.h over all dims, some dims, keepdim, non-contiguous and
// empty inputs, plus the tie and zero rules (amax splits ties, max picks the index, norm at 0).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "autograd/reductions.h"
#include "gradcheck_util.h"

namespace ignis {
namespace {

using testing::gradcheck_ok;
using testing::kLayouts;
using testing::Layout;
using testing::layout_name;
using testing::leaf;
using testing::Values;
using Inputs = std::vector<Tensor>;
using Reduction = std::function<Tensor(const Tensor&, const Shape&, bool)>;

// A reduction over all dims, dim 0, dim -1 and dims {0, 1}, with and without keepdim, on
// every layout, plus an empty input reduced over its non-empty dim.
void check_reduction(const Reduction& fn, Values values = Values::Normal) {
  for (Layout layout : kLayouts) {
    for (const Shape& dims : {Shape{}, Shape{0}, Shape{-1}, Shape{0, 1}}) {
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(std::string(layout_name(layout)) + " dims " + shape_str(dims) +
                     (keepdim ? " keepdim" : ""));
        EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return fn(in[0], dims, keepdim); },
                                 {leaf({3, 4}, layout, values)}));
      }
    }
  }
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return fn(in[0], {1}, false); },
                           {leaf({0, 3}, Layout::Contiguous, values)}))
      << "empty";
}

TEST(ReductionsGradcheck, Sum) {
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return sum(x, d, k); });
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return sum(in[0], {0}); }, {leaf({0, 3})}))
      << "sum over the empty dim";
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return sum(in[0]); }, {leaf({})})) << "0-d";
}

TEST(ReductionsGradcheck, SumWithDtype) {
  Tensor x = ones({2, 2}, {.dtype = kFloat32}).requires_grad_();
  Tensor s = sum(x, {}, false, kFloat64);
  EXPECT_EQ(s.dtype(), kFloat64);
  s.backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{1, 1, 1, 1}));
}

TEST(ReductionsGradcheck, Mean) {
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return mean(x, d, k); });
}

TEST(ReductionsGradcheck, Prod) {
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return prod(x, d, k); });
}

TEST(ReductionsGradcheck, ProdWithZeros) {
  // Row 0: one zero; row 1: two zeros; row 2: none.
  Tensor x = tensor({{2.0, 0.0, 3.0}, {0.0, 5.0, 0.0}, {1.5, 2.0, -1.0}}).requires_grad_();
  prod(x, {1}).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(),
            (std::vector<double>{0.0, 6.0, 0.0, 0.0, 0.0, 0.0, -2.0, -1.5, 3.0}));
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return prod(in[0], {1}); },
                           {tensor({{2.0, 0.0, 3.0}, {1.5, 2.0, -1.0}}).requires_grad_()}));
}

TEST(ReductionsGradcheck, VarStd) {
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return var(x, d, 1, k); });
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return var(x, d, 0, k); });
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return std(x, d, 1, k); });
}

TEST(ReductionsGradcheck, AmaxAmin) {
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return amax(x, d, k); });
  check_reduction([](const Tensor& x, const Shape& d, bool k) { return amin(x, d, k); });
}

TEST(ReductionsGradcheck, AmaxSplitsTiesEvenly) {
  Tensor x = tensor({1.0, 3.0, 3.0, 2.0}).requires_grad_();
  amax(x).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 0.5, 0.5, 0.0}));
  Tensor y = tensor({-1.0, -1.0, 0.0}).requires_grad_();
  min(y).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.5, 0.5, 0.0}));
}

TEST(ReductionsGradcheck, MaxMinWithIndices) {
  for (Layout layout : kLayouts) {
    for (int64_t dim : {0, 1, -1}) {
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(std::string(layout_name(layout)) + " dim " + std::to_string(dim));
        EXPECT_TRUE(gradcheck_ok(
            [&](const Inputs& in) { return max(in[0], dim, keepdim).first; },
            {leaf({3, 4}, layout)}));
        EXPECT_TRUE(gradcheck_ok(
            [&](const Inputs& in) { return min(in[0], dim, keepdim).first; },
            {leaf({3, 4}, layout)}));
      }
    }
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return max(in[0], 1).first; },
                           {leaf({0, 3})}))
      << "empty";
}

TEST(ReductionsGradcheck, MaxWithIndicesSendsTheGradientToTheChosenIndex) {
  Tensor x = tensor({{1.0, 4.0, 4.0}, {2.0, 0.0, 1.0}}).requires_grad_();
  auto [values, indices] = max(x, 1);
  EXPECT_FALSE(indices.requires_grad());
  EXPECT_EQ(indices.dtype(), kInt64);
  values.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

TEST(ReductionsGradcheck, MaxMinAll) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return max(in[0]); }, {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return min(in[0]); }, {leaf({3, 4}, layout)}));
  }
}

TEST(ReductionsGradcheck, ArgmaxArgminNeverRequireGrad) {
  Tensor x = leaf({3, 4});
  EXPECT_FALSE(argmax(x).requires_grad());
  EXPECT_FALSE(argmin(x, 1).requires_grad());
  EXPECT_FALSE(x.argmax(0, true).requires_grad());
  EXPECT_EQ(argmax(x).dtype(), kInt64);
}

TEST(ReductionsGradcheck, Logsumexp) {
  for (Layout layout : kLayouts) {
    for (const Shape& dims : {Shape{0}, Shape{-1}, Shape{0, 1}}) {
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(std::string(layout_name(layout)) + " dims " + shape_str(dims));
        EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return logsumexp(in[0], dims, keepdim); },
                                 {leaf({3, 4}, layout)}));
      }
    }
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return logsumexp(in[0], {1}); }, {leaf({0, 3})}))
      << "empty";
}

TEST(ReductionsGradcheck, Norm) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {2.0, 1.0, 3.0, 1.5, inf}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    check_reduction([p](const Tensor& x, const Shape& d, bool k) { return norm(x, p, d, k); });
  }
}

TEST(ReductionsGradcheck, NormAtZeroHasZeroGradient) {
  for (double p : {2.0, 3.0, 1.5}) {
    Tensor x = zeros({3}, {.dtype = kFloat64}).requires_grad_();
    norm(x, p).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0, 0.0})) << p;
  }
}

TEST(ReductionsGradcheck, TensorMethods) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].sum(); }, {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].sum({1}, true); },
                             {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].mean(); }, {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].mean({0}); },
                             {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].max(); }, {leaf({3, 4}, layout)}));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return in[0].min(); }, {leaf({3, 4}, layout)}));
  }
}

}  // namespace
}  // namespace ignis

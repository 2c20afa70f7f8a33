// Gradchecks of autograd/linalg.h: every matmul case (1-d, 2-d, batched, broadcast batch),
// mm, bmm, addmm and linear, with transposed and strided operands and empty sizes.
#include <gtest/gtest.h>

#include "autograd/linalg.h"
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

Tensor leaf2(const Shape& shape, Layout layout = Layout::Contiguous) {
  return leaf(shape, layout, Values::Normal, 2);
}

TEST(LinalgGradcheck, MatmulShapes) {
  auto fn = [](const Inputs& in) { return matmul(in[0], in[1]); };
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4}, {4}},           {{3, 4}, {4, 5}},        {{4}, {4, 5}},
      {{3, 4}, {4}},        {{2, 3, 4}, {4, 5}},     {{3, 4}, {2, 4, 5}},
      {{2, 3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{2, 3, 4}, {4}},
      {{4}, {2, 4, 3}},     {{0, 4}, {4, 5}},        {{3, 0}, {0, 5}}};
  for (const auto& [a, b] : cases) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(shape_str(a) + " @ " + shape_str(b) + " " + layout_name(layout));
      EXPECT_TRUE(gradcheck_ok(fn, {leaf(a, layout), leaf2(b, layout)}));
    }
  }
}

TEST(LinalgGradcheck, MatmulWithOneOperandConstant) {
  Tensor a = leaf({3, 4});
  Tensor b = leaf2({4, 2}).detach();
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return matmul(in[0], b); }, {a}));
  EXPECT_TRUE(gradcheck_ok([&](const Inputs& in) { return in[0].matmul(b); }, {a}));
}

TEST(LinalgGradcheck, Mm) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return mm(in[0], in[1]); },
                             {leaf({3, 4}, layout), leaf2({4, 2}, layout)}));
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return mm(in[0], in[1]); },
                           {leaf({0, 4}), leaf2({4, 2})}))
      << "empty";
}

TEST(LinalgGradcheck, Bmm) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return bmm(in[0], in[1]); },
                             {leaf({2, 3, 4}, layout), leaf2({2, 4, 5}, layout)}));
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return bmm(in[0], in[1]); },
                           {leaf({0, 3, 4}), leaf2({0, 4, 5})}))
      << "empty";
}

TEST(LinalgGradcheck, Addmm) {
  auto fn = [](const Inputs& in) { return addmm(in[0], in[1], in[2], 0.5, 2.0); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 2}, layout, Values::Normal, 3), leaf({3, 4}, layout),
                                  leaf2({4, 2}, layout)}));
  }
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({2}, Layout::Contiguous, Values::Normal, 3), leaf({3, 4}),
                                leaf2({4, 2})}))
      << "broadcast bias";
}

TEST(LinalgGradcheck, Linear) {
  auto fn = [](const Inputs& in) { return linear(in[0], in[1], in[2]); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout), leaf2({5, 4}, layout),
                                  leaf({5}, layout, Values::Normal, 3)}));
  }
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({2, 3, 4}), leaf2({5, 4}), leaf({5}, Layout::Contiguous,
                                                                     Values::Normal, 3)}))
      << "3-d input";
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({4}), leaf2({5, 4}), leaf({5}, Layout::Contiguous,
                                                               Values::Normal, 3)}))
      << "1-d input";
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({0, 4}), leaf2({5, 4}), leaf({5}, Layout::Contiguous,
                                                                  Values::Normal, 3)}))
      << "empty batch";
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return linear(in[0], in[1]); },
                           {leaf({3, 4}), leaf2({5, 4})}))
      << "no bias";
}

}  // namespace
}  // namespace ignis

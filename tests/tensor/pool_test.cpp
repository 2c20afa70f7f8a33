// Tests of the raw pooling ops (tensor/pool.h) against loop references written from the
// contract: values, argmax indices (ties, NaN, -inf, padding, dilation), backwards,
// bit-identical results for 1 and 2 threads, and the error messages.
#include "tensor/pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tensor/factory.h"
#include "tensor/generator.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"
#include "support/threads_and_windows.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Window2d window(std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> p = {0, 0},
                std::array<int64_t, 2> d = {1, 1}) {
  return {.kernel_size = k, .stride = s, .padding = p, .dilation = d};
}

// The in-image taps of window (oy, ox) as flat plane indices, in row-major (i, j) order.
std::vector<int64_t> taps(const Window2d& w, int64_t H, int64_t W, int64_t oy, int64_t ox) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < w.kernel_size[0]; ++i) {
    for (int64_t j = 0; j < w.kernel_size[1]; ++j) {
      const int64_t y = oy * w.stride[0] - w.padding[0] + i * w.dilation[0];
      const int64_t x = ox * w.stride[1] - w.padding[1] + j * w.dilation[1];
      if (y >= 0 && y < H && x >= 0 && x < W) out.push_back(y * W + x);
    }
  }
  return out;
}

struct MaxRef {
  std::vector<double> values;
  std::vector<int64_t> indices;
};

// max_pool2d written from the contract, on x (planes, H, W) as float64.
MaxRef reference_max(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W,
                     const Window2d& w) {
  MaxRef r;
  const int64_t oh = w.output_size(0, H), ow = w.output_size(1, W);
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        double best = -kInf;
        int64_t at = -1;
        for (const int64_t t : taps(w, H, W, oy, ox)) {
          const double v = x[p * H * W + t];
          const bool better = at < 0 || (std::isnan(v) && !std::isnan(best)) ||
                              (!std::isnan(best) && v > best);
          if (better) {
            best = v;
            at = t;
          }
        }
        r.values.push_back(best);
        r.indices.push_back(at);
      }
    }
  }
  return r;
}

Tensor random_images(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {.dtype = kFloat64}, &gen).to(dtype);
}

const std::vector<Window2d> kWindows = {
    window({2, 2}, {2, 2}),         window({3, 3}, {2, 2}, {1, 1}),
    window({2, 2}, {1, 1}, {0, 0}, {2, 2}), window({2, 3}, {1, 2}, {1, 1}),
    window({3, 2}, {2, 1}, {1, 0}, {1, 2}), window({1, 1}, {3, 3}),
    window({3, 3}, {1, 1}, {2, 2}, {2, 2})};

TEST(MaxPool2d, MatchesTheReferenceForEveryWindowAndDtype) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Shape& shape : {Shape{2, 3, 9, 11}, Shape{1, 2, 8, 8}, Shape{3, 1, 7, 5}}) {
      const Tensor x = random_images(shape, dtype, 7);
      for (const Window2d& w : kWindows) {
        const auto [values, indices] = raw::max_pool2d(x, w);
        const MaxRef want = reference_max(x.to(kFloat64).to_vector<double>(),
                                          shape[0] * shape[1], shape[2], shape[3], w);
        const std::string what = test::window_str(w) + " " + shape_str(shape);
        EXPECT_EQ(values.sizes(), (Shape{shape[0], shape[1], w.output_size(0, shape[2]),
                                         w.output_size(1, shape[3])}))
            << what;
        EXPECT_EQ(indices.dtype(), kInt64);
        EXPECT_THAT(values.to(kFloat64).to_vector<double>(), ElementsAreArray(want.values))
            << what;
        EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAreArray(want.indices)) << what;
      }
    }
  }
}

TEST(MaxPool2d, FirstMaximumWinsOnTies) {
  for (const Window2d& w : {window({2, 2}, {2, 2}), window({3, 3}, {1, 1}, {1, 1})}) {
    const auto [values, indices] = raw::max_pool2d(full({1, 1, 4, 4}, 5.0), w);
    const MaxRef want = reference_max(std::vector<double>(16, 5.0), 1, 4, 4, w);
    EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAreArray(want.indices)) << test::window_str(w);
  }
  const auto [values, indices] = raw::max_pool2d(full({1, 1, 2, 2}, 1.0), window({2, 2}, {2, 2}));
  EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAre(0));
}

TEST(MaxPool2d, NaNPropagatesAndTheFirstNaNWins) {
  // plane (4, 4): NaNs at (0, 1), (1, 0) and (2, 3); 2x2 windows and a 3x3 one with padding.
  std::vector<double> v = {1, kNaN, 3, 4, kNaN, 6, 7, 8, 9, 10, 11, kNaN, 13, 14, 15, 16};
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor x = from_vector(v, Shape{1, 1, 4, 4}).to(dtype);
    for (const Window2d& w : {window({2, 2}, {2, 2}), window({3, 3}, {1, 1}, {1, 1})}) {
      const auto [values, indices] = raw::max_pool2d(x, w);
      const MaxRef want = reference_max(v, 1, 4, 4, w);
      const std::vector<double> got = values.to(kFloat64).to_vector<double>();
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(std::isnan(got[i]), std::isnan(want.values[i])) << test::window_str(w) << " " << i;
      }
      EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAreArray(want.indices)) << test::window_str(w);
    }
  }
  const auto [values, indices] = raw::max_pool2d(from_vector(v, Shape{1, 1, 4, 4}),
                                                 window({2, 2}, {2, 2}));
  EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAre(1, 7, 13, 11));
  EXPECT_TRUE(std::isnan(values.to_vector<double>()[0]));
  EXPECT_EQ(values.to_vector<double>()[1], 8.0);
}

TEST(MaxPool2d, MinusInfinityInputsPickAnImagePixelNotPadding) {
  const Tensor x = full({1, 1, 3, 3}, -kInf);
  const auto [values, indices] = raw::max_pool2d(x, window({3, 3}, {2, 2}, {1, 1}));
  EXPECT_THAT(values.to_vector<float>(), ElementsAre(-INFINITY, -INFINITY, -INFINITY, -INFINITY));
  // The first in-image tap of each window: (0, 0), (0, 1), (1, 0), (1, 1) of the padded grid.
  EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAre(0, 1, 3, 4));
  const auto [v2, i2] = raw::max_pool2d(full({1, 1, 2, 2}, -kInf), window({2, 2}, {2, 2}));
  EXPECT_THAT(i2.to_vector<int64_t>(), ElementsAre(0));
}

TEST(MaxPool2d, PaddingNeverWins) {
  const Tensor x = full({1, 2, 5, 5}, -3.0);
  const auto [values, indices] = raw::max_pool2d(x, window({3, 3}, {2, 2}, {1, 1}));
  for (const float v : values.to_vector<float>()) EXPECT_EQ(v, -3.0f);
  for (const int64_t i : indices.to_vector<int64_t>()) EXPECT_GE(i, 0);
}

TEST(MaxPool2d, WindowWithNoImageTapGivesMinusInfinityAndIndexMinusOne) {
  // H = W = 2, kernel 2 dilation 3 padding 2: position 1 reads -1 and 2 on each axis, both
  // outside; positions 0 and 2 read pixel 1 and 0.
  const Window2d w = window({2, 2}, {1, 1}, {2, 2}, {3, 3});
  const auto [values, indices] = raw::max_pool2d(raw::reshape(tensor({1.f, 2.f, 3.f, 4.f}), {1, 1, 2, 2}), w);
  const float inf = INFINITY;
  EXPECT_THAT(values.to_vector<float>(), ElementsAre(4, -inf, 3, -inf, -inf, -inf, 2, -inf, 1));
  EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAre(3, -1, 2, -1, -1, -1, 1, -1, 0));
  const Tensor din = raw::max_pool2d_backward(ones({1, 1, 3, 3}), indices, {2, 2}, w);
  EXPECT_THAT(din.to_vector<float>(), ElementsAre(1, 1, 1, 1));
}

TEST(MaxPool2dBackward, SumsGradientsAtTheArgmaxInPositionOrder) {
  for (const Window2d& w : kWindows) {
    for (const Shape& shape : {Shape{2, 3, 9, 11}, Shape{1, 2, 8, 8}, Shape{2, 1, 7, 7}}) {
      const Tensor x = random_images(shape, kFloat64, 3);
      const auto [values, indices] = raw::max_pool2d(x, w);
      const Tensor dout = random_images(values.sizes(), kFloat64, 4);
      const Tensor din = raw::max_pool2d_backward(dout, indices, {shape[2], shape[3]}, w);
      const int64_t plane = shape[2] * shape[3], positions = values.size(2) * values.size(3);
      std::vector<double> want(static_cast<size_t>(shape[0] * shape[1] * plane), 0.0);
      const std::vector<int64_t> idx = indices.to_vector<int64_t>();
      const std::vector<double> g = dout.to_vector<double>();
      for (size_t q = 0; q < idx.size(); ++q) {
        want[q / positions * plane + idx[q]] += g[q];
      }
      EXPECT_EQ(din.sizes(), shape);
      EXPECT_THAT(din.to_vector<double>(), ElementsAreArray(want))
          << test::window_str(w) << " " << shape_str(shape);
    }
  }
}

// avg_pool2d written from the contract, on x (planes, H, W) as float64.
std::vector<double> reference_avg(const std::vector<double>& x, int64_t planes, int64_t H,
                                  int64_t W, const Window2d& w, bool count_include_pad) {
  std::vector<double> out;
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oy = 0; oy < w.output_size(0, H); ++oy) {
      for (int64_t ox = 0; ox < w.output_size(1, W); ++ox) {
        const std::vector<int64_t> t = taps(w, H, W, oy, ox);
        double sum = 0;
        for (const int64_t i : t) sum += x[p * H * W + i];
        const double n = count_include_pad ? w.kernel_size[0] * w.kernel_size[1] : t.size();
        out.push_back(sum / n);
      }
    }
  }
  return out;
}

TEST(AvgPool2d, ForwardAndBackwardMatchTheReference) {
  const std::vector<Window2d> windows = {window({2, 2}, {2, 2}), window({3, 3}, {2, 2}, {1, 1}),
                                         window({2, 3}, {1, 2}, {1, 1})};
  const Shape shape{2, 3, 7, 6};
  const Tensor x = random_images(shape, kFloat64, 9);
  for (const Window2d& w : windows) {
    for (const bool include : {true, false}) {
      const std::string what = test::window_str(w) + (include ? " include pad" : " exclude pad");
      const Tensor y = raw::avg_pool2d(x, w, include);
      const std::vector<double> want =
          reference_avg(x.to_vector<double>(), 6, shape[2], shape[3], w, include);
      const std::vector<double> got = y.to_vector<double>();
      ASSERT_EQ(got.size(), want.size()) << what;
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << what;
      // Backward: <avg(x), g> = <x, avg_backward(g)> for every x, g (the adjoint).
      const Tensor g = random_images(y.sizes(), kFloat64, 10);
      const Tensor dx = raw::avg_pool2d_backward(g, {shape[2], shape[3]}, w, include);
      double lhs = 0, rhs = 0;
      const std::vector<double> gv = g.to_vector<double>(), xv = x.to_vector<double>(),
                                dxv = dx.to_vector<double>();
      for (size_t i = 0; i < gv.size(); ++i) lhs += got[i] * gv[i];
      for (size_t i = 0; i < xv.size(); ++i) rhs += xv[i] * dxv[i];
      EXPECT_NEAR(lhs, rhs, 1e-10) << what;
    }
  }
}

// Every slot on an input large enough to be split across threads, once with 1 thread and
// once with 2: the bits must agree.
TEST(Pool2d, OneAndTwoThreadsGiveIdenticalBits) {
  const int saved = get_num_threads();
  const Tensor x = random_images({8, 16, 28, 28}, kFloat32, 11);
  auto run = [&](int threads) {
    set_num_threads(threads);
    std::vector<Tensor> out;
    for (const Window2d& w : {window({2, 2}, {2, 2}), window({3, 3}, {1, 1}, {1, 1})}) {
      const auto [values, indices] = raw::max_pool2d(x, w);
      const Tensor g = random_images(values.sizes(), kFloat32, 12);
      out.insert(out.end(), {values, indices, raw::max_pool2d_backward(g, indices, {28, 28}, w),
                             raw::avg_pool2d(x, w, false),
                             raw::avg_pool2d_backward(g, {28, 28}, w, false)});
    }
    return out;
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(saved);
  for (size_t i = 0; i < one.size(); ++i) {
    if (one[i].dtype() == kInt64) {
      EXPECT_EQ(one[i].to_vector<int64_t>(), two[i].to_vector<int64_t>()) << i;
    } else {
      EXPECT_EQ(one[i].to_vector<float>(), two[i].to_vector<float>()) << i;
    }
  }
}

TEST(Pool2d, ErrorMessagesNameTheOpAndShapes) {
  const Tensor x = zeros({1, 2, 4, 4});
  const Window2d w2 = window({2, 2}, {2, 2});
  EXPECT_THAT([] { raw::max_pool2d(zeros({2, 4, 4}), window({2, 2}, {2, 2})); },
              ThrowsMessage<ShapeError>(HasSubstr("max_pool2d: expected a 4-d input (N, C, H, W), "
                                                  "got (2, 4, 4)")));
  EXPECT_THAT([] { raw::max_pool2d(zeros({1, 1, 2, 2}), window({3, 3}, {1, 1})); },
              ThrowsMessage<ShapeError>(HasSubstr("does not fit the input (1, 1, 2, 2)")));
  EXPECT_THAT([] { raw::max_pool2d(zeros({1, 1, 4, 4}, {.dtype = kInt64}), window({2, 2}, {2, 2})); },
              ThrowsMessage<DTypeError>(HasSubstr("max_pool2d: expected a floating-point tensor, "
                                                  "got int64")));
  EXPECT_THAT([] { raw::max_pool2d(zeros({1, 1, 4, 4}), window({2, 2}, {0, 2})); },
              ThrowsMessage<ValueError>(HasSubstr("stride (0, 2)")));
  EXPECT_THAT([] { raw::max_pool2d(zeros({1, 1, 4, 4}), window({2, 2}, {2, 2}, {2, 2})); },
              ThrowsMessage<ValueError>(HasSubstr("at most half")));
  EXPECT_THAT([&] { raw::max_pool2d_backward(zeros({1, 2, 3, 2}), zeros({1, 2, 3, 2}, {.dtype = kInt64}), {4, 4}, w2); },
              ThrowsMessage<ShapeError>(HasSubstr("max_pool2d_backward: gradient (1, 2, 3, 2) does not "
                                                  "match the (2, 2) window positions")));
  EXPECT_THAT([&] { raw::max_pool2d_backward(zeros({1, 2, 2, 2}), zeros({1, 2, 2, 2}), {4, 4}, w2); },
              ThrowsMessage<ShapeError>(HasSubstr("expected int64 indices of the gradient's shape "
                                                  "(1, 2, 2, 2), got float32 (1, 2, 2, 2)")));
  EXPECT_THAT([&] { raw::avg_pool2d(x, window({2, 2}, {1, 1}, {0, 0}, {2, 2}), true); },
              ThrowsMessage<ValueError>(HasSubstr("avg_pool2d: dilation must be (1, 1), got (2, 2)")));
  EXPECT_THAT([&] { raw::avg_pool2d_backward(zeros({1, 2, 2}), {4, 4}, w2, true); },
              ThrowsMessage<ShapeError>(HasSubstr("avg_pool2d_backward: expected a 4-d gradient")));
}

TEST(Pool2d, EmptyBatchGivesEmptyResults) {
  const auto [values, indices] = raw::max_pool2d(zeros({0, 3, 4, 4}), window({2, 2}, {2, 2}));
  EXPECT_EQ(values.sizes(), (Shape{0, 3, 2, 2}));
  EXPECT_EQ(raw::avg_pool2d(zeros({2, 0, 4, 4}), window({2, 2}, {2, 2}), true).sizes(),
            (Shape{2, 0, 2, 2}));
}

}  // namespace
}  // namespace ignis

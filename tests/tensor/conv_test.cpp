// Tests of the raw sliding-window ops (tensor/conv.h): unfold / fold against naive loops for
// every kind of window (the row-copy paths for any stride), fold as unfold's adjoint, and
// raw::matmul_into, the in-place GEMM conv2d is built on.
#include "tensor/conv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/linalg.h"
#include "tensor/reduce.h"
#include "tensor/view_ops.h"
#include "support/compare.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::tensors_close;

Tensor random_tensor(const Shape& shape, DType dtype = kFloat64, uint64_t seed = 3) {
  Generator gen(seed);
  return randn(shape, {.dtype = dtype}, &gen);
}

// unfold by its definition, one element at a time, in float64.
std::vector<double> naive_unfold(const Tensor& x, const Window2d& w) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t oh = w.output_size(0, H), ow = w.output_size(1, W);
  const int64_t kh = w.kernel_size[0], kw = w.kernel_size[1];
  const std::vector<double> v = x.to_vector<double>();
  std::vector<double> out;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j)
          for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox) {
              const int64_t y = oy * w.stride[0] - w.padding[0] + i * w.dilation[0];
              const int64_t xx = ox * w.stride[1] - w.padding[1] + j * w.dilation[1];
              const bool inside = y >= 0 && y < H && xx >= 0 && xx < W;
              out.push_back(inside ? v[((n * C + c) * H + y) * W + xx] : 0.0);
            }
  return out;
}

std::vector<Window2d> windows() {
  return {
      {.kernel_size = {3, 3}, .stride = {1, 1}, .padding = {1, 1}},  // the CNN's convs
      {.kernel_size = {3, 3}},
      {.kernel_size = {2, 3}, .stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}},
      {.kernel_size = {3, 2}, .stride = {1, 2}, .padding = {2, 1}, .dilation = {2, 1}},
      {.kernel_size = {1, 4}, .stride = {3, 3}, .padding = {0, 3}},  // padding past the kernel
      {.kernel_size = {5, 5}, .padding = {4, 4}},  // rows entirely in the padding
  };
}

TEST(Unfold, MatchesTheDefinitionForEveryWindow) {
  const Tensor x = random_tensor({2, 3, 7, 6});
  for (const Window2d& w : windows()) {
    SCOPED_TRACE(testing::Message() << "stride " << w.stride[1] << ", pad " << w.padding[1]);
    const Tensor cols = raw::unfold(x, w);
    EXPECT_EQ(cols.to_vector<double>(), naive_unfold(x, w));
    // float32 copies the same values
    EXPECT_EQ(raw::unfold(raw::to(x, kFloat32), w).to_vector<double>(),
              raw::to(cols, kFloat32).to_vector<double>());
  }
}

TEST(Fold, IsTheAdjointOfUnfold) {
  // <unfold(x), c> == <x, fold(c)> for every x, c.
  const Tensor x = random_tensor({2, 3, 7, 6}, kFloat64, 4);
  for (const Window2d& w : windows()) {
    const Tensor cols = raw::unfold(x, w);
    const Tensor c = random_tensor(cols.sizes(), kFloat64, 5);
    const Tensor folded = raw::fold(c, {7, 6}, w);
    EXPECT_EQ(folded.sizes(), x.sizes());
    const double lhs = raw::sum(raw::mul(cols, c)).item<double>();
    const double rhs = raw::sum(raw::mul(x, folded)).item<double>();
    EXPECT_NEAR(lhs, rhs, 1e-9 * (1.0 + std::abs(lhs)));
  }
}

TEST(Fold, SumsEachPixelOncePerTapThatReadsIt) {
  // fold(unfold(ones)) counts, per pixel, the windows covering it: 3x3 pad 1 on 4x4 gives
  // 4 at the corners, 6 on the edges, 9 inside.
  const Window2d w{.kernel_size = {3, 3}, .padding = {1, 1}};
  const Tensor counts = raw::fold(raw::unfold(ones({1, 1, 4, 4}), w), {4, 4}, w);
  EXPECT_EQ(counts.to_vector<float>(),
            (std::vector<float>{4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4}));
}

TEST(MatmulInto, AccumulatesWithBetaAndBroadcastsA) {
  const Tensor a = random_tensor({3, 4}, kFloat64, 6);          // broadcast over the batch
  const Tensor b = random_tensor({2, 4, 5}, kFloat64, 7);
  const Tensor c0 = random_tensor({2, 3, 5}, kFloat64, 8);
  const Tensor c = raw::clone(c0);
  raw::matmul_into(c, a, b, 2.0, 0.5);
  const Tensor want = raw::add(raw::mul(raw::matmul(a, b), 2.0), raw::mul(c0, 0.5));
  EXPECT_TRUE(tensors_close("c", c, want, {.rtol = 1e-12, .atol = 1e-12}));
  // a transposed view is read in place; beta 0 ignores what out held
  const Tensor bt = raw::transpose(random_tensor({2, 5, 4}, kFloat64, 9), 1, 2);
  raw::matmul_into(c, a, bt);
  EXPECT_TRUE(tensors_close("c", c, raw::matmul(a, bt), {.rtol = 1e-12, .atol = 1e-12}));
}

TEST(MatmulInto, ErrorsNameTheShapes) {
  const Tensor out = zeros({2, 3, 5}, {.dtype = kFloat64});
  EXPECT_THAT([&] { raw::matmul_into(out, zeros({3, 4}, {.dtype = kFloat64}),
                                     zeros({2, 4, 6}, {.dtype = kFloat64})); },
              ThrowsMessage<ShapeError>(HasSubstr("out (2, 3, 5), a (3, 4), b (2, 4, 6)")));
  EXPECT_THAT([&] { raw::matmul_into(raw::transpose(zeros({2, 5, 3}, {.dtype = kFloat64}), 1, 2),
                                     zeros({3, 4}, {.dtype = kFloat64}),
                                     zeros({2, 4, 5}, {.dtype = kFloat64})); },
              ThrowsMessage<ShapeError>(HasSubstr("row-major")));
  EXPECT_THAT([&] { raw::matmul_into(out, zeros({3, 4}), zeros({2, 4, 5})); },
              ThrowsMessage<DTypeError>(HasSubstr("matmul_into")));
}

}  // namespace
}  // namespace ignis

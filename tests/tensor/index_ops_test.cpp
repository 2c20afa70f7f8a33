// Tests of the raw indexing, joining and softmax ops (tensor/index_ops.h) against
// hand-computed values and std:: references, with their error messages.
#include "tensor/index_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pointwise;
using ::testing::ThrowsMessage;

// 0, 1, ..., numel - 1 in `shape`.
Tensor iota(const Shape& shape, DType dtype = kFloat32) {
  return raw::reshape(arange(0, numel_of(shape), 1, TensorOptions{.dtype = dtype}), shape);
}

// softmax (or log_softmax) along `dim` of a contiguous tensor, in float64, written with loops.
std::vector<double> reference_softmax(const std::vector<double>& x, const Shape& shape,
                                      int64_t dim, bool log) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
  const int64_t n = shape[dim];
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + i; };
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < n; ++k) m = std::max(m, x[at(k)]);
      double total = 0;
      for (int64_t k = 0; k < n; ++k) total += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < n; ++k) {
        y[at(k)] = log ? x[at(k)] - m - std::log(total) : std::exp(x[at(k)] - m) / total;
      }
    }
  }
  return y;
}

// An int64 index tensor of `shape` (index_of({0, 2}, {2, 1}) would be ambiguous).
Tensor index_of(const std::vector<int64_t>& values, const Shape& shape) {
  return from_vector(values, shape);
}

template <typename T>
std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out;
  for (T v : t.to_vector<T>()) out.push_back(static_cast<double>(v));
  return out;
}

template <typename T>
class SoftmaxTest : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SoftmaxTest, FloatTypes);

TYPED_TEST(SoftmaxTest, MatchesReferenceOnEveryDim) {
  const Shape shape = {3, 5, 70};  // inner 70 spans two column blocks of the kernel
  Generator gen(7);
  const Tensor x = raw::mul(randn(shape, {.dtype = dtype_of<TypeParam>}, &gen), wrap_scalar(4.0));
  const std::vector<double> xs = as_doubles<TypeParam>(x);
  const double tol = sizeof(TypeParam) == 4 ? 2e-6 : 1e-14;
  for (int64_t dim : {0, 1, 2}) {
    for (bool log : {false, true}) {
      const Tensor y = log ? raw::log_softmax(x, dim) : raw::softmax(x, dim);
      EXPECT_EQ(y.sizes(), shape);
      EXPECT_EQ(y.dtype(), dtype_of<TypeParam>);
      EXPECT_THAT(as_doubles<TypeParam>(y),
                  Pointwise(DoubleNear(log ? tol * 20 : tol), reference_softmax(xs, shape, dim, log)))
          << "dim " << dim << " log " << log;
    }
  }
  EXPECT_THAT(as_doubles<TypeParam>(raw::softmax(x, -1)),
              Pointwise(DoubleNear(tol), reference_softmax(xs, shape, 2, false)));
}

TYPED_TEST(SoftmaxTest, NonContiguousInput) {
  const Tensor x = raw::transpose(iota({4, 3}, dtype_of<TypeParam>), 0, 1);  // (3, 4)
  const std::vector<double> xs = as_doubles<TypeParam>(x);
  EXPECT_THAT(as_doubles<TypeParam>(raw::softmax(x, 1)),
              Pointwise(DoubleNear(1e-6), reference_softmax(xs, {3, 4}, 1, false)));
}

TYPED_TEST(SoftmaxTest, LargeAndInfiniteValuesAreStable) {
  const TypeParam inf = std::numeric_limits<TypeParam>::infinity();
  const Tensor x = from_vector(std::vector<TypeParam>{1000, 1001, -inf, 0}, Shape{1, 4});
  const std::vector<TypeParam> y = raw::softmax(x, 1).to_vector<TypeParam>();
  const double e = std::exp(-1.0);
  EXPECT_NEAR(y[0], e / (1 + e), 1e-6);
  EXPECT_NEAR(y[1], 1 / (1 + e), 1e-6);
  EXPECT_EQ(y[2], 0);
  EXPECT_EQ(y[3], 0);
  const std::vector<TypeParam> ly = raw::log_softmax(x, 1).to_vector<TypeParam>();
  EXPECT_NEAR(ly[1], -std::log1p(e), 1e-5);
  EXPECT_EQ(ly[2], -inf);
}

TEST(Softmax, ZeroDimEmptyAndIntegerInputs) {
  EXPECT_EQ(raw::softmax(scalar_tensor(3.0, kFloat32), 0).item<float>(), 1.0f);
  EXPECT_EQ(raw::log_softmax(scalar_tensor(3.0, kFloat64), -1).item<double>(), 0.0);
  EXPECT_EQ(raw::softmax(zeros({0, 4}), 1).sizes(), (Shape{0, 4}));
  EXPECT_THAT([] { raw::softmax(iota({3}, kInt64), 0); },
              ThrowsMessage<DTypeError>(HasSubstr("softmax: expected a floating-point tensor, got int64")));
  EXPECT_THAT([] { raw::log_softmax(iota({3}), 1); },
              ThrowsMessage<IndexError>(HasSubstr("log_softmax")));
}

TEST(IndexSelect, PicksAlongAnyDim) {
  const Tensor x = iota({3, 4});
  EXPECT_THAT(raw::index_select(x, 0, tensor({2, 0, 2})).to_vector<float>(),
              ElementsAre(8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11));
  const Tensor cols = raw::index_select(x, -1, raw::to(tensor({3, 1}), kInt32));
  EXPECT_EQ(cols.sizes(), (Shape{3, 2}));
  EXPECT_THAT(cols.to_vector<float>(), ElementsAre(3, 1, 7, 5, 11, 9));
  const Tensor xt = raw::transpose(x, 0, 1);  // (4, 3), non-contiguous
  EXPECT_THAT(raw::index_select(xt, 1, tensor({1})).to_vector<float>(), ElementsAre(4, 5, 6, 7));
  const Tensor none = raw::index_select(x, 0, zeros({0}, {.dtype = kInt64}));
  EXPECT_EQ(none.sizes(), (Shape{0, 4}));
  EXPECT_THAT(raw::index_select(iota({5}, kInt64), 0, tensor({4, 4})).to_vector<int64_t>(),
              ElementsAre(4, 4));
}

TEST(IndexSelect, Errors) {
  const Tensor x = iota({5, 2});
  EXPECT_THAT([&] { raw::index_select(x, 0, tensor({1, 7})); },
              ThrowsMessage<IndexError>(
                  HasSubstr("index_select: index 7 is out of bounds for dim 0 with size 5")));
  EXPECT_THAT([&] { raw::index_select(x, 0, tensor({-1})); },
              ThrowsMessage<IndexError>(HasSubstr("index -1 is out of bounds")));
  EXPECT_THAT([&] { raw::index_select(x, 0, tensor({1.f})); },
              ThrowsMessage<DTypeError>(HasSubstr("index_select: expected an int32 or int64")));
  EXPECT_THAT([&] { raw::index_select(x, 0, tensor({{1, 2}})); },
              ThrowsMessage<ShapeError>(HasSubstr("index must be 0-d or 1-d, got (1, 2)")));
  EXPECT_THAT([&] { raw::index_select(x, 2, tensor({0})); },
              ThrowsMessage<IndexError>(HasSubstr("index_select")));
}

TEST(Gather, FollowsTorchSemantics) {
  const Tensor x = tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  // torch.gather(x, 1, [[2, 0], [1, 1]]) = [[3, 1], [5, 5]]
  const Tensor g1 = raw::gather(x, 1, tensor({{2, 0}, {1, 1}}));
  EXPECT_EQ(g1.sizes(), (Shape{2, 2}));
  EXPECT_THAT(g1.to_vector<float>(), ElementsAre(3, 1, 5, 5));
  // dim 0 with a smaller index: out[i][j] = x[index[i][j]][j]
  EXPECT_THAT(raw::gather(x, 0, tensor({{1, 0}})).to_vector<float>(), ElementsAre(4, 2));
  EXPECT_THAT(raw::gather(x, -1, raw::to(index_of({0, 2}, {2, 1}), kInt32)).to_vector<float>(),
              ElementsAre(1, 6));
  const Tensor xt = raw::transpose(x, 0, 1);  // (3, 2): [[1, 4], [2, 5], [3, 6]]
  EXPECT_THAT(raw::gather(xt, 1, index_of({1, 0, 1}, {3, 1})).to_vector<float>(), ElementsAre(4, 2, 6));
  EXPECT_EQ(raw::gather(x, 1, zeros({2, 0}, {.dtype = kInt64})).sizes(), (Shape{2, 0}));
}

TEST(Gather, Errors) {
  const Tensor x = iota({2, 3});
  EXPECT_THAT([&] { raw::gather(x, 1, index_of({3, 0}, {2, 1})); },
              ThrowsMessage<IndexError>(HasSubstr("gather: index 3 is out of bounds for dim 1 with size 3")));
  EXPECT_THAT([&] { raw::gather(x, 1, index_of({0, 0, 0}, {3, 1})); },
              ThrowsMessage<ShapeError>(HasSubstr("gather: index (3, 1) is larger than the input (2, 3) in dim 0")));
  EXPECT_THAT([&] { raw::gather(x, 1, tensor({0})); },
              ThrowsMessage<ShapeError>(HasSubstr("must have as many dims")));
}

TEST(ScatterAdd, AccumulatesDuplicates) {
  const Tensor x = zeros({3, 2});
  const Tensor index = tensor({{0, 1}, {0, 2}, {0, 1}});
  const Tensor src = tensor({{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}});
  // out[index[i][j]][j] += src[i][j]
  const Tensor out = raw::scatter_add(x, 0, index, src);
  EXPECT_THAT(out.to_vector<float>(), ElementsAre(9, 0, 0, 8, 0, 4));
  EXPECT_THAT(x.to_vector<float>(), ElementsAre(0, 0, 0, 0, 0, 0));  // x untouched
  const Tensor rows = raw::scatter_add(zeros({2, 4}, {.dtype = kFloat64}), 1,
                                       tensor({{3, 3}, {0, 1}}), tensor({{1.0, 2.0, 9.0}, {4.0, 5.0, 9.0}}));
  EXPECT_THAT(rows.to_vector<double>(), ElementsAre(0, 0, 0, 3, 4, 5, 0, 0));
}

TEST(ScatterAdd, InPlaceOnAViewBumpsTheVersion) {
  const Tensor base = zeros({2, 3});
  const Tensor view = raw::transpose(base, 0, 1);  // (3, 2), non-contiguous
  const uint64_t before = base.version();
  raw::scatter_add_(view, 0, tensor({{2, 0}}), tensor({{1.f, 2.f}}));
  EXPECT_GT(base.version(), before);
  EXPECT_THAT(base.to_vector<float>(), ElementsAre(0, 0, 1, 2, 0, 0));
}

TEST(ScatterAdd, Errors) {
  const Tensor x = zeros({2, 2});
  EXPECT_THAT([&] { raw::scatter_add_(x, 0, tensor({{2, 0}}), tensor({{1.f, 1.f}})); },
              ThrowsMessage<IndexError>(HasSubstr("scatter_add: index 2 is out of bounds for dim 0 with size 2")));
  EXPECT_THAT([&] { raw::scatter_add_(x, 0, tensor({{0, 0}}), tensor({{1.0, 1.0}})); },
              ThrowsMessage<DTypeError>(HasSubstr("scatter_add: src is float64 but the input is float32")));
  EXPECT_THAT([&] { raw::scatter_add_(x, 0, tensor({{0, 0}}), from_vector(std::vector<float>{1.f}, Shape{1, 1})); },
              ThrowsMessage<ShapeError>(HasSubstr("is larger than src (1, 1)")));
}

TEST(Embedding, LooksUpRowsForIndicesOfAnyShape) {
  const Tensor weight = iota({5, 3});
  const Tensor out = raw::embedding(weight, tensor({{4, 0}, {1, 4}}));
  EXPECT_EQ(out.sizes(), (Shape{2, 2, 3}));
  EXPECT_THAT(out.to_vector<float>(), ElementsAre(12, 13, 14, 0, 1, 2, 3, 4, 5, 12, 13, 14));
  EXPECT_EQ(raw::embedding(weight, scalar_tensor(2, kInt64)).sizes(), (Shape{3}));
  EXPECT_THAT([&] { raw::embedding(weight, tensor({5})); },
              ThrowsMessage<IndexError>(HasSubstr("embedding: index 5 is out of bounds for dim 0 with size 5")));
  EXPECT_THAT([&] { raw::embedding(iota({5}), tensor({0})); },
              ThrowsMessage<ShapeError>(HasSubstr("embedding: weight must be")));
}

TEST(OneHot, EncodesClasses) {
  const Tensor out = raw::one_hot(tensor({0, 2, 1}));
  EXPECT_EQ(out.dtype(), kInt64);
  EXPECT_EQ(out.sizes(), (Shape{3, 3}));
  EXPECT_THAT(out.to_vector<int64_t>(), ElementsAre(1, 0, 0, 0, 0, 1, 0, 1, 0));
  const Tensor wide = raw::one_hot(index_of({1, 0}, {2, 1}), 4);
  EXPECT_EQ(wide.sizes(), (Shape{2, 1, 4}));
  EXPECT_THAT(wide.to_vector<int64_t>(), ElementsAre(0, 1, 0, 0, 1, 0, 0, 0));
  EXPECT_THAT([] { raw::one_hot(tensor({-1, 0})); },
              ThrowsMessage<IndexError>(HasSubstr("one_hot: class values must be non-negative, got -1")));
  EXPECT_THAT([] { raw::one_hot(tensor({3}), 3); },
              ThrowsMessage<IndexError>(HasSubstr("one_hot: class value 3 is out of range for num_classes 3")));
  EXPECT_THAT([] { raw::one_hot(zeros({0}, {.dtype = kInt64})); },
              ThrowsMessage<ValueError>(HasSubstr("one_hot: cannot infer num_classes")));
}

TEST(Cat, JoinsAlongAnyDimWithPromotion) {
  const Tensor a = iota({2, 2});
  const Tensor b = raw::to(tensor({{7, 8, 9}, {10, 11, 12}}), kInt32);
  const Tensor c = raw::cat({a, b}, 1);
  EXPECT_EQ(c.dtype(), kFloat32);
  EXPECT_EQ(c.sizes(), (Shape{2, 5}));
  EXPECT_THAT(c.to_vector<float>(), ElementsAre(0, 1, 7, 8, 9, 2, 3, 10, 11, 12));
  const Tensor rows = raw::cat({a, raw::transpose(a, 0, 1), zeros({0})}, -2);
  EXPECT_EQ(rows.sizes(), (Shape{4, 2}));
  EXPECT_THAT(rows.to_vector<float>(), ElementsAre(0, 1, 2, 3, 0, 2, 1, 3));
  EXPECT_EQ(raw::cat({zeros({0}), zeros({0})}).sizes(), (Shape{0}));
}

TEST(Cat, Errors) {
  EXPECT_THAT([] { raw::cat({}); }, ThrowsMessage<ValueError>(HasSubstr("cat: expected a non-empty list")));
  EXPECT_THAT([] { raw::cat({zeros({2, 3}), zeros({2, 3}), zeros({3, 4})}, 0); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "cat: sizes must match except in dim 0: tensor 0 is (2, 3), tensor 2 is (3, 4)")));
  EXPECT_THAT([] { raw::cat({zeros({2, 3}), zeros({2, 3, 1})}); },
              ThrowsMessage<ShapeError>(HasSubstr("cat: tensors must have the same number of dims")));
  EXPECT_THAT([] { raw::cat({zeros({2}), scalar_tensor(1.0)}); },
              ThrowsMessage<ShapeError>(HasSubstr("cat: tensor 1 is 0-d")));
  EXPECT_THAT([] { raw::cat({zeros({2, 3})}, 2); }, ThrowsMessage<IndexError>(HasSubstr("cat")));
}

TEST(Stack, AddsANewDim) {
  const Tensor a = tensor({1.f, 2.f});
  const Tensor b = tensor({3.f, 4.f});
  const Tensor s0 = raw::stack({a, b});
  EXPECT_EQ(s0.sizes(), (Shape{2, 2}));
  EXPECT_THAT(s0.to_vector<float>(), ElementsAre(1, 2, 3, 4));
  const Tensor s1 = raw::stack({a, b}, -1);
  EXPECT_EQ(s1.sizes(), (Shape{2, 2}));
  EXPECT_THAT(s1.to_vector<float>(), ElementsAre(1, 3, 2, 4));
  EXPECT_EQ(raw::stack({scalar_tensor(1.0), scalar_tensor(2.0)}).sizes(), (Shape{2}));
  EXPECT_THAT([&] { raw::stack({a, tensor({1.f, 2.f, 3.f})}); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "stack: expects each tensor to be equal size, but got (2,) at entry 0 and (3,) at entry 1")));
}

}  // namespace
}  // namespace ignis

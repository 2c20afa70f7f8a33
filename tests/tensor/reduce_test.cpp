// Tests of the raw reductions (tensor/reduce.h) against hand-computed and std:: reference
// values: shapes, keepdim, dims, dtypes, NaN, empty and 0-d inputs, thread-count invariance.
#include "tensor/reduce.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"
#include "support/threads_and_windows.h"

namespace ignis {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Pointwise;
using ::testing::ThrowsMessage;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// 0, 1, ..., numel - 1 in `shape`.
Tensor iota(const Shape& shape, DType dtype = kFloat32) {
  return raw::reshape(arange(0, numel_of(shape), 1, TensorOptions{.dtype = dtype}), shape);
}

template <typename T>
class ReduceFloatTest : public ::testing::Test {};
using FloatTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ReduceFloatTest, FloatTypes);

TYPED_TEST(ReduceFloatTest, SumAllGivesZeroDim) {
  const Tensor x = iota({2, 3}, dtype_of<TypeParam>);
  const Tensor s = raw::sum(x);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.dtype(), dtype_of<TypeParam>);
  EXPECT_EQ(s.item<TypeParam>(), TypeParam(15));
}

TYPED_TEST(ReduceFloatTest, SumOverSomeDimsMatchesLoops) {
  const Tensor x = iota({2, 3, 4}, dtype_of<TypeParam>);
  // Over dims 0 and 2: out[j] = sum_i sum_k (12 i + 4 j + k).
  std::vector<TypeParam> expected(3, 0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) expected[j] += static_cast<TypeParam>(12 * i + 4 * j + k);
    }
  }
  const Tensor s = raw::sum(x, {0, 2});
  EXPECT_EQ(s.sizes(), (Shape{3}));
  EXPECT_THAT(s.to_vector<TypeParam>(), ElementsAreArray(expected));
  const Tensor kept = raw::sum(x, {2, 0}, /*keepdim=*/true);
  EXPECT_EQ(kept.sizes(), (Shape{1, 3, 1}));
  EXPECT_THAT(kept.to_vector<TypeParam>(), ElementsAreArray(expected));
  EXPECT_THAT(raw::sum(x, {-1, -3}).to_vector<TypeParam>(), ElementsAreArray(expected));
}

TYPED_TEST(ReduceFloatTest, SumOfNonContiguousInput) {
  const Tensor x = raw::transpose(iota({3, 4}, dtype_of<TypeParam>), 0, 1);  // (4, 3)
  ASSERT_FALSE(x.is_contiguous());
  // x[i][j] = 4 j + i: rows sum to 12 + 3 i, columns to 4 (4 j) + 6.
  EXPECT_THAT(raw::sum(x, {1}).to_vector<TypeParam>(), ElementsAre(12, 15, 18, 21));
  EXPECT_THAT(raw::sum(x, {0}).to_vector<TypeParam>(), ElementsAre(6, 22, 38));
  const Tensor sliced = raw::slice(iota({4, 6}, dtype_of<TypeParam>), 1, 0, 6, 2);  // (4, 3)
  EXPECT_THAT(raw::sum(sliced, {0}).to_vector<TypeParam>(), ElementsAre(36, 44, 52));
}

TYPED_TEST(ReduceFloatTest, ProdMeanAmaxAmin) {
  const Tensor x = raw::add(iota({2, 3}, dtype_of<TypeParam>), wrap_scalar(1));  // 1..6
  EXPECT_THAT(raw::prod(x, {1}).to_vector<TypeParam>(), ElementsAre(6, 120));
  EXPECT_EQ(raw::prod(x).item<TypeParam>(), TypeParam(720));
  EXPECT_THAT(raw::mean(x, {0}).to_vector<TypeParam>(), ElementsAre(2.5, 3.5, 4.5));
  EXPECT_EQ(raw::mean(x).item<TypeParam>(), TypeParam(3.5));
  EXPECT_THAT(raw::amax(x, {0}).to_vector<TypeParam>(), ElementsAre(4, 5, 6));
  EXPECT_THAT(raw::amin(x, {1}, true).to_vector<TypeParam>(), ElementsAre(1, 4));
  EXPECT_EQ(raw::amin(x, {1}, true).sizes(), (Shape{2, 1}));
}

TYPED_TEST(ReduceFloatTest, VarAndStdMatchTwoPassReference) {
  const std::vector<TypeParam> v = {1.5, -2.0, 3.25, 8.0, 0.5, -1.0};
  const Tensor x = from_vector(v, Shape{2, 3});
  for (int64_t correction : {0, 1}) {
    std::vector<double> expected;
    for (int r = 0; r < 2; ++r) {
      double mean = 0, ss = 0;
      for (int c = 0; c < 3; ++c) mean += v[3 * r + c] / 3.0;
      for (int c = 0; c < 3; ++c) ss += (v[3 * r + c] - mean) * (v[3 * r + c] - mean);
      expected.push_back(ss / static_cast<double>(3 - correction));
    }
    const double tol = sizeof(TypeParam) == 4 ? 1e-5 : 1e-12;
    std::vector<double> got;
    for (TypeParam g : raw::var(x, {1}, correction).to_vector<TypeParam>()) got.push_back(g);
    EXPECT_THAT(got, Pointwise(DoubleNear(tol), expected));
    got.clear();
    for (TypeParam g : raw::std(x, {-1}, correction).to_vector<TypeParam>()) got.push_back(g);
    EXPECT_NEAR(got[0], std::sqrt(expected[0]), tol);
    EXPECT_NEAR(got[1], std::sqrt(expected[1]), tol);
  }
}

TYPED_TEST(ReduceFloatTest, VarWithTooFewElementsIsNanOrInf) {
  const Tensor one = from_vector(std::vector<TypeParam>{4}, Shape{1});
  EXPECT_TRUE(std::isnan(raw::var(one).item<TypeParam>()));
  const Tensor two = from_vector(std::vector<TypeParam>{1, 2}, Shape{2});
  EXPECT_EQ(raw::var(two, {}, /*correction=*/3).item<TypeParam>(), kInf);
  const Tensor empty = zeros({0}, {.dtype = dtype_of<TypeParam>});
  EXPECT_TRUE(std::isnan(raw::var(empty).item<TypeParam>()));
}

TYPED_TEST(ReduceFloatTest, LogsumexpIsStable) {
  const std::vector<TypeParam> v = {1000, 1001, 999, -1, 0, 1};
  const Tensor x = from_vector(v, Shape{2, 3});
  const Tensor r = raw::logsumexp(x, {1});
  const double m0 = 1001 + std::log(std::exp(-1.0) + 1.0 + std::exp(-2.0));
  const double m1 = std::log(std::exp(-1.0) + 1.0 + std::exp(1.0));
  const double tol = sizeof(TypeParam) == 4 ? 1e-4 : 1e-12;
  EXPECT_NEAR(r.to_vector<TypeParam>()[0], m0, tol * 1000);
  EXPECT_NEAR(r.to_vector<TypeParam>()[1], m1, tol);
  EXPECT_EQ(raw::logsumexp(x, {1}, true).sizes(), (Shape{2, 1}));
}

TYPED_TEST(ReduceFloatTest, LogsumexpOfInfinities) {
  const TypeParam inf = std::numeric_limits<TypeParam>::infinity();
  const Tensor x = from_vector(std::vector<TypeParam>{-inf, -inf, 2, inf}, Shape{2, 2});
  const std::vector<TypeParam> r = raw::logsumexp(x, {1}).to_vector<TypeParam>();
  EXPECT_EQ(r[0], -inf);
  EXPECT_EQ(r[1], inf);
  const Tensor empty = zeros({2, 0}, {.dtype = dtype_of<TypeParam>});
  EXPECT_THAT(raw::logsumexp(empty, {1}).to_vector<TypeParam>(), ElementsAre(-inf, -inf));
}

TYPED_TEST(ReduceFloatTest, NormForEveryP) {
  const Tensor x = from_vector(std::vector<TypeParam>{3, -4, 0, 1, -2, 2}, Shape{2, 3});
  const double tol = sizeof(TypeParam) == 4 ? 1e-5 : 1e-12;
  auto at = [](const Tensor& t, int i) { return static_cast<double>(t.to_vector<TypeParam>()[i]); };
  const Tensor n2 = raw::norm(x, 2.0, {1});
  EXPECT_NEAR(at(n2, 0), 5.0, tol);
  EXPECT_NEAR(at(n2, 1), 3.0, tol);
  EXPECT_THAT(raw::norm(x, 1.0, {1}).to_vector<TypeParam>(), ElementsAre(7, 5));
  EXPECT_THAT(raw::norm(x, kInf, {1}).to_vector<TypeParam>(), ElementsAre(4, 2));
  EXPECT_THAT(raw::norm(x, -kInf, {1}).to_vector<TypeParam>(), ElementsAre(0, 1));
  EXPECT_THAT(raw::norm(x, 0.0, {1}).to_vector<TypeParam>(), ElementsAre(2, 3));
  const Tensor n3 = raw::norm(x, 3.0, {1});
  EXPECT_NEAR(at(n3, 0), std::cbrt(27.0 + 64.0), tol * 10);
  EXPECT_NEAR(at(n3, 1), std::cbrt(1.0 + 8.0 + 8.0), tol * 10);
  EXPECT_NEAR(raw::norm(x).item<double>(), std::sqrt(9.0 + 16 + 1 + 4 + 4), tol);
}

TEST(Reduce, IntegerAndBoolSumsGiveInt64) {
  const Tensor x = iota({2, 3}, kInt32);
  EXPECT_EQ(raw::sum(x).dtype(), kInt64);
  EXPECT_EQ(raw::sum(x).item<int64_t>(), 15);
  EXPECT_EQ(raw::prod(raw::add(x, wrap_scalar(1))).dtype(), kInt64);
  const Tensor b = tensor({true, false, true, true});
  EXPECT_EQ(raw::sum(b).dtype(), kInt64);
  EXPECT_EQ(raw::sum(b).item<int64_t>(), 3);
  EXPECT_THAT([&] { raw::sum(b, {}, false, kBool); },
              ThrowsMessage<DTypeError>(HasSubstr("sum: cannot accumulate in bool")));
  const Tensor as_double = raw::sum(x, {1}, false, kFloat64);
  EXPECT_EQ(as_double.dtype(), kFloat64);
  EXPECT_THAT(as_double.to_vector<double>(), ElementsAre(3.0, 12.0));
}

TEST(Reduce, MeanOfIntegersThrows) {
  EXPECT_THAT([] { raw::mean(iota({3}, kInt64)); },
              ThrowsMessage<DTypeError>(HasSubstr("mean: expected a floating-point tensor, got int64")));
  EXPECT_THAT([] { raw::var(iota({3}, kInt32)); }, ThrowsMessage<DTypeError>(HasSubstr("var")));
}

TEST(Reduce, BadDimsThrow) {
  const Tensor x = iota({2, 3});
  EXPECT_THAT([&] { raw::sum(x, {1, -1}); },
              ThrowsMessage<IndexError>(HasSubstr("sum: dim 1 appears multiple times")));
  EXPECT_THAT([&] { raw::sum(x, {2}); }, ThrowsMessage<IndexError>(HasSubstr("sum")));
  EXPECT_THAT([&] { raw::amax(x, {-3}); }, ThrowsMessage<IndexError>(HasSubstr("amax")));
  EXPECT_EQ(raw::reduced_shape({2, 3, 4}, {-1, 0}, true, "test"), (Shape{1, 3, 1}));
  EXPECT_EQ(raw::normalize_dims({-1, 0}, 3, "test"), (Shape{0, 2}));
}

TEST(Reduce, EmptyReductions) {
  const Tensor x = zeros({0, 3});
  EXPECT_THAT(raw::sum(x, {0}).to_vector<float>(), ElementsAre(0, 0, 0));
  EXPECT_EQ(raw::sum(x, {1}).sizes(), (Shape{0}));
  EXPECT_EQ(raw::sum(x).item<float>(), 0.0f);
  EXPECT_EQ(raw::prod(x).item<float>(), 1.0f);
  EXPECT_TRUE(std::isnan(raw::mean(x).item<float>()));
  EXPECT_THAT(raw::mean(x, {0}).to_vector<float>(), Pointwise(::testing::NanSensitiveFloatEq(),
                                                              std::vector<float>(3, NAN)));
  EXPECT_EQ(raw::amax(x, {1}).sizes(), (Shape{0}));  // nothing reduced over an empty dim
  EXPECT_THAT([&] { raw::amax(x, {0}); },
              ThrowsMessage<IndexError>(
                  HasSubstr("amax: expected reduction dim 0 to have non-zero size, input is (0, 3)")));
  EXPECT_THAT([&] { raw::argmax(x); }, ThrowsMessage<IndexError>(HasSubstr("argmax")));
  EXPECT_THAT([&] { raw::max(x, 0); }, ThrowsMessage<IndexError>(HasSubstr("max: expected")));
  EXPECT_THAT([&] { raw::amin(x); }, ThrowsMessage<IndexError>(HasSubstr("amin")));
}

TEST(Reduce, ZeroDimTensorsReduceToThemselves) {
  const Tensor x = scalar_tensor(3.5, kFloat32);
  EXPECT_EQ(raw::sum(x).dim(), 0);
  EXPECT_EQ(raw::sum(x).item<float>(), 3.5f);
  EXPECT_EQ(raw::sum(x, {0}).item<float>(), 3.5f);
  EXPECT_EQ(raw::sum(x, {-1}, true).dim(), 0);
  EXPECT_EQ(raw::amax(x).item<float>(), 3.5f);
  EXPECT_EQ(raw::mean(x).item<float>(), 3.5f);
  EXPECT_EQ(raw::argmax(x).item<int64_t>(), 0);
  const auto [values, indices] = raw::max(x, 0);
  EXPECT_EQ(values.dim(), 0);
  EXPECT_EQ(values.item<float>(), 3.5f);
  EXPECT_EQ(indices.item<int64_t>(), 0);
  EXPECT_THAT([&] { raw::sum(x, {1}); }, ThrowsMessage<IndexError>(HasSubstr("sum")));
}

TEST(Reduce, MaxMinWithIndicesTakeTheFirstTie) {
  const Tensor x = tensor({{1.f, 5.f, 5.f, 0.f}, {2.f, 2.f, -1.f, -1.f}});
  const auto [vmax, imax] = raw::max(x, 1);
  EXPECT_THAT(vmax.to_vector<float>(), ElementsAre(5, 2));
  EXPECT_THAT(imax.to_vector<int64_t>(), ElementsAre(1, 0));
  EXPECT_EQ(imax.dtype(), kInt64);
  const auto [vmin, imin] = raw::min(x, -1, /*keepdim=*/true);
  EXPECT_EQ(vmin.sizes(), (Shape{2, 1}));
  EXPECT_THAT(vmin.to_vector<float>(), ElementsAre(0, -1));
  EXPECT_THAT(imin.to_vector<int64_t>(), ElementsAre(3, 2));
  const auto [vcol, icol] = raw::max(x, 0);
  EXPECT_THAT(vcol.to_vector<float>(), ElementsAre(2, 5, 5, 0));
  EXPECT_THAT(icol.to_vector<int64_t>(), ElementsAre(1, 0, 0, 0));
}

TEST(Reduce, ArgmaxArgmin) {
  const Tensor x = tensor({{1.f, 7.f, 3.f}, {9.f, 0.f, 9.f}});
  EXPECT_EQ(raw::argmax(x).item<int64_t>(), 3);
  EXPECT_EQ(raw::argmax(x).dim(), 0);
  EXPECT_EQ(raw::argmax(x, std::nullopt, true).sizes(), (Shape{1, 1}));
  EXPECT_EQ(raw::argmin(x).item<int64_t>(), 4);
  EXPECT_THAT(raw::argmax(x, 1).to_vector<int64_t>(), ElementsAre(1, 0));
  EXPECT_THAT(raw::argmin(x, 0).to_vector<int64_t>(), ElementsAre(0, 1, 0));
  EXPECT_EQ(raw::argmin(x, -1, true).sizes(), (Shape{2, 1}));
  const Tensor xt = raw::transpose(x, 0, 1);  // (3, 2), non-contiguous
  EXPECT_THAT(raw::argmax(xt, 0).to_vector<int64_t>(), ElementsAre(1, 0));
  EXPECT_EQ(raw::argmax(xt).item<int64_t>(), 1);  // xt flattened: 1 9 7 0 3 9
  EXPECT_EQ(raw::argmax(iota({2, 2}, kInt64)).item<int64_t>(), 3);
}

TEST(Reduce, NanPropagatesThroughMaxMinAndArgmax) {
  const Tensor x = tensor({{1.f, NAN, 3.f, NAN}, {4.f, 2.f, 8.f, 6.f}});
  const std::vector<float> amax = raw::amax(x, {1}).to_vector<float>();
  EXPECT_TRUE(std::isnan(amax[0]));
  EXPECT_EQ(amax[1], 8.f);
  EXPECT_TRUE(std::isnan(raw::amin(x, {1}).to_vector<float>()[0]));
  EXPECT_TRUE(std::isnan(raw::amax(x).item<float>()));
  EXPECT_THAT(raw::argmax(x, 1).to_vector<int64_t>(), ElementsAre(1, 2));
  EXPECT_THAT(raw::argmin(x, 1).to_vector<int64_t>(), ElementsAre(1, 1));
  const auto [values, indices] = raw::min(x, 1);
  EXPECT_TRUE(std::isnan(values.to_vector<float>()[0]));
  EXPECT_THAT(indices.to_vector<int64_t>(), ElementsAre(1, 1));
  EXPECT_TRUE(std::isnan(raw::sum(x).item<float>()));
}

TEST(Reduce, BoolMaxAndMin) {
  const Tensor b = tensor({false, true, false});
  EXPECT_EQ(raw::amax(b).item<bool>(), true);
  EXPECT_EQ(raw::amin(b).item<bool>(), false);
  EXPECT_EQ(raw::amax(b).dtype(), kBool);
}

TEST(Reduce, LongRowsSpanningManyBlocks) {
  // 2^24 + 4096 ones: a float32 running sum would stop at 2^24; the blocked sum is exact.
  const int64_t n = (int64_t{1} << 24) + 4096;
  EXPECT_EQ(raw::sum(ones({n})).item<float>(), static_cast<float>(n));
  // The max sits in a late block, with a tie in an even later one: the first wins.
  std::vector<float> v(100000, 0.f);
  v[70001] = 5.f;
  v[99999] = 5.f;
  v[12] = -3.f;
  const Tensor x = from_vector(v);
  EXPECT_EQ(raw::argmax(x).item<int64_t>(), 70001);
  EXPECT_EQ(raw::argmin(x).item<int64_t>(), 12);
  EXPECT_EQ(raw::amax(x).item<float>(), 5.f);
  const auto [value, index] = raw::max(raw::reshape(x, {2, 50000}), 1);
  EXPECT_THAT(index.to_vector<int64_t>(), ElementsAre(0, 20001));
  EXPECT_THAT(value.to_vector<float>(), ElementsAre(0.f, 5.f));
}

// The order documented in tensor/cpu/row_reduce.h, written out on scalars: blocks of 4096,
// element i of a block into lane i % 32, the lanes folded pairwise (j with j + w, w = 16, ...,
// 1), the blocks combined as a balanced tree with floor(count / 2) blocks on the left.
template <typename T, typename Op>
T documented_block(const T* p, int64_t n, T identity, Op op) {
  T acc[32];
  for (T& a : acc) a = identity;
  for (int64_t i = 0; i < n; ++i) acc[i % 32] = op(acc[i % 32], p[i]);
  for (int w = 16; w > 0; w /= 2) {
    for (int j = 0; j < w; ++j) acc[j] = op(acc[j], acc[j + w]);
  }
  return acc[0];
}
template <typename T, typename Op>
T documented_tree(const T* p, int64_t n, int64_t first, int64_t count, T identity, Op op) {
  if (count == 1) {
    return documented_block(p + first * 4096, std::min<int64_t>(4096, n - first * 4096), identity,
                            op);
  }
  const int64_t left = count / 2;
  const T a = documented_tree(p, n, first, left, identity, op);
  return op(a, documented_tree(p, n, first + left, count - left, identity, op));
}
template <typename T, typename Op>
T documented_reduction(const std::vector<T>& v, T identity, Op op) {
  const auto n = static_cast<int64_t>(v.size());
  return documented_tree(v.data(), n, 0, std::max<int64_t>(1, (n + 4095) / 4096), identity, op);
}

// Every float and double row reduction gives exactly the bits of the documented order, for
// rows shorter than a vector, with partial last vectors, over several blocks, and with NaN,
// infinities and signed zeros in them (the kernels keep their lanes in SIMD registers).
TYPED_TEST(ReduceFloatTest, RowReductionsGiveTheBitsOfTheDocumentedOrder) {
  using T = TypeParam;
  const DType dtype = std::is_same_v<T, float> ? kFloat32 : kFloat64;
  const T inf = std::numeric_limits<T>::infinity();
  const auto sum = [](T a, T b) { return a + b; };
  const auto mul = [](T a, T b) { return a * b; };
  const auto max = [](T a, T b) { return (std::isnan(a) || a > b) ? a : b; };
  const auto min = [](T a, T b) { return (std::isnan(a) || a < b) ? a : b; };
  const auto same_bits = [](T a, T b) { return std::memcmp(&a, &b, sizeof(T)) == 0; };
  Generator gen(77);
  for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 41, 63, 64, 65, 100, 4095, 4096, 4097,
                    10000}) {
    for (int special = 0; special < 4; ++special) {
      std::vector<T> v = randn({n}, {.dtype = dtype}, &gen).template to_vector<T>();
      for (T& x : v) x *= T(3);
      if (special == 1) v[static_cast<size_t>(n / 2)] = std::numeric_limits<T>::quiet_NaN();
      if (special == 2) v[static_cast<size_t>(n - 1)] = -inf;
      if (special == 3) {
        for (T& x : v) x = x < 0 ? T(-0.0) : x;
      }
      std::vector<T> near_one(v);
      for (T& x : near_one) x = T(1) + x / T(1000);  // products that stay finite
      const Tensor row = from_vector(v);
      const Tensor row_near_one = from_vector(near_one);
      const std::string where = "n = " + std::to_string(n) + ", case " + std::to_string(special);
      EXPECT_TRUE(same_bits(raw::sum(row).template item<T>(), documented_reduction(v, T(0), sum)))
          << where;
      EXPECT_TRUE(same_bits(raw::amax(row).template item<T>(), documented_reduction(v, -inf, max)))
          << where;
      EXPECT_TRUE(same_bits(raw::amin(row).template item<T>(), documented_reduction(v, inf, min)))
          << where;
      EXPECT_TRUE(same_bits(raw::prod(row_near_one).template item<T>(),
                            documented_reduction(near_one, T(1), mul)))
          << where;
    }
  }
}

TEST(Reduce, SumIsAccurateAndIndependentOfThreadCount) {
  test::ThreadCountGuard guard;
  Generator gen(1234);
  const Tensor x = randn({1000000}, {}, &gen);
  const Tensor rows = raw::reshape(x, {4, 250000});
  const Tensor cols = raw::reshape(x, {1000, 1000});

  set_num_threads(1);
  const float total1 = raw::sum(x).item<float>();
  const std::vector<float> rows1 = raw::sum(rows, {1}).to_vector<float>();
  const std::vector<float> cols1 = raw::sum(cols, {0}).to_vector<float>();
  const float mean1 = raw::mean(x).item<float>();
  set_num_threads(2);
  const float total2 = raw::sum(x).item<float>();
  const std::vector<float> rows2 = raw::sum(rows, {1}).to_vector<float>();
  const std::vector<float> cols2 = raw::sum(cols, {0}).to_vector<float>();
  const float mean2 = raw::mean(x).item<float>();
  set_num_threads(5);  // more threads than rows: each row's blocks run in parallel
  const std::vector<float> rows5 = raw::sum(rows, {1}).to_vector<float>();
  const float total5 = raw::sum(x).item<float>();

  EXPECT_EQ(std::memcmp(&total1, &total2, sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(rows1.data(), rows2.data(), rows1.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(&total1, &total5, sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(rows1.data(), rows5.data(), rows1.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(cols1.data(), cols2.data(), cols1.size() * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(&mean1, &mean2, sizeof(float)), 0);

  // Against a float64 sum: error bounded by a few ulps of the sum of magnitudes.
  double exact = 0, magnitude = 0;
  for (float v : x.to_vector<float>()) {
    exact += v;
    magnitude += std::fabs(v);
  }
  EXPECT_NEAR(total1, exact, 1e-6 * magnitude);
}

}  // namespace
}  // namespace ignis

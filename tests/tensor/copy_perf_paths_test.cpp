// Tests of the fast CPU paths: the tiled transposing copy (against the generic strided copy)
// and the reductions over leading and middle dims (against the reduce slot on the permuted,
// contiguous copy: same bits), including thread-count invariance and empty shapes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "support/threads_and_windows.h"
#include "tensor/cpu/strided.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/reduce.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Values of `dtype`: random for floating dtypes, else 0, 1, 2, ... converted (wrapping).
Tensor values(const Shape& shape, DType dtype, uint64_t seed = 7) {
  if (dtype == kFloat32 || dtype == kFloat64) {
    Generator gen(seed);
    return randn(shape, {.dtype = dtype}, &gen);
  }
  return raw::to(raw::reshape(arange(numel_of(shape)), shape), dtype);
}

// Whether a and b have one shape, one dtype and the same bytes.
::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) {
    return ::testing::AssertionFailure() << a.shape_str() << " " << dtype_name(a.dtype())
                                         << " vs " << b.shape_str() << " " << dtype_name(b.dtype());
  }
  const Tensor ca = raw::contiguous(a), cb = raw::contiguous(b);
  if (a.numel() > 0 && std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) != 0) {
    return ::testing::AssertionFailure() << "bytes differ for shape " << a.shape_str();
  }
  return ::testing::AssertionSuccess();
}

// src copied by the generic strided loop, element by element (the reference).
Tensor generic_copy(const Tensor& src) {
  Tensor out = empty(src.sizes(), {.dtype = src.dtype()});
  visit_dtype(src.dtype(), [&]<typename T>() {
    cpu::map_kernel<T, T>(out, [](T x) { return x; }, {src});
  });
  return out;
}

const DType kOneFourEightBytes[] = {kUInt8, kBool, kInt32, kFloat32, kInt64, kFloat64};

TEST(TiledCopy, TransposedMatricesOfOddSizesMatchTheGenericCopy) {
  for (DType dtype : kOneFourEightBytes) {
    for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
             {37, 1029}, {1029, 37}, {1, 300}, {300, 1}, {64, 64}, {65, 63}, {2, 2}}) {
      const Tensor src = raw::t(values({cols, rows}, dtype));
      EXPECT_TRUE(same_bits(raw::contiguous(src), generic_copy(src)))
          << dtype_name(dtype) << " " << rows << "x" << cols;
    }
  }
}

TEST(TiledCopy, ValuesLandTransposed) {
  const Tensor x = raw::reshape(arange(6), {2, 3});
  EXPECT_THAT(raw::contiguous(raw::t(x)).to_vector<int64_t>(), ElementsAre(0, 3, 1, 4, 2, 5));
}

TEST(TiledCopy, EveryPermutationOf3dTensors) {
  for (DType dtype : {kUInt8, kFloat32, kFloat64}) {
    for (const Shape& shape : {Shape{5, 37, 70}, Shape{3, 130, 65}, Shape{70, 1, 90}}) {
      const Tensor x = values(shape, dtype);
      Shape perm{0, 1, 2};
      do {
        const Tensor src = raw::permute(x, perm);
        EXPECT_TRUE(same_bits(raw::contiguous(src), generic_copy(src)))
            << dtype_name(dtype) << " " << shape_str(shape) << " perm " << shape_str(perm);
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
}

TEST(TiledCopy, SlicedBroadcastAndStridedDestinations) {
  const Tensor x = values({200, 150}, kFloat32);
  // Every other row and column, transposed.
  const Tensor sliced = raw::t(raw::slice(raw::slice(x, 0, 0, 200, 2), 1, 1, 150, 3));
  EXPECT_TRUE(same_bits(raw::contiguous(sliced), generic_copy(sliced)));
  // A transposed matrix broadcast along a new leading dim (0 stride between the planes).
  const Tensor planes = raw::expand(raw::unsqueeze(raw::t(x), 0), {3, 150, 200});
  EXPECT_TRUE(same_bits(raw::contiguous(planes), generic_copy(planes)));
  // A row broadcast over rows and a column broadcast over columns.
  const Tensor row = raw::expand(raw::select(x, 0, 4), {70, 150});
  EXPECT_TRUE(same_bits(raw::contiguous(row), generic_copy(row)));
  const Tensor column = raw::expand(raw::unsqueeze(raw::select(x, 1, 4), 1), {200, 70});
  EXPECT_TRUE(same_bits(raw::contiguous(column), generic_copy(column)));
  // A transposed destination written from a contiguous source.
  Tensor dst = zeros({150, 200});
  raw::copy_(raw::t(dst), x);
  EXPECT_TRUE(same_bits(dst, generic_copy(raw::t(x))));
}

TEST(TiledCopy, OverlappingSourceReadsASnapshot) {
  Tensor x = values({67, 67}, kFloat64);
  const Tensor expected = generic_copy(raw::t(x));
  raw::copy_(x, raw::t(x));  // in place transpose: the source is the destination's storage
  EXPECT_TRUE(same_bits(x, expected));
}

TEST(TiledCopy, DtypeConversionOfTransposedSource) {
  const Tensor x = values({33, 45}, kFloat32);
  Tensor dst = empty({45, 33}, {.dtype = kFloat64});
  raw::copy_(dst, raw::t(x));
  EXPECT_TRUE(same_bits(dst, raw::to(raw::contiguous(raw::t(x)), kFloat64)));
}

TEST(TiledCopy, ThreadCountDoesNotChangeTheResult) {
  test::ThreadCountGuard guard;
  const Tensor src = raw::t(values({1001, 3000}, kFloat32));
  set_num_threads(1);
  const Tensor one = raw::contiguous(src);
  set_num_threads(2);
  EXPECT_TRUE(same_bits(one, raw::contiguous(src)));
  EXPECT_TRUE(same_bits(one, generic_copy(src)));
}

// op over normalized `dims` of x by the reduce slot alone: the reduced dims permuted last,
// made contiguous, reduced as rows of length n (the path before reduce_strided existed).
template <typename Op>
Tensor reduce_permuted(const Tensor& x, const Shape& dims, Op op) {
  Shape perm, kept_shape;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (std::find(dims.begin(), dims.end(), d) == dims.end()) {
      perm.push_back(d);
      kept_shape.push_back(x.size(d));
    }
  }
  perm.insert(perm.end(), dims.begin(), dims.end());
  const int64_t kept = numel_of(kept_shape);
  const int64_t n = kept == 0 ? 0 : x.numel() / kept;
  const Tensor rows = raw::reshape(raw::contiguous(raw::permute(x, perm)), {kept, n});
  return raw::reshape(op(rows, Shape{1}), kept_shape);
}

TEST(ColumnReduce, LeadingAndMiddleDimsMatchThePermutedRowReduction) {
  for (DType dtype : {kFloat32, kFloat64, kInt32}) {
    const Tensor x = values({5, 7, 9}, dtype);
    for (const Shape& dims : {Shape{0}, Shape{1}, Shape{0, 1}}) {
      const std::string where = std::string(dtype_name(dtype)) + " dims " + shape_str(dims);
      auto sum = [](const Tensor& t, const Shape& d) { return raw::sum(t, d); };
      auto prod = [](const Tensor& t, const Shape& d) { return raw::prod(t, d); };
      auto amax = [](const Tensor& t, const Shape& d) { return raw::amax(t, d); };
      auto amin = [](const Tensor& t, const Shape& d) { return raw::amin(t, d); };
      EXPECT_TRUE(same_bits(sum(x, dims), reduce_permuted(x, dims, sum))) << where;
      EXPECT_TRUE(same_bits(prod(x, dims), reduce_permuted(x, dims, prod))) << where;
      EXPECT_TRUE(same_bits(amax(x, dims), reduce_permuted(x, dims, amax))) << where;
      EXPECT_TRUE(same_bits(amin(x, dims), reduce_permuted(x, dims, amin))) << where;
      if (dtype != kInt32) {
        auto mean = [](const Tensor& t, const Shape& d) { return raw::mean(t, d); };
        EXPECT_TRUE(same_bits(mean(x, dims), reduce_permuted(x, dims, mean))) << where;
      }
    }
  }
}

TEST(ColumnReduce, KnownValuesKeepdimAndSizeOneDimsBetween) {
  const Tensor x = raw::to(raw::reshape(arange(6), {2, 3}), kFloat32);
  EXPECT_THAT(raw::sum(x, {0}).to_vector<float>(), ElementsAre(3, 5, 7));
  EXPECT_EQ(raw::sum(x, {0}, /*keepdim=*/true).sizes(), (Shape{1, 3}));
  EXPECT_THAT(raw::amax(x, {0}).to_vector<float>(), ElementsAre(3, 4, 5));
  // dims 0 and 2 of (4, 1, 5, 6) are consecutive but for a size-1 dim.
  const Tensor y = values({4, 1, 5, 6}, kFloat32);
  auto sum = [](const Tensor& t, const Shape& d) { return raw::sum(t, d); };
  EXPECT_TRUE(same_bits(raw::sum(y, {0, 2}), reduce_permuted(y, {0, 2}, sum)));
  EXPECT_EQ(raw::sum(y, {0, 2}, /*keepdim=*/true).sizes(), (Shape{1, 1, 1, 6}));
  // Not consecutive: dims 0 and 2 of (4, 3, 5, 6) take the permuting path.
  const Tensor z = values({4, 3, 5, 6}, kFloat32);
  EXPECT_TRUE(same_bits(raw::sum(z, {0, 2}), reduce_permuted(z, {0, 2}, sum)));
}

TEST(ColumnReduce, EmptyReducedDimGivesTheIdentity) {
  EXPECT_THAT(raw::sum(zeros({3, 0}), {1}).to_vector<float>(), ElementsAre(0, 0, 0));
  EXPECT_THAT(raw::prod(zeros({2, 0, 3}), {1}).to_vector<float>(), ElementsAre(1, 1, 1, 1, 1, 1));
}

TEST(ColumnReduce, NonContiguousInputAndNanPropagation) {
  const Tensor x = raw::t(values({40, 30}, kFloat32));  // (30, 40), strided
  auto sum = [](const Tensor& t, const Shape& d) { return raw::sum(t, d); };
  EXPECT_TRUE(same_bits(raw::sum(x, {0}), reduce_permuted(x, {0}, sum)));
  Tensor y = raw::contiguous(values({50, 20}, kFloat64));
  raw::fill_(raw::select(raw::select(y, 0, 33), 0, 7), std::numeric_limits<double>::quiet_NaN());
  const std::vector<double> maxima = raw::amax(y, {0}).to_vector<double>();
  const std::vector<double> minima = raw::amin(y, {0}).to_vector<double>();
  for (int64_t k = 0; k < 20; ++k) {
    EXPECT_EQ(std::isnan(maxima[k]), k == 7) << k;
    EXPECT_EQ(std::isnan(minima[k]), k == 7) << k;
  }
}

TEST(ColumnReduce, RowsSpanningSeveralBlocksMatchThePermutedRowReduction) {
  const Tensor x = values({10000, 33}, kFloat32);  // three blocks of rows per column
  auto sum = [](const Tensor& t, const Shape& d) { return raw::sum(t, d); };
  auto amax = [](const Tensor& t, const Shape& d) { return raw::amax(t, d); };
  EXPECT_TRUE(same_bits(raw::sum(x, {0}), reduce_permuted(x, {0}, sum)));
  EXPECT_TRUE(same_bits(raw::amax(x, {0}), reduce_permuted(x, {0}, amax)));
}

TEST(ColumnReduce, BitIdenticalForAnyThreadCount) {
  test::ThreadCountGuard guard;
  const Tensor x = values({3000, 1001}, kFloat32, 99);
  set_num_threads(1);
  const Tensor sum1 = raw::sum(x, {0});
  const Tensor mean1 = raw::mean(x, {0});
  set_num_threads(2);
  EXPECT_TRUE(same_bits(sum1, raw::sum(x, {0})));
  EXPECT_TRUE(same_bits(mean1, raw::mean(x, {0})));
  set_num_threads(7);
  EXPECT_TRUE(same_bits(sum1, raw::sum(x, {0})));
  auto sum = [](const Tensor& t, const Shape& d) { return raw::sum(t, d); };
  EXPECT_TRUE(same_bits(sum1, reduce_permuted(x, {0}, sum)));
}

TEST(ColumnReduce, ZeroSizeShapes) {
  EXPECT_THAT(raw::sum(zeros({0, 5}), {0}).to_vector<float>(), ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(raw::prod(zeros({0, 3}), {0}).to_vector<float>(), ElementsAre(1, 1, 1));
  EXPECT_EQ(raw::sum(zeros({5, 0}), {0}).sizes(), (Shape{0}));
  EXPECT_EQ(raw::sum(zeros({0, 3, 4}), {1}).sizes(), (Shape{0, 4}));
  EXPECT_THAT(raw::sum(zeros({3, 0, 2}), {1}).to_vector<float>(), ElementsAre(0, 0, 0, 0, 0, 0));
  EXPECT_THAT([] { raw::amax(zeros({0, 5}), {0}); },
              ThrowsMessage<IndexError>(HasSubstr("amax: expected reduction dim 0")));
}

}  // namespace
}  // namespace ignis

// Tests of fill_, copy_ (broadcast, dtype conversion, strided), contiguous, clone and to,
// which also exercise the CPU fill/copy kernels and the strided loop under them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor/backend.h"
#include "tensor/cpu/strided.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

Tensor iota(const Shape& shape, DType dtype = kInt64) {
  return raw::to(raw::reshape(arange(numel_of(shape)), shape), dtype);
}

TEST(Fill, EveryDtypeAndStridedViews) {
  for (DType dtype : {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64}) {
    Tensor t = zeros({2, 3}, {dtype});
    raw::fill_(raw::select(t, 1, 1), 1);
    EXPECT_THAT(t.to_vector<int64_t>(), ElementsAre(0, 1, 0, 0, 1, 0)) << dtype_name(dtype);
  }
  Tensor x = zeros({3}, {kInt32});
  raw::fill_(x, 2.9);  // a float Scalar into an int tensor truncates, as static_cast
  EXPECT_THAT(x.to_vector<int32_t>(), ElementsAre(2, 2, 2));
}

TEST(Copy, BroadcastsSource) {
  Tensor dst = zeros({2, 3});
  raw::copy_(dst, tensor({1.f, 2.f, 3.f}));
  EXPECT_THAT(dst.to_vector<float>(), ElementsAre(1, 2, 3, 1, 2, 3));
  EXPECT_THAT(
      [&] { raw::copy_(dst, zeros({2})); },
      ThrowsMessage<ShapeError>(HasSubstr("copy_: shapes (2, 3) and (2,) cannot be broadcast")));
  EXPECT_THAT(
      [] {
        raw::copy_(zeros({3}), zeros({2, 3}));
      },
      ThrowsMessage<ShapeError>(HasSubstr(
          "copy_: source of shape (2, 3) cannot be broadcast to the destination's shape (3,)")));
}

TEST(Copy, ConvertsDtypes) {
  Tensor src = tensor({-1.5f, 0.f, 2.7f});
  Tensor i = zeros({3}, {kInt64});
  raw::copy_(i, src);
  EXPECT_THAT(i.to_vector<int64_t>(), ElementsAre(-1, 0, 2));
  Tensor b = zeros({3}, {kBool});
  raw::copy_(b, src);
  EXPECT_THAT(b.to_vector<bool>(), ElementsAre(true, false, true));
  Tensor u = zeros({1}, {kUInt8});
  raw::copy_(u, tensor({300}));
  EXPECT_EQ(u.item<int64_t>(), 44);  // wraps modulo 256, as PyTorch
}

TEST(Copy, IntoStridedDestination) {
  Tensor m = zeros({3, 4}, {kInt64});
  raw::copy_(raw::transpose(m, 0, 1), iota({4, 3}));
  EXPECT_THAT(m.to_vector<int64_t>(), ElementsAre(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11));
}

TEST(Copy, OverlappingViewsReadASnapshot) {
  Tensor x = arange(5);
  raw::copy_(raw::slice(x, 0, 1, 5), raw::slice(x, 0, 0, 4));
  EXPECT_THAT(x.to_vector<int64_t>(), ElementsAre(0, 0, 1, 2, 3));
}

TEST(Copy, RefusesExpandedDestination) {
  Tensor e = raw::expand(zeros({1}), {3});
  EXPECT_THAT([&] { raw::copy_(e, ones({3})); },
              ThrowsMessage<ValueError>(HasSubstr("copy_: cannot write to an expanded tensor")));
  EXPECT_THROW(raw::fill_(e, 1), ValueError);
}

TEST(Copy, LargeStridedMatchesSerialUnderAnyThreadCount) {
  // Big enough to go parallel; a transposed, sliced source exercises the general path.
  Tensor src = raw::slice(raw::transpose(iota({600, 800}, kFloat64), 0, 1), 1, 1, 600, 2);
  const int saved = get_num_threads();
  set_num_threads(1);
  Tensor serial = zeros(src.sizes(), {kFloat32});
  raw::copy_(serial, src);
  set_num_threads(3);
  Tensor parallel = zeros(src.sizes(), {kFloat32});
  raw::copy_(parallel, src);
  set_num_threads(saved);
  EXPECT_EQ(serial.to_vector<float>(), parallel.to_vector<float>());
  const std::vector<float> values = serial.to_vector<float>();
  ASSERT_EQ(values.size(), 800u * 300u);
  EXPECT_EQ(values[0], 800.f);    // src[0][0] = original [1][0]
  EXPECT_EQ(values[1], 2400.f);   // src[0][1] = original [3][0]
  EXPECT_EQ(values[300], 801.f);  // src[1][0] = original [1][1]
}

TEST(StridedLoop, CoalescesDims) {
  Tensor a = zeros({2, 3, 4});
  EXPECT_EQ((cpu::StridedLoop<1>({2, 3, 4}, {a}).ndim()), 1);
  Tensor t = raw::permute(zeros({4, 3, 2}), {2, 1, 0});
  EXPECT_EQ((cpu::StridedLoop<2>({2, 3, 4}, {a, t}).ndim()), 3);
  Tensor b = raw::expand(zeros({3, 1}), {2, 3, 4});  // strides (0, 1, 0)
  EXPECT_EQ((cpu::StridedLoop<2>({2, 3, 4}, {a, b}).ndim()), 3);
  Tensor s = raw::slice(zeros({2, 3, 8}), 2, 0, 4);  // rows of 4 inside rows of 8
  EXPECT_EQ((cpu::StridedLoop<2>({2, 3, 4}, {a, s}).ndim()), 2);
  EXPECT_EQ((cpu::StridedLoop<1>({1, 1}, {zeros({1, 1})}).ndim()), 0);
}

TEST(StridedLoop, RangesVisitEachElementOnceInRowMajorOrder) {
  Tensor t = raw::transpose(raw::to(raw::reshape(arange(12), {3, 4}), kInt32), 0, 1);  // (4, 3)
  cpu::StridedLoop<1> loop(t.sizes(), {t});
  for (int64_t begin = 0; begin <= 12; ++begin) {
    for (int64_t end = begin; end <= 12; ++end) {
      std::vector<int32_t> seen;
      loop.run(begin, end,
               [&](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
                 for (int64_t i = 0; i < n; ++i)
                   seen.push_back(*reinterpret_cast<int32_t*>(p[0] + i * s[0]));
               });
      std::vector<int32_t> expected;
      const std::vector<int32_t> all = t.to_vector<int32_t>();
      expected.assign(all.begin() + begin, all.begin() + end);
      ASSERT_EQ(seen, expected) << "range [" << begin << ", " << end << ")";
    }
  }
}

TEST(MapKernel, BroadcastAndMixedTypes) {
  Tensor out = zeros({2, 3}, {kFloat64});
  Tensor a = raw::expand(from_vector<float>({1, 2}, Shape{2, 1}), {2, 3});
  Tensor b = raw::expand(from_vector<int32_t>({10, 20, 30}), {2, 3});
  cpu::map_kernel<double, float, int32_t>(out, [](float x, int32_t y) { return x * y; }, {a, b});
  EXPECT_THAT(out.to_vector<double>(), ElementsAre(10, 20, 30, 20, 40, 60));
}

TEST(Contiguous, ReturnsSelfOrCopy) {
  Tensor x = iota({2, 3});
  EXPECT_TRUE(raw::contiguous(x).is_same(x));
  Tensor t = raw::transpose(x, 0, 1);
  Tensor c = raw::contiguous(t);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_THAT(c.to_vector<int64_t>(), ElementsAre(0, 3, 1, 4, 2, 5));
}

TEST(Clone, IsAFreshCopy) {
  Tensor x = arange(3);
  Tensor c = raw::clone(x);
  EXPECT_NE(c.storage(), x.storage());
  raw::fill_(c, 7);
  EXPECT_THAT(x.to_vector<int64_t>(), ElementsAre(0, 1, 2));
  EXPECT_EQ(raw::clone(zeros({0, 2})).sizes(), (Shape{0, 2}));
}

TEST(To, DtypeAndDevice) {
  Tensor x = tensor({1.5, 2.5});
  EXPECT_TRUE(raw::to(x, kFloat64).is_same(x));
  Tensor f = raw::to(x, kInt32);
  EXPECT_EQ(f.dtype(), kInt32);
  EXPECT_THAT(f.to_vector<int32_t>(), ElementsAre(1, 2));
  EXPECT_TRUE(raw::to(x, Device::cpu()).is_same(x));
  if (!cuda::is_available()) {
    EXPECT_THROW(raw::to(x, Device::cuda()), DeviceError);
  }
}

}  // namespace
}  // namespace ignis

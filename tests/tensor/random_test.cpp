// Tests of Philox (known-answer vectors from the Random123 distribution), the generator,
// and the random factories: reproducibility, thread-count independence, moments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(Philox, KnownAnswerVectors) {
  EXPECT_THAT(philox4x32_10({0, 0, 0, 0}, {0, 0}),
              ElementsAre(0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u));
  EXPECT_THAT(
      philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
      ElementsAre(0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu));
  EXPECT_THAT(
      philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
      ElementsAre(0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u));
}

TEST(Philox, WordConversions) {
  EXPECT_EQ(philox_uniform_float({0, 0, 0, 0}), 0.f);
  EXPECT_EQ(philox_uniform_float({0xffffffff, 0, 0, 0}), 1.f - 0x1.0p-24f);
  EXPECT_EQ(philox_uniform_double({0, 0, 0, 0}), 0.0);
  EXPECT_EQ(philox_uniform_double({0xffffffff, 0xffffffff, 0, 0}), 1.0 - 0x1.0p-53);
  EXPECT_TRUE(std::isfinite(philox_normal({0, 0, 0, 0})));  // u1 = 0 must not give inf
}

TEST(Generator, AdvanceReservesCounters) {
  Generator gen(42);
  EXPECT_EQ(gen.advance(10).offset, 0u);
  EXPECT_EQ(gen.advance(5).offset, 10u);
  EXPECT_EQ(gen.state().offset, 15u);
  gen.manual_seed(7);
  EXPECT_EQ(gen.state().seed, 7u);
  EXPECT_EQ(gen.state().offset, 0u);
}

TEST(Random, UniformFollowsTheContract) {
  // Element i of the first op uses counter {i, 0, 0, 0} and key {lo(seed), hi(seed)}.
  Generator gen(0x1234567890abcdefULL);
  const std::vector<float> values = rand({4}, {}, &gen).to_vector<float>();
  for (uint32_t i = 0; i < 4; ++i) {
    const auto words = philox4x32_10({i, 0, 0, 0}, {0x90abcdefu, 0x12345678u});
    EXPECT_EQ(values[i], philox_uniform_float(words));
  }
  // The next op continues at offset 4.
  const float next = rand({1}, {}, &gen).item<float>();
  EXPECT_EQ(next, philox_uniform_float(philox4x32_10({4, 0, 0, 0}, {0x90abcdefu, 0x12345678u})));
}

TEST(Random, SameSeedSameNumbers) {
  Generator a(3), b(3), c(4);
  EXPECT_EQ(randn({100}, {}, &a).to_vector<float>(), randn({100}, {}, &b).to_vector<float>());
  EXPECT_NE(randn({100}, {}, &a).to_vector<float>(), randn({100}, {}, &c).to_vector<float>());
  manual_seed(11);
  const std::vector<double> first = rand({10}, {kFloat64}).to_vector<double>();
  manual_seed(11);
  EXPECT_EQ(rand({10}, {kFloat64}).to_vector<double>(), first);
}

TEST(Random, IndependentOfThreadCount) {
  const int saved = get_num_threads();
  set_num_threads(1);
  Generator g1(5);
  const std::vector<double> one = randn({100000}, {kFloat64}, &g1).to_vector<double>();
  set_num_threads(2);
  Generator g2(5);
  const std::vector<double> two = randn({100000}, {kFloat64}, &g2).to_vector<double>();
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(Random, Moments) {
  Generator gen(123);
  const std::vector<double> n = randn({100000}, {kFloat64}, &gen).to_vector<double>();
  const double mean = std::accumulate(n.begin(), n.end(), 0.0) / n.size();
  double var = 0;
  for (double x : n) var += (x - mean) * (x - mean);
  var /= n.size() - 1;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(var), 1.0, 0.02);
  const std::vector<float> u = rand({100000}, {}, &gen).to_vector<float>();
  EXPECT_GE(*std::min_element(u.begin(), u.end()), 0.f);
  EXPECT_LT(*std::max_element(u.begin(), u.end()), 1.f);
  EXPECT_NEAR(std::accumulate(u.begin(), u.end(), 0.0) / u.size(), 0.5, 0.01);
}

TEST(Random, InPlaceUniformAndNormal) {
  Generator gen(1);
  Tensor t = zeros({1000}, {kFloat64});
  const uint64_t v0 = t.version();
  uniform_(t, -2.0, -1.0, &gen);
  EXPECT_EQ(t.version(), v0 + 1);
  const std::vector<double> u = t.to_vector<double>();
  EXPECT_GE(*std::min_element(u.begin(), u.end()), -2.0);
  EXPECT_LT(*std::max_element(u.begin(), u.end()), -1.0);
  // A non-contiguous target gets the same numbers as a contiguous one of its shape.
  Tensor m = zeros({3, 4});
  Generator g1(9), g2(9);
  normal_(raw::transpose(m, 0, 1), 5.0, 2.0, &g1);
  Tensor ref = zeros({4, 3});
  normal_(ref, 5.0, 2.0, &g2);
  EXPECT_EQ(raw::transpose(m, 0, 1).to_vector<float>(), ref.to_vector<float>());
  EXPECT_THAT(
      [] { uniform_(zeros({2}, {kInt64})); },
      ThrowsMessage<DTypeError>(HasSubstr("uniform_: expected a floating-point dtype, got int64")));
}

TEST(Random, Randint) {
  Generator gen(2);
  Tensor r = randint(-3, 4, {10000}, {.dtype = kInt64}, &gen);
  EXPECT_EQ(r.dtype(), kInt64);
  const std::vector<int64_t> v = r.to_vector<int64_t>();
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -3);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 3);
  EXPECT_EQ(randint(0, 5, {3}, {kInt32}, &gen).dtype(), kInt32);
  EXPECT_THAT([&] { randint(3, 3, {1}, {.dtype = kInt64}, &gen); },
              ThrowsMessage<ValueError>(HasSubstr("randint: expected low < high")));
}

TEST(Random, Bernoulli) {
  Generator gen(8);
  const std::vector<float> b = bernoulli({10000}, 0.3, {}, &gen).to_vector<float>();
  EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](float x) { return x == 0.f || x == 1.f; }));
  EXPECT_NEAR(std::accumulate(b.begin(), b.end(), 0.0) / b.size(), 0.3, 0.02);
  Tensor p = tensor({0.f, 1.f, 0.f, 1.f});
  EXPECT_THAT(bernoulli(p, &gen).to_vector<float>(), ElementsAre(0, 1, 0, 1));
  EXPECT_EQ(bernoulli({2}, 0.5, {kBool}, &gen).dtype(), kBool);
  EXPECT_THROW(bernoulli({2}, 1.5, {}, &gen), ValueError);
}

TEST(Random, Randperm) {
  Generator gen(4);
  std::vector<int64_t> p = randperm(1000, &gen).to_vector<int64_t>();
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  EXPECT_NE(p, expected);
  Generator again(4);
  EXPECT_EQ(randperm(1000, &again).to_vector<int64_t>(), p);
  EXPECT_EQ(randperm(0, &gen).numel(), 0);
}

TEST(Random, RejectsIntegerDtypes) {
  EXPECT_THAT([] { randn({2}, {kInt64}); },
              ThrowsMessage<DTypeError>(HasSubstr("randn: expected a floating-point dtype")));
}

}  // namespace
}  // namespace ignis

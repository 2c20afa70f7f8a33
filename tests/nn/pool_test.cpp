// Tests of the differentiable pooling ops (autograd/pool.h) and nn::functional's pooling
// on them: float64 gradchecks (first and second order), where the gradient goes on ties, NaN
// and -inf, 3-d inputs, and thread-count independence of a full forward + backward.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "autograd/math.h"
#include "autograd/pool.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using ::testing::ElementsAre;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor leaf(const Shape& shape, uint64_t seed = 1) {
  Generator gen(seed);
  Tensor t = randn(shape, {.dtype = kFloat64}, &gen);
  t.requires_grad_();
  return t;
}

void expect_gradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  const autograd::GradcheckResult result = autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

const std::vector<Window2d> kWindows = {
    {{2, 2}, {2, 2}, {0, 0}, {1, 1}}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}},
    {{2, 3}, {1, 2}, {1, 1}, {1, 1}}, {{3, 2}, {2, 1}, {1, 0}, {1, 2}}};

TEST(PoolGradcheck, MaxPool2dFirstAndSecondOrder) {
  const Tensor x = leaf({2, 3, 7, 6});
  for (const Window2d& w : kWindows) {
    expect_gradcheck([&](const std::vector<Tensor>& in) { return max_pool2d(in[0], w); }, {x});
    // d/dx of <grad_x(sum(max_pool2d(x) * g)), v>: the double backward through the gather.
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          const Tensor y = max_pool2d(in[0], w);
          const Tensor g = autograd::grad({sum(mul(y, in[1]))}, {in[0]}, {}, false, true)[0];
          return mul(g, g);
        },
        {x, leaf(max_pool2d(x.detach(), w).sizes(), 2)});
  }
}

TEST(PoolGradcheck, AvgPool2dFirstAndSecondOrder) {
  const Tensor x = leaf({2, 3, 7, 6});
  for (const Window2d& w : kWindows) {
    if (w.dilation[1] != 1) continue;
    for (const bool include : {true, false}) {
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) { return avg_pool2d(in[0], w, include); }, {x});
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) {
            const Tensor y = avg_pool2d(in[0], w, include);
            const Tensor g = autograd::grad({sum(mul(mul(y, y), in[1]))}, {in[0]}, {}, false,
                                            true)[0];
            return mul(g, g);
          },
          {x, leaf(avg_pool2d(x.detach(), w, include).sizes(), 3)});
    }
  }
}

TEST(PoolGradients, TiesNaNAndMinusInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::vector<double> x;  // one 2x2 window
    std::vector<double> dx;
  };
  const std::vector<Case> cases = {{{3, 3, 3, 3}, {1, 0, 0, 0}},
                                   {{1, 5, 2, 5}, {0, 1, 0, 0}},
                                   {{1, nan, 2, nan}, {0, 1, 0, 0}},
                                   {{-inf, -inf, -inf, -inf}, {1, 0, 0, 0}},
                                   {{-inf, -inf, -1, -inf}, {0, 0, 1, 0}}};
  for (const Case& c : cases) {
    Tensor x = from_vector(c.x, Shape{1, 1, 2, 2});
    x.requires_grad_();
    sum(F::max_pool2d(x, 2)).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), c.dx);
  }
}

TEST(PoolFunctional, ThreeDInputIsABatchOfOne) {
  const Tensor x = leaf({3, 6, 5});
  const Tensor y3 = F::max_pool2d(x, 2);
  EXPECT_EQ(y3.sizes(), (Shape{3, 3, 2}));
  EXPECT_EQ(y3.to_vector<double>(), F::max_pool2d(x.unsqueeze(0), 2).squeeze(0).to_vector<double>());
  EXPECT_EQ(F::avg_pool2d(x, 3, 2, 1).sizes(), (Shape{3, 3, 3}));
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], {2, 3}, 1, 1); },
                   {x});
  expect_gradcheck([](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], 2, 1, 1, false); },
                   {x});
}

TEST(PoolFunctional, ForwardAndBackwardAreIdenticalForOneAndTwoThreads) {
  const int saved = get_num_threads();
  auto run = [](int threads) {
    set_num_threads(threads);
    Generator gen(5);
    Tensor x = randn({16, 8, 14, 14}, {}, &gen);
    x.requires_grad_();
    const Tensor y = F::max_pool2d(x, 2) * 2.0 + F::avg_pool2d(F::max_pool2d(x, 3, 1, 1), 3, 2, 1);
    sum(mul(y, y)).backward();
    return std::vector<std::vector<float>>{y.to_vector<float>(), x.grad().to_vector<float>()};
  };
  const auto one = run(1), two = run(2);
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(PoolFunctional, GradientGoesToTheFirstElementOfEachWindow) {
  Tensor x = ones({1, 1, 4, 4});
  x.requires_grad_();
  sum(F::max_pool2d(x, 2, 2)).backward();
  EXPECT_THAT(x.grad().to_vector<float>(),
              ElementsAre(1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0));
}

}  // namespace
}  // namespace ignis

// Gradchecks of the elementwise ops of autograd/math.h: each on contiguous, transposed and
// strided inputs, broadcast pairs, 0-d and empty tensors. Not the forward values (tensor/).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "autograd/math.h"
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

// fn on one input of each layout, on a 0-d input and on an empty one.
void check_unary(const std::function<Tensor(const Tensor&)>& fn, Values values = Values::Normal) {
  auto wrapped = [&](const Inputs& in) { return fn(in[0]); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({3, 4}, layout, values)}));
  }
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({}, Layout::Contiguous, values)})) << "0-d";
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({0, 3}, Layout::Contiguous, values)})) << "empty";
}

// fn on same-shape inputs of each layout, broadcast pairs, 0-d with 2-d, and empty.
void check_binary(const std::function<Tensor(const Tensor&, const Tensor&)>& fn,
                  Values values = Values::Normal) {
  auto wrapped = [&](const Inputs& in) { return fn(in[0], in[1]); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({3, 4}, layout, values, 1),
                                       leaf({3, 4}, layout, values, 2)}));
  }
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({3, 4}, Layout::Contiguous, values, 1),
                                     leaf({4}, Layout::Contiguous, values, 2)}))
      << "broadcast (3, 4) with (4)";
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({3, 1}, Layout::Contiguous, values, 1),
                                     leaf({1, 4}, Layout::Strided, values, 2)}))
      << "broadcast (3, 1) with (1, 4)";
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({}, Layout::Contiguous, values, 1),
                                     leaf({2, 3}, Layout::Transposed, values, 2)}))
      << "0-d with (2, 3)";
  EXPECT_TRUE(gradcheck_ok(wrapped, {leaf({0, 4}, Layout::Contiguous, values, 1),
                                     leaf({4}, Layout::Contiguous, values, 2)}))
      << "empty";
}

TEST(MathGradcheck, Add) {
  check_binary([](const Tensor& a, const Tensor& b) { return add(a, b); });
  check_binary([](const Tensor& a, const Tensor& b) { return add(a, b, 2.5); });
}

TEST(MathGradcheck, Sub) {
  check_binary([](const Tensor& a, const Tensor& b) { return sub(a, b); });
  check_binary([](const Tensor& a, const Tensor& b) { return sub(a, b, 0.5); });
}

TEST(MathGradcheck, Mul) {
  check_binary([](const Tensor& a, const Tensor& b) { return mul(a, b); });
}

TEST(MathGradcheck, Div) {
  check_binary([](const Tensor& a, const Tensor& b) { return div(a, b); }, Values::Positive);
}

TEST(MathGradcheck, PowTensor) {
  check_binary([](const Tensor& a, const Tensor& b) { return pow(a, b); }, Values::Positive);
}

TEST(MathGradcheck, PowScalar) {
  check_unary([](const Tensor& x) { return pow(x, 3); });
  check_unary([](const Tensor& x) { return pow(x, 0.5); }, Values::Positive);
  check_unary([](const Tensor& x) { return pow(x, -1.5); }, Values::Positive);
  check_unary([](const Tensor& x) { return pow(x, 0); });
}

TEST(MathGradcheck, PowGradientOfExponentAtZeroBaseIsZero) {
  Tensor a = zeros({2}, {.dtype = kFloat64});
  Tensor e = full({2}, 2.0, {.dtype = kFloat64}).requires_grad_();
  pow(a, e).sum().backward();
  EXPECT_EQ(e.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0}));
}

TEST(MathGradcheck, MaximumMinimum) {
  check_binary([](const Tensor& a, const Tensor& b) { return maximum(a, b); });
  check_binary([](const Tensor& a, const Tensor& b) { return minimum(a, b); });
}

TEST(MathGradcheck, MaximumSplitsTiesEvenly) {
  Tensor a = tensor({1.0, 2.0, 3.0}).requires_grad_();
  Tensor b = tensor({1.0, 5.0, 0.0}).requires_grad_();
  maximum(a, b).sum().backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.5, 0.0, 1.0}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.5, 1.0, 0.0}));
}

TEST(MathGradcheck, Unary) {
  check_unary([](const Tensor& x) { return neg(x); });
  check_unary([](const Tensor& x) { return abs(x); });
  check_unary([](const Tensor& x) { return exp(x); });
  check_unary([](const Tensor& x) { return log(x); }, Values::Positive);
  check_unary([](const Tensor& x) { return log1p(x); }, Values::Positive);
  check_unary([](const Tensor& x) { return sqrt(x); }, Values::Positive);
  check_unary([](const Tensor& x) { return rsqrt(x); }, Values::Positive);
  check_unary([](const Tensor& x) { return square(x); });
}

TEST(MathGradcheck, AbsGradientAtZeroIsZero) {
  Tensor x = zeros({3}, {.dtype = kFloat64}).requires_grad_();
  abs(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 0.0, 0.0}));
}

TEST(MathGradcheck, Activations) {
  check_unary([](const Tensor& x) { return relu(x); });
  check_unary([](const Tensor& x) { return leaky_relu(x, 0.1); });
  check_unary([](const Tensor& x) { return gelu(x); });
  check_unary([](const Tensor& x) { return gelu(x, "tanh"); });
  check_unary([](const Tensor& x) { return silu(x); });
  check_unary([](const Tensor& x) { return tanh(x); });
  check_unary([](const Tensor& x) { return sigmoid(x); });
}

TEST(MathGradcheck, GeluRejectsUnknownApproximation) {
  EXPECT_THAT([] { gelu(zeros({2}), "fast"); },
              ::testing::ThrowsMessage<ValueError>(::testing::HasSubstr("\"fast\"")));
}

TEST(MathGradcheck, Clamp) {
  check_unary([](const Tensor& x) { return clamp(x, -0.5, 0.5); });
  check_unary([](const Tensor& x) { return clamp(x, Scalar(0.0), std::nullopt); });
  check_unary([](const Tensor& x) { return clamp(x, std::nullopt, Scalar(0.3)); });
}

TEST(MathGradcheck, Where) {
  Tensor cond = tensor({true, false, true, false});
  auto fn = [&](const Inputs& in) { return where(cond, in[0], in[1]); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout), leaf({3, 4}, layout, Values::Normal, 2)}));
  }
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 1}), leaf({}, Layout::Contiguous, Values::Normal, 2)}))
      << "broadcast";
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({0, 4}), leaf({4}, Layout::Contiguous, Values::Normal, 2)}))
      << "empty";
}

TEST(MathGradcheck, MaskedFill) {
  Tensor mask = tensor({true, false, false, true});
  auto fn = [&](const Inputs& in) { return masked_fill(in[0], mask, 2.0); };
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout)}));
  }
  EXPECT_TRUE(gradcheck_ok(fn, {leaf({0, 4})})) << "empty";
}

TEST(MathGradcheck, OperatorsWithTensorsAndNumbers) {
  check_binary([](const Tensor& a, const Tensor& b) { return a + b * a - b / (a * a + 1); });
  check_unary([](const Tensor& x) { return 2 * x + 1; });
  check_unary([](const Tensor& x) { return x * 3.0 - 2; });
  check_unary([](const Tensor& x) { return 1 - x / 4; });
  check_unary([](const Tensor& x) { return 1.5 / x; }, Values::Positive);
  check_unary([](const Tensor& x) { return -x; });
}

TEST(MathGradcheck, ComparisonsNeverRequireGrad) {
  Tensor a = leaf({3});
  Tensor b = leaf({3}, Layout::Contiguous, Values::Normal, 2);
  for (const Tensor& t : {a == b, a != b, a < b, a <= b, a > b, a >= b, a > 0.0, a == 1,
                          isnan(a), logical_not(a > b), (a > b) && (a < b),
                          (a > b) || (a < b), logical_xor(a > b, a < b)}) {
    EXPECT_EQ(t.dtype(), kBool);
    EXPECT_FALSE(t.requires_grad());
  }
}

TEST(MathGradcheck, GradientHasTheInputDtype) {
  Tensor x = ones({2}, {.dtype = kFloat32}).requires_grad_();
  Tensor y = ones({2}, {.dtype = kFloat64});
  (x * y).sum().backward();
  EXPECT_EQ((x * y).dtype(), kFloat64);
  EXPECT_EQ(x.grad().dtype(), kFloat32);
}

}  // namespace
}  // namespace ignis

// Tests of the raw elementwise ops and their CPU kernels: every unary and binary op against
// double-precision std:: references, broadcasting, strided inputs, type promotion, in place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "tensor/cpu/row_reduce.h"
#include "tensor/cpu/simd_math.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Ref1 = std::function<double(double)>;
using Ref2 = std::function<double(double, double)>;

// Evenly spaced values in [lo, hi], as a 1-d tensor of `dtype`.
Tensor values_in(double lo, double hi, int64_t n, DType dtype) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = lo + (hi - lo) * i / (n - 1);
  return raw::to(from_vector<double>(v), dtype);
}

// Checks got[i] against ref(x[i]) computed in double: |got - ref| <= atol + rtol |ref|,
// with rtol a few ulp of the dtype. NaN must match NaN.
void expect_close(const Tensor& got, const std::vector<double>& want, DType dtype,
                  const std::string& what) {
  ASSERT_EQ(got.dtype(), dtype) << what;
  std::vector<double> g = got.to_vector<double>();
  ASSERT_EQ(g.size(), want.size()) << what;
  const double rtol = dtype == kFloat32 ? 1e-6 : 1e-13;
  const double atol = dtype == kFloat32 ? 1e-7 : 1e-15;
  int failures = 0;
  for (size_t i = 0; i < g.size() && failures < 5; ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << what << " [" << i << "]";
      continue;
    }
    if (std::isinf(want[i])) {
      EXPECT_EQ(g[i], want[i]) << what << " [" << i << "]";
      continue;
    }
    if (std::abs(g[i] - want[i]) > atol + rtol * std::abs(want[i])) {
      ADD_FAILURE() << what << " [" << i << "]: got " << g[i] << ", want " << want[i];
      ++failures;
    }
  }
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_erf_ref(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  Ref1 ref;
  double lo, hi;  // input range
  UnaryParams params = {};
};

std::vector<UnaryCase> unary_cases() {
  return {
      {UnaryOp::Neg, "neg", [](double x) { return -x; }, -5, 5},
      {UnaryOp::Abs, "abs", [](double x) { return std::abs(x); }, -5, 5},
      {UnaryOp::Sign, "sign", [](double x) { return double((0 < x) - (x < 0)); }, -5, 5},
      {UnaryOp::Exp, "exp", [](double x) { return std::exp(x); }, -20, 20},
      {UnaryOp::Log, "log", [](double x) { return std::log(x); }, 0.01, 50},
      {UnaryOp::Log1p, "log1p", [](double x) { return std::log1p(x); }, -0.9, 50},
      {UnaryOp::Expm1, "expm1", [](double x) { return std::expm1(x); }, -5, 5},
      {UnaryOp::Sqrt, "sqrt", [](double x) { return std::sqrt(x); }, 0, 50},
      {UnaryOp::Rsqrt, "rsqrt", [](double x) { return 1 / std::sqrt(x); }, 0.01, 50},
      {UnaryOp::Reciprocal, "reciprocal", [](double x) { return 1 / x; }, 0.1, 5},
      {UnaryOp::Square, "square", [](double x) { return x * x; }, -5, 5},
      {UnaryOp::Sin, "sin", [](double x) { return std::sin(x); }, -5, 5},
      {UnaryOp::Cos, "cos", [](double x) { return std::cos(x); }, -5, 5},
      {UnaryOp::Erf, "erf", [](double x) { return std::erf(x); }, -3, 3},
      {UnaryOp::Relu, "relu", [](double x) { return x < 0 ? 0.0 : x; }, -5, 5},
      {UnaryOp::Sigmoid, "sigmoid", sigmoid_ref, -20, 20},
      {UnaryOp::Tanh, "tanh", [](double x) { return std::tanh(x); }, -6, 6},
      {UnaryOp::Silu, "silu", [](double x) { return x * sigmoid_ref(x); }, -20, 20},
      {UnaryOp::GeluErf, "gelu", gelu_erf_ref, -6, 6},
      {UnaryOp::GeluTanh, "gelu_tanh", gelu_tanh_ref, -6, 6},
      {UnaryOp::LeakyRelu, "leaky_relu", [](double x) { return x > 0 ? x : 0.1 * x; }, -5, 5,
       {.alpha = 0.1}},
      {UnaryOp::Clamp, "clamp", [](double x) { return std::min(std::max(x, -0.5), 0.7); }, -2,
       2, {.lo = -0.5, .hi = 0.7}},
      {UnaryOp::PowScalar, "pow 1.7", [](double x) { return std::pow(x, 1.7); }, 0, 5,
       {.alpha = 1.7}},
      {UnaryOp::PowScalar, "pow 2", [](double x) { return x * x; }, -5, 5, {.alpha = 2}},
      {UnaryOp::PowScalar, "pow 0.5", [](double x) { return std::sqrt(x); }, 0, 5,
       {.alpha = 0.5}},
      {UnaryOp::PowScalar, "pow -1", [](double x) { return 1 / x; }, 0.1, 5, {.alpha = -1}},
  };
}

TEST(Unary, EveryOpMatchesStdReferenceInFloat32AndFloat64) {
  for (DType dtype : {kFloat32, kFloat64}) {
    for (const UnaryCase& c : unary_cases()) {
      Tensor x = values_in(c.lo, c.hi, 1001, dtype);
      std::vector<double> want;
      // The reference sees the input as the kernel does (rounded to float32).
      for (double v : x.to_vector<double>()) want.push_back(c.ref(v));
      expect_close(raw::unary(c.op, x, c.params), want, dtype,
                   std::string(c.name) + " " + dtype_name(dtype));
    }
  }
}

TEST(Unary, SpecialValues) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor x = raw::to(from_vector<double>({-kInf, kInf, kNaN, 0.0, -100.0, 100.0}), dtype);
    expect_close(raw::exp(x), {0, kInf, kNaN, 1, std::exp(-100.0), dtype == kFloat32 ? kInf : std::exp(100.0)},
                 dtype, "exp");
    expect_close(raw::unary(UnaryOp::Tanh, x), {-1, 1, kNaN, 0, -1, 1}, dtype, "tanh");
    expect_close(raw::unary(UnaryOp::Sigmoid, x), {0, 1, kNaN, 0.5, sigmoid_ref(-100), 1}, dtype,
                 "sigmoid");
    expect_close(raw::unary(UnaryOp::Relu, x), {0, kInf, kNaN, 0, 0, 100}, dtype, "relu");
    expect_close(raw::unary(UnaryOp::Sign, x), {-1, 1, 0, 0, -1, 1}, dtype, "sign");
    expect_close(raw::clamp(x, -1.0, 1.0), {-1, 1, kNaN, 0, -1, 1}, dtype, "clamp");
    expect_close(raw::log(raw::to(from_vector<double>({0.0, -1.0}), dtype)), {-kInf, kNaN},
                 dtype, "log");
  }
}

// The vectorised float32 exp, log and tanh against libm in double, over their whole useful
// range (subnormals included): within 2 ulp.
TEST(Unary, Float32ExpLogAndTanhWithinTwoUlp) {
  auto ulp_error = [](float got, double want) {
    const float w = static_cast<float>(want);
    const double ulp = w == 0 ? std::numeric_limits<float>::denorm_min()
                              : std::nextafter(std::abs(w), INFINITY) - std::abs(w);
    return std::abs(got - want) / ulp;
  };
  double worst_exp = 0, worst_log = 0, worst_tanh = 0;
  for (int i = 0; i <= 400000; ++i) {
    const float x = static_cast<float>(-103.0 + 191.0 * i / 400000);
    worst_exp = std::max(worst_exp, ulp_error(cpu::exp_f32(x), std::exp(double{x})));
    // log over every binade: 2^-149 (the smallest subnormal) to 2^127
    const float l = static_cast<float>(std::exp2(-149.0 + 276.0 * i / 400000));
    worst_log = std::max(worst_log, ulp_error(cpu::log_f32(l), std::log(double{l})));
    const float t = static_cast<float>(-10.0 + 20.0 * i / 400000);
    worst_tanh = std::max(worst_tanh, ulp_error(cpu::tanh_f32(t), std::tanh(double{t})));
  }
  EXPECT_LT(worst_exp, 2.0);
  EXPECT_LT(worst_log, 2.0);
  EXPECT_LT(worst_tanh, 2.0);
}

// exp_f32 on a vector of floats (the row kernels' width, tensor/cpu/row_reduce.h) gives each
// lane the bits of the scalar form: softmax and cross-entropy, which take the vector form,
// then agree with the elementwise exp to the bit. Across the whole range, the clamps, the
// subnormal results, infinities, NaN and signed zeros.
TEST(Unary, Float32ExpVectorFormGivesTheScalarBits) {
  using V = cpu::LaneVec<float>;
  constexpr int L = cpu::kVecLanes<float>;
  std::vector<float> xs = {-INFINITY, INFINITY, NAN, -0.0f, 0.0f, -104.5f, -103.9f, -87.4f,
                           88.7f, 89.0f, 89.5f, 1e-30f, -1e-30f};
  for (int i = 0; i <= 200000; ++i) xs.push_back(static_cast<float>(-110.0 + 205.0 * i / 200000));
  while (xs.size() % L != 0) xs.push_back(1.0f);
  long mismatches = 0;
  for (size_t i = 0; i < xs.size(); i += L) {
    V v;
    std::memcpy(&v, xs.data() + i, sizeof(V));
    const V e = cpu::exp_f32(v);
    for (int j = 0; j < L; ++j) {
      const float scalar = cpu::exp_f32(xs[i + static_cast<size_t>(j)]);
      const float lane = e[j];
      if (std::memcmp(&scalar, &lane, sizeof(float)) != 0 && mismatches++ < 5) {
        ADD_FAILURE() << "exp_f32(" << xs[i + static_cast<size_t>(j)] << "): scalar " << scalar
                      << ", vector lane " << lane;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Unary, IntegerInputOfFloatingOpsComputesInFloat32) {
  Tensor x = tensor({0, 1, 2});
  Tensor y = raw::exp(x);
  EXPECT_EQ(y.dtype(), kFloat32);
  expect_close(y, {1, std::exp(1.0), std::exp(2.0)}, kFloat32, "exp(int)");
  EXPECT_EQ(raw::sqrt(raw::to(x, kUInt8)).dtype(), kFloat32);
  EXPECT_EQ(raw::unary(UnaryOp::Sigmoid, tensor({true})).dtype(), kFloat32);
}

TEST(Unary, IntegerOpsKeepTheirDtype) {
  Tensor x = raw::to(tensor({-3, 0, 4}), kInt32);
  EXPECT_EQ(raw::neg(x).dtype(), kInt32);
  EXPECT_THAT(raw::neg(x).to_vector<int32_t>(), ElementsAre(3, 0, -4));
  EXPECT_THAT(raw::unary(UnaryOp::Abs, x).to_vector<int32_t>(), ElementsAre(3, 0, 4));
  EXPECT_THAT(raw::unary(UnaryOp::Sign, x).to_vector<int32_t>(), ElementsAre(-1, 0, 1));
  EXPECT_THAT(raw::unary(UnaryOp::Square, x).to_vector<int32_t>(), ElementsAre(9, 0, 16));
  EXPECT_THAT(raw::unary(UnaryOp::Relu, x).to_vector<int32_t>(), ElementsAre(0, 0, 4));
  Tensor p = raw::unary(UnaryOp::PowScalar, x, {.alpha = 3});
  EXPECT_EQ(p.dtype(), kInt32);
  EXPECT_THAT(p.to_vector<int32_t>(), ElementsAre(-27, 0, 64));
  EXPECT_EQ(raw::unary(UnaryOp::PowScalar, x, {.alpha = 0.5}).dtype(), kFloat32);
  // torch.square(bool) promotes to int64, as bool ** 2 does.
  EXPECT_EQ(raw::unary(UnaryOp::Square, tensor({true, false})).dtype(), kInt64);
  // Integer negation wraps around, as PyTorch's.
  Tensor m = raw::to(tensor({std::numeric_limits<int32_t>::min()}), kInt32);
  EXPECT_THAT(raw::neg(m).to_vector<int32_t>(), ElementsAre(std::numeric_limits<int32_t>::min()));
}

TEST(Unary, BoolOutputs) {
  Tensor x = tensor({0.f, 2.f, NAN});
  Tensor n = raw::unary(UnaryOp::LogicalNot, x);
  EXPECT_EQ(n.dtype(), kBool);
  EXPECT_THAT(n.to_vector<bool>(), ElementsAre(true, false, false));
  Tensor i = raw::unary(UnaryOp::IsNan, x);
  EXPECT_THAT(i.to_vector<bool>(), ElementsAre(false, false, true));
  EXPECT_THAT(raw::unary(UnaryOp::IsNan, tensor({1, 2})).to_vector<bool>(),
              ElementsAre(false, false));
  EXPECT_THAT(raw::unary(UnaryOp::LogicalNot, tensor({true, false})).to_vector<bool>(),
              ElementsAre(false, true));
}

TEST(Unary, NegOfBoolThrows) {
  EXPECT_THAT([] { raw::neg(tensor({true})); },
              ThrowsMessage<DTypeError>(HasSubstr("neg")));
}

TEST(Unary, StridedZeroSizeAndZeroDimInputs) {
  Tensor x = raw::reshape(values_in(-3, 3, 12, kFloat32), {3, 4});
  Tensor xt = raw::transpose(x, 0, 1);  // (4, 3), not contiguous
  Tensor y = raw::exp(xt);
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  std::vector<double> want;
  for (double v : xt.to_vector<double>()) want.push_back(std::exp(v));
  expect_close(y, want, kFloat32, "exp(transposed)");
  Tensor s = raw::slice(x, 1, 0, 4, 2);  // every other column
  want.clear();
  for (double v : s.to_vector<double>()) want.push_back(-v);
  expect_close(raw::neg(s), want, kFloat32, "neg(sliced)");
  EXPECT_EQ(raw::exp(zeros({0, 3})).shape(), (Shape{0, 3}));
  Tensor z = raw::exp(scalar_tensor(1.0));
  EXPECT_EQ(z.dim(), 0);
  EXPECT_DOUBLE_EQ(z.item<double>(), std::exp(1.0));
}

TEST(UnaryInPlace, WritesSelfAndBumpsVersion) {
  Tensor x = tensor({0.f, 1.f});
  const uint64_t v = x.version();
  raw::unary_(UnaryOp::Exp, x);
  expect_close(x, {1, std::exp(1.0)}, kFloat32, "exp_");
  EXPECT_GT(x.version(), v);
  // A strided view is updated in place, the rest untouched.
  Tensor m = zeros({2, 2});
  raw::unary_(UnaryOp::Exp, raw::select(m, 1, 0));
  EXPECT_THAT(m.to_vector<float>(), ElementsAre(1, 0, 1, 0));
  // logical_not_ of a float tensor stores 0 / 1 (bool can be cast to float).
  Tensor f = tensor({0.f, 3.f});
  raw::unary_(UnaryOp::LogicalNot, f);
  EXPECT_THAT(f.to_vector<float>(), ElementsAre(1, 0));
}

TEST(UnaryInPlace, ResultThatCannotBeStoredThrows) {
  Tensor i = tensor({1, 2});
  EXPECT_THAT([&] { raw::unary_(UnaryOp::Exp, i); },
              ThrowsMessage<DTypeError>(AllOf(HasSubstr("exp_"), HasSubstr("float32"),
                                              HasSubstr("int64"))));
  EXPECT_THAT([] { raw::unary_(UnaryOp::Exp, raw::expand(tensor({1.f}), {3})); },
              ThrowsMessage<ValueError>(HasSubstr("exp_")));
}

struct BinaryCase {
  BinaryOp op;
  const char* name;
  Ref2 ref;
  double lo, hi;  // range of both inputs
};

std::vector<BinaryCase> binary_cases() {
  return {
      {BinaryOp::Add, "add", [](double a, double b) { return a + b; }, -5, 5},
      {BinaryOp::Sub, "sub", [](double a, double b) { return a - b; }, -5, 5},
      {BinaryOp::Mul, "mul", [](double a, double b) { return a * b; }, -5, 5},
      {BinaryOp::Div, "div", [](double a, double b) { return a / b; }, 0.5, 5},
      {BinaryOp::Pow, "pow", [](double a, double b) { return std::pow(a, b); }, 0.1, 3},
      {BinaryOp::Maximum, "maximum", [](double a, double b) { return std::max(a, b); }, -5, 5},
      {BinaryOp::Minimum, "minimum", [](double a, double b) { return std::min(a, b); }, -5, 5},
      {BinaryOp::ReluBackward, "relu_backward",
       [](double dy, double x) { return x > 0 ? dy : 0.0; }, -5, 5},
      {BinaryOp::SigmoidBackward, "sigmoid_backward",
       [](double dy, double y) { return dy * y * (1 - y); }, -5, 5},
      {BinaryOp::TanhBackward, "tanh_backward",
       [](double dy, double y) { return dy * (1 - y * y); }, -5, 5},
  };
}

TEST(Binary, EveryOpMatchesStdReferenceInFloat32AndFloat64) {
  for (DType dtype : {kFloat32, kFloat64}) {
    for (const BinaryCase& c : binary_cases()) {
      // a runs up the range while b runs down it, so every ordering of a and b occurs.
      Tensor a = values_in(c.lo, c.hi, 999, dtype);
      Tensor b = values_in(c.hi, c.lo, 999, dtype);
      std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>(), want;
      for (size_t i = 0; i < av.size(); ++i) want.push_back(c.ref(av[i], bv[i]));
      expect_close(raw::binary(c.op, a, b), want, dtype,
                   std::string(c.name) + " " + dtype_name(dtype));
    }
  }
}

// The fused backward helpers against central differences of their forward op, in float64.
TEST(Binary, FusedActivationBackwardsAreDerivatives) {
  struct Case {
    BinaryOp op;
    const char* name;
    Ref1 f;
  };
  const std::vector<Case> cases = {
      {BinaryOp::SiluBackward, "silu", [](double x) { return x * sigmoid_ref(x); }},
      {BinaryOp::GeluErfBackward, "gelu", gelu_erf_ref},
      {BinaryOp::GeluTanhBackward, "gelu_tanh", gelu_tanh_ref},
  };
  for (const Case& c : cases) {
    // float32-representable inputs, so that both precisions see the same x
    Tensor x = raw::to(values_in(-6, 6, 301, kFloat32), kFloat64);
    Tensor dy = raw::to(full({301}, 0.5), kFloat64);
    std::vector<double> want;
    const double h = 1e-5;
    for (double v : x.to_vector<double>()) want.push_back(0.5 * (c.f(v + h) - c.f(v - h)) / (2 * h));
    std::vector<double> got = raw::binary(c.op, dy, x).to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-8) << c.name << i;
    // float32 agrees with float64.
    Tensor got32 = raw::binary(c.op, raw::to(dy, kFloat32), raw::to(x, kFloat32));
    expect_close(got32, got, kFloat32, std::string(c.name) + " float32 backward");
  }
}

TEST(Binary, ComparisonsAndLogicalOpsGiveBool) {
  Tensor a = tensor({1.f, 2.f, 3.f});
  Tensor b = tensor({2, 2, 2});  // int64: compared in float32
  auto bools = [](const Tensor& t) {
    EXPECT_EQ(t.dtype(), kBool);
    return t.to_vector<bool>();
  };
  EXPECT_THAT(bools(raw::binary(BinaryOp::Eq, a, b)), ElementsAre(false, true, false));
  EXPECT_THAT(bools(raw::binary(BinaryOp::Ne, a, b)), ElementsAre(true, false, true));
  EXPECT_THAT(bools(raw::binary(BinaryOp::Lt, a, b)), ElementsAre(true, false, false));
  EXPECT_THAT(bools(raw::binary(BinaryOp::Le, a, b)), ElementsAre(true, true, false));
  EXPECT_THAT(bools(raw::binary(BinaryOp::Gt, a, b)), ElementsAre(false, false, true));
  EXPECT_THAT(bools(raw::binary(BinaryOp::Ge, a, b)), ElementsAre(false, true, true));
  Tensor x = tensor({0, 0, 3, 3});
  Tensor y = tensor({0.f, 2.5f, 0.f, -1.f});
  EXPECT_THAT(bools(raw::binary(BinaryOp::LogicalAnd, x, y)), ElementsAre(false, false, false, true));
  EXPECT_THAT(bools(raw::binary(BinaryOp::LogicalOr, x, y)), ElementsAre(false, true, true, true));
  EXPECT_THAT(bools(raw::binary(BinaryOp::LogicalXor, x, y)), ElementsAre(false, true, true, false));
  Tensor nan = tensor({NAN});
  EXPECT_THAT(bools(raw::binary(BinaryOp::Eq, nan, nan)), ElementsAre(false));
  EXPECT_TRUE(is_comparison(BinaryOp::LogicalXor));
  EXPECT_FALSE(is_comparison(BinaryOp::Maximum));
}

TEST(Binary, MaximumAndMinimumPropagateNaN) {
  Tensor a = tensor({NAN, 1.f, 2.f});
  Tensor b = tensor({1.f, NAN, 3.f});
  for (BinaryOp op : {BinaryOp::Maximum, BinaryOp::Minimum}) {
    std::vector<float> r = raw::binary(op, a, b).to_vector<float>();
    EXPECT_TRUE(std::isnan(r[0]));
    EXPECT_TRUE(std::isnan(r[1]));
  }
  EXPECT_EQ(raw::binary(BinaryOp::Maximum, a, b).to_vector<float>()[2], 3.f);
  EXPECT_EQ(raw::binary(BinaryOp::Minimum, a, b).to_vector<float>()[2], 2.f);
}

TEST(Binary, IntegerArithmetic) {
  Tensor a = raw::to(tensor({7, -7, 2, std::numeric_limits<int32_t>::max()}), kInt32);
  Tensor b = raw::to(tensor({2, 2, 10, 1}), kInt32);
  EXPECT_THAT(raw::add(a, b).to_vector<int32_t>(),
              ElementsAre(9, -5, 12, std::numeric_limits<int32_t>::min()));  // wraps
  EXPECT_THAT(raw::binary(BinaryOp::Pow, a, b).to_vector<int32_t>(),
              ElementsAre(49, 49, 1024, std::numeric_limits<int32_t>::max()));
  // True division: integers give float32; division by zero gives inf, not a crash.
  Tensor q = raw::div(tensor({7, 1, -1, 0}), tensor({2, 0, 0, 0}));
  EXPECT_EQ(q.dtype(), kFloat32);
  std::vector<float> qv = q.to_vector<float>();
  EXPECT_EQ(qv[0], 3.5f);
  EXPECT_EQ(qv[1], INFINITY);
  EXPECT_EQ(qv[2], -INFINITY);
  EXPECT_TRUE(std::isnan(qv[3]));
  // Negative integer powers, as PyTorch's CPU kernel: 1 for 1, +-1 for -1, else 0.
  EXPECT_THAT(raw::binary(BinaryOp::Pow, tensor({1, -1, -1, 2}), tensor({-2, -2, -3, -1}))
                  .to_vector<int64_t>(),
              ElementsAre(1, 1, -1, 0));
  Tensor u = raw::to(tensor({250}), kUInt8);
  EXPECT_THAT(raw::add(u, raw::to(tensor({10}), kUInt8)).to_vector<int64_t>(), ElementsAre(4));
}

TEST(Binary, Broadcasting) {
  Tensor a = raw::reshape(values_in(0, 5, 6, kFloat32), {2, 3});
  EXPECT_THAT(raw::add(a, tensor({10.f, 20.f, 30.f})).to_vector<float>(),
              ElementsAre(10, 21, 32, 13, 24, 35));
  Tensor col = raw::reshape(tensor({100.f, 200.f}), {2, 1});
  EXPECT_THAT(raw::add(col, tensor({1.f, 2.f, 3.f})).to_vector<float>(),
              ElementsAre(101, 102, 103, 201, 202, 203));
  Tensor r = raw::mul(scalar_tensor(2.0f), a);  // 0-d on the left
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_THAT(r.to_vector<float>(), ElementsAre(0, 2, 4, 6, 8, 10));
  Tensor s = raw::sub(scalar_tensor(1.0f), scalar_tensor(3.0f));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item<float>(), -2.f);
  EXPECT_EQ(raw::add(zeros({0, 3}), tensor({1.f, 2.f, 3.f})).shape(), (Shape{0, 3}));
  EXPECT_EQ(raw::add(zeros({2, 0}), zeros({1})).shape(), (Shape{2, 0}));
  EXPECT_EQ(raw::add(zeros({4, 1, 2}), zeros({3, 1})).shape(), (Shape{4, 3, 2}));
}

TEST(Binary, ShapeErrorNamesOpAndShapes) {
  EXPECT_THAT([] { raw::add(zeros({2, 3}), zeros({4})); },
              ThrowsMessage<ShapeError>(
                  AllOf(HasSubstr("add"), HasSubstr("(2, 3)"), HasSubstr("(4,)"))));
  EXPECT_THAT([] { raw::binary(BinaryOp::Lt, zeros({2}), zeros({3})); },
              ThrowsMessage<ShapeError>(HasSubstr("lt")));
}

TEST(Binary, StridedInputs) {
  Tensor x = raw::reshape(values_in(0, 11, 12, kFloat64), {3, 4});
  Tensor xt = raw::transpose(x, 0, 1);  // (4, 3)
  Tensor y = raw::reshape(values_in(0, 11, 12, kFloat64), {4, 3});
  std::vector<double> a = xt.to_vector<double>(), b = y.to_vector<double>(), want;
  for (size_t i = 0; i < a.size(); ++i) want.push_back(a[i] * b[i]);
  expect_close(raw::mul(xt, y), want, kFloat64, "transposed * contiguous");
  Tensor rows02 = raw::slice(x, 0, 0, 3, 2);
  Tensor rows12 = raw::slice(x, 0, 1, 3, 1);
  EXPECT_THAT(raw::add(rows02, rows12).to_vector<double>(),
              ElementsAre(4, 6, 8, 10, 16, 18, 20, 22));
}

TEST(Binary, BoolArithmeticAsTorch) {
  Tensor t = tensor({true, true, false});
  Tensor f = tensor({true, false, false});
  Tensor sum = raw::add(t, f);
  EXPECT_EQ(sum.dtype(), kBool);
  EXPECT_THAT(sum.to_vector<bool>(), ElementsAre(true, true, false));
  EXPECT_THAT(raw::mul(t, f).to_vector<bool>(), ElementsAre(true, false, false));
  EXPECT_THAT([&] { raw::sub(t, f); }, ThrowsMessage<DTypeError>(HasSubstr("sub")));
  // bool + number promotes to the number's category.
  EXPECT_EQ(raw::add(t, Scalar(1)).dtype(), kInt64);
  EXPECT_EQ(raw::add(t, Scalar(1.5)).dtype(), kFloat32);
}

TEST(Binary, LargeTensorsAreSplitAcrossThreadsCorrectly) {
  const int64_t n = 300007;  // several parallel chunks and an uneven tail
  Tensor a = values_in(-10, 10, n, kFloat32);
  Tensor b = values_in(3, -3, n, kFloat32);
  std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
  std::vector<float> sum = raw::add(a, b).to_vector<float>();
  std::vector<float> ex = raw::exp(a).to_vector<float>();
  for (size_t i = 0; i < sum.size(); ++i) {
    ASSERT_EQ(sum[i], av[i] + bv[i]) << i;
    ASSERT_NEAR(ex[i], std::exp(double{av[i]}), 3e-7 * std::exp(double{av[i]})) << i;
  }
}

// ---- type promotion ----

TEST(ResultType, TensorsWithDimsAndZeroDimAndNumbers) {
  auto t = [](DType d) { return zeros({2}, {d}); };
  auto z = [](DType d) { return zeros({}, {d}); };
  EXPECT_EQ(result_type(t(kInt32), t(kFloat32)), kFloat32);
  EXPECT_EQ(result_type(t(kUInt8), t(kInt64)), kInt64);
  EXPECT_EQ(result_type(t(kBool), t(kBool)), kBool);
  EXPECT_EQ(result_type(t(kBool), t(kUInt8)), kUInt8);
  EXPECT_EQ(result_type(t(kInt64), t(kFloat32)), kFloat32);
  // wrapped numbers: a float number gives the default float32; an int one keeps the tensor's
  EXPECT_EQ(result_type(t(kInt32), wrap_scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(t(kInt64), wrap_scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(t(kFloat64), wrap_scalar(2.5)), kFloat64);
  EXPECT_EQ(result_type(t(kUInt8), wrap_scalar(300)), kUInt8);
  EXPECT_EQ(result_type(t(kBool), wrap_scalar(1)), kInt64);
  EXPECT_EQ(result_type(t(kInt64), wrap_scalar(true)), kInt64);
  EXPECT_EQ(result_type(t(kFloat32), wrap_scalar(1)), kFloat32);
  // 0-d tensors rank between: same category -> the dimensioned tensor wins
  EXPECT_EQ(result_type(t(kFloat32), z(kFloat64)), kFloat32);
  EXPECT_EQ(result_type(t(kInt32), z(kInt64)), kInt32);
  EXPECT_EQ(result_type(t(kUInt8), z(kInt64)), kUInt8);
  // ... a higher category wins and promotes with it
  EXPECT_EQ(result_type(t(kInt32), z(kFloat64)), kFloat64);
  EXPECT_EQ(result_type(t(kBool), z(kInt32)), kInt32);
  EXPECT_EQ(result_type(z(kInt32), wrap_scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(z(kFloat64), wrap_scalar(2.5)), kFloat64);
  EXPECT_EQ(result_type(z(kInt32), z(kInt64)), kInt64);
  EXPECT_EQ(result_type(wrap_scalar(1), wrap_scalar(2.5)), kFloat32);
}

TEST(ResultType, OpsComputeInThePromotedDtype) {
  Tensor i32 = raw::to(tensor({1, 2}), kInt32);
  Tensor sum = raw::add(i32, tensor({0.5f, 0.25f}));
  EXPECT_EQ(sum.dtype(), kFloat32);
  EXPECT_THAT(sum.to_vector<float>(), ElementsAre(1.5f, 2.25f));
  EXPECT_EQ(raw::add(raw::to(tensor({1}), kUInt8), tensor({1})).dtype(), kInt64);
  Tensor scaled = raw::mul(i32, Scalar(2.5));
  EXPECT_EQ(scaled.dtype(), kFloat32);
  EXPECT_THAT(scaled.to_vector<float>(), ElementsAre(2.5f, 5.f));
  Tensor shifted = raw::add(raw::to(tensor({250}), kUInt8), Scalar(10));
  EXPECT_EQ(shifted.dtype(), kUInt8);
  EXPECT_THAT(shifted.to_vector<int64_t>(), ElementsAre(4));
}

TEST(WrapScalar, IsAZeroDimWrappedNumberOfTheScalarsDtype) {
  Tensor w = wrap_scalar(2.5);
  EXPECT_EQ(w.dim(), 0);
  EXPECT_EQ(w.dtype(), kFloat64);
  EXPECT_TRUE(w.impl()->wrapped_number);
  EXPECT_EQ(w.item<double>(), 2.5);
  EXPECT_EQ(wrap_scalar(3).dtype(), kInt64);
  EXPECT_EQ(wrap_scalar(true).dtype(), kBool);
}

// ---- in place ----

TEST(BinaryInPlace, BroadcastsOtherAndBumpsVersion) {
  Tensor x = zeros({2, 3});
  const uint64_t v = x.version();
  raw::binary_(BinaryOp::Add, x, tensor({1.f, 2.f, 3.f}));
  EXPECT_THAT(x.to_vector<float>(), ElementsAre(1, 2, 3, 1, 2, 3));
  EXPECT_GT(x.version(), v);
  raw::binary_(BinaryOp::Mul, x, wrap_scalar(2));
  EXPECT_THAT(x.to_vector<float>(), ElementsAre(2, 4, 6, 2, 4, 6));
  // float self with an int64 other: promoted to float32, stored as float32
  raw::binary_(BinaryOp::Sub, x, tensor({1, 1, 1}));
  EXPECT_THAT(x.to_vector<float>(), ElementsAre(1, 3, 5, 1, 3, 5));
  // int32 self with an int64 other: computed in int64, cast back
  Tensor i = raw::to(tensor({1, 2}), kInt32);
  raw::binary_(BinaryOp::Add, i, tensor({10, 20}));
  EXPECT_EQ(i.dtype(), kInt32);
  EXPECT_THAT(i.to_vector<int32_t>(), ElementsAre(11, 22));
  // comparisons in place store 0 / 1 in self's dtype
  Tensor c = tensor({1.f, 5.f});
  raw::binary_(BinaryOp::Lt, c, wrap_scalar(3));
  EXPECT_THAT(c.to_vector<float>(), ElementsAre(1, 0));
}

TEST(BinaryInPlace, StridedSelfAndOverlappingOther) {
  Tensor m = raw::reshape(values_in(0, 3, 4, kFloat32), {2, 2});  // [[0, 1], [2, 3]]
  raw::binary_(BinaryOp::Add, m, raw::transpose(m, 0, 1));      // m + m^T, read before write
  EXPECT_THAT(m.to_vector<float>(), ElementsAre(0, 3, 3, 6));
  Tensor col = raw::select(m, 1, 1);  // (2,), stride 2
  raw::binary_(BinaryOp::Mul, col, tensor({10.f, 100.f}));
  EXPECT_THAT(m.to_vector<float>(), ElementsAre(0, 30, 3, 600));
}

TEST(BinaryInPlace, Errors) {
  EXPECT_THAT([] { raw::binary_(BinaryOp::Add, tensor({1, 2}), tensor({0.5f, 1.f})); },
              ThrowsMessage<DTypeError>(
                  AllOf(HasSubstr("add_"), HasSubstr("float32"), HasSubstr("int64"))));
  EXPECT_THAT([] { raw::binary_(BinaryOp::Div, tensor({1, 2}), tensor({2, 2})); },
              ThrowsMessage<DTypeError>(HasSubstr("div_")));
  EXPECT_THAT([] { raw::binary_(BinaryOp::Add, tensor({true}), tensor({1})); },
              ThrowsMessage<DTypeError>(HasSubstr("bool")));
  EXPECT_THAT([] { raw::binary_(BinaryOp::Add, zeros({3}), zeros({2, 3})); },
              ThrowsMessage<ShapeError>(
                  AllOf(HasSubstr("add_"), HasSubstr("(2, 3)"), HasSubstr("(3,)"))));
  EXPECT_THAT([] { raw::binary_(BinaryOp::Add, zeros({3}), zeros({4})); },
              ThrowsMessage<ShapeError>(HasSubstr("add_")));
}

// ---- clamp, where, masked_fill, shortcuts ----

TEST(Clamp, BoundsAndDtypes) {
  Tensor x = tensor({-2.f, 0.f, 2.f});
  EXPECT_THAT(raw::clamp(x, -1, std::nullopt).to_vector<float>(), ElementsAre(-1, 0, 2));
  EXPECT_THAT(raw::clamp(x, std::nullopt, 1.5).to_vector<float>(), ElementsAre(-2, 0, 1.5));
  Tensor i = tensor({-5, 0, 5});
  Tensor ci = raw::clamp(i, -1, 1);
  EXPECT_EQ(ci.dtype(), kInt64);
  EXPECT_THAT(ci.to_vector<int64_t>(), ElementsAre(-1, 0, 1));
  Tensor cf = raw::clamp(i, 0.5, std::nullopt);  // a float bound promotes, as torch.clamp
  EXPECT_EQ(cf.dtype(), kFloat32);
  EXPECT_THAT(cf.to_vector<float>(), ElementsAre(0.5f, 0.5f, 5));
  Tensor u = raw::clamp(raw::to(tensor({0, 200}), kUInt8), -10, 100);
  EXPECT_EQ(u.dtype(), kUInt8);
  EXPECT_THAT(u.to_vector<int64_t>(), ElementsAre(0, 100));
  EXPECT_THAT([&] { raw::clamp(x, std::nullopt, std::nullopt); },
              ThrowsMessage<ValueError>(HasSubstr("clamp")));
}

TEST(Where, BroadcastsAndPromotes) {
  Tensor cond = raw::reshape(tensor({true, false}), {2, 1});
  // int64 with a float64 0-d tensor (not a wrapped number) promotes to float64
  Tensor r = raw::where(cond, tensor({1, 2, 3}), scalar_tensor(0.5));
  EXPECT_EQ(r.dtype(), kFloat64);
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_THAT(r.to_vector<double>(), ElementsAre(1, 2, 3, 0.5, 0.5, 0.5));
  Tensor s = raw::where(tensor({false, true}), tensor({1.0, 2.0}), wrap_scalar(-1));
  EXPECT_EQ(s.dtype(), kFloat64);
  EXPECT_THAT(s.to_vector<double>(), ElementsAre(-1, 2));
  EXPECT_THAT([] { raw::where(tensor({1, 0}), tensor({1.f, 2.f}), tensor({3.f, 4.f})); },
              ThrowsMessage<DTypeError>(AllOf(HasSubstr("where"), HasSubstr("int64"))));
  EXPECT_THAT([] { raw::where(tensor({true, false}), zeros({3}), zeros({3})); },
              ThrowsMessage<ShapeError>(HasSubstr("where")));
}

TEST(MaskedFill, KeepsDtypeAndBroadcastsMask) {
  Tensor x = raw::reshape(tensor({1, 2, 3, 4}), {2, 2});
  Tensor r = raw::masked_fill(x, tensor({false, true}), 2.5);
  EXPECT_EQ(r.dtype(), kInt64);
  EXPECT_THAT(r.to_vector<int64_t>(), ElementsAre(1, 2, 3, 2));
  EXPECT_THAT(x.to_vector<int64_t>(), ElementsAre(1, 2, 3, 4));  // a new tensor
  Tensor f = raw::masked_fill(zeros({3}), tensor({true, false, true}), -INFINITY);
  EXPECT_THAT(f.to_vector<float>(), ElementsAre(-INFINITY, 0, -INFINITY));
  EXPECT_THAT([&] { raw::masked_fill(x, tensor({1, 0}), 0); },
              ThrowsMessage<DTypeError>(HasSubstr("masked_fill")));
  EXPECT_THAT([&] { raw::masked_fill(zeros({2}), zeros({2, 2}, {kBool}), 0); },
              ThrowsMessage<ShapeError>(
                  AllOf(HasSubstr("masked_fill"), HasSubstr("(2, 2)"), HasSubstr("(2,)"))));
}

TEST(Shortcuts, NamedOps) {
  Tensor a = tensor({1.f, 4.f});
  Tensor b = tensor({2.f, 8.f});
  EXPECT_THAT(raw::add(a, b).to_vector<float>(), ElementsAre(3, 12));
  EXPECT_THAT(raw::sub(a, b).to_vector<float>(), ElementsAre(-1, -4));
  EXPECT_THAT(raw::mul(a, b).to_vector<float>(), ElementsAre(2, 32));
  EXPECT_THAT(raw::div(a, b).to_vector<float>(), ElementsAre(0.5f, 0.5f));
  EXPECT_THAT(raw::add(a, Scalar(1)).to_vector<float>(), ElementsAre(2, 5));
  EXPECT_THAT(raw::mul(a, Scalar(0.5)).to_vector<float>(), ElementsAre(0.5f, 2));
  EXPECT_THAT(raw::neg(a).to_vector<float>(), ElementsAre(-1, -4));
  EXPECT_THAT(raw::sqrt(a).to_vector<float>(), ElementsAre(1, 2));
  EXPECT_FLOAT_EQ(raw::log(a).to_vector<float>()[1], std::log(4.f));
  EXPECT_FLOAT_EQ(raw::exp(a).to_vector<float>()[0], std::exp(1.f));
}

}  // namespace
}  // namespace ignis

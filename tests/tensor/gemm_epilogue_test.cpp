// The activation epilogue of the CPU GEMM (GemmArgs::epilogue, through raw::linear): on every
// kernel path (blocked with packed or in-place operands and edge tiles, several k blocks,
// dot, short-k, k == 0) and instruction set, the fused result equals the separate pass
// raw::unary(act, raw::linear(x, w, b)) bit for bit, for any thread count. Not the GEMM's
// own arithmetic (gemm_small_test.cpp, linalg_test.cpp) nor the gradient (autograd tests).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/gemm_isa.h"
#include "support/threads_and_windows.h"
#include "tensor/cpu/gemm_isa.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/linalg.h"
#include "tensor/view_ops.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

const Activation kActivations[] = {Activation::Relu, Activation::Tanh, Activation::Sigmoid};

UnaryOp unary_of(Activation activation) {
  switch (activation) {
    case Activation::Relu: return UnaryOp::Relu;
    case Activation::Tanh: return UnaryOp::Tanh;
    case Activation::Sigmoid: return UnaryOp::Sigmoid;
    case Activation::None: break;
  }
  return UnaryOp::Neg;
}

// One linear layer: x (rows, in), weight (out, in) contiguous or the transpose of a
// contiguous (in, out) (then the kernel reads weight^T row-major: the short-k path for a
// short in), with or without a bias.
struct LinearCase {
  int64_t rows, in, out;
  bool weight_transposed = false;
  std::string str() const {
    return "x (" + std::to_string(rows) + ", " + std::to_string(in) + "), weight (" +
           std::to_string(out) + ", " + std::to_string(in) + ")" +
           (weight_transposed ? " transposed" : "");
  }
};

// blocked: several k blocks with A in place (784 > KC, 16 column panels); B packed (m > 256,
// 22 panels); edge tiles on both sides. dot: n <= 16 or m <= 16 with k >= 32. short-k: k <= 10
// with weight^T row-major, the 70 % 32 last columns blocked. k == 0: C = act(bias) only.
const LinearCase kCases[] = {{128, 784, 512},      {300, 96, 700},       {37, 45, 29},
                             {64, 33, 10},         {10, 64, 100},        {50, 7, 70, true},
                             {13, 10, 64, true},   {5, 0, 8},            {0, 4, 3},
                             {40, 1100, 33, true}};

// Bit-for-bit equality of two contiguous tensors of one dtype and shape; names the first
// differing element.
::testing::AssertionResult same_bits(const Tensor& got, const Tensor& want) {
  if (got.sizes() != want.sizes() || got.dtype() != want.dtype())
    return ::testing::AssertionFailure()
           << "got " << got.shape_str() << " " << dtype_name(got.dtype()) << ", expected "
           << want.shape_str() << " " << dtype_name(want.dtype());
  const Tensor g = raw::contiguous(got), w = raw::contiguous(want);
  const size_t item = g.itemsize();
  const auto* gp = static_cast<const unsigned char*>(g.raw_data());
  const auto* wp = static_cast<const unsigned char*>(w.raw_data());
  for (int64_t e = 0; e < g.numel(); ++e) {
    const size_t off = static_cast<size_t>(e) * item;
    if (std::memcmp(gp + off, wp + off, item) != 0) {
      const double gv = g.dtype() == kFloat32 ? static_cast<const float*>(g.raw_data())[e]
                                              : static_cast<const double*>(g.raw_data())[e];
      const double wv = w.dtype() == kFloat32 ? static_cast<const float*>(w.raw_data())[e]
                                              : static_cast<const double*>(w.raw_data())[e];
      return ::testing::AssertionFailure()
             << "element " << e << " is " << gv << ", expected " << wv << " (of " << g.numel()
             << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

struct Operands {
  Tensor x, weight, bias;
};

Operands operands(const LinearCase& c, DType dtype, uint64_t seed) {
  Generator gen(seed);
  const TensorOptions o{.dtype = dtype};
  Operands ops;
  ops.x = randn({c.rows, c.in}, o, &gen);
  ops.weight = c.weight_transposed ? raw::t(randn({c.in, c.out}, o, &gen))
                                   : randn({c.out, c.in}, o, &gen);
  ops.bias = randn({c.out}, o, &gen);
  return ops;
}

class GemmEpilogueTest : public test::GemmIsaTest {};

TEST_P(GemmEpilogueTest, FusedEqualsSeparatePass) {
  const test::ThreadCountGuard one_thread(1);
  uint64_t seed = 0;
  for (DType dtype : {kFloat32, kFloat64}) {
    for (const LinearCase& c : kCases) {
      const Operands ops = operands(c, dtype, ++seed);
      for (bool with_bias : {true, false}) {
        const Tensor bias = with_bias ? ops.bias : Tensor();
        const Tensor plain = raw::linear(ops.x, ops.weight, bias);
        EXPECT_TRUE(same_bits(raw::linear(ops.x, ops.weight, bias, Activation::None), plain));
        for (Activation act : kActivations) {
          SCOPED_TRACE(c.str() + " " + dtype_name(dtype) + (with_bias ? " bias " : " ") +
                       activation_name(act));
          EXPECT_TRUE(same_bits(raw::linear(ops.x, ops.weight, bias, act),
                                raw::unary(unary_of(act), plain)));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GemmEpilogueTest, test::all_gemm_isas(),
                         test::gemm_isa_test_name);

// Threads split C along m or n; each piece's epilogue runs on the thread that finished it,
// so 1 and 2 threads agree bit for bit (sizes over the GEMM's 2^21 multiply-adds threshold:
// blocked, short-k, dot).
TEST(GemmEpilogue, ThreadCountDoesNotChangeTheResult) {
  const LinearCase cases[] = {{128, 784, 512}, {2000, 10, 512, true}, {8192, 64, 10}};
  uint64_t seed = 100;
  for (const LinearCase& c : cases) {
    const Operands ops = operands(c, kFloat32, ++seed);
    for (Activation act : kActivations) {
      SCOPED_TRACE(c.str() + " " + activation_name(act));
      Tensor one, two;
      {
        const test::ThreadCountGuard threads(1);
        one = raw::linear(ops.x, ops.weight, ops.bias, act);
      }
      {
        const test::ThreadCountGuard threads(2);
        two = raw::linear(ops.x, ops.weight, ops.bias, act);
      }
      EXPECT_TRUE(same_bits(two, one));
    }
  }
}

// A 3-d x is one GEMM over its flattened rows; the epilogue covers every row.
TEST(GemmEpilogue, BatchedInput) {
  Generator gen(7);
  const Tensor x = randn({2, 3, 20}, {}, &gen), w = randn({40, 20}, {}, &gen);
  const Tensor b = randn({40}, {}, &gen);
  EXPECT_TRUE(same_bits(raw::linear(x, w, b, Activation::Relu),
                        raw::unary(UnaryOp::Relu, raw::linear(x, w, b))));
}

TEST(GemmEpilogue, ShapeErrorsAreLinears) {
  const Tensor x = zeros({8, 768}), w = zeros({512, 700});
  EXPECT_THAT([&] { raw::linear(x, w, {}, Activation::Relu); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "linear: inner dimensions differ: x is (8, 768), weight is (512, 700)")));
}

TEST(GemmEpilogue, ActivationNames) {
  EXPECT_STREQ(activation_name(Activation::None), "none");
  EXPECT_STREQ(activation_name(Activation::Relu), "relu");
  EXPECT_STREQ(activation_name(Activation::Tanh), "tanh");
  EXPECT_STREQ(activation_name(Activation::Sigmoid), "sigmoid");
}

}  // namespace
}  // namespace ignis

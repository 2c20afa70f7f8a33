// linear with a fused activation (autograd/linalg.h, nn::Linear's activation): float64
// gradchecks (layouts, 3-d, 1-d and empty inputs, no bias, second derivatives), and equality
// with the unfused composition act(linear(x, w, b)): forward and every gradient bit for bit.
// Not the GEMM epilogue's kernel paths (tests/tensor/gemm_epilogue_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "autograd/backward.h"
#include "autograd/linalg.h"
#include "autograd/node.h"
#include "gradcheck_util.h"
#include "nn/layers.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using testing::gradcheck_ok;
using testing::kLayouts;
using testing::Layout;
using testing::layout_name;
using testing::leaf;
using testing::Values;
using Inputs = std::vector<Tensor>;

const Activation kActivations[] = {Activation::Relu, Activation::Tanh, Activation::Sigmoid};

// act(z) with the separate differentiable op.
Tensor apply(Activation act, const Tensor& z) {
  switch (act) {
    case Activation::Relu: return relu(z);
    case Activation::Tanh: return tanh(z);
    case Activation::Sigmoid: return sigmoid(z);
    case Activation::None: break;
  }
  return z;
}

// a and b: one shape, one dtype and the same bytes.
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.raw_data(), bc.raw_data(),
                     static_cast<size_t>(ac.numel()) * ac.itemsize()) == 0;
}

Tensor bias_leaf(int64_t n) { return leaf({n}, Layout::Contiguous, Values::Normal, 3); }

TEST(LinearActGradcheck, EveryActivationAndLayout) {
  for (Activation act : kActivations) {
    auto fn = [act](const Inputs& in) { return linear(in[0], in[1], in[2], act); };
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(std::string(activation_name(act)) + " " + layout_name(layout));
      EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout), leaf({5, 4}, layout, Values::Normal, 2),
                                    leaf({5}, layout, Values::Normal, 3)}));
    }
  }
}

TEST(LinearActGradcheck, InputShapesAndNoBias) {
  for (Activation act : kActivations) {
    SCOPED_TRACE(activation_name(act));
    auto fn = [act](const Inputs& in) { return linear(in[0], in[1], in[2], act); };
    const Tensor w = leaf({5, 4}, Layout::Contiguous, Values::Normal, 2);
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({2, 3, 4}), w, bias_leaf(5)})) << "3-d input";
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({4}), w, bias_leaf(5)})) << "1-d input";
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({0, 4}), w, bias_leaf(5)})) << "empty batch";
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 0}), leaf({5, 0}), bias_leaf(5)})) << "in = 0";
    EXPECT_TRUE(gradcheck_ok([act](const Inputs& in) { return linear(in[0], in[1], {}, act); },
                             {leaf({3, 4}), w}))
        << "no bias";
  }
}

// The gradient of sum(linear(x, w, b, act) * r) with respect to x, itself checked: the
// backward's composite form under create_graph.
TEST(LinearActGradcheck, SecondDerivatives) {
  for (Activation act : {Activation::Tanh, Activation::Sigmoid}) {
    SCOPED_TRACE(activation_name(act));
    const Tensor r = leaf({3, 5}, Layout::Contiguous, Values::Normal, 9).detach();
    auto fn = [act, r](const Inputs& in) {
      const Tensor y = linear(in[0], in[1], in[2], act);
      return autograd::grad({(y * r).sum()}, {in[0]}, {}, /*retain_graph=*/true,
                            /*create_graph=*/true)[0];
    };
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}), leaf({5, 4}, Layout::Contiguous,
                                                     Values::Normal, 2),
                                  bias_leaf(5)}));
  }
}

// Float32 as in training: the fused op's output and its gradients for x, w and b are those
// of act(linear(x, w, b)), bit for bit (the same GEMM, the same activation functor, the same
// backward kernels on the same saved output).
TEST(LinearAct, EqualsTheUnfusedCompositionBitForBit) {
  for (Activation act : kActivations) {
    SCOPED_TRACE(activation_name(act));
    Generator gen(11);
    const Tensor x0 = randn({64, 96}, {}, &gen), w0 = randn({40, 96}, {}, &gen);
    const Tensor b0 = randn({40}, {}, &gen), dy = randn({64, 40}, {}, &gen);
    auto run = [&](bool fused) {
      Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_();
      Tensor b = b0.clone().requires_grad_();
      const Tensor y = fused ? linear(x, w, b, act) : apply(act, linear(x, w, b));
      y.backward(dy);
      return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
    };
    const std::vector<Tensor> fused = run(true), unfused = run(false);
    const char* names[] = {"y", "dx", "dw", "db"};
    for (size_t i = 0; i < fused.size(); ++i)
      EXPECT_TRUE(same_bits(fused[i], unfused[i])) << names[i];
  }
}

TEST(LinearAct, RecordsOneNodeNamedForTheActivation) {
  const Tensor x = leaf({3, 4}), w = leaf({5, 4});
  EXPECT_EQ(linear(x, w, {}, Activation::Relu).grad_fn()->name(), "linear_relu");
  EXPECT_EQ(linear(x, w, {}, Activation::Sigmoid).grad_fn()->name(), "linear_sigmoid");
  EXPECT_EQ(linear(x, w, {}, Activation::None).grad_fn()->name(), "linear");
}

// nn::Linear(in, out, act) is Linear(in, out) followed by the activation module: the same
// parameters (drawn in the same order from one seed) and the same output, bit for bit.
TEST(LinearAct, LinearModuleWithActivation) {
  Generator g1(5), g2(5);
  nn::Linear fused(12, 7, Activation::Relu, /*bias=*/true, &g1);
  nn::Linear plain(12, 7, /*bias=*/true, &g2);
  EXPECT_TRUE(same_bits(fused.weight, plain.weight));
  EXPECT_TRUE(same_bits(fused.bias, plain.bias));
  const Tensor x = randn({6, 12});
  EXPECT_TRUE(same_bits(fused.forward(x), relu(plain.forward(x))));
  EXPECT_EQ(fused.extra_repr(), "in_features=12, out_features=7, bias=True, activation=relu");
  EXPECT_EQ(plain.extra_repr(), "in_features=12, out_features=7, bias=True");
}

}  // namespace
}  // namespace ignis

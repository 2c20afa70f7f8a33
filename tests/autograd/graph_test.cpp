// The graph and the engine: accumulation, retain_graph, freed graphs, retain_grad, grad
// mode, detach, requires_grad rules, version counters, error messages, autograd::grad,
// create_graph, in-place ops, custom Functions, to_dot and gradcheck itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "autograd/backward.h"
#include "autograd/dot.h"
#include "autograd/function.h"
#include "autograd/linalg.h"
#include "autograd/reductions.h"
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
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

TEST(Graph, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  (x * 2).sum().backward();
  (x * 3).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{5, 5}));
}

TEST(Graph, RetainGraphAllowsASecondBackward) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8}));
}

TEST(Graph, SecondBackwardThroughAFreedGraphThrows) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = x.exp().sum();
  y.backward();
  EXPECT_THAT([&] { y.backward(); },
              ThrowsMessage<AutogradError>(HasSubstr("backward through the graph a second time")));
}

TEST(Graph, SharedSubgraphGetsSummedGradients) {
  Tensor x = tensor({3.0}).requires_grad_();
  Tensor h = x * x;              // used twice below
  Tensor y = (h * 2 + h.exp() * 0 + h).sum();
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{18}));  // d(3 x^2)/dx = 6x
}

TEST(Graph, RetainGradKeepsANonLeafGradient) {
  Tensor x = tensor({1.0, -2.0}).requires_grad_();
  Tensor h = x * 2;
  Tensor other = x + 1;
  h.retain_grad();
  EXPECT_TRUE(h.retains_grad());
  EXPECT_FALSE(h.is_leaf());
  (h * h + other).sum().backward();
  EXPECT_EQ(values(h.grad()), (std::vector<double>{4, -8}));
  EXPECT_FALSE(other.grad().defined());
  EXPECT_EQ(values(x.grad()), (std::vector<double>{9, -15}));
}

TEST(Graph, NoGradGuardRecordsNothing) {
  Tensor x = tensor({1.0}).requires_grad_();
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor y = x * 2;
    EXPECT_FALSE(y.requires_grad());
    {
      EnableGradGuard enable;
      EXPECT_TRUE((x * 2).requires_grad());
    }
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(Graph, DetachSharesDataWithoutHistory) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = x * 2;
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  {
    NoGradGuard no_grad;
    d.mul_(10);
  }
  EXPECT_EQ(values(y), (std::vector<double>{20, 40}));
  Tensor z = x * 3;
  z.detach_();
  EXPECT_FALSE(z.requires_grad());
  EXPECT_TRUE(z.is_leaf());
}

TEST(Graph, RequiresGradPropagation) {
  Tensor a = tensor({1.0}).requires_grad_();
  Tensor c = tensor({2.0});
  EXPECT_TRUE(a.is_leaf());
  EXPECT_TRUE((a + c).requires_grad());
  EXPECT_FALSE((a + c).is_leaf());
  EXPECT_NE((a + c).grad_fn(), nullptr);
  EXPECT_FALSE((c * c).requires_grad());
  EXPECT_FALSE((a > c).requires_grad());
  EXPECT_FALSE(a.argmax().requires_grad());
  a.requires_grad_(false);
  EXPECT_FALSE((a + c).requires_grad());
}

TEST(Graph, RequiresGradRules) {
  EXPECT_THAT([] { tensor({1, 2}).requires_grad_(); },
              ThrowsMessage<AutogradError>(HasSubstr("only floating-point tensors")));
  Tensor x = tensor({1.0}).requires_grad_();
  Tensor y = x * 2;
  EXPECT_NO_THROW(y.requires_grad_());
  EXPECT_THAT([&] { y.requires_grad_(false); },
              ThrowsMessage<AutogradError>(HasSubstr("leaf tensors")));
  EXPECT_THAT([] { tensor({1.0}).retain_grad(); },
              ThrowsMessage<AutogradError>(HasSubstr("requires_grad=false")));
}

TEST(Graph, VersionCounterDetectsInPlaceWritesToSavedTensors) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = x.exp();
  y.add_(1);
  EXPECT_THAT([&] { y.sum().backward(); },
              ThrowsMessage<AutogradError>(HasSubstr(
                  "one of the variables needed for gradient computation has been modified by "
                  "an inplace operation: exp's saved tensor is at version 1; expected version 0")));
}

TEST(Graph, BackwardErrors) {
  EXPECT_THAT([] { tensor({1.0}).backward(); },
              ThrowsMessage<AutogradError>(HasSubstr("does not require grad")));
  Tensor x = zeros({2, 3}, {.dtype = kFloat64}).requires_grad_();
  EXPECT_THAT([&] { (x * 2).backward(); },
              ThrowsMessage<AutogradError>(HasSubstr(
                  "grad can be implicitly created only for scalar outputs: got shape (2, 3)")));
  EXPECT_THAT([&] { (x * 2).backward(zeros({3, 2}, {.dtype = kFloat64})); },
              ThrowsMessage<ShapeError>(HasSubstr("(3, 2)")));
}

TEST(Graph, NonScalarBackwardWithAGradient) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  (x * x).backward(tensor({1.0, 0.5}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 2}));
}

TEST(Graph, LeafGradientIsAFreshCopy) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor g = tensor({1.0, 1.0});
  (x * 1).backward(g);
  {
    NoGradGuard no_grad;
    g.mul_(5);
  }
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1}));
  x.backward(g);  // a leaf as the root
  EXPECT_EQ(values(x.grad()), (std::vector<double>{6, 6}));
}

TEST(Graph, SetGradChecksTheShape) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  x.set_grad(tensor({3.0, 4.0}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 4}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_THAT([&] { x.set_grad(tensor({1.0})); }, ThrowsMessage<ShapeError>(HasSubstr("(1,)")));
}

TEST(Graph, AutogradGradReturnsGradientsWithoutTouchingDotGrad) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor w = tensor({3.0, 4.0}).requires_grad_();
  Tensor unused = tensor({0.0}).requires_grad_();
  Tensor h = x * w;
  std::vector<Tensor> g = autograd::grad({h.sum()}, {x, h, unused});
  EXPECT_EQ(values(g[0]), (std::vector<double>{3, 4}));
  EXPECT_EQ(values(g[1]), (std::vector<double>{1, 1}));
  EXPECT_FALSE(g[2].defined());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  EXPECT_THAT([] { autograd::grad({tensor({1.0}).requires_grad_() * 2}, {tensor({1.0})}); },
              ThrowsMessage<AutogradError>(HasSubstr("input 0 does not require grad")));
}

TEST(Graph, CreateGraphGivesSecondDerivatives) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = (x * x * x).sum();
  std::vector<Tensor> g = autograd::grad({y}, {x}, {}, /*retain_graph=*/true,
                                         /*create_graph=*/true);
  EXPECT_TRUE(g[0].requires_grad());
  EXPECT_EQ(values(g[0]), (std::vector<double>{3, 12}));
  g[0].sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{6, 12}));
}

TEST(Graph, CreateGraphThroughFusedBackwards) {
  for (auto fn : {+[](const Tensor& t) { return relu(t) * t; },
                  +[](const Tensor& t) { return sigmoid(t); }, +[](const Tensor& t) { return silu(t); },
                  +[](const Tensor& t) { return tanh(t * 2) * t; },
                  +[](const Tensor& t) { return log(t) * t; },
                  +[](const Tensor& t) { return exp(t) * sqrt(t); },
                  +[](const Tensor& t) { return softmax(t, 0) * t; },
                  +[](const Tensor& t) { return matmul(t.t(), t).pow(2); }}) {
    EXPECT_TRUE(gradcheck_ok(
        [&](const Inputs& in) {
          return autograd::grad({fn(in[0]).sum()}, {in[0]}, {}, true, true)[0];
        },
        {leaf({3, 2}, Layout::Transposed, Values::Positive)}));
  }
}

TEST(Graph, LongChainsRunAndFreeWithoutDeepRecursion) {
  Tensor x = tensor({1.0}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 50000; ++i) y = y + 1.0;
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1}));
  y = Tensor();  // frees the 50000 nodes
  EXPECT_TRUE(x.is_leaf());
}

TEST(Graph, SeveralRoots) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor a = (x * 2).sum();
  Tensor b = (x * x).sum();
  autograd::backward({a, b});
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 6}));
  EXPECT_THAT([&] { autograd::backward({x * 1, x * 2}, {tensor({1.0, 1.0})}); },
              ThrowsMessage<ValueError>(HasSubstr("1 gradients for 2 outputs")));
}

TEST(InPlace, LeafThatRequiresGradIsRefused) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  EXPECT_THAT([&] { x.add_(1); },
              ThrowsMessage<AutogradError>(HasSubstr(
                  "a leaf tensor that requires grad is used in an in-place operation")));
  const uint64_t version = x.version();
  {
    NoGradGuard no_grad;
    x.mul_(2);  // the optimizer's case
  }
  EXPECT_EQ(x.version(), version + 1);
  EXPECT_EQ(values(x), (std::vector<double>{2, 4}));
}

TEST(InPlace, ViewOfATensorThatRequiresGradIsRefused) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor v = (x * 1).narrow(0, 0, 1);
  EXPECT_THAT([&] { v.mul_(2); }, ThrowsMessage<AutogradError>(HasSubstr("view")));
}

TEST(InPlace, RebasesHistory) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor w = tensor({3.0, 5.0}).requires_grad_();
  Tensor y = x * 1;
  y.mul_(w).add_(x, 2).sub_(w).div_(2.0);
  EXPECT_EQ(values(y), (std::vector<double>{1.0, 4.5}));
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2.5, 3.5}));  // (w + 2) / 2
  EXPECT_EQ(values(w.grad()), (std::vector<double>{0.0, 0.5}));  // (x - 1) / 2
}

TEST(InPlace, RetainedGradFollowsTheNewValue) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();
  Tensor y = x * 1;
  y.retain_grad();
  y.mul_(2);
  (y * 3).sum().backward();
  EXPECT_EQ(values(y.grad()), (std::vector<double>{3, 3}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{6, 6}));
}

TEST(InPlace, IntoATensorThatDidNotRequireGrad) {
  Tensor w = tensor({3.0, 5.0}).requires_grad_();
  Tensor buffer = zeros({2}, {.dtype = kFloat64});
  buffer.add_(w * w);
  EXPECT_TRUE(buffer.requires_grad());
  buffer.sum().backward();
  EXPECT_EQ(values(w.grad()), (std::vector<double>{6, 10}));
}

TEST(InPlace, Gradchecks) {
  auto other = [](uint64_t seed) { return leaf({3, 4}, Layout::Transposed, Values::Positive, seed); };
  const std::vector<std::pair<const char*, testing::Fn>> cases = {
      {"add_", [](const Inputs& in) { return (in[0] * 1).add_(in[1], 0.5); }},
      {"add_ scalar", [](const Inputs& in) { return (in[0] * 1).add_(2.0); }},
      {"sub_", [](const Inputs& in) { return (in[0] * 1).sub_(in[1], 3); }},
      {"mul_", [](const Inputs& in) { return (in[0] * 1).mul_(in[1]); }},
      {"mul_ scalar", [](const Inputs& in) { return (in[0] * 1).mul_(-2.0); }},
      {"div_", [](const Inputs& in) { return (in[0] * 1).div_(in[1]); }},
      {"div_ scalar", [](const Inputs& in) { return (in[0] * 1).div_(4); }},
      {"clamp_", [](const Inputs& in) { return (in[0] * 1).clamp_(0.7, 1.2); }},
      {"copy_", [](const Inputs& in) { return (in[0] * 1).copy_(in[1] * 2); }},
      {"fill_", [](const Inputs& in) { return (in[0] * 1).fill_(3) + in[1]; }},
      {"zero_", [](const Inputs& in) { return (in[0] * 1).zero_() + in[1]; }},
  };
  for (const auto& [name, fn] : cases) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, Layout::Strided, Values::Positive), other(2)}));
  }
  EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return (in[0] * 1).add_(in[1]); },
                           {leaf({3, 4}), leaf({4}, Layout::Contiguous, Values::Normal, 2)}))
      << "broadcast operand";
}

// The cube function of the function.h example.
struct Cube {
  static Tensor forward(autograd::FunctionContext& ctx, const Tensor& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  static std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& dy) {
    const Tensor x = ctx.saved()[0];
    return {dy * 3 * x * x};
  }
};

TEST(CustomFunction, CubeGradcheck) {
  for (Layout layout : kLayouts) {
    SCOPED_TRACE(layout_name(layout));
    EXPECT_TRUE(gradcheck_ok([](const Inputs& in) { return autograd::Function<Cube>::apply(in[0]); },
                             {leaf({3, 4}, layout)}));
  }
  Tensor x = tensor({2.0}).requires_grad_();
  Tensor y = autograd::Function<Cube>::apply(x);
  EXPECT_EQ(y.grad_fn()->name(), "ignis::(anonymous namespace)::Cube");
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{12}));
}

TEST(CustomFunction, NoGradInputsRecordNothing) {
  Tensor y = autograd::Function<Cube>::apply(tensor({2.0}));
  EXPECT_FALSE(y.requires_grad());
}

TEST(Dot, ContainsTheOpNamesAndLeafShapes) {
  Tensor x = zeros({2, 3}, {.dtype = kFloat64}).requires_grad_();
  Tensor w = zeros({3}, {.dtype = kFloat64}).requires_grad_();
  std::string dot = autograd::to_dot((x * w).exp().sum());
  EXPECT_THAT(dot, HasSubstr("digraph"));
  for (const char* name : {"\"mul\"", "\"exp\"", "\"sum\"", "leaf (2, 3)", "leaf (3,)", "->"}) {
    EXPECT_THAT(dot, HasSubstr(name));
  }
  EXPECT_THAT(autograd::to_dot(tensor({1.0})), HasSubstr("output (1,)"));
}

TEST(Gradcheck, CatchesAWrongGradient) {
  struct WrongSquare {
    static Tensor forward(autograd::FunctionContext& ctx, const Tensor& x) {
      ctx.save_for_backward({x});
      return x * x;
    }
    static std::vector<Tensor> backward(autograd::FunctionContext& ctx, const Tensor& dy) {
      return {dy * ctx.saved()[0]};  // should be 2 x dy
    }
  };
  autograd::GradcheckResult r = autograd::gradcheck(
      [](const Inputs& in) { return autograd::Function<WrongSquare>::apply(in[0]); },
      {tensor({1.0, 2.0}).requires_grad_()});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.message, HasSubstr("input 0"));
  EXPECT_THAT(r.message, HasSubstr("element 0"));
  EXPECT_THAT(r.message, HasSubstr("analytic"));
  EXPECT_THAT(r.message, HasSubstr("numeric"));
}

TEST(Gradcheck, NeedsFloat64) {
  EXPECT_THAT(
      [] {
        autograd::gradcheck([](const Inputs& in) { return in[0] * 2; },
                            {ones({2}, {.dtype = kFloat32}).requires_grad_()});
      },
      ThrowsMessage<DTypeError>(HasSubstr("float32")));
}

TEST(TensorMethods, MathGradchecks) {
  const std::vector<std::pair<const char*, testing::Fn>> cases = {
      {"neg", [](const Inputs& in) { return in[0].neg(); }},
      {"abs", [](const Inputs& in) { return in[0].abs(); }},
      {"exp", [](const Inputs& in) { return in[0].exp(); }},
      {"log", [](const Inputs& in) { return in[0].log(); }},
      {"sqrt", [](const Inputs& in) { return in[0].sqrt(); }},
      {"pow", [](const Inputs& in) { return in[0].pow(2.5); }},
      {"relu", [](const Inputs& in) { return (in[0] - 1).relu(); }},
      {"sigmoid", [](const Inputs& in) { return in[0].sigmoid(); }},
      {"tanh", [](const Inputs& in) { return in[0].tanh(); }},
  };
  for (const auto& [name, fn] : cases) {
    for (Layout layout : kLayouts) {
      SCOPED_TRACE(std::string(name) + " " + layout_name(layout));
      EXPECT_TRUE(gradcheck_ok(fn, {leaf({3, 4}, layout, Values::Positive)}));
    }
    EXPECT_TRUE(gradcheck_ok(fn, {leaf({0, 2}, Layout::Contiguous, Values::Positive)})) << name;
  }
}

}  // namespace
}  // namespace ignis

// The fused cross-entropy (class-index targets) against the composed formula it replaces:
// forward and backward in float64 for every option, the raw op's checks, and results that
// do not depend on the thread count. Not the PyTorch fixtures (reference_test.cpp) nor the
// finite-difference checks (gradcheck_test.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/backward.h"
#include "autograd/indexing.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "nn/functional.h"
#include "support/compare.h"
#include "tensor/factory.h"
#include "tensor/loss.h"
#include "tensor/thread_pool.h"

namespace ignis {
namespace {

namespace F = nn::functional;
using nn::Reduction;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The composed formula (nn/functional.h), written independently of the library's code:
// per row r with target y (class dim moved last), a_c = w_c (eps / C + (1 - eps) [c == y]),
// 0 on ignored rows; l_r = -sum_c a_c log_softmax(x_r)_c; Mean divides by the kept rows' w_y.
Tensor composed(const Tensor& input, const std::vector<int64_t>& target,
                const F::CrossEntropyOptions& o) {
  const int64_t C = input.size(1);
  Shape perm{0};
  for (int64_t d = 2; d < input.dim(); ++d) perm.push_back(d);
  perm.push_back(1);
  const Tensor logp = log_softmax(input.permute(perm).reshape({-1, C}), 1);  // (R, C)
  const std::vector<double> w =
      o.weight.defined() ? o.weight.to_vector<double>() : std::vector<double>(C, 1.0);
  const double eps = o.label_smoothing;
  std::vector<double> coef(target.size() * C, 0.0);
  double denominator = 0.0;
  for (size_t r = 0; r < target.size(); ++r) {
    if (target[r] == o.ignore_index) continue;
    denominator += w[target[r]];
    for (int64_t c = 0; c < C; ++c) {
      coef[r * C + c] = w[c] * (eps / C + (c == target[r] ? 1.0 - eps : 0.0));
    }
  }
  const Tensor per_row =
      -(logp * from_vector(coef, Shape{logp.size(0), C}).to(input.dtype())).sum({1});
  Shape sample = input.sizes();
  sample.erase(sample.begin() + 1);
  switch (o.reduction) {
    case Reduction::None: return per_row.reshape(sample);
    case Reduction::Sum: return per_row.sum();
    case Reduction::Mean: return per_row.sum() / denominator;
  }
  return per_row;
}

struct Case {
  std::string name;
  Shape shape;                  // input (N, C, d...)
  std::vector<int64_t> target;  // (N d...) flattened, class dim removed
  F::CrossEntropyOptions options;
};

std::vector<Case> cases() {
  const Tensor w = from_vector(std::vector<double>{0.5, 2.0, 1.0, 0.25, 3.0});
  std::vector<Case> out;
  for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
    const std::string rn = nn::reduction_name(r);
    out.push_back({"plain " + rn, {6, 5}, {0, 4, 2, 2, 1, 3}, {.reduction = r}});
    out.push_back({"weight " + rn, {6, 5}, {0, 4, 2, 2, 1, 3}, {.weight = w, .reduction = r}});
    out.push_back({"ignore " + rn, {6, 5}, {0, -100, 2, 4, -100, 3}, {.reduction = r}});
    out.push_back(
        {"ignore 2 " + rn, {6, 5}, {0, 2, 2, 4, 1, 2}, {.ignore_index = 2, .reduction = r}});
    out.push_back({"smoothing " + rn, {6, 5}, {0, 4, 2, 2, 1, 3},
                   {.reduction = r, .label_smoothing = 0.3}});
    out.push_back({"everything " + rn, {6, 5}, {0, 4, -1, 2, 1, -1},
                   {.weight = w, .ignore_index = -1, .reduction = r, .label_smoothing = 0.15}});
    out.push_back({"3-d " + rn, {2, 5, 3}, {0, 4, 2, 1, -100, 3},
                   {.weight = w, .reduction = r, .label_smoothing = 0.1}});
    out.push_back({"4-d " + rn, {2, 5, 2, 2}, {0, 4, 2, 1, 1, 3, 0, 0},
                   {.reduction = r, .label_smoothing = 1.0}});
    out.push_back({"wide " + rn, {3, 5000}, {4999, 0, 2500}, {.reduction = r}});
  }
  return out;
}

TEST(CrossEntropyFused, MatchesComposedFormulaInFloat64) {
  Generator gen(7);
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = (randn(c.shape, {.dtype = kFloat64}, &gen) * 3.0).requires_grad_();
    Shape target_shape = c.shape;
    target_shape.erase(target_shape.begin() + 1);
    const Tensor target = from_vector(c.target, target_shape);
    const Tensor got = F::cross_entropy(x, target, c.options);
    const Tensor want = composed(x, c.target, c.options);
    EXPECT_TRUE(test::tensors_close("loss", got.detach(), want.detach(), {1e-12, 1e-12}));
    // A gradient that is not all ones, so each row's scale is exercised.
    const Tensor dout = rand(got.sizes(), {.dtype = kFloat64}, &gen) + 0.5;
    const Tensor dx = autograd::grad({got}, {x}, {dout})[0];
    const Tensor dx_want = autograd::grad({want}, {x}, {dout})[0];
    EXPECT_TRUE(test::tensors_close("dlogits", dx, dx_want, {1e-12, 1e-12}));
  }
}

TEST(CrossEntropyFused, AllRowsIgnoredGiveNanMeanAndZeroGradient) {
  // As PyTorch: the mean over no rows is 0 / 0, and no logit gets a gradient.
  const Tensor x = randn({3, 4}, {.dtype = kFloat64}).requires_grad_();
  const Tensor target = tensor({-100, -100, -100});
  for (double eps : {0.0, 0.2}) {
    const Tensor loss = F::cross_entropy(x, target, {.label_smoothing = eps});
    EXPECT_TRUE(std::isnan(loss.item<double>()));
    loss.backward();
    EXPECT_EQ(x.grad().abs().sum().item<double>(), 0.0);
    x.set_grad(Tensor());
  }
  EXPECT_EQ(F::cross_entropy(x, target, {.reduction = Reduction::Sum}).item<double>(), 0.0);
}

TEST(CrossEntropyFused, LargeLogitsStayFinite) {
  const Tensor x = tensor({{1000.0f, -1000.0f, 0.0f}, {-5000.0f, 5000.0f, 4990.0f}});
  const Tensor loss =
      F::cross_entropy(x, tensor({0, 2}), {.reduction = Reduction::None, .label_smoothing = 0.1});
  const std::vector<float> l = loss.to_vector<float>();
  // Row 0: 0.9 * 0 + 0.1 / 3 (0 + 2000 + 1000); row 1: 0.9 * 10 + 0.1 / 3 (10000 + 0 + 10).
  EXPECT_NEAR(l[0], 100.0f, 1e-3f);
  EXPECT_NEAR(l[1], 9.0f + 10010.0f / 30.0f, 1e-3f);
}

// Float32 rows long enough to be split across threads give the same bits on 1 and 2.
TEST(CrossEntropyFused, SameBitsForAnyThreadCount) {
  Generator gen(3);
  const Tensor x = randn({700, 300}, {}, &gen);
  const Tensor target = randint(0, 300, {700}, {.dtype = kInt64}, &gen);
  const Tensor weight = rand({300}, {}, &gen) + 0.5;
  const int threads = get_num_threads();
  std::vector<std::vector<float>> loss, grad;
  for (int n : {1, 2}) {
    set_num_threads(n);
    const Tensor leaf = x.detach().requires_grad_();
    const Tensor l = F::cross_entropy(leaf, target,
                                      {.weight = weight, .reduction = Reduction::None,
                                       .label_smoothing = 0.05});
    (l * 1.5).sum().backward();
    loss.push_back(l.to_vector<float>());
    grad.push_back(leaf.grad().to_vector<float>());
  }
  set_num_threads(threads);
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(grad[0], grad[1]);
}

// Without weights or smoothing the float32 loss of each row is -log_softmax(x)[y] bit for
// bit: the fused kernel takes the row's max and sum of exponentials in the softmax kernel's
// order (tensor/cpu/row_reduce.h), for short rows, rows with a partial last vector, and rows
// of several blocks.
TEST(CrossEntropyFused, FloatLossIsMinusLogSoftmaxBitForBit) {
  Generator gen(11);
  for (int64_t classes : {1, 2, 10, 15, 16, 17, 31, 32, 33, 41, 64, 100, 4096, 5000}) {
    const int64_t rows = classes > 1000 ? 8 : 200;
    const Tensor x = randn({rows, classes}, {}, &gen) * 4.0;
    const Tensor target = randint(0, classes, {rows}, {.dtype = kInt64}, &gen);
    const Tensor loss = F::cross_entropy(x, target, {.reduction = Reduction::None});
    const Tensor want = -gather(log_softmax(x, 1), 1, target.unsqueeze(1)).squeeze(1);
    EXPECT_EQ(loss.to_vector<float>(), want.to_vector<float>()) << "C = " << classes;
  }
}

TEST(CrossEntropyFused, ChecksTargetsAndArguments) {
  EXPECT_THAT([] { F::cross_entropy(zeros({3, 5}), tensor({1, 7, 2})); },
              ThrowsMessage<IndexError>(
                  HasSubstr("cross_entropy: target 7 is out of bounds for 5 classes")));
  EXPECT_THAT([] { F::cross_entropy(zeros({2, 5, 2}), tensor({{1, 2}, {-3, 0}})); },
              ThrowsMessage<IndexError>(HasSubstr("target -3 is out of bounds for 5 classes")));
  EXPECT_THAT([] { F::cross_entropy(zeros({2, 5}), tensor({1, 2}), {.label_smoothing = 1.5}); },
              ThrowsMessage<ValueError>(HasSubstr("label_smoothing must be in [0, 1]")));
  const CrossEntropyParams params;
  EXPECT_THAT([&] { raw::cross_entropy_forward(zeros({2, 5}), tensor({1, 2, 3}), {}, params); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "cross_entropy: expected a target of shape (2,) for logits (2, 5), got (3,)")));
  EXPECT_THAT([&] {
    raw::cross_entropy_forward(zeros({2, 5}), tensor({1, 2}).to(kInt32), {}, params);
  }, ThrowsMessage<DTypeError>(HasSubstr("expected an int64 target, got int32")));
  EXPECT_THAT([&] {
    raw::cross_entropy_forward(zeros({2, 5}), tensor({1, 2}), ones({5}, {.dtype = kFloat64}),
                               params);
  }, ThrowsMessage<DTypeError>(HasSubstr("weight is float64 but the logits are float32")));
  EXPECT_THAT([&] {
    raw::cross_entropy_backward(zeros({2, 5}), tensor({1, 2}), {}, params, zeros({2}),
                                zeros({3}));
  }, ThrowsMessage<ShapeError>(HasSubstr("expected grad of shape (2,) and dtype float32")));
}

}  // namespace
}  // namespace ignis

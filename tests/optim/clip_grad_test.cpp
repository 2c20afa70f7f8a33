// Gradient clipping against PyTorch (fixtures of tests/reference/make_optim_fixtures.py),
// and its edge cases: no gradients, non-finite norms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "optim/clip_grad.h"
#include "support/optim_fixture.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"

namespace ignis::optim {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::FixtureCase;

struct ClipCase {
  bool by_norm;
  double bound;  // max_norm or clip_value
  double norm_type;
};

// Case name -> the call, mirroring CLIP_CASES of make_optim_fixtures.py.
const std::map<std::string, ClipCase>& clip_table() {
  static const std::map<std::string, ClipCase> table = {
      {"clip_norm_2_clipped", {true, 1.0, 2.0}},
      {"clip_norm_2_unclipped", {true, 100.0, 2.0}},
      {"clip_norm_1", {true, 2.0, 1.0}},
      {"clip_norm_3", {true, 0.5, 3.0}},
      {"clip_norm_inf", {true, 0.25, std::numeric_limits<double>::infinity()}},
      {"clip_value", {false, 0.3, 0.0}},
  };
  return table;
}

std::vector<std::string> clip_case_names() {
  std::vector<std::string> names;
  for (const auto& entry : clip_table()) names.push_back(entry.first);
  return names;
}

std::vector<Tensor> params_with_grads(const FixtureCase& c) {
  std::vector<Tensor> params;
  for (int i = 0;; ++i) {
    const Tensor g = test::find_tensor(c.inputs, "g" + std::to_string(i));
    if (!g.defined()) break;
    Tensor p = zeros(g.sizes(), {.dtype = g.dtype()});
    p.requires_grad_();
    p.set_grad(raw::clone(g));
    params.push_back(p);
  }
  return params;
}

class ClipReference : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ClipReference, MatchesPyTorch) {
  const auto& [name, dtype] = GetParam();
  const ClipCase& cc = clip_table().at(name);
  const FixtureCase& c = test::optim_case(name, dtype);
  const std::vector<Tensor> params = params_with_grads(c);
  ASSERT_EQ(params.size(), 3u);
  if (cc.by_norm) {
    const double total = clip_grad_norm_(params, cc.bound, cc.norm_type);
    const Tensor want = test::find_tensor(c.outputs, "total_norm");
    EXPECT_TRUE(test::close_for_dtype(scalar_tensor(total, want.dtype()), want));
  } else {
    clip_grad_value_(params, cc.bound);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(test::close_for_dtype(params[i].grad(),
                                      test::find_tensor(c.outputs, "g" + std::to_string(i))))
        << "gradient " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ClipReference,
                         ::testing::Combine(::testing::ValuesIn(clip_case_names()),
                                            ::testing::Values("float32", "float64")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(ClipGradNorm, NoGradientsGiveZero) {
  Tensor p = ones({3});
  p.requires_grad_();
  EXPECT_EQ(clip_grad_norm_({p}, 1.0), 0.0);
  EXPECT_FALSE(p.grad().defined());
}

TEST(ClipGradNorm, SkipsParametersWithoutGradient) {
  Tensor a = ones({2});
  Tensor b = ones({2});
  a.requires_grad_();
  b.requires_grad_();
  a.set_grad(tensor({3.0f, 4.0f}));
  EXPECT_NEAR(clip_grad_norm_({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad().to_vector<float>()[1], 0.8f, 1e-6);
}

TEST(ClipGradNorm, NonFiniteNorm) {
  Tensor p = ones({2});
  p.requires_grad_();
  p.set_grad(tensor({1.0f, std::numeric_limits<float>::quiet_NaN()}));
  EXPECT_THAT([&] { clip_grad_norm_({p}, 1.0, 2.0, true); },
              ThrowsMessage<ValueError>(HasSubstr(
                  "clip_grad_norm_: the total norm of order 2 of the gradients is non-finite")));
  EXPECT_EQ(p.grad().to_vector<float>()[0], 1.0f);  // unchanged by the failed call
  EXPECT_TRUE(std::isnan(clip_grad_norm_({p}, 1.0, std::numeric_limits<double>::infinity())));
}

}  // namespace
}  // namespace ignis::optim

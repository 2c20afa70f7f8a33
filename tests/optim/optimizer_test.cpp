// The optimizers against PyTorch: 20-step parameter trajectories from the fixtures of
// tests/reference/make_optim_fixtures.py, state_dict round trips and the errors they throw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/math.h"
#include "optim/adam.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "support/optim_fixture.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

namespace ignis::optim {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::FixtureCase;

constexpr int kSteps = 20;

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>;

// One group per parameter, with the given overrides.
std::vector<ParamGroup> groups_of(const std::vector<Tensor>& params,
                                  const std::vector<Options>& overrides) {
  std::vector<ParamGroup> groups;
  for (size_t i = 0; i < params.size(); ++i) groups.push_back({{params[i]}, overrides[i]});
  return groups;
}

// Case name -> the optimizer; each mirrors the PyTorch constructor of the same case in
// make_optim_fixtures.py.
const std::map<std::string, MakeOptimizer>& optimizer_table() {
  static const std::map<std::string, MakeOptimizer> table = {
      {"sgd", [](const auto& p) { return std::make_unique<SGD>(p, SGDOptions{.lr = 0.1}); }},
      {"sgd_momentum",
       [](const auto& p) {
         return std::make_unique<SGD>(p, SGDOptions{.lr = 0.05, .momentum = 0.9});
       }},
      {"sgd_nesterov",
       [](const auto& p) {
         return std::make_unique<SGD>(p, SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
       }},
      {"sgd_dampening",
       [](const auto& p) {
         return std::make_unique<SGD>(p,
                                      SGDOptions{.lr = 0.05, .momentum = 0.8, .dampening = 0.3});
       }},
      {"sgd_weight_decay",
       [](const auto& p) {
         return std::make_unique<SGD>(
             p, SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
       }},
      {"sgd_maximize",
       [](const auto& p) {
         return std::make_unique<SGD>(
             p, SGDOptions{.lr = 0.1, .weight_decay = 0.1, .maximize = true});
       }},
      {"sgd_groups",
       [](const auto& p) {
         return std::make_unique<SGD>(groups_of(p, {{{"lr", 0.1}, {"momentum", 0.9}}, {}}),
                                      SGDOptions{.lr = 0.01});
       }},
      {"adam", [](const auto& p) { return std::make_unique<Adam>(p); }},
      {"adam_weight_decay",
       [](const auto& p) {
         return std::make_unique<Adam>(p, AdamOptions{.lr = 1e-3, .weight_decay = 1e-5});
       }},
      {"adam_amsgrad",
       [](const auto& p) {
         return std::make_unique<Adam>(
             p, AdamOptions{.lr = 1e-2, .betas = {0.8, 0.99}, .amsgrad = true});
       }},
      {"adam_maximize",
       [](const auto& p) {
         return std::make_unique<Adam>(
             p, AdamOptions{.lr = 1e-2, .weight_decay = 0.1, .maximize = true});
       }},
      {"adam_groups",
       [](const auto& p) {
         return std::make_unique<Adam>(
             groups_of(p, {{{"weight_decay", 0.1}}, {{"lr", 0.05}, {"eps", 1e-6}}}),
             AdamOptions{.lr = 1e-2});
       }},
      {"adam_bag",
       [](const auto& p) {
         return std::make_unique<Adam>(p, AdamOptions{.lr = 1e-3, .weight_decay = 1e-5});
       }},
      {"adamw", [](const auto& p) { return std::make_unique<AdamW>(p, AdamWOptions{.lr = 1e-2}); }},
      {"adamw_amsgrad",
       [](const auto& p) {
         return std::make_unique<AdamW>(
             p, AdamWOptions{.lr = 1e-2, .weight_decay = 0.1, .amsgrad = true});
       }},
      {"rmsprop",
       [](const auto& p) { return std::make_unique<RMSprop>(p, RMSpropOptions{.lr = 1e-2}); }},
      {"rmsprop_centered",
       [](const auto& p) {
         return std::make_unique<RMSprop>(
             p, RMSpropOptions{.lr = 1e-2, .weight_decay = 0.01, .centered = true});
       }},
      {"rmsprop_momentum",
       [](const auto& p) {
         return std::make_unique<RMSprop>(
             p, RMSpropOptions{.lr = 1e-2, .alpha = 0.9, .momentum = 0.9});
       }},
      {"rmsprop_centered_momentum",
       [](const auto& p) {
         return std::make_unique<RMSprop>(
             p, RMSpropOptions{.lr = 1e-3, .eps = 1e-6, .momentum = 0.5, .centered = true});
       }},
  };
  return table;
}

std::vector<std::string> optimizer_case_names() {
  std::vector<std::string> names;
  for (const auto& entry : optimizer_table()) names.push_back(entry.first);
  return names;
}

int param_count(const FixtureCase& c) {
  int n = 0;
  while (test::find_tensor(c.inputs, "p" + std::to_string(n)).defined()) ++n;
  return n;
}

// A leaf parameter holding `value`: contiguous, or (contiguous = false) a strided view,
// transposed for 2-d values and every other element of a larger buffer for 1-d ones.
Tensor make_param(const Tensor& value, bool contiguous) {
  Tensor p;
  if (contiguous) {
    p = raw::clone(value);
  } else if (value.dim() == 2) {
    p = raw::transpose(empty({value.size(1), value.size(0)}, {.dtype = value.dtype()}), 0, 1);
  } else {
    p = raw::slice(empty({2 * value.numel()}, {.dtype = value.dtype()}), 0, 0, 2 * value.numel(),
                   2);
  }
  raw::copy_(p, value);
  p.requires_grad_();
  return p;
}

// Sets each parameter's gradient of step s (undefined where the case has none).
void set_gradients(const FixtureCase& c, const std::vector<Tensor>& params, int s) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor g =
        test::find_tensor(c.inputs, "g" + std::to_string(s) + "." + std::to_string(i));
    params[i].set_grad(g.defined() ? raw::clone(g) : Tensor());
  }
}

std::vector<Tensor> initial_params(const FixtureCase& c, bool contiguous) {
  std::vector<Tensor> params;
  for (int i = 0; i < param_count(c); ++i) {
    params.push_back(make_param(test::find_tensor(c.inputs, "p" + std::to_string(i)), contiguous));
  }
  return params;
}

// ---- trajectories against PyTorch ----

class OptimizerReference
    : public ::testing::TestWithParam<std::tuple<std::string, std::string, bool>> {};

TEST_P(OptimizerReference, TrajectoryMatchesPyTorch) {
  const auto& [name, dtype, contiguous] = GetParam();
  const FixtureCase& c = test::optim_case(name, dtype);
  const std::vector<Tensor> params = initial_params(c, contiguous);
  std::unique_ptr<Optimizer> optimizer = optimizer_table().at(name)(params);
  int compared = 0;
  for (int s = 0; s < kSteps; ++s) {
    set_gradients(c, params, s);
    optimizer->step();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor want =
          test::find_tensor(c.outputs, "p" + std::to_string(i) + "." + std::to_string(s));
      if (!want.defined()) continue;
      EXPECT_TRUE(test::close_for_dtype(params[i], want)) << "param " << i << " after step " << s;
      ++compared;
    }
  }
  EXPECT_GE(compared, 7 * static_cast<int>(params.size()));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, OptimizerReference,
    ::testing::Combine(::testing::ValuesIn(optimizer_case_names()),
                       ::testing::Values("float32", "float64"), ::testing::Bool()),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param) +
             (std::get<2>(info.param) ? "" : "_strided");
    });

TEST(OptimizerReference, EveryFixtureCaseHasATableEntry) {
  for (const FixtureCase& c : test::optim_fixtures()) {
    if (c.name.starts_with("sgd") || c.name.starts_with("adam") || c.name.starts_with("rmsprop")) {
      EXPECT_TRUE(optimizer_table().contains(c.name)) << c.name;
    }
  }
}

// ---- state_dict ----

// Runs `name`'s 20 steps in one go, and as 10 steps, state_dict, a fresh optimizer that
// loads it, then 10 more steps: the parameters must be identical.
void expect_round_trip(const std::string& name, const std::string& dtype) {
  SCOPED_TRACE(name + " " + dtype);
  const FixtureCase& c = test::optim_case(name, dtype);
  const std::vector<Tensor> straight = initial_params(c, true);
  std::unique_ptr<Optimizer> a = optimizer_table().at(name)(straight);
  for (int s = 0; s < kSteps; ++s) {
    set_gradients(c, straight, s);
    a->step();
  }
  const std::vector<Tensor> first = initial_params(c, true);
  std::unique_ptr<Optimizer> b = optimizer_table().at(name)(first);
  for (int s = 0; s < kSteps / 2; ++s) {
    set_gradients(c, first, s);
    b->step();
  }
  StateDict saved;
  for (const auto& [key, value] : b->state_dict()) saved[key] = raw::clone(value);
  std::vector<Tensor> resumed;
  for (const Tensor& p : first) resumed.push_back(make_param(p, true));
  std::unique_ptr<Optimizer> fresh = optimizer_table().at(name)(resumed);
  fresh->load_state_dict(saved);
  for (int s = kSteps / 2; s < kSteps; ++s) {
    set_gradients(c, resumed, s);
    fresh->step();
  }
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(resumed[i].to_vector<double>(), straight[i].to_vector<double>()) << "param " << i;
  }
}

TEST(OptimizerStateDict, RoundTripEqualsUninterruptedRun) {
  for (const char* name : {"sgd_momentum", "sgd_groups", "adam_amsgrad", "adam_groups", "adamw",
                           "rmsprop_centered_momentum"}) {
    expect_round_trip(name, "float32");
    expect_round_trip(name, "float64");
  }
}

std::vector<Tensor> two_params() {
  return {make_param(ones({3, 4}), true), make_param(ones({5}), true)};
}

void step_once(Optimizer& optimizer, const std::vector<Tensor>& params) {
  for (const Tensor& p : params) p.set_grad(full(p.sizes(), 0.5));
  optimizer.step();
}

TEST(OptimizerStateDict, NamesAndValues) {
  const std::vector<Tensor> params = two_params();
  Adam adam(params, {.lr = 0.01, .amsgrad = true});
  step_once(adam, params);
  const StateDict dict = adam.state_dict();
  std::vector<std::string> keys;
  for (const auto& entry : dict) keys.push_back(entry.first);
  EXPECT_THAT(keys, ::testing::ElementsAre(
                        "param_groups.0.amsgrad", "param_groups.0.beta1", "param_groups.0.beta2",
                        "param_groups.0.eps", "param_groups.0.lr", "param_groups.0.maximize",
                        "param_groups.0.params", "param_groups.0.weight_decay",
                        "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
                        "state.0.step", "state.1.exp_avg", "state.1.exp_avg_sq",
                        "state.1.max_exp_avg_sq", "state.1.step"));
  EXPECT_EQ(dict.at("param_groups.0.params").to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(dict.at("param_groups.0.lr").dtype(), kFloat64);
  EXPECT_EQ(dict.at("param_groups.0.lr").dim(), 0);
  EXPECT_EQ(dict.at("param_groups.0.lr").item<double>(), 0.01);
  EXPECT_EQ(dict.at("param_groups.0.amsgrad").item<double>(), 1.0);
  EXPECT_EQ(dict.at("state.1.step").item<double>(), 1.0);
  EXPECT_EQ(dict.at("state.0.exp_avg").sizes(), (Shape{3, 4}));
}

TEST(OptimizerStateDict, LoadConvertsDtypeAndCopies) {
  const std::vector<Tensor> params = two_params();
  Adam adam(params);
  step_once(adam, params);
  StateDict dict = adam.state_dict();
  dict["state.0.exp_avg"] = full({3, 4}, 0.25, {.dtype = kFloat64});
  Adam other(two_params());
  other.load_state_dict(dict);
  const Tensor loaded = other.state(other.param_groups()[0].params[0]).at("exp_avg");
  EXPECT_EQ(loaded.dtype(), kFloat32);
  EXPECT_FALSE(loaded.storage() == dict["state.0.exp_avg"].storage());
  EXPECT_EQ(loaded.to_vector<float>(), std::vector<float>(12, 0.25f));
}

TEST(OptimizerStateDict, LoadErrorsNameTheKeyAndChangeNothing) {
  const std::vector<Tensor> params = two_params();
  Adam adam(params, {.lr = 0.5});
  step_once(adam, params);
  const StateDict good = adam.state_dict();
  Adam target(two_params(), {.lr = 0.5});

  StateDict missing_option = good;
  missing_option.erase("param_groups.0.lr");
  EXPECT_THAT([&] { target.load_state_dict(missing_option); },
              ThrowsMessage<ValueError>(HasSubstr("missing key 'param_groups.0.lr'")));

  StateDict missing_buffer = good;
  missing_buffer.erase("state.1.exp_avg_sq");
  EXPECT_THAT([&] { target.load_state_dict(missing_buffer); },
              ThrowsMessage<ValueError>(HasSubstr("missing key 'state.1.exp_avg_sq'")));

  StateDict wrong_shape = good;
  wrong_shape["state.0.exp_avg"] = zeros({4, 3});
  EXPECT_THAT([&] { target.load_state_dict(wrong_shape); },
              ThrowsMessage<ShapeError>(HasSubstr(
                  "'state.0.exp_avg' has shape (4, 3), but parameter 0 has shape (3, 4)")));

  StateDict unknown = good;
  unknown["momentum"] = scalar_entry(0.9);
  EXPECT_THAT([&] { target.load_state_dict(unknown); },
              ThrowsMessage<ValueError>(HasSubstr("unexpected key 'momentum'")));

  StateDict stray_state = good;
  stray_state["state.7.exp_avg"] = zeros({5});
  EXPECT_THAT([&] { target.load_state_dict(stray_state); },
              ThrowsMessage<ValueError>(HasSubstr("'state.7.exp_avg': no parameter 7")));

  StateDict bad_value = good;
  bad_value["param_groups.0.beta2"] = scalar_entry(1.5);
  EXPECT_THAT([&] { target.load_state_dict(bad_value); },
              ThrowsMessage<ValueError>(HasSubstr("Adam: invalid beta2 value: 1.5")));

  Adam two_groups(groups_of(two_params(), {{}, {}}));
  EXPECT_THAT([&] { two_groups.load_state_dict(good); },
              ThrowsMessage<ValueError>(
                  HasSubstr("loaded state dict has 1 parameter groups, the optimizer has 2")));

  Adam smaller(std::vector<Tensor>{make_param(ones({3, 4}), true)});
  EXPECT_THAT([&] { smaller.load_state_dict(good); },
              ThrowsMessage<ValueError>(
                  HasSubstr("loaded parameter group 0 has 2 parameters, the optimizer's has 1")));

  // Nothing was loaded by the failed calls.
  EXPECT_TRUE(target.state(target.param_groups()[0].params[0]).empty());
  target.load_state_dict(good);
  EXPECT_EQ(target.state(target.param_groups()[0].params[1]).at("step").item<double>(), 1.0);
}

// ---- construction, zero_grad, skipping ----

TEST(Optimizer, InvalidOptionsThrow) {
  EXPECT_THAT([] { Adam(two_params(), {.lr = -1.0}); },
              ThrowsMessage<ValueError>(HasSubstr("Adam: invalid lr value: -1")));
  EXPECT_THAT([] { Adam(two_params(), {.betas = {1.0, 0.999}}); },
              ThrowsMessage<ValueError>(HasSubstr("Adam: invalid beta1 value: 1")));
  EXPECT_THAT([] { AdamW(two_params(), {.eps = -1e-8}); },
              ThrowsMessage<ValueError>(HasSubstr("AdamW: invalid eps value: -1e-08")));
  EXPECT_THAT([] { SGD(two_params(), {.momentum = -0.5}); },
              ThrowsMessage<ValueError>(HasSubstr("SGD: invalid momentum value: -0.5")));
  EXPECT_THAT([] { SGD(two_params(), {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
              ThrowsMessage<ValueError>(HasSubstr("Nesterov momentum requires a momentum")));
  EXPECT_THAT([] { RMSprop(two_params(), {.weight_decay = -1.0}); },
              ThrowsMessage<ValueError>(HasSubstr("RMSprop: invalid weight_decay value: -1")));
  EXPECT_THAT([] { SGD(groups_of(two_params(), {{{"lrr", 0.1}}, {}})); },
              ThrowsMessage<ValueError>(HasSubstr("parameter group 0: unknown option 'lrr'")));
}

TEST(Optimizer, InvalidParametersThrow) {
  EXPECT_THAT([] { SGD(std::vector<Tensor>{}); },
              ThrowsMessage<ValueError>(HasSubstr("SGD: parameter group 0 has no parameters")));
  const Tensor p = make_param(ones({2}), true);
  EXPECT_THAT([&] { SGD(groups_of({p, p}, {{}, {}})); },
              ThrowsMessage<ValueError>(HasSubstr("appear in more than one parameter group")));
  const Tensor non_leaf = p * 2.0;
  EXPECT_THAT([&] { SGD(std::vector<Tensor>{non_leaf}); },
              ThrowsMessage<ValueError>(HasSubstr("can't optimize a non-leaf tensor")));
  EXPECT_THAT([] { SGD(std::vector<Tensor>{ones({2}, {.dtype = kInt64})}); },
              ThrowsMessage<ValueError>(HasSubstr("can't optimize a tensor of dtype int64")));
}

TEST(Optimizer, ZeroGrad) {
  const std::vector<Tensor> params = two_params();
  SGD sgd(params);
  for (const Tensor& p : params) p.set_grad(ones(p.sizes()));
  sgd.zero_grad(false);
  EXPECT_EQ(params[1].grad().to_vector<float>(), std::vector<float>(5, 0.0f));
  sgd.zero_grad();
  EXPECT_FALSE(params[0].grad().defined());
  EXPECT_FALSE(params[1].grad().defined());
}

TEST(Optimizer, ParametersWithoutGradientAreSkipped) {
  const std::vector<Tensor> params = two_params();
  Adam adam(params, {.lr = 0.1});
  params[0].set_grad(ones({3, 4}));
  adam.step();
  EXPECT_EQ(params[1].to_vector<float>(), std::vector<float>(5, 1.0f));
  EXPECT_TRUE(adam.state(params[1]).empty());
  EXPECT_EQ(adam.state(params[0]).at("step").item<double>(), 1.0);
  EXPECT_NEAR(params[0].to_vector<float>()[0], 0.9f, 1e-6);  // the first step moves by lr
}

TEST(Optimizer, StepRecordsNoGraph) {
  const std::vector<Tensor> params = two_params();
  SGD sgd(params, {.lr = 0.1, .momentum = 0.9});
  step_once(sgd, params);
  EXPECT_TRUE(params[0].is_leaf());
  EXPECT_TRUE(params[0].requires_grad());
  EXPECT_FALSE(sgd.state(params[0]).at("momentum_buffer").requires_grad());
}

}  // namespace
}  // namespace ignis::optim

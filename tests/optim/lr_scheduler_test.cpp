// The learning-rate schedulers against PyTorch: 100 steps of learning rates (and cycled
// momenta) from the fixtures of tests/reference/make_optim_fixtures.py, state_dict round
// trips, and the errors they throw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optim/adam.h"
#include "optim/lr_scheduler.h"
#include "optim/sgd.h"
#include "support/optim_fixture.h"
#include "tensor/factory.h"

namespace ignis::optim {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::FixtureCase;

constexpr int kSteps = 100;

// The optimizers of make_optim_fixtures.py: two groups, lr 0.1 and 0.05.
std::vector<ParamGroup> two_groups() {
  return {{{zeros({2}).requires_grad_()}, {{"lr", 0.1}}},
          {{zeros({3}).requires_grad_()}, {{"lr", 0.05}}}};
}

std::unique_ptr<Optimizer> sgd_two_groups() {
  return std::make_unique<SGD>(two_groups(), SGDOptions{.lr = 0.1, .momentum = 0.9});
}

std::unique_ptr<Optimizer> adam_two_groups() { return std::make_unique<Adam>(two_groups()); }

// Either kind of scheduler behind one interface: step(metric) ignores the metric for an
// LRScheduler.
struct Schedule {
  std::unique_ptr<LRScheduler> scheduler;
  std::unique_ptr<ReduceLROnPlateau> plateau;

  void step(double metric) const {
    if (plateau) {
      plateau->step(metric);
    } else {
      scheduler->step();
    }
  }
  std::vector<double> last_lr() const {
    return plateau ? plateau->get_last_lr() : scheduler->get_last_lr();
  }
  StateDict state_dict() const { return plateau ? plateau->state_dict() : scheduler->state_dict(); }
  void load_state_dict(const StateDict& state) const {
    if (plateau) {
      plateau->load_state_dict(state);
    } else {
      scheduler->load_state_dict(state);
    }
  }
};

struct SchedulerCase {
  std::function<std::unique_ptr<Optimizer>()> make_optimizer;
  std::function<Schedule(Optimizer&)> make_schedule;
  std::string cycled;  // the option the schedule also cycles ("momentum", "beta1"), or ""
};

template <typename S, typename... Args>
Schedule scheduler(Optimizer& o, Args... args) {
  return {std::make_unique<S>(o, args...), nullptr};
}

Schedule plateau(Optimizer& o, ReduceLROnPlateauOptions options) {
  return {nullptr, std::make_unique<ReduceLROnPlateau>(o, std::move(options))};
}

// Case name -> the scheduler, mirroring SCHEDULER_CASES of make_optim_fixtures.py.
const std::map<std::string, SchedulerCase>& scheduler_table() {
  static const std::map<std::string, SchedulerCase> table = {
      {"steplr", {sgd_two_groups, [](Optimizer& o) { return scheduler<StepLR>(o, 7, 0.5); }, ""}},
      {"multisteplr",
       {sgd_two_groups,
        [](Optimizer& o) {
          return scheduler<MultiStepLR>(o, std::vector<int64_t>{10, 25, 25, 60}, 0.3);
        },
        ""}},
      {"exponentiallr",
       {sgd_two_groups, [](Optimizer& o) { return scheduler<ExponentialLR>(o, 0.97); }, ""}},
      {"cosineannealinglr",
       {sgd_two_groups, [](Optimizer& o) { return scheduler<CosineAnnealingLR>(o, 100); }, ""}},
      {"cosineannealinglr_restarts",
       {sgd_two_groups,
        [](Optimizer& o) { return scheduler<CosineAnnealingLR>(o, 30, 0.001); }, ""}},
      {"linearlr",
       {sgd_two_groups, [](Optimizer& o) { return scheduler<LinearLR>(o, 0.25, 1.0, 10); }, ""}},
      {"linearlr_decay",
       {sgd_two_groups, [](Optimizer& o) { return scheduler<LinearLR>(o, 1.0, 0.1, 40); }, ""}},
      {"onecyclelr_cos",
       {sgd_two_groups,
        [](Optimizer& o) {
          return scheduler<OneCycleLR>(
              o, OneCycleLROptions{.max_lr = {0.5, 0.2}, .total_steps = 100});
        },
        "momentum"}},
      {"onecyclelr_linear_three_phase",
       {adam_two_groups,
        [](Optimizer& o) {
          return scheduler<OneCycleLR>(o, OneCycleLROptions{.max_lr = {0.3},
                                                            .total_steps = 100,
                                                            .pct_start = 0.25,
                                                            .anneal_strategy = "linear",
                                                            .base_momentum = 0.8,
                                                            .max_momentum = 0.9,
                                                            .div_factor = 10.0,
                                                            .final_div_factor = 100.0,
                                                            .three_phase = true});
        },
        "beta1"}},
      {"onecyclelr_no_momentum",
       {sgd_two_groups,
        [](Optimizer& o) {
          return scheduler<OneCycleLR>(o, OneCycleLROptions{.max_lr = {0.4},
                                                            .epochs = 4,
                                                            .steps_per_epoch = 25,
                                                            .pct_start = 0.4,
                                                            .cycle_momentum = false});
        },
        "momentum"}},
      {"reducelronplateau_min_rel",
       {sgd_two_groups,
        [](Optimizer& o) {
          return plateau(o, {.mode = "min",
                             .factor = 0.5,
                             .patience = 3,
                             .threshold = 1e-2,
                             .cooldown = 2,
                             .min_lr = {1e-3}});
        },
        ""}},
      {"reducelronplateau_max_abs",
       {sgd_two_groups,
        [](Optimizer& o) {
          return plateau(o, {.mode = "max",
                             .factor = 0.3,
                             .patience = 2,
                             .threshold = 0.05,
                             .threshold_mode = "abs",
                             .min_lr = {0.01, 0.002}});
        },
        ""}},
      {"sequentiallr_warmup_cosine",
       {sgd_two_groups,
        [](Optimizer& o) {
          auto warmup = std::make_shared<LinearLR>(o, 0.1, 1.0, 5);
          auto cosine = std::make_shared<CosineAnnealingLR>(o, 95);
          return scheduler<SequentialLR>(o, std::vector<std::shared_ptr<LRScheduler>>{warmup, cosine},
                                         std::vector<int64_t>{5});
        },
        ""}},
      {"sequentiallr_three",
       {sgd_two_groups,
        [](Optimizer& o) {
          auto linear = std::make_shared<LinearLR>(o, 0.5, 1.0, 4);
          auto exponential = std::make_shared<ExponentialLR>(o, 0.95);
          auto step = std::make_shared<StepLR>(o, 10, 0.5);
          return scheduler<SequentialLR>(
              o, std::vector<std::shared_ptr<LRScheduler>>{linear, exponential, step},
              std::vector<int64_t>{10, 50});
        },
        ""}},
  };
  return table;
}

std::vector<std::string> scheduler_case_names() {
  std::vector<std::string> names;
  for (const auto& entry : scheduler_table()) names.push_back(entry.first);
  return names;
}

// The learning rates (and the cycled option) after construction and after each step, group
// after group: the (steps + 1, groups) layout of the fixture.
struct Trajectory {
  std::vector<double> lrs;
  std::vector<double> cycled;
};

void record(const Schedule& schedule, const Optimizer& optimizer, const std::string& cycled,
            Trajectory& out) {
  for (double lr : schedule.last_lr()) out.lrs.push_back(lr);
  if (cycled.empty()) return;
  for (const ParamGroup& group : optimizer.param_groups()) out.cycled.push_back(group.options.at(cycled));
}

std::vector<double> metrics_of(const FixtureCase& c) {
  const Tensor metrics = test::find_tensor(c.inputs, "metrics");
  return metrics.defined() ? metrics.to_vector<double>() : std::vector<double>(kSteps, 0.0);
}

// Bit-exact: the formulas are PyTorch's, in the same order of operations, with no fused
// multiply-add (see lr_scheduler.cpp), and std::cos is the C library's, as Python's math.cos.
void expect_matches(const FixtureCase& c, const std::string& cycled, const Trajectory& got) {
  const Tensor want_lr = test::find_tensor(c.outputs, "lr");
  EXPECT_TRUE(test::all_close(from_vector(got.lrs, want_lr.sizes()),
                              want_lr, 0.0, 0.0));
  if (!cycled.empty()) {
    const Tensor want = test::find_tensor(c.outputs, cycled);
    ASSERT_TRUE(want.defined());
    EXPECT_TRUE(test::all_close(from_vector(got.cycled, want.sizes()), want, 0.0, 0.0));
  }
}

class SchedulerReference : public ::testing::TestWithParam<std::string> {};

TEST_P(SchedulerReference, LearningRatesMatchPyTorch) {
  const SchedulerCase& sc = scheduler_table().at(GetParam());
  const FixtureCase& c = test::optim_case(GetParam(), "float64");
  const std::vector<double> metrics = metrics_of(c);
  std::unique_ptr<Optimizer> optimizer = sc.make_optimizer();
  const Schedule schedule = sc.make_schedule(*optimizer);
  Trajectory got;
  record(schedule, *optimizer, sc.cycled, got);
  for (int s = 0; s < kSteps; ++s) {
    optimizer->step();
    schedule.step(metrics[s]);
    record(schedule, *optimizer, sc.cycled, got);
  }
  expect_matches(c, sc.cycled, got);
}

// 40 steps, then the optimizer's and the scheduler's state dicts loaded into fresh ones that
// run the other 60: the same learning rates as PyTorch's uninterrupted run.
TEST_P(SchedulerReference, StateDictRoundTrip) {
  const SchedulerCase& sc = scheduler_table().at(GetParam());
  const FixtureCase& c = test::optim_case(GetParam(), "float64");
  const std::vector<double> metrics = metrics_of(c);
  std::unique_ptr<Optimizer> optimizer = sc.make_optimizer();
  Schedule schedule = sc.make_schedule(*optimizer);
  Trajectory got;
  record(schedule, *optimizer, sc.cycled, got);
  constexpr int kSplit = 40;
  for (int s = 0; s < kSplit; ++s) {
    schedule.step(metrics[s]);
    record(schedule, *optimizer, sc.cycled, got);
  }
  const StateDict optimizer_state = optimizer->state_dict();
  const StateDict schedule_state = schedule.state_dict();
  std::unique_ptr<Optimizer> fresh = sc.make_optimizer();
  const Schedule resumed = sc.make_schedule(*fresh);
  fresh->load_state_dict(optimizer_state);
  resumed.load_state_dict(schedule_state);
  for (int s = kSplit; s < kSteps; ++s) {
    resumed.step(metrics[s]);
    record(resumed, *fresh, sc.cycled, got);
  }
  expect_matches(c, sc.cycled, got);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SchedulerReference,
                         ::testing::ValuesIn(scheduler_case_names()));

TEST(SchedulerReferenceTable, EveryFixtureCaseHasATableEntry) {
  for (const FixtureCase& c : test::optim_fixtures()) {
    if (c.name.find("lr") != std::string::npos && !c.name.starts_with("sgd") &&
        !c.name.starts_with("adam") && !c.name.starts_with("rmsprop")) {
      EXPECT_TRUE(scheduler_table().contains(c.name)) << c.name;
    }
  }
}

TEST(LRScheduler, SetsInitialLrAndKeepsItInTheOptimizerState) {
  std::unique_ptr<Optimizer> optimizer = sgd_two_groups();
  StepLR step(*optimizer, 2, 0.5);
  step.step();
  step.step();
  EXPECT_EQ(step.get_last_lr(), (std::vector<double>{0.05, 0.025}));
  EXPECT_EQ(optimizer->param_groups()[1].options.at("initial_lr"), 0.05);
  EXPECT_EQ(optimizer->state_dict().at("param_groups.1.initial_lr").item<double>(), 0.05);
  EXPECT_EQ(step.last_epoch(), 2);
}

TEST(LRScheduler, InvalidArgumentsThrow) {
  std::unique_ptr<Optimizer> optimizer = sgd_two_groups();
  EXPECT_THAT([&] { LinearLR(*optimizer, 0.0); },
              ThrowsMessage<ValueError>(HasSubstr("LinearLR: start_factor must be in (0, 1]")));
  EXPECT_THAT([&] { LinearLR(*optimizer, 0.5, 1.5); },
              ThrowsMessage<ValueError>(HasSubstr("LinearLR: end_factor must be in [0, 1]")));
  EXPECT_THAT([&] { OneCycleLR(*optimizer, {.max_lr = {0.1}}); },
              ThrowsMessage<ValueError>(HasSubstr("OneCycleLR: give a positive total_steps")));
  EXPECT_THAT([&] { OneCycleLR(*optimizer, {.max_lr = {0.1, 0.2, 0.3}, .total_steps = 10}); },
              ThrowsMessage<ValueError>(HasSubstr("got 3 values for 2 groups")));
  EXPECT_THAT(
      [&] { OneCycleLR(*optimizer, {.max_lr = {0.1}, .total_steps = 10, .anneal_strategy = "exp"}); },
      ThrowsMessage<ValueError>(HasSubstr("anneal_strategy must be 'cos' or 'linear', got 'exp'")));
  EXPECT_THAT([&] { ReduceLROnPlateau(*optimizer, {.factor = 1.0}); },
              ThrowsMessage<ValueError>(HasSubstr("ReduceLROnPlateau: factor must be < 1")));
  EXPECT_THAT([&] { ReduceLROnPlateau(*optimizer, {.mode = "lowest"}); },
              ThrowsMessage<ValueError>(HasSubstr("mode must be 'min' or 'max', got 'lowest'")));
  std::unique_ptr<Optimizer> other = sgd_two_groups();
  auto foreign = std::make_shared<StepLR>(*other, 3);
  EXPECT_THAT([&] { SequentialLR(*optimizer, {foreign}, {}); },
              ThrowsMessage<ValueError>(
                  HasSubstr("SequentialLR: scheduler 0 does not drive the given optimizer")));
  auto own = std::make_shared<StepLR>(*optimizer, 3);
  EXPECT_THAT([&] { SequentialLR(*optimizer, {own}, {5}); },
              ThrowsMessage<ValueError>(HasSubstr("got 1 schedulers and 1 milestones")));
}

TEST(LRScheduler, OneCycleStepsPastTheEndThrow) {
  std::unique_ptr<Optimizer> optimizer = sgd_two_groups();
  OneCycleLR schedule(*optimizer, {.max_lr = {0.1}, .total_steps = 3});
  for (int s = 0; s < 3; ++s) schedule.step();
  EXPECT_THAT([&] { schedule.step(); },
              ThrowsMessage<ValueError>(HasSubstr("tried to step 4 times; the specified number "
                                                  "of total steps is 3")));
}

TEST(LRScheduler, OneCycleCyclesAdamsBeta1) {
  std::unique_ptr<Optimizer> adam = adam_two_groups();
  OneCycleLR schedule(*adam, {.max_lr = {0.1}, .total_steps = 10});
  EXPECT_EQ(adam->param_groups()[0].options.at("beta1"), 0.95);
  EXPECT_EQ(adam->param_groups()[1].options.at("beta2"), 0.999);
  schedule.step();
  EXPECT_LT(adam->param_groups()[0].options.at("beta1"), 0.95);
}

TEST(LRScheduler, LoadStateDictErrorsNameTheKey) {
  std::unique_ptr<Optimizer> optimizer = sgd_two_groups();
  ExponentialLR schedule(*optimizer, 0.9);
  StateDict state = schedule.state_dict();
  state.erase("step_count");
  EXPECT_THAT([&] { schedule.load_state_dict(state); },
              ThrowsMessage<ValueError>(HasSubstr("missing key 'step_count'")));
  state = schedule.state_dict();
  state.erase("base_lrs.1");
  EXPECT_THAT([&] { schedule.load_state_dict(state); },
              ThrowsMessage<ValueError>(HasSubstr("the state has 1 'base_lrs' entries, the "
                                                  "optimizer has 2 groups")));
}

}  // namespace
}  // namespace ignis::optim

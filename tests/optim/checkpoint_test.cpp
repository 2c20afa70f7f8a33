// Tests of optim/checkpoint.h: an optimizer or scheduler saved to a safetensors file and
// loaded into a fresh one continues exactly as the uninterrupted one; load errors.
#include "optim/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"
#include "tensor/io/atomic_file.h"

namespace ignis::optim {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class TempDir {
 public:
  TempDir()
      : dir_(fs::temp_directory_path() / ("ignis_optim_ckpt_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempDir() { fs::remove_all(dir_); }
  fs::path operator/(const std::string& name) const { return dir_ / name; }

 private:
  fs::path dir_;
};

// Two leaf parameters with fixed values.
std::vector<Tensor> make_params() {
  Tensor w = from_vector<float>({0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.5f}, Shape{2, 3});
  Tensor b = from_vector<float>({0.1f, -0.2f, 0.3f}, Shape{3});
  w.requires_grad_();
  b.requires_grad_();
  return {w, b};
}

// One step with the gradient of sum(p^3) / 3 + 0.1 p, i.e. p^2 + 0.1, a function of the
// parameters alone, so two optimizers in the same state take the same step.
void step(Optimizer& optimizer, const std::vector<Tensor>& params) {
  for (const Tensor& p : params) p.set_grad(raw::add(raw::mul(p, p), 0.1));
  optimizer.step();
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const Tensor ca = a.contiguous().cpu();
  const Tensor cb = b.contiguous().cpu();
  return std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

void expect_same_state(const StateDict& got, const StateDict& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    ASSERT_TRUE(got.contains(name)) << name;
    EXPECT_TRUE(same_bits(got.at(name), tensor)) << name;
  }
}

TEST(OptimCheckpoint, AdamResumedFromAFileContinuesExactly) {
  TempDir dir;
  const std::vector<Tensor> params = make_params();
  Adam adam(params, {.lr = 0.05, .weight_decay = 0.01, .amsgrad = true});
  for (int i = 0; i < 5; ++i) step(adam, params);
  save(adam, dir / "adam.safetensors");

  std::vector<Tensor> resumed_params = make_params();
  for (size_t i = 0; i < params.size(); ++i) {
    resumed_params[i].detach().copy_(params[i].detach());
  }
  Adam resumed(resumed_params);  // other hyper-parameters: the file's replace them
  load(resumed, dir / "adam.safetensors");
  expect_same_state(resumed.state_dict(), adam.state_dict());
  EXPECT_EQ(resumed.param_groups()[0].options.at("lr"), 0.05);

  for (int i = 0; i < 5; ++i) {
    step(adam, params);
    step(resumed, resumed_params);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(same_bits(resumed_params[i], params[i])) << "parameter " << i;
  }
  expect_same_state(resumed.state_dict(), adam.state_dict());
}

TEST(OptimCheckpoint, LoadErrorsNameTheProblem) {
  TempDir dir;
  const std::vector<Tensor> params = make_params();
  Adam adam(params);
  step(adam, params);
  StateDict state = adam.state_dict();
  state["state.0.exp_avg"] = zeros({4});
  save(state, dir / "bad_shape.safetensors");
  Adam other(make_params());
  EXPECT_THAT([&] { load(other, dir / "bad_shape.safetensors"); },
              ThrowsMessage<ShapeError>(HasSubstr("state.0.exp_avg")));
  const StateDict unchanged = other.state_dict();
  EXPECT_FALSE(unchanged.contains("state.0.step"));
  EXPECT_EQ(other.param_groups()[0].options.at("lr"), 1e-3);

  write_file_atomic(dir / "junk.safetensors", "junk");
  EXPECT_THAT([&] { load(other, dir / "junk.safetensors"); },
              ThrowsMessage<ParseError>(HasSubstr("junk.safetensors")));
}

TEST(OptimCheckpoint, SchedulerStateRoundTrips) {
  TempDir dir;
  const std::vector<Tensor> params = make_params();
  SGD sgd(params, {.lr = 0.1, .momentum = 0.9});
  StepLR schedule(sgd, 3, 0.5);
  for (int i = 0; i < 7; ++i) {
    step(sgd, params);
    schedule.step();
  }
  // As in PyTorch, the groups' current lr is the optimizer's state, not the scheduler's:
  // resuming loads both.
  save(sgd, dir / "sgd.safetensors");
  save(schedule, dir / "schedule.safetensors");

  SGD other_sgd(make_params(), {.lr = 0.1, .momentum = 0.9});
  StepLR other(other_sgd, 3, 0.5);
  load(other_sgd, dir / "sgd.safetensors");
  load(other, dir / "schedule.safetensors");
  EXPECT_EQ(other.last_epoch(), schedule.last_epoch());
  EXPECT_EQ(other.get_last_lr(), schedule.get_last_lr());
  expect_same_state(other.state_dict(), schedule.state_dict());
  for (int i = 0; i < 4; ++i) {
    schedule.step();
    other.step();
    EXPECT_EQ(other.get_last_lr(), schedule.get_last_lr()) << "step " << i;
  }

  ReduceLROnPlateau plateau(sgd, {.patience = 1});
  for (double metric : {1.0, 0.5, 0.6, 0.7, 0.8}) plateau.step(metric);
  save(plateau, dir / "plateau.safetensors");
  ReduceLROnPlateau other_plateau(other_sgd, {.patience = 1});
  load(other_plateau, dir / "plateau.safetensors");
  expect_same_state(other_plateau.state_dict(), plateau.state_dict());
  EXPECT_EQ(other_plateau.last_epoch(), 5);
}

}  // namespace
}  // namespace ignis::optim

// Learning-rate schedulers, as torch.optim.lr_scheduler: each one rewrites the "lr" option of
// every group of one Optimizer at each step(). Not the optimizers themselves (optimizer.h).
//
// They use PyTorch's recursive ("chainable") formulas, so that their learning rates equal
// PyTorch's step after step, including when something else changes the lr in between.
// Call step() after the optimizer's step(). A scheduler keeps a reference to its optimizer,
// which must outlive it. Hyper-parameters are the constructor's; state_dict() saves the
// counters and learning rates (0-d float64 tensors, as the optimizer's state dict):
//   "last_epoch", "step_count", "base_lrs.<g>", "last_lr.<g>"  (+ what a subclass adds)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace ignis::optim {

class SequentialLR;

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // last_epoch += 1, then each group's lr = get_lr().
  virtual void step();
  // The learning rates the last step set, one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() const { return *optimizer_; }

  virtual StateDict state_dict() const;
  // Throws ValueError naming a missing key, or when the number of groups differs.
  virtual void load_state_dict(const StateDict& state);

 protected:
  // Sets each group's "initial_lr" (when absent) to its lr and base_lrs to those; the
  // derived constructor then calls initial_step() (get_lr is not callable before).
  explicit LRScheduler(Optimizer& optimizer);
  // Step 0: step_count = 0, then step() with is_initial() true.
  void initial_step();
  // The next learning rates from the groups' current ones, at last_epoch_ (already advanced).
  virtual std::vector<double> get_lr() = 0;
  // The learning rates at last_epoch_ from base_lrs alone; SequentialLR uses it at its
  // milestones. Defaults to get_lr().
  virtual std::vector<double> closed_form_lr() { return get_lr(); }
  bool is_initial() const { return is_initial_; }
  std::vector<double> group_lrs() const;

  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
  std::vector<double> last_lr_;

 private:
  friend class SequentialLR;
  // last_epoch = epoch and closed_form_lr() if given, else last_epoch += 1 and get_lr();
  // then writes the groups' lr and last_lr_.
  void update_lr(std::optional<int64_t> epoch);

  Optimizer* optimizer_;
  bool is_initial_ = false;
};

// lr *= gamma every step_size steps.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;  // base_lr * gamma^(last_epoch / step_size)

 private:
  int64_t step_size_;
  double gamma_;
};

// lr *= gamma^k at a step that appears k times in milestones.
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  std::vector<double> get_lr() override;
  // base_lr * gamma^(number of milestones <= last_epoch)
  std::vector<double> closed_form_lr() override;

 private:
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

// lr *= gamma every step.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;  // base_lr * gamma^last_epoch

 private:
  double gamma_;
};

// lr follows eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2, computed
// recursively from the current lr (as PyTorch), going back up after T_max steps.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// lr = base_lr * factor, factor going linearly from start_factor to end_factor over
// total_iters steps. Throws ValueError unless 0 < start_factor <= 1 and 0 <= end_factor <= 1.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;

 private:
  double start_factor_;
  double end_factor_;
  int64_t total_iters_;
};

struct OneCycleLROptions {
  std::vector<double> max_lr;  // one per group, or one for all
  int64_t total_steps = 0;     // or, when 0, epochs * steps_per_epoch
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;
  double pct_start = 0.3;             // fraction of the cycle spent increasing the lr
  std::string anneal_strategy = "cos";  // "cos" or "linear"
  bool cycle_momentum = true;  // also cycle "momentum" (SGD, RMSprop) or "beta1" (Adam)
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;         // initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;    // min_lr = initial_lr / final_div_factor
  bool three_phase = false;         // up, down to initial_lr, then down to min_lr
};

// The 1cycle policy: the lr anneals from initial_lr up to max_lr, then down to min_lr (and
// the momentum the other way), over total_steps steps. Sets the groups' options
// "initial_lr", "max_lr", "min_lr" (and "max_momentum", "base_momentum"). Throws ValueError
// for total_steps <= 0 (and no epochs * steps_per_epoch), pct_start outside [0, 1], an unknown
// anneal_strategy, a max_lr count that is neither 1 nor the group count, cycle_momentum on an
// optimizer with neither "momentum" nor "beta1", and on a step past total_steps.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options);

 protected:
  std::vector<double> get_lr() override;

 private:
  struct Phase {
    double end_step;
    const char* start_lr;  // group option names
    const char* end_lr;
    const char* start_momentum;
    const char* end_momentum;
  };
  double anneal(double start, double end, double pct) const;

  int64_t total_steps_;
  bool linear_;
  bool cycle_momentum_;
  std::string momentum_key_;  // "momentum" or "beta1"
  std::vector<Phase> phases_;
};

// Runs schedulers one after the other: schedulers[i] from milestones[i - 1] on (restarted at
// its closed form there). The schedulers must drive `optimizer` and be built just before, in
// order (as in PyTorch). Throws ValueError for no scheduler, one of another optimizer, or
// milestones.size() != schedulers.size() - 1.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones);
  void step() override;
  // Adds "schedulers.<i>.<key>" for each scheduler's state.
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 protected:
  std::vector<double> get_lr() override;  // the groups' lr: the active scheduler sets them

 private:
  static void undo_initial_step(LRScheduler& scheduler);
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

struct ReduceLROnPlateauOptions {
  std::string mode = "min";  // "min": the metric should fall; "max": rise
  double factor = 0.1;       // new lr = lr * factor
  int64_t patience = 10;     // bad steps tolerated before reducing
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // "rel": best * (1 -+ threshold); "abs": best -+ threshold
  int64_t cooldown = 0;      // steps after a reduction during which bad steps are not counted
  std::vector<double> min_lr = {0.0};  // one per group, or one for all
  double eps = 1e-8;         // changes smaller than this are not applied
};

// Reduces the lr by `factor` when a metric has not improved for more than `patience` steps.
// Not an LRScheduler: its step takes the metric. Throws ValueError for factor >= 1, an unknown
// mode or threshold_mode, or a min_lr count that is neither 1 nor the group count.
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  // "last_epoch", "best", "num_bad_epochs", "cooldown_counter", "last_lr.<g>"
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  bool is_better(double a, double best) const;
  std::vector<double> group_lrs() const;

  Optimizer* optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  int64_t last_epoch_ = 0;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace ignis::optim

// The learning-rate schedulers (see lr_scheduler.h). The formulas are PyTorch's, written in
// the same order of operations so that the doubles come out the same.
#include "optim/lr_scheduler.h"

// NOTE: no fused multiply-add here. With -march=native the compiler may turn a * b + c into
// one fma, rounded once instead of twice, and the learning rates would then drift from
// PyTorch's (Python rounds every operation) by an ulp or so. Only this file's arithmetic is
// meant to be bit-exact, so only this file turns contraction off.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace ignis::optim {

namespace {

constexpr double kPi = std::numbers::pi;

// Python's a % b and a // b for b > 0: the remainder is never negative.
int64_t py_mod(int64_t a, int64_t b) { return ((a % b) + b) % b; }
int64_t py_floordiv(int64_t a, int64_t b) { return (a - py_mod(a, b)) / b; }

// The number of values in sorted `values` that are <= x (Python's bisect_right).
int64_t bisect_right(const std::vector<int64_t>& values, int64_t x) {
  return std::upper_bound(values.begin(), values.end(), x) - values.begin();
}

double entry(const StateDict& state, const std::string& key, const std::string& op) {
  const auto it = state.find(key);
  if (it == state.end()) throw ValueError(op + ": missing key '" + key + "'");
  if (!it->second.defined() || it->second.numel() != 1) {
    throw ValueError(op + ": '" + key + "' must hold one number");
  }
  return it->second.item<double>();
}

// `name.<g>` for each group, checking that the saved count equals the group count.
std::vector<double> per_group(const StateDict& state, const std::string& name, size_t groups,
                              const std::string& op) {
  const std::string prefix = name + ".";
  const auto saved = std::count_if(state.begin(), state.end(), [&](const auto& item) {
    return item.first.starts_with(prefix);
  });
  if (static_cast<size_t>(saved) != groups) {
    throw ValueError(op + ": the state has " + std::to_string(saved) + " '" + name +
                     "' entries, the optimizer has " + std::to_string(groups) + " groups");
  }
  std::vector<double> values;
  for (size_t g = 0; g < groups; ++g) values.push_back(entry(state, prefix + std::to_string(g), op));
  return values;
}

void put_per_group(StateDict& state, const std::string& name, const std::vector<double>& values) {
  for (size_t g = 0; g < values.size(); ++g) {
    state[name + "." + std::to_string(g)] = scalar_entry(values[g]);
  }
}

// One value per group from `values` (one for all, or one each); ValueError otherwise.
std::vector<double> one_per_group(const std::vector<double>& values, const Optimizer& optimizer,
                                  const std::string& what) {
  const size_t groups = optimizer.param_groups().size();
  if (values.size() == 1) return std::vector<double>(groups, values[0]);
  if (values.size() != groups) {
    throw ValueError(what + " must have one value or one per parameter group: got " +
                     std::to_string(values.size()) + " values for " + std::to_string(groups) +
                     " groups");
  }
  return values;
}

}  // namespace

// ---- LRScheduler ----

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(&optimizer) {
  for (ParamGroup& group : optimizer.param_groups()) {
    group.options.try_emplace("initial_lr", group.options.at("lr"));
    base_lrs_.push_back(group.options.at("initial_lr"));
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  is_initial_ = true;
  step();
  is_initial_ = false;
}

void LRScheduler::step() {
  ++step_count_;
  update_lr(std::nullopt);
}

void LRScheduler::update_lr(std::optional<int64_t> epoch) {
  std::vector<double> values;
  if (epoch) {
    last_epoch_ = *epoch;
    values = closed_form_lr();
  } else {
    ++last_epoch_;
    values = get_lr();
  }
  std::vector<ParamGroup>& groups = optimizer_->param_groups();
  IGNIS_INTERNAL_ASSERT(values.size() == groups.size());
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options["lr"] = values[g];
  last_lr_ = group_lrs();
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (const ParamGroup& group : optimizer_->param_groups()) lrs.push_back(group.options.at("lr"));
  return lrs;
}

StateDict LRScheduler::state_dict() const {
  StateDict state;
  state["last_epoch"] = scalar_entry(static_cast<double>(last_epoch_));
  state["step_count"] = scalar_entry(static_cast<double>(step_count_));
  put_per_group(state, "base_lrs", base_lrs_);
  put_per_group(state, "last_lr", last_lr_);
  return state;
}

void LRScheduler::load_state_dict(const StateDict& state) {
  const std::string op = "LRScheduler.load_state_dict";
  const size_t groups = optimizer_->param_groups().size();
  const auto last_epoch = static_cast<int64_t>(entry(state, "last_epoch", op));
  const auto step_count = static_cast<int64_t>(entry(state, "step_count", op));
  std::vector<double> base_lrs = per_group(state, "base_lrs", groups, op);
  std::vector<double> last_lr = per_group(state, "last_lr", groups, op);
  last_epoch_ = last_epoch;
  step_count_ = step_count;
  base_lrs_ = std::move(base_lrs);
  last_lr_ = std::move(last_lr);
}

// ---- StepLR, MultiStepLR, ExponentialLR ----

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  if (step_size <= 0) {
    throw ValueError("StepLR: step_size must be positive, got " + std::to_string(step_size));
  }
  initial_step();
}

std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0 || py_mod(last_epoch_, step_size_) != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

std::vector<double> StepLR::closed_form_lr() {
  std::vector<double> lrs;
  const auto power = static_cast<double>(py_floordiv(last_epoch_, step_size_));
  for (double base_lr : base_lrs_) lrs.push_back(base_lr * std::pow(gamma_, power));
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  const auto count = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  if (count == 0) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(gamma_, static_cast<double>(count));
  return lrs;
}

std::vector<double> MultiStepLR::closed_form_lr() {
  std::vector<double> lrs;
  const auto power = static_cast<double>(bisect_right(milestones_, last_epoch_));
  for (double base_lr : base_lrs_) lrs.push_back(base_lr * std::pow(gamma_, power));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

std::vector<double> ExponentialLR::closed_form_lr() {
  std::vector<double> lrs;
  for (double base_lr : base_lrs_) {
    lrs.push_back(base_lr * std::pow(gamma_, static_cast<double>(last_epoch_)));
  }
  return lrs;
}

// ---- CosineAnnealingLR ----

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  if (T_max <= 0) {
    throw ValueError("CosineAnnealingLR: T_max must be positive, got " + std::to_string(T_max));
  }
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  const auto epoch = static_cast<double>(last_epoch_);
  const auto T_max = static_cast<double>(T_max_);
  for (size_t g = 0; g < lrs.size(); ++g) {
    const double base_lr = base_lrs_[g];
    if (step_count_ == 1 && last_epoch_ > 0) {  // started at last_epoch > 0: closed form
      lrs[g] = eta_min_ + (base_lr - eta_min_) * (1 + std::cos(epoch * kPi / T_max)) / 2;
    } else if (py_mod(last_epoch_ - 1 - T_max_, 2 * T_max_) == 0) {  // the turn at the bottom
      lrs[g] = lrs[g] + (base_lr - eta_min_) * (1 - std::cos(kPi / T_max)) / 2;
    } else {
      lrs[g] = (1 + std::cos(kPi * epoch / T_max)) / (1 + std::cos(kPi * (epoch - 1) / T_max)) *
                   (lrs[g] - eta_min_) +
               eta_min_;
    }
  }
  return lrs;
}

std::vector<double> CosineAnnealingLR::closed_form_lr() {
  std::vector<double> lrs;
  const auto epoch = static_cast<double>(last_epoch_);
  for (double base_lr : base_lrs_) {
    lrs.push_back(eta_min_ + (base_lr - eta_min_) *
                                 (1 + std::cos(kPi * epoch / static_cast<double>(T_max_))) / 2);
  }
  return lrs;
}

// ---- LinearLR ----

namespace {

Optimizer& check_linear_lr(Optimizer& optimizer, double start_factor, double end_factor) {
  if (start_factor > 1.0 || start_factor <= 0.0) {
    throw ValueError("LinearLR: start_factor must be in (0, 1], got " +
                     std::to_string(start_factor));
  }
  if (end_factor > 1.0 || end_factor < 0.0) {
    throw ValueError("LinearLR: end_factor must be in [0, 1], got " + std::to_string(end_factor));
  }
  return optimizer;
}

}  // namespace

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   int64_t total_iters)
    : LRScheduler(check_linear_lr(optimizer, start_factor, end_factor)),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  initial_step();
}

std::vector<double> LinearLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr = lr * start_factor_;
    return lrs;
  }
  if (is_initial() || last_epoch_ > total_iters_) return lrs;
  const double change = end_factor_ - start_factor_;
  const double factor =
      1.0 + change / (static_cast<double>(total_iters_) * start_factor_ +
                      static_cast<double>(last_epoch_ - 1) * change);
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

std::vector<double> LinearLR::closed_form_lr() {
  std::vector<double> lrs;
  const auto done = static_cast<double>(std::min(total_iters_, last_epoch_));
  for (double base_lr : base_lrs_) {
    lrs.push_back(base_lr * (start_factor_ + (end_factor_ - start_factor_) * done /
                                                 static_cast<double>(total_iters_)));
  }
  return lrs;
}

// ---- OneCycleLR ----

namespace {

int64_t one_cycle_total_steps(const OneCycleLROptions& o) {
  if (o.total_steps > 0) return o.total_steps;
  if (o.total_steps == 0 && o.epochs > 0 && o.steps_per_epoch > 0) {
    return o.epochs * o.steps_per_epoch;
  }
  throw ValueError("OneCycleLR: give a positive total_steps, or positive epochs and "
                   "steps_per_epoch; got total_steps " + std::to_string(o.total_steps) +
                   ", epochs " + std::to_string(o.epochs) + ", steps_per_epoch " +
                   std::to_string(o.steps_per_epoch));
}

Optimizer& check_one_cycle(Optimizer& optimizer, const OneCycleLROptions& o) {
  one_cycle_total_steps(o);
  if (o.pct_start < 0.0 || o.pct_start > 1.0) {
    throw ValueError("OneCycleLR: pct_start must be in [0, 1], got " + std::to_string(o.pct_start));
  }
  if (o.anneal_strategy != "cos" && o.anneal_strategy != "linear") {
    throw ValueError("OneCycleLR: anneal_strategy must be 'cos' or 'linear', got '" +
                     o.anneal_strategy + "'");
  }
  one_per_group(o.max_lr, optimizer, "OneCycleLR: max_lr");
  if (o.cycle_momentum && !optimizer.defaults().contains("momentum") &&
      !optimizer.defaults().contains("beta1")) {
    throw ValueError("OneCycleLR: " + optimizer.name() +
                     " has neither momentum nor beta1, needed by cycle_momentum");
  }
  return optimizer;
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, OneCycleLROptions o)
    : LRScheduler(check_one_cycle(optimizer, o)),
      total_steps_(one_cycle_total_steps(o)),
      linear_(o.anneal_strategy == "linear"),
      cycle_momentum_(o.cycle_momentum),
      momentum_key_(optimizer.defaults().contains("beta1") ? "beta1" : "momentum") {
  const double total = static_cast<double>(total_steps_);
  if (o.three_phase) {
    phases_ = {{o.pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"},
               {2 * o.pct_start * total - 2, "max_lr", "initial_lr", "base_momentum",
                "max_momentum"},
               {total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"}};
  } else {
    phases_ = {{o.pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"},
               {total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"}};
  }
  const std::vector<double> max_lrs = one_per_group(o.max_lr, optimizer, "OneCycleLR: max_lr");
  std::vector<ParamGroup>& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    Options& options = groups[g].options;
    options["initial_lr"] = max_lrs[g] / o.div_factor;
    options["max_lr"] = max_lrs[g];
    options["min_lr"] = options["initial_lr"] / o.final_div_factor;
    base_lrs_[g] = options["initial_lr"];
    if (cycle_momentum_) {
      options[momentum_key_] = o.max_momentum;
      options["max_momentum"] = o.max_momentum;
      options["base_momentum"] = o.base_momentum;
    }
  }
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (linear_) return (end - start) * pct + start;
  const double cos_out = std::cos(kPi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

std::vector<double> OneCycleLR::get_lr() {
  if (last_epoch_ > total_steps_) {
    throw ValueError("OneCycleLR: tried to step " + std::to_string(last_epoch_) +
                     " times; the specified number of total steps is " +
                     std::to_string(total_steps_));
  }
  const auto step = static_cast<double>(last_epoch_);
  std::vector<double> lrs;
  for (ParamGroup& group : optimizer().param_groups()) {
    Options& options = group.options;
    double start_step = 0.0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& phase = phases_[i];
      if (step <= phase.end_step || i == phases_.size() - 1) {
        const double pct = (step - start_step) / (phase.end_step - start_step);
        lrs.push_back(anneal(options.at(phase.start_lr), options.at(phase.end_lr), pct));
        if (cycle_momentum_) {
          options[momentum_key_] =
              anneal(options.at(phase.start_momentum), options.at(phase.end_momentum), pct);
        }
        break;
      }
      start_step = phase.end_step;
    }
  }
  return lrs;
}

// ---- SequentialLR ----

SequentialLR::SequentialLR(Optimizer& optimizer,
                           std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler(optimizer), schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  if (schedulers_.empty()) throw ValueError("SequentialLR: expects at least one scheduler");
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    if (!schedulers_[i] || &schedulers_[i]->optimizer() != &optimizer) {
      throw ValueError("SequentialLR: scheduler " + std::to_string(i) +
                       " does not drive the given optimizer");
    }
  }
  if (milestones_.size() != schedulers_.size() - 1) {
    throw ValueError("SequentialLR: expects one milestone fewer than schedulers, got " +
                     std::to_string(schedulers_.size()) + " schedulers and " +
                     std::to_string(milestones_.size()) + " milestones");
  }
  last_epoch_ = 0;
  for (ParamGroup& group : optimizer.param_groups()) {
    group.options["lr"] = group.options.at("initial_lr");
  }
  for (const auto& scheduler : schedulers_) undo_initial_step(*scheduler);
  LRScheduler& first = *schedulers_[bisect_right(milestones_, 0)];
  first.initial_step();
  last_lr_ = first.get_last_lr();
}

void SequentialLR::undo_initial_step(LRScheduler& scheduler) {
  if (auto* sequential = dynamic_cast<SequentialLR*>(&scheduler)) {
    for (const auto& inner : sequential->schedulers_) undo_initial_step(*inner);
  } else {
    scheduler.last_epoch_ -= 1;
  }
}

void SequentialLR::step() {
  ++last_epoch_;
  const int64_t index = bisect_right(milestones_, last_epoch_);
  LRScheduler& scheduler = *schedulers_[index];
  if (index > 0 && milestones_[index - 1] == last_epoch_) {
    scheduler.update_lr(0);
  } else {
    scheduler.step();
  }
  last_lr_ = scheduler.get_last_lr();
}

std::vector<double> SequentialLR::get_lr() { return group_lrs(); }

StateDict SequentialLR::state_dict() const {
  StateDict state = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    for (const auto& [key, value] : schedulers_[i]->state_dict()) {
      state["schedulers." + std::to_string(i) + "." + key] = value;
    }
  }
  return state;
}

void SequentialLR::load_state_dict(const StateDict& state) {
  StateDict own;
  std::vector<StateDict> inner(schedulers_.size());
  for (const auto& [key, value] : state) {
    if (!key.starts_with("schedulers.")) {
      own[key] = value;
      continue;
    }
    const size_t dot = key.find('.', 11);
    const std::string index_text = key.substr(11, dot == std::string::npos ? dot : dot - 11);
    const bool numeric = !index_text.empty() &&
                         index_text.find_first_not_of("0123456789") == std::string::npos &&
                         index_text.size() < 10;
    const size_t index = numeric ? std::stoul(index_text) : inner.size();
    if (dot == std::string::npos || index >= inner.size()) {
      throw ValueError("SequentialLR.load_state_dict: unexpected key '" + key + "'");
    }
    inner[index][key.substr(dot + 1)] = value;
  }
  for (size_t i = 0; i < schedulers_.size(); ++i) schedulers_[i]->load_state_dict(inner[i]);
  LRScheduler::load_state_dict(own);
}

// ---- ReduceLROnPlateau ----

namespace {

Optimizer& check_plateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& o) {
  if (o.factor >= 1.0) {
    throw ValueError("ReduceLROnPlateau: factor must be < 1, got " + std::to_string(o.factor));
  }
  if (o.mode != "min" && o.mode != "max") {
    throw ValueError("ReduceLROnPlateau: mode must be 'min' or 'max', got '" + o.mode + "'");
  }
  if (o.threshold_mode != "rel" && o.threshold_mode != "abs") {
    throw ValueError("ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got '" +
                     o.threshold_mode + "'");
  }
  return optimizer;
}

}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(&check_plateau(optimizer, options)),
      options_(std::move(options)),
      min_lrs_(one_per_group(options_.min_lr, optimizer, "ReduceLROnPlateau: min_lr")),
      best_(options_.mode == "min" ? std::numeric_limits<double>::infinity()
                                   : -std::numeric_limits<double>::infinity()),
      last_lr_(group_lrs()) {}

std::vector<double> ReduceLROnPlateau::group_lrs() const {
  std::vector<double> lrs;
  for (const ParamGroup& group : optimizer_->param_groups()) lrs.push_back(group.options.at("lr"));
  return lrs;
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  const double t = options_.threshold;
  if (options_.mode == "min") {
    return options_.threshold_mode == "rel" ? a < best * (1.0 - t) : a < best - t;
  }
  return options_.threshold_mode == "rel" ? a > best * (t + 1.0) : a > best + t;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad steps during the cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    std::vector<ParamGroup>& groups = optimizer_->param_groups();
    if (groups.size() != min_lrs_.size()) {
      throw ValueError("ReduceLROnPlateau: the optimizer has " + std::to_string(groups.size()) +
                       " parameter groups, but min_lr has " + std::to_string(min_lrs_.size()));
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      const double old_lr = groups[g].options.at("lr");
      const double new_lr = std::max(old_lr * options_.factor, min_lrs_[g]);
      if (old_lr - new_lr > options_.eps) groups[g].options["lr"] = new_lr;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_ = group_lrs();
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict state;
  state["last_epoch"] = scalar_entry(static_cast<double>(last_epoch_));
  state["best"] = scalar_entry(best_);
  state["num_bad_epochs"] = scalar_entry(static_cast<double>(num_bad_epochs_));
  state["cooldown_counter"] = scalar_entry(static_cast<double>(cooldown_counter_));
  put_per_group(state, "last_lr", last_lr_);
  return state;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& state) {
  const std::string op = "ReduceLROnPlateau.load_state_dict";
  const auto last_epoch = static_cast<int64_t>(entry(state, "last_epoch", op));
  const double best = entry(state, "best", op);
  const auto num_bad_epochs = static_cast<int64_t>(entry(state, "num_bad_epochs", op));
  const auto cooldown_counter = static_cast<int64_t>(entry(state, "cooldown_counter", op));
  std::vector<double> last_lr =
      per_group(state, "last_lr", optimizer_->param_groups().size(), op);
  last_epoch_ = last_epoch;
  best_ = best;
  num_bad_epochs_ = num_bad_epochs;
  cooldown_counter_ = cooldown_counter;
  last_lr_ = std::move(last_lr);
}

}  // namespace ignis::optim

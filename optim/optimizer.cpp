// The optimizer base (see optimizer.h): groups, state, zero_grad and the flat state dict.
#include "optim/optimizer.h"

#include <cstdlib>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"

namespace ignis::optim {

namespace {

std::string number_str(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// "12" -> 12; anything else (empty, sign, trailing text) -> -1.
int64_t parse_index(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::strtoll(text.c_str(), nullptr, 10);
}

// A state dict, sorted by meaning: per group, its options and saved parameter indices;
// per saved parameter index, its state entries.
struct ParsedStateDict {
  std::map<int64_t, Options> options;
  std::map<int64_t, Tensor> group_params;
  std::map<int64_t, std::map<std::string, Tensor>> state;
};

ParsedStateDict parse_state_dict(const StateDict& dict, const std::string& op) {
  ParsedStateDict parsed;
  for (const auto& [key, value] : dict) {
    const size_t first = key.find('.');
    const size_t second = first == std::string::npos ? first : key.find('.', first + 1);
    const std::string prefix = key.substr(0, first);
    const int64_t index = second == std::string::npos
                              ? -1
                              : parse_index(key.substr(first + 1, second - first - 1));
    if (index < 0 || (prefix != "state" && prefix != "param_groups")) {
      throw ValueError(op + ": unexpected key '" + key + "'");
    }
    if (!value.defined()) throw ValueError(op + ": key '" + key + "' holds no tensor");
    const std::string name = key.substr(second + 1);
    if (prefix == "state") {
      parsed.state[index][name] = value;
    } else if (name == "params") {
      parsed.group_params[index] = value;
    } else {
      if (value.numel() != 1) {
        throw ShapeError(op + ": '" + key + "' must hold one number, got shape " +
                         value.shape_str());
      }
      parsed.options[index][name] = value.item<double>();
    }
  }
  return parsed;
}

// A copy of `value` with the dtype and device of `param`.
Tensor copy_like(const Tensor& value, const Tensor& param) {
  Tensor out = make_tensor(param.sizes(), param.dtype(), param.device());
  raw::copy_(out, value);
  return out;
}

}  // namespace

Tensor scalar_entry(double value) { return scalar_tensor(value, kFloat64); }

Optimizer::Optimizer(std::string name, Options defaults)
    : name_(std::move(name)), defaults_(std::move(defaults)) {}

void Optimizer::add_param_groups(std::vector<ParamGroup> groups) {
  if (groups.empty()) throw ValueError(name_ + ": optimizer got an empty parameter list");
  for (ParamGroup& group : groups) add_param_group(std::move(group));
}

void Optimizer::add_param_group(ParamGroup group) {
  const std::string where = name_ + ": parameter group " + std::to_string(groups_.size());
  if (group.params.empty()) throw ValueError(where + " has no parameters");
  std::set<const TensorImpl*> seen;
  for (const ParamGroup& other : groups_) {
    for (const Tensor& p : other.params) seen.insert(p.impl());
  }
  for (const Tensor& p : group.params) {
    if (!p.defined()) throw ValueError(where + " holds an undefined tensor");
    if (!p.is_leaf()) throw ValueError(where + ": can't optimize a non-leaf tensor");
    if (!p.is_floating_point()) {
      throw ValueError(where + ": can't optimize a tensor of dtype " + dtype_name(p.dtype()));
    }
    if (!seen.insert(p.impl()).second) {
      throw ValueError(where + ": some parameters appear in more than one parameter group");
    }
  }
  Options options = defaults_;
  for (const auto& [key, value] : group.options) {
    if (!defaults_.contains(key)) {
      std::string known;
      for (const auto& entry : defaults_) known += (known.empty() ? "" : ", ") + entry.first;
      throw ValueError(where + ": unknown option '" + key + "' (known: " + known + ")");
    }
    options[key] = value;
  }
  check_options(options);
  group.options = std::move(options);
  groups_.push_back(std::move(group));
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (ParamGroup& group : groups_) update(group);
}

void Optimizer::step_and_zero_grad(bool set_to_none) {
  if (set_to_none) {
    step();
    zero_grad(true);
    return;
  }
  NoGradGuard no_grad;
  for (ParamGroup& group : groups_) update_and_zero_grad(group);
}

void Optimizer::update_and_zero_grad(ParamGroup& group) {
  update(group);
  for (const Tensor& p : group.params) {
    const Tensor grad = p.grad();
    if (grad.defined()) raw::fill_(grad, 0.0);
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const ParamGroup& group : groups_) {
    for (const Tensor& p : group.params) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor());
      } else {
        raw::fill_(grad, 0.0);
      }
    }
  }
}

const ParamState& Optimizer::state(const Tensor& param) const {
  static const ParamState kEmpty;
  const auto it = state_.find(param.impl());
  return it == state_.end() ? kEmpty : it->second;
}

const Tensor& Optimizer::buffer(ParamState& state, const std::string& name,
                                const Tensor& param) {
  Tensor& entry = state[name];
  if (!entry.defined()) entry = zeros(param.sizes(), {.dtype = param.dtype(), .device = param.device()});
  return entry;
}

double Optimizer::increment_step(ParamState& state) {
  const auto it = state.find("step");
  const double step = (it == state.end() ? 0.0 : it->second.item<double>()) + 1.0;
  state["step"] = scalar_entry(step);
  return step;
}

void Optimizer::require(bool ok, const Options& options, const char* option) const {
  if (!ok) {
    throw ValueError(name_ + ": invalid " + option + " value: " +
                     number_str(options.at(option)));
  }
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string group_key = "param_groups." + std::to_string(g) + ".";
    std::vector<int64_t> indices;
    for (const Tensor& p : groups_[g].params) {
      for (const auto& [name, value] : state(p)) {
        dict["state." + std::to_string(index) + "." + name] = value;
      }
      indices.push_back(index++);
    }
    dict[group_key + "params"] = from_vector(indices);
    for (const auto& [name, value] : groups_[g].options) dict[group_key + name] = scalar_entry(value);
  }
  return dict;
}

void Optimizer::load_state_dict(const StateDict& dict) {
  const std::string op = name_ + ".load_state_dict";
  ParsedStateDict parsed = parse_state_dict(dict, op);
  const auto group_count = static_cast<int64_t>(groups_.size());
  if (static_cast<int64_t>(parsed.group_params.size()) != group_count) {
    throw ValueError(op + ": loaded state dict has " + std::to_string(parsed.group_params.size()) +
                     " parameter groups, the optimizer has " + std::to_string(group_count));
  }
  for (const auto& [g, options] : parsed.options) {
    if (g >= group_count) {
      throw ValueError(op + ": unexpected key 'param_groups." + std::to_string(g) + "." +
                       options.begin()->first + "': the optimizer has " +
                       std::to_string(group_count) + " parameter groups");
    }
  }
  // Saved parameter index -> the parameter at the same position now, and its group.
  std::map<int64_t, std::pair<Tensor, size_t>> params_by_index;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string key = "param_groups." + std::to_string(g) + ".params";
    const auto it = parsed.group_params.find(static_cast<int64_t>(g));
    if (it == parsed.group_params.end()) throw ValueError(op + ": missing key '" + key + "'");
    if (it->second.dim() != 1 || it->second.dtype() != kInt64) {
      throw ValueError(op + ": '" + key + "' must be a 1-d int64 tensor, got " +
                       dtype_name(it->second.dtype()) + " " + it->second.shape_str());
    }
    const std::vector<int64_t> indices = it->second.to_vector<int64_t>();
    if (indices.size() != groups_[g].params.size()) {
      throw ValueError(op + ": loaded parameter group " + std::to_string(g) + " has " +
                       std::to_string(indices.size()) + " parameters, the optimizer's has " +
                       std::to_string(groups_[g].params.size()));
    }
    for (size_t j = 0; j < indices.size(); ++j) {
      params_by_index[indices[j]] = {groups_[g].params[j], g};
    }
    Options& options = parsed.options[static_cast<int64_t>(g)];
    for (const auto& entry : defaults_) {
      if (!options.contains(entry.first)) {
        throw ValueError(op + ": missing key 'param_groups." + std::to_string(g) + "." +
                         entry.first + "'");
      }
    }
    check_options(options);
  }
  std::unordered_map<const TensorImpl*, ParamState> new_state;
  for (const auto& [index, entries] : parsed.state) {
    const std::string prefix = "state." + std::to_string(index) + ".";
    const auto it = params_by_index.find(index);
    if (it == params_by_index.end()) {
      throw ValueError(op + ": unexpected key '" + prefix + entries.begin()->first +
                       "': no parameter " + std::to_string(index));
    }
    const auto& [param, g] = it->second;
    for (const std::string& name : state_keys(parsed.options[static_cast<int64_t>(g)])) {
      if (!entries.contains(name)) throw ValueError(op + ": missing key '" + prefix + name + "'");
    }
    ParamState& state = new_state[param.impl()];
    for (const auto& [name, value] : entries) {
      if (name == "step") {
        if (value.numel() != 1) {
          throw ShapeError(op + ": '" + prefix + name + "' must hold one number, got shape " +
                           value.shape_str());
        }
        state[name] = scalar_entry(value.item<double>());
      } else {
        if (value.sizes() != param.sizes()) {
          throw ShapeError(op + ": '" + prefix + name + "' has shape " + value.shape_str() +
                           ", but parameter " + std::to_string(index) + " has shape " +
                           param.shape_str());
        }
        state[name] = copy_like(value, param);
      }
    }
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].options = std::move(parsed.options[static_cast<int64_t>(g)]);
  }
  state_ = std::move(new_state);
}

}  // namespace ignis::optim

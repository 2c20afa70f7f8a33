// Containers of modules: Sequential (chains forward) and ModuleList (holds, no forward).
// Children are named "0", "1", ... so that state_dict keys read "0.weight" as in PyTorch.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace ignis::nn {

// What a container takes: a module by value or a shared_ptr to one.
template <typename M>
concept ModuleArg = ModuleType<M> || requires(M m) {
  { std::shared_ptr<Module>(m) };
};

// Modules listed in order, each taken by value (moved into a shared_ptr) or as a shared_ptr:
//   nn::Sequential model(nn::EmbeddingBag(100, 64), nn::Linear(64, 5));
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  template <typename... Ms>
    requires(sizeof...(Ms) > 0 && (ModuleArg<Ms> && ...))
  explicit ModuleList(Ms&&... modules) : Module("ModuleList") {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  template <ModuleType M>
  void push_back(M&& module) {
    register_module(std::to_string(items_.size()), std::forward<M>(module));
    items_.push_back(named_children().back().second);
  }
  template <typename M>
  void push_back(std::shared_ptr<M> module) {
    register_module(std::to_string(items_.size()), std::move(module));
    items_.push_back(named_children().back().second);
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // The i-th module; throws IndexError when i >= size().
  const std::shared_ptr<Module>& operator[](size_t i) const;
  // The i-th module as a M (null when it is not one).
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    return std::dynamic_pointer_cast<M>((*this)[i]);
  }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 protected:
  explicit ModuleList(std::string name) : Module(std::move(name)) {}

 private:
  std::vector<std::shared_ptr<Module>> items_;
};

// forward(x) = m_n(... m_1(m_0(x))); an empty Sequential returns x.
class Sequential : public ModuleList {
 public:
  Sequential() : ModuleList("Sequential") {}
  template <typename... Ms>
    requires(sizeof...(Ms) > 0 && (ModuleArg<Ms> && ...))
  explicit Sequential(Ms&&... modules) : ModuleList("Sequential") {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  Tensor forward(const Tensor& input) override;
};

}  // namespace ignis::nn

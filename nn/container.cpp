// Sequential and ModuleList (nn/container.h).
#include "nn/container.h"

#include <string>

namespace ignis::nn {

const std::shared_ptr<Module>& ModuleList::operator[](size_t i) const {
  if (i >= items_.size()) {
    throw IndexError(name() + ": index " + std::to_string(i) + " is out of range for " +
                     std::to_string(items_.size()) + " modules");
  }
  return items_[i];
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const std::shared_ptr<Module>& m : *this) x = m->forward(x);
  return x;
}

}  // namespace ignis::nn

// How a differentiable op records itself: forward with raw ops, then record() with the
// backward as a closure beside it (micrograd's shape, on tensors), and user-defined ops
// in the style of torch.autograd.Function.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <typeinfo>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/tensor.h"

namespace ignis::autograd {

// Maps the output's gradient to one gradient per input (undefined: no gradient). Written
// with differentiable ops, so it runs on any device (and records when create_graph).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// True when grad mode is on and some input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// If needs_grad(inputs) and `output` is floating point: makes `output` a non-leaf with a node
// named `name` whose apply() is `backward`, with edges to the inputs. Returns the output
// (an alias of it when the raw op handed back an input or a tensor that already has autograd
// state, so that no input's history is overwritten); callers return what record() returns.
//   Tensor y = raw::exp(x);
//   return record("exp", {x}, y, [y = SavedTensor(y, "exp")](const Tensor& dy) {
//     return std::vector<Tensor>{dy * y.get()};
//   });
Tensor record(const std::string& name, const std::vector<Tensor>& inputs, Tensor output,
              BackwardFn backward);

// The readable name of a C++ type ("Cube" rather than "4Cube"): custom Function node names.
std::string demangled_name(const std::type_info& type);

// User-defined differentiable functions:
//   struct Cube {
//     static Tensor forward(FunctionContext& ctx, const Tensor& x) {
//       ctx.save_for_backward({x});
//       return x * x * x;            // runs with grad mode off
//     }
//     static std::vector<Tensor> backward(FunctionContext& ctx, const Tensor& dy) {
//       const Tensor& x = ctx.saved()[0];
//       return {dy * 3 * x * x};
//     }
//   };
//   Tensor y = Function<Cube>::apply(x);
class FunctionContext {
 public:
  void save_for_backward(const std::vector<Tensor>& tensors);
  std::vector<Tensor> saved() const;  // throws AutogradError if modified in place
  void mark_non_differentiable() { non_differentiable_ = true; }
  bool non_differentiable() const { return non_differentiable_; }

 private:
  std::vector<SavedTensor> saved_;
  bool non_differentiable_ = false;
};

template <typename Fn>
struct Function {
  template <typename... Args>
  static Tensor apply(const Args&... args) {
    auto ctx = std::make_shared<FunctionContext>();
    Tensor out;
    {
      NoGradGuard no_grad;
      out = Fn::forward(*ctx, args...);
    }
    std::vector<Tensor> inputs;
    (collect(inputs, args), ...);
    if (ctx->non_differentiable()) return out;
    return record(demangled_name(typeid(Fn)), inputs, out,
                  [ctx](const Tensor& grad) { return Fn::backward(*ctx, grad); });
  }

 private:
  static void collect(std::vector<Tensor>& out, const Tensor& t) { out.push_back(t); }
  template <typename T>
  static void collect(std::vector<Tensor>&, const T&) {}
};

}  // namespace ignis::autograd

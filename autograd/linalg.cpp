// Differentiable matrix products: raw forward (packed GEMM / cuBLAS) plus backward written
// with matmul itself, so it runs on every device. Not the shape checks (raw ops do them).
#include "autograd/linalg.h"

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "autograd/math.h"
#include "autograd/reductions.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/linalg.h"

namespace ignis {

using autograd::record;
using autograd::SavedTensor;
using autograd::detail::Grads;
using autograd::detail::backward_from_output;
using autograd::detail::wants_grad;

namespace {

// The saved operand the other operand's gradient needs (undefined when not needed).
SavedTensor save_if(bool needed, const Tensor& t, const char* op) {
  return needed ? SavedTensor(t, op) : SavedTensor();
}

Tensor mT(const Tensor& t) { return transpose(t, -1, -2); }

const char* linear_op_name(Activation activation) {
  switch (activation) {
    case Activation::Relu: return "linear_relu";
    case Activation::Tanh: return "linear_tanh";
    case Activation::Sigmoid: return "linear_sigmoid";
    case Activation::None: break;
  }
  return "linear";
}

// dz = dy * act'(z) from the saved output y = act(z) (autograd/detail.h).
Tensor activation_backward(Activation activation, const Tensor& dy, const Tensor& y) {
  if (activation == Activation::None) return dy;
  return backward_from_output(activation_op(activation), dy, y);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor out = raw::matmul(a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  // With 1-d operands promoted to matrices (a: (1, k), b: (k, 1)) and dy reshaped to the
  // matching (..., m, n): da = dy @ b^T, db = a^T @ dy, broadcast batch dims summed away.
  return record("matmul", {a, b}, out,
                [sa = save_if(gb, a, "matmul"), sb = save_if(ga, b, "matmul"), ga, gb,
                 as = a.sizes(), bs = b.sizes()](const Tensor& dy) {
                  Shape a2 = as, b2 = bs;
                  if (a2.size() == 1) a2.insert(a2.begin(), 1);
                  if (b2.size() == 1) b2.push_back(1);
                  Shape out2 = broadcast_shapes(Shape(a2.begin(), a2.end() - 2),
                                                Shape(b2.begin(), b2.end() - 2), "matmul");
                  out2.push_back(a2[a2.size() - 2]);
                  out2.push_back(b2.back());
                  Tensor g = reshape(dy, out2);
                  Tensor da, db;
                  if (ga) da = reshape(sum_to(matmul(g, mT(reshape(sb.get(), b2))), a2), as);
                  if (gb) db = reshape(sum_to(matmul(mT(reshape(sa.get(), a2)), g), b2), bs);
                  return Grads{da, db};
                });
}

Tensor mm(const Tensor& a, const Tensor& b) {
  Tensor out = raw::mm(a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  // da = dy @ b^T (m, k); db = a^T @ dy (k, n)
  return record("mm", {a, b}, out,
                [sa = save_if(gb, a, "mm"), sb = save_if(ga, b, "mm"), ga,
                 gb](const Tensor& dy) {
                  return Grads{ga ? mm(dy, mT(sb.get())) : Tensor(),
                               gb ? mm(mT(sa.get()), dy) : Tensor()};
                });
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  Tensor out = raw::bmm(a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  return record("bmm", {a, b}, out,
                [sa = save_if(gb, a, "bmm"), sb = save_if(ga, b, "bmm"), ga,
                 gb](const Tensor& dy) {
                  return Grads{ga ? bmm(dy, mT(sb.get())) : Tensor(),
                               gb ? bmm(mT(sa.get()), dy) : Tensor()};
                });
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta, double alpha) {
  Tensor out = raw::addmm(bias, a, b, beta, alpha);
  bool gbias = wants_grad(bias), ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({bias, a, b})) return out;
  // out = beta bias + alpha a @ b
  return record("addmm", {bias, a, b}, out,
                [sa = save_if(gb, a, "addmm"), sb = save_if(ga, b, "addmm"), gbias, ga, gb,
                 bias_sizes = bias.sizes(), beta, alpha](const Tensor& dy) {
                  // No temporaries for the usual beta = alpha = 1.
                  const auto scaled = [](const Tensor& t, double s) {
                    return s == 1.0 ? t : t * s;
                  };
                  return Grads{gbias ? sum_to(scaled(dy, beta), bias_sizes) : Tensor(),
                               ga ? scaled(mm(dy, mT(sb.get())), alpha) : Tensor(),
                               gb ? scaled(mm(mT(sa.get()), dy), alpha) : Tensor()};
                });
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  Tensor out = raw::linear(x, weight, bias, activation);
  bool gx = wants_grad(x), gw = wants_grad(weight), gbias = wants_grad(bias);
  if (!autograd::needs_grad({x, weight, bias})) return out;
  // x (*, in), weight (out, in), bias (out), out = act(z): dz = dy * act'(z); dx = dz @
  // weight; dweight = dz2^T @ x2 with dz2 (N, out), x2 (N, in) the flattened batch; dbias =
  // sum of dz2 over N.
  const char* name = linear_op_name(activation);
  return record(name, {x, weight, bias}, out,
                [sx = save_if(gw, x, name), sw = save_if(gx, weight, name),
                 sy = save_if(activation != Activation::None, out, name), activation, gx, gw,
                 gbias, x_sizes = x.sizes(), w_sizes = weight.sizes()](const Tensor& dy) {
                  const int64_t out_features = w_sizes[0], in_features = w_sizes[1];
                  const Tensor dz = activation == Activation::None
                                        ? dy
                                        : activation_backward(activation, dy, sy.get());
                  // A 2-d x (the usual batch of rows) needs no reshapes: each would be a
                  // fresh view with its own shape vectors, on every training step.
                  const bool rows = x_sizes.size() == 2;
                  Tensor dy2 = rows ? dz : reshape(dz, {-1, out_features});
                  Tensor dx, dw, dbias;
                  if (gx) dx = rows ? mm(dy2, sw.get()) : reshape(matmul(dy2, sw.get()), x_sizes);
                  if (gw) dw = mm(mT(dy2), rows ? sx.get() : reshape(sx.get(), {-1, in_features}));
                  if (gbias) dbias = sum(dy2, {0});
                  return Grads{dx, dw, dbias};
                });
}

}  // namespace ignis

// Differentiable elementwise ops: raw forward, then record() with the backward beside it.
// Broadcast gradients are summed back with sum_to; gradients are converted to the input's
// dtype by the engine. Not the kernels (tensor/cpu/) nor the argument checks (raw ops).
#include "autograd/math.h"

#include "autograd/detail.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/indexing.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/factory.h"

namespace ignis {

using autograd::record;
using autograd::SavedTensor;

namespace {

using Grads = std::vector<Tensor>;

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

bool is_one(const Scalar& s) {
  return s.is_floating_point() ? s.to<double>() == 1.0 : s.to<int64_t>() == 1;
}

bool is_minus_one(const Scalar& s) {
  return s.is_floating_point() ? s.to<double>() == -1.0 : s.to<int64_t>() == -1;
}

Scalar negate(const Scalar& s) {
  if (s.is_floating_point()) return Scalar(-s.to<double>());
  return Scalar(-s.to<int64_t>());
}

// A bool mask as 0/1 values of `dtype` (a constant: masks carry no gradient).
Tensor mask_as(const Tensor& mask, DType dtype) { return raw::to(mask, dtype); }

// The gradient of a unary op from its saved input or output: the fused raw kernel in a plain
// backward; the composite (recorded) form under create_graph, so second derivatives flow.
template <typename Composite>
Tensor fused_or_composite(BinaryOp fused, const Tensor& dy, const Tensor& saved,
                          Composite composite) {
  if (!GradMode::is_enabled()) return raw::binary(fused, dy, saved);
  return composite();
}

Tensor zero_like_scalar(const Tensor& dy) { return scalar_tensor(0, dy.dtype(), dy.device()); }

}  // namespace

// ---- binary arithmetic ----

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Tensor out = is_one(alpha)         ? raw::add(a, b)
               : is_minus_one(alpha) ? raw::sub(a, b)
                                     : raw::add(a, raw::mul(b, alpha));
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  return record("add", {a, b}, out,
                [ga, gb, alpha, as = a.sizes(), bs = b.sizes()](const Tensor& dy) {
                  return Grads{ga ? sum_to(dy, as) : Tensor(),
                               gb ? sum_to(is_one(alpha) ? dy : dy * alpha, bs) : Tensor()};
                });
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return add(a, b, negate(alpha));
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = raw::mul(a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  return record("mul", {a, b}, out,
                [sa = gb ? SavedTensor(a, "mul") : SavedTensor(),
                 sb = ga ? SavedTensor(b, "mul") : SavedTensor(), ga, gb, as = a.sizes(),
                 bs = b.sizes()](const Tensor& dy) {
                  return Grads{ga ? sum_to(dy * sb.get(), as) : Tensor(),
                               gb ? sum_to(dy * sa.get(), bs) : Tensor()};
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = raw::div(a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
  return record("div", {a, b}, out,
                [sa = gb ? SavedTensor(a, "div") : SavedTensor(), sb = SavedTensor(b, "div"),
                 ga, gb, as = a.sizes(), bs = b.sizes()](const Tensor& dy) {
                  const Tensor b = sb.get();
                  return Grads{ga ? sum_to(dy / b, as) : Tensor(),
                               gb ? sum_to(-dy * sa.get() / (b * b), bs) : Tensor()};
                });
}

Tensor pow(const Tensor& a, const Scalar& exponent) {
  const double e = exponent.to<double>();
  Tensor out = raw::unary(UnaryOp::PowScalar, a, {.alpha = e});
  if (!autograd::needs_grad({a})) return out;
  // d(a^e)/da = e a^(e-1); exactly 0 for e = 0 (also at a = 0, as PyTorch)
  return record("pow", {a}, out, [sa = SavedTensor(a, "pow"), e](const Tensor& dy) {
    if (e == 0.0) return Grads{zeros(dy.sizes(), {dy.dtype(), dy.device()})};
    return Grads{dy * (pow(sa.get(), e - 1.0) * e)};
  });
}

Tensor pow(const Tensor& a, const Tensor& exponent) {
  Tensor out = raw::binary(BinaryOp::Pow, a, exponent);
  bool ga = wants_grad(a), ge = wants_grad(exponent);
  if (!autograd::needs_grad({a, exponent})) return out;
  // d(a^e)/da = e a^(e-1); d(a^e)/de = a^e log(a), taken as 0 where a = 0 (as PyTorch)
  return record("pow", {a, exponent}, out,
                [sa = SavedTensor(a, "pow"), se = SavedTensor(exponent, "pow"),
                 so = ge ? SavedTensor(out, "pow") : SavedTensor(), ga, ge, as = a.sizes(),
                 es = exponent.sizes()](const Tensor& dy) {
                  const Tensor a = sa.get();
                  const Tensor e = se.get();
                  Tensor da, de;
                  if (ga) da = sum_to(dy * (e * pow(a, e - 1)), as);
                  if (ge) {
                    Tensor dlog = masked_fill(so.get() * log(a), a == 0, 0);
                    de = sum_to(dy * dlog, es);
                  }
                  return Grads{da, de};
                });
}

namespace {

// maximum / minimum: the gradient goes to the chosen operand, half to each on ties.
Tensor extremum(const char* name, BinaryOp op, BinaryOp pick_a, const Tensor& a,
                const Tensor& b) {
  Tensor out = raw::binary(op, a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  return record(name, {a, b}, out,
                [sa = SavedTensor(a, name), sb = SavedTensor(b, name), pick_a, ga, gb,
                 as = a.sizes(), bs = b.sizes()](const Tensor& dy) {
                  const Tensor a = sa.get();
                  const Tensor b = sb.get();
                  Tensor wa = raw::add(mask_as(raw::binary(pick_a, a, b), dy.dtype()),
                                       raw::mul(mask_as(raw::binary(BinaryOp::Eq, a, b),
                                                        dy.dtype()),
                                                Scalar(0.5)));
                  return Grads{ga ? sum_to(dy * wa, as) : Tensor(),
                               gb ? sum_to(dy * (1.0 - wa), bs) : Tensor()};
                });
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", BinaryOp::Maximum, BinaryOp::Gt, a, b);
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", BinaryOp::Minimum, BinaryOp::Lt, a, b);
}

// ---- unary ----

Tensor neg(const Tensor& x) {
  Tensor out = raw::neg(x);
  if (!autograd::needs_grad({x})) return out;
  return record("neg", {x}, out, [](const Tensor& dy) { return Grads{-dy}; });
}

Tensor abs(const Tensor& x) {
  Tensor out = raw::unary(UnaryOp::Abs, x);
  if (!autograd::needs_grad({x})) return out;
  // d|x|/dx = sign(x), 0 at 0 (as PyTorch)
  return record("abs", {x}, out, [sx = SavedTensor(x, "abs")](const Tensor& dy) {
    return Grads{dy * raw::unary(UnaryOp::Sign, sx.get())};
  });
}

Tensor exp(const Tensor& x) {
  Tensor y = raw::exp(x);
  if (!autograd::needs_grad({x})) return y;
  return record("exp", {x}, y, [sy = SavedTensor(y, "exp")](const Tensor& dy) {
    return Grads{dy * sy.get()};
  });
}

Tensor log(const Tensor& x) {
  Tensor y = raw::log(x);
  if (!autograd::needs_grad({x})) return y;
  return record("log", {x}, y, [sx = SavedTensor(x, "log")](const Tensor& dy) {
    return Grads{dy / sx.get()};
  });
}

Tensor log1p(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Log1p, x);
  if (!autograd::needs_grad({x})) return y;
  return record("log1p", {x}, y, [sx = SavedTensor(x, "log1p")](const Tensor& dy) {
    return Grads{dy / (sx.get() + 1)};
  });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = raw::sqrt(x);
  if (!autograd::needs_grad({x})) return y;
  // d sqrt(x)/dx = 1 / (2 sqrt(x))
  return record("sqrt", {x}, y, [sy = SavedTensor(y, "sqrt")](const Tensor& dy) {
    return Grads{dy / (sy.get() * 2)};
  });
}

Tensor rsqrt(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Rsqrt, x);
  if (!autograd::needs_grad({x})) return y;
  // d x^(-1/2)/dx = -x^(-3/2) / 2 = -y^3 / 2
  return record("rsqrt", {x}, y, [sy = SavedTensor(y, "rsqrt")](const Tensor& dy) {
    return Grads{dy * (pow(sy.get(), 3) * -0.5)};
  });
}

Tensor square(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Square, x);
  if (!autograd::needs_grad({x})) return y;
  return record("square", {x}, y, [sx = SavedTensor(x, "square")](const Tensor& dy) {
    return Grads{dy * (sx.get() * 2)};
  });
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  Tensor y = raw::clamp(x, min, max);
  if (!autograd::needs_grad({x})) return y;
  // The gradient passes where min <= x <= max (bounds included, as PyTorch).
  return record("clamp", {x}, y, [sx = SavedTensor(x, "clamp"), min, max](const Tensor& dy) {
    const Tensor x = sx.get();
    Tensor pass;
    if (min) pass = raw::binary(BinaryOp::Ge, x, wrap_scalar(*min, x.device()));
    if (max) {
      Tensor below = raw::binary(BinaryOp::Le, x, wrap_scalar(*max, x.device()));
      pass = pass.defined() ? raw::binary(BinaryOp::LogicalAnd, pass, below) : below;
    }
    return Grads{pass.defined() ? dy * mask_as(pass, dy.dtype()) : dy};
  });
}

Tensor relu(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Relu, x);
  if (!autograd::needs_grad({x})) return y;
  return record("relu", {x}, y, [sy = SavedTensor(y, "relu")](const Tensor& dy) {
    const Tensor y = sy.get();
    return Grads{autograd::detail::backward_from_output(UnaryOp::Relu, dy, y)};
  });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor y = raw::unary(UnaryOp::LeakyRelu, x, {.alpha = negative_slope});
  if (!autograd::needs_grad({x})) return y;
  // slope 1 where x > 0, negative_slope elsewhere
  return record("leaky_relu", {x}, y,
                [sx = SavedTensor(x, "leaky_relu"), negative_slope](const Tensor& dy) {
                  const Tensor x = sx.get();
                  Tensor positive = mask_as(
                      raw::binary(BinaryOp::Gt, x, wrap_scalar(0, x.device())), dy.dtype());
                  Tensor slope = raw::add(raw::mul(positive, Scalar(1.0 - negative_slope)),
                                          Scalar(negative_slope));
                  return Grads{dy * slope};
                });
}

Tensor gelu(const Tensor& x, const std::string& approximate) {
  UnaryOp op;
  BinaryOp fused;
  if (approximate == "none") {
    op = UnaryOp::GeluErf;
    fused = BinaryOp::GeluErfBackward;
  } else if (approximate == "tanh") {
    op = UnaryOp::GeluTanh;
    fused = BinaryOp::GeluTanhBackward;
  } else {
    throw ValueError("gelu: approximate must be \"none\" or \"tanh\", got \"" + approximate +
                     "\"");
  }
  Tensor y = raw::unary(op, x);
  if (!autograd::needs_grad({x})) return y;
  // NOTE: under create_graph the derivative gelu'(x) is a constant (recorded w.r.t. dy only).
  return record("gelu", {x}, y, [sx = SavedTensor(x, "gelu"), fused](const Tensor& dy) {
    const Tensor x = sx.get();
    return Grads{fused_or_composite(fused, dy, x, [&] {
      return dy * raw::binary(fused, ones(x.sizes(), {dy.dtype(), dy.device()}), x);
    })};
  });
}

Tensor silu(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Silu, x);
  if (!autograd::needs_grad({x})) return y;
  // d(x s(x))/dx = s (1 + x (1 - s)), s = sigmoid(x)
  return record("silu", {x}, y, [sx = SavedTensor(x, "silu")](const Tensor& dy) {
    const Tensor x = sx.get();
    return Grads{fused_or_composite(BinaryOp::SiluBackward, dy, x, [&] {
      Tensor s = sigmoid(x);
      return dy * s * (1 + x * (1 - s));
    })};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Tanh, x);
  if (!autograd::needs_grad({x})) return y;
  // d tanh/dx = 1 - y^2
  return record("tanh", {x}, y, [sy = SavedTensor(y, "tanh")](const Tensor& dy) {
    const Tensor y = sy.get();
    return Grads{autograd::detail::backward_from_output(UnaryOp::Tanh, dy, y)};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = raw::unary(UnaryOp::Sigmoid, x);
  if (!autograd::needs_grad({x})) return y;
  // d sigmoid/dx = y (1 - y)
  return record("sigmoid", {x}, y, [sy = SavedTensor(y, "sigmoid")](const Tensor& dy) {
    const Tensor y = sy.get();
    return Grads{autograd::detail::backward_from_output(UnaryOp::Sigmoid, dy, y)};
  });
}

// ---- comparisons and logic: bool outputs, never differentiable ----

Tensor eq(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return raw::binary(BinaryOp::Ge, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return raw::binary(BinaryOp::LogicalAnd, a, b);
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return raw::binary(BinaryOp::LogicalOr, a, b);
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return raw::binary(BinaryOp::LogicalXor, a, b);
}
Tensor logical_not(const Tensor& x) { return raw::unary(UnaryOp::LogicalNot, x); }
Tensor isnan(const Tensor& x) { return raw::unary(UnaryOp::IsNan, x); }

// ---- selection ----

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor out = raw::where(cond, a, b);
  bool ga = wants_grad(a), gb = wants_grad(b);
  if (!autograd::needs_grad({a, b})) return out;
  return record("where", {cond, a, b}, out,
                [sc = SavedTensor(cond, "where"), ga, gb, as = a.sizes(),
                 bs = b.sizes()](const Tensor& dy) {
                  const Tensor c = sc.get();
                  Tensor zero = zero_like_scalar(dy);
                  return Grads{Tensor(), ga ? sum_to(where(c, dy, zero), as) : Tensor(),
                               gb ? sum_to(where(c, zero, dy), bs) : Tensor()};
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  Tensor out = raw::masked_fill(x, mask, value);
  if (!autograd::needs_grad({x})) return out;
  return record("masked_fill", {x}, out,
                [sm = SavedTensor(mask, "masked_fill")](const Tensor& dy) {
                  return Grads{masked_fill(dy, sm.get(), 0)};
                });
}

// ---- operators ----

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, wrap_scalar(b, a.device())); }
Tensor operator-(const Tensor& a, const Scalar& b) {
  return add(a, wrap_scalar(negate(b), a.device()));
}
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, wrap_scalar(b, a.device())); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, wrap_scalar(b, a.device())); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(wrap_scalar(a, b.device()), b); }
Tensor operator-(const Scalar& a, const Tensor& b) { return sub(wrap_scalar(a, b.device()), b); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(wrap_scalar(a, b.device()), b); }
Tensor operator/(const Scalar& a, const Tensor& b) { return div(wrap_scalar(a, b.device()), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, const Scalar& b) { return eq(a, wrap_scalar(b, a.device())); }
Tensor operator!=(const Tensor& a, const Scalar& b) { return ne(a, wrap_scalar(b, a.device())); }
Tensor operator<(const Tensor& a, const Scalar& b) { return lt(a, wrap_scalar(b, a.device())); }
Tensor operator<=(const Tensor& a, const Scalar& b) { return le(a, wrap_scalar(b, a.device())); }
Tensor operator>(const Tensor& a, const Scalar& b) { return gt(a, wrap_scalar(b, a.device())); }
Tensor operator>=(const Tensor& a, const Scalar& b) { return ge(a, wrap_scalar(b, a.device())); }
Tensor operator&&(const Tensor& a, const Tensor& b) { return logical_and(a, b); }
Tensor operator||(const Tensor& a, const Tensor& b) { return logical_or(a, b); }
Tensor operator!(const Tensor& x) { return logical_not(x); }

namespace autograd::detail {

Tensor backward_from_output(UnaryOp op, const Tensor& dy, const Tensor& y) {
  switch (op) {
    case UnaryOp::Relu:
      return fused_or_composite(BinaryOp::ReluBackward, dy, y, [&] {
        return dy * mask_as(raw::binary(BinaryOp::Gt, y, wrap_scalar(0, y.device())), dy.dtype());
      });
    case UnaryOp::Tanh:
      return fused_or_composite(BinaryOp::TanhBackward, dy, y, [&] { return dy * (1 - y * y); });
    case UnaryOp::Sigmoid:
      return fused_or_composite(BinaryOp::SigmoidBackward, dy, y,
                                [&] { return dy * y * (1 - y); });
    default:
      internal_error("backward_from_output: not an activation whose derivative follows from "
                     "its output");
  }
}

}  // namespace autograd::detail

}  // namespace ignis

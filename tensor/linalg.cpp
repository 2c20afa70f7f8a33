// Raw matrix products (matmul, mm, bmm, addmm, linear): shape checks, broadcasting of batch
// dims and the operand layouts handed to the device's gemm kernel. Not differentiable: the
// autograd versions are in autograd/linalg.h.
#include "tensor/linalg.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/view_ops.h"

namespace ignis::raw {
namespace {

// Both operands floating point, of one dtype, on one device.
void check_operands(const char* op, const char* a_name, const Tensor& a, const char* b_name,
                    const Tensor& b) {
  if (!a.defined() || !b.defined())
    throw ValueError(std::string(op) + ": undefined tensor argument");
  if (a.device() != b.device())
    throw DeviceError(std::string(op) + ": expected tensors on one device, got " + a_name +
                      " on " + a.device().str() + " and " + b_name + " on " +
                      b.device().str());
  if (a.dtype() != b.dtype() || !a.is_floating_point())
    throw DTypeError(std::string(op) + ": expected float32 or float64 tensors of one dtype, got " +
                     a_name + " " + dtype_name(a.dtype()) + " and " + b_name + " " +
                     dtype_name(b.dtype()));
}

[[noreturn]] void throw_inner_mismatch(const char* op, const char* a_name, const Tensor& a,
                                       const char* b_name, const Tensor& b) {
  throw ShapeError(std::string(op) + ": inner dimensions differ: " + a_name + " is " +
                   a.shape_str() + ", " + b_name + " is " + b.shape_str());
}

// How the gemm kernel reads the last two dims (rows, cols) of x: row-major with leading
// dimension ld, or, when trans, as the transpose of a row-major (cols, rows) matrix.
struct MatrixLayout {
  bool trans;
  int64_t ld;
};

// The layout of x's matrices if the kernel can read them in place (any batch strides).
std::optional<MatrixLayout> matrix_layout(const Tensor& x) {
  const int64_t d = x.dim();
  const int64_t rows = x.size(d - 2), cols = x.size(d - 1);
  // The stride of a dim of size <= 1 is never used to step: pick the one that fits.
  const int64_t rs = rows <= 1 ? std::max<int64_t>(cols, 1) : x.stride(d - 2);
  const int64_t cs = cols <= 1 ? 1 : x.stride(d - 1);
  if (cs == 1 && rs >= std::max<int64_t>(cols, 1)) return MatrixLayout{false, rs};
  const int64_t cs_t = cols <= 1 ? std::max<int64_t>(rows, 1) : x.stride(d - 1);
  const int64_t rs_t = rows <= 1 ? 1 : x.stride(d - 2);
  if (rs_t == 1 && cs_t >= std::max<int64_t>(rows, 1)) return MatrixLayout{true, cs_t};
  return std::nullopt;
}

// x, readable by the kernel: itself when its matrices are row-major or transposed row-major
// (with any leading dim), else a contiguous copy. Batch dims are untouched (not expanded).
std::pair<Tensor, MatrixLayout> gemm_operand(const Tensor& x) {
  if (x.numel() == 0) return {x, MatrixLayout{false, std::max<int64_t>(x.size(-1), 1)}};
  if (auto layout = matrix_layout(x)) return {x, *layout};
  Tensor copy = contiguous(x);
  return {copy, *matrix_layout(copy)};
}

// out (batch..., m, n) = alpha * a (batch_a..., m, k) @ b (batch_b..., k, n) + beta * out,
// with batch_a and batch_b broadcasting to out's batch dims. out is contiguous and already
// holds the beta term's input when beta != 0. epilogue: see GemmArgs (the CPU kernel only).
void gemm_into(const char* op, const Tensor& out, const Tensor& a_in, const Tensor& b_in,
               double alpha, double beta, Activation epilogue = Activation::None) {
  if (out.numel() == 0) return;
  const int64_t nd = out.dim();
  const Shape batch(out.sizes().begin(), out.sizes().end() - 2);
  const int64_t m = out.size(nd - 2), n = out.size(nd - 1), k = a_in.size(-1);
  auto [a_t, a_layout] = gemm_operand(a_in);
  auto [b_t, b_layout] = gemm_operand(b_in);
  Shape a_shape = batch, b_shape = batch;
  a_shape.insert(a_shape.end(), {m, k});
  b_shape.insert(b_shape.end(), {k, n});
  const Tensor a = expand(a_t, a_shape), b = expand(b_t, b_shape);

  // Merge batch dims that step uniformly in all three tensors; the innermost merged dim is
  // the kernel's batch, the outer ones are looped over here.
  struct BatchDim {
    int64_t size, sa, sb, sc;
  };
  std::vector<BatchDim> dims;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto d = static_cast<int64_t>(i);
    const BatchDim dim{batch[i], a.stride(d), b.stride(d), out.stride(d)};
    if (dim.size == 1) continue;
    if (!dims.empty()) {
      BatchDim& last = dims.back();
      if (last.sa == dim.sa * dim.size && last.sb == dim.sb * dim.size &&
          last.sc == dim.sc * dim.size) {
        last = {last.size * dim.size, dim.sa, dim.sb, dim.sc};
        continue;
      }
    }
    dims.push_back(dim);
  }
  const BatchDim inner = dims.empty() ? BatchDim{1, 0, 0, 0} : dims.back();
  if (!dims.empty()) dims.pop_back();

  const auto gemm = get_kernel(&KernelTable::gemm, out.device(), op);
  const size_t item = out.itemsize();
  auto* a_base = static_cast<const char*>(a.raw_data());
  auto* b_base = static_cast<const char*>(b.raw_data());
  auto* c_base = static_cast<char*>(out.raw_data());
  std::vector<int64_t> index(dims.size(), 0);
  int64_t outer = 1;
  for (const BatchDim& d : dims) outer *= d.size;
  for (int64_t o = 0; o < outer; ++o) {
    int64_t off_a = 0, off_b = 0, off_c = 0;
    for (size_t i = 0; i < dims.size(); ++i) {
      off_a += index[i] * dims[i].sa;
      off_b += index[i] * dims[i].sb;
      off_c += index[i] * dims[i].sc;
    }
    GemmArgs args{out.dtype(), a_layout.trans, b_layout.trans, m, n, k, alpha, beta,
                  a_base + off_a * static_cast<int64_t>(item), a_layout.ld, inner.sa,
                  b_base + off_b * static_cast<int64_t>(item), b_layout.ld, inner.sb,
                  c_base + off_c * static_cast<int64_t>(item), n, inner.sc, inner.size,
                  epilogue};
    gemm(args);
    for (size_t i = dims.size(); i-- > 0;) {  // next outer batch index, last dim fastest
      if (++index[i] < dims[i].size) break;
      index[i] = 0;
    }
  }
}

Shape batch_of(const Tensor& x) { return Shape(x.sizes().begin(), x.sizes().end() - 2); }

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", "a", a, "b", b);
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError("matmul: both arguments need at least 1 dimension, got a " +
                     a.shape_str() + " and b " + b.shape_str());
  // A 1-D a is a row (1, k), a 1-D b a column (k, 1); the added dim is removed after.
  const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  if (a2.size(-1) != b2.size(-2)) throw_inner_mismatch("matmul", "a", a, "b", b);
  Shape shape;
  try {
    shape = broadcast_shapes(batch_of(a2), batch_of(b2), "matmul");
  } catch (const ShapeError&) {
    throw ShapeError("matmul: batch dimensions do not broadcast: a is " + a.shape_str() +
                     ", b is " + b.shape_str());
  }
  shape.insert(shape.end(), {a2.size(-2), b2.size(-1)});
  Tensor out = make_tensor(shape, a.dtype(), a.device());
  gemm_into("matmul", out, a2, b2, 1.0, 0.0);
  if (a.dim() == 1) out = squeeze(out, -2);
  if (b.dim() == 1) out = squeeze(out, -1);
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_operands("mm", "a", a, "b", b);
  if (a.dim() != 2 || b.dim() != 2)
    throw ShapeError("mm: expected 2-D tensors, got a " + a.shape_str() + " and b " +
                     b.shape_str());
  if (a.size(1) != b.size(0)) throw_inner_mismatch("mm", "a", a, "b", b);
  return matmul(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands("bmm", "a", a, "b", b);
  if (a.dim() != 3 || b.dim() != 3)
    throw ShapeError("bmm: expected 3-D tensors, got a " + a.shape_str() + " and b " +
                     b.shape_str());
  if (a.size(0) != b.size(0))
    throw ShapeError("bmm: batch sizes differ: a is " + a.shape_str() + ", b is " +
                     b.shape_str());
  if (a.size(2) != b.size(1)) throw_inner_mismatch("bmm", "a", a, "b", b);
  return matmul(a, b);
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, double beta, double alpha) {
  check_operands("addmm", "a", a, "b", b);
  check_operands("addmm", "bias", bias, "a", a);
  if (a.dim() != 2 || b.dim() != 2)
    throw ShapeError("addmm: expected 2-D a and b, got a " + a.shape_str() + " and b " +
                     b.shape_str());
  if (a.size(1) != b.size(0)) throw_inner_mismatch("addmm", "a", a, "b", b);
  const Shape shape{a.size(0), b.size(1)};
  if (broadcast_shapes(bias.sizes(), shape, "addmm") != shape)
    throw ShapeError("addmm: bias " + bias.shape_str() + " does not broadcast to " +
                     shape_str(shape));
  Tensor out = make_tensor(shape, a.dtype(), a.device());
  // beta == 0 ignores bias, NaN and inf included (as PyTorch).
  if (beta != 0.0) copy_(out, bias);
  gemm_into("addmm", out, a, b, alpha, beta);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation activation) {
  check_operands("linear", "x", x, "weight", weight);
  if (bias.defined()) check_operands("linear", "bias", bias, "weight", weight);
  if (x.dim() == 0 || weight.dim() != 2)
    throw ShapeError("linear: expected x (*, in_features) and weight (out_features, "
                     "in_features), got x " + x.shape_str() + " and weight " +
                     weight.shape_str());
  if (x.size(-1) != weight.size(1)) throw_inner_mismatch("linear", "x", x, "weight", weight);
  const int64_t out_features = weight.size(0);
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != out_features))
    throw ShapeError("linear: expected bias (" + std::to_string(out_features) + "), got " +
                     bias.shape_str() + " for weight " + weight.shape_str());
  // x (*, in) viewed as rows (r, in) when it can be, so that batches become one GEMM.
  Shape shape(x.sizes().begin(), x.sizes().end() - 1);
  const Tensor rows = x.dim() == 2 ? x : reshape(x, {numel_of(shape), x.size(-1)});
  shape.push_back(out_features);
  Tensor out = make_tensor(shape, x.dtype(), x.device());
  const Tensor out_rows = view(out, {rows.size(0), out_features});
  if (bias.defined()) copy_(out_rows, bias);
  const bool fused = out.device().is_cpu();
  gemm_into("linear", out_rows, rows, t(weight), 1.0, bias.defined() ? 1.0 : 0.0,
            fused ? activation : Activation::None);
  if (!fused && activation != Activation::None) unary_(activation_op(activation), out);
  return out;
}

void matmul_into(const Tensor& out, const Tensor& a, const Tensor& b, double alpha,
                 double beta) {
  check_operands("matmul_into", "a", a, "b", b);
  check_operands("matmul_into", "out", out, "a", a);
  const auto shapes = [&] {
    return "out " + out.shape_str() + ", a " + a.shape_str() + ", b " + b.shape_str();
  };
  if (a.dim() < 2 || b.dim() < 2 || out.dim() < 2)
    throw ShapeError("matmul_into: expected matrices (at least 2-d), got " + shapes());
  if (a.size(-1) != b.size(-2)) throw_inner_mismatch("matmul_into", "a", a, "b", b);
  const Shape batch = batch_of(out);
  const auto fits = [&](const Tensor& x) {
    if (x.dim() > out.dim()) return false;
    try {
      return broadcast_shapes(batch_of(x), batch, "matmul_into") == batch;
    } catch (const ShapeError&) {
      return false;
    }
  };
  if (out.size(-2) != a.size(-2) || out.size(-1) != b.size(-1) || !fits(a) || !fits(b))
    throw ShapeError("matmul_into: the product does not fit the output: " + shapes());
  const int64_t m = out.size(-2), n = out.size(-1);
  if ((n > 1 && out.stride(-1) != 1) || (m > 1 && out.stride(-2) != n))
    throw ShapeError("matmul_into: expected out's matrices row-major with leading dimension " +
                     std::to_string(n) + ", got " + shapes());
  gemm_into("matmul_into", out, a, b, alpha, beta);
}

}  // namespace ignis::raw

namespace ignis {

UnaryOp activation_op(Activation activation) {
  switch (activation) {
    case Activation::Relu: return UnaryOp::Relu;
    case Activation::Tanh: return UnaryOp::Tanh;
    case Activation::Sigmoid: return UnaryOp::Sigmoid;
    case Activation::None: break;
  }
  internal_error("activation_op: no unary op for activation none");
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::Relu: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::None: break;
  }
  return "none";
}

}  // namespace ignis

// CPU-vs-CUDA parity of the elementwise slots: fill, copy (every dtype pair, broadcast and
// transposed sources), unary, binary (broadcast, non-contiguous, in place), where, and the
// random kernels (the same Philox numbers on both devices). Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "tensor/backend.h"
#include "tensor/elementwise.h"
#include "tensor/factory.h"
#include "tensor/view_ops.h"

#include "support/cuda_test.h"

namespace ignis {
namespace {

const std::vector<DType> kAllDTypes = {kBool, kUInt8, kInt32, kInt64, kFloat32, kFloat64};

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
};

// Float32 math on the GPU (CUDA's libm) and on the CPU (ignis' SIMD approximations) differ
// by a few ulp; float64 by less.
Tolerance tolerance_for(DType dtype) {
  if (dtype == kFloat32) return {1e-5, 1e-6};
  if (dtype == kFloat64) return {1e-12, 1e-14};
  return {};
}

// `got` (any device) against `want` (the CPU result): same dtype and shape, each value within
// atol + rtol |want|, NaN matching NaN and infinities matching exactly. Reports the first
// mismatches.
::testing::AssertionResult parity(const std::string& what, const Tensor& got,
                                  const Tensor& want, Tolerance tol) {
  if (got.dtype() != want.dtype() || got.sizes() != want.sizes()) {
    return ::testing::AssertionFailure()
           << what << ": got " << dtype_name(got.dtype()) << " " << got.shape_str()
           << ", expected " << dtype_name(want.dtype()) << " " << want.shape_str();
  }
  const std::vector<double> g = raw::to(got, Device::cpu()).to_vector<double>();
  const std::vector<double> w = want.to_vector<double>();
  std::ostringstream report;
  report.precision(17);
  int mismatches = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    bool ok = false;
    if (std::isnan(w[i]) || std::isnan(g[i])) {
      ok = std::isnan(w[i]) && std::isnan(g[i]);
    } else if (std::isinf(w[i]) || std::isinf(g[i])) {
      ok = g[i] == w[i];
    } else {
      ok = std::abs(g[i] - w[i]) <= tol.atol + tol.rtol * std::abs(w[i]);
    }
    if (ok) continue;
    if (mismatches < 5) report << "\n  at flat index " << i << ": cuda " << g[i] << ", cpu " << w[i];
    ++mismatches;
  }
  if (mismatches == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " " << want.shape_str() << " "
                                       << dtype_name(want.dtype()) << ": " << mismatches
                                       << " of " << w.size() << " values differ" << report.str();
}

Tensor on_cuda(const Tensor& t) { return raw::to(t, Device::cuda()); }

// Deterministic values of `dtype` spanning negatives, zero, fractions and larger magnitudes
// (|x| <= 6 for floats, so exp & co. stay finite): shape (rows, cols).
Tensor sample(DType dtype, int64_t rows, int64_t cols, uint64_t seed = 1) {
  Generator gen(seed);
  const Tensor u = rand({rows, cols}, {.dtype = kFloat64}, &gen);
  const Tensor x = raw::sub(raw::mul(u, wrap_scalar(12.0)), wrap_scalar(6.0));
  if (dtype == kBool) return raw::binary(BinaryOp::Gt, x, wrap_scalar(0.0));
  if (dtype == kUInt8) return raw::to(raw::mul(u, wrap_scalar(200.0)), kUInt8);
  if (is_floating_point(dtype)) return raw::to(x, dtype);
  return raw::to(raw::mul(x, wrap_scalar(20.0)), dtype);
}

class CudaElementwise : public test::CudaTest {};

TEST_F(CudaElementwise, FillsEveryDTypeAndLayout) {
  for (DType dtype : kAllDTypes) {
    const Tensor cpu = zeros({5, 7}, {.dtype = dtype});
    const Tensor gpu = on_cuda(cpu);
    using View = Tensor (*)(const Tensor&);
    const View views[] = {[](const Tensor& t) { return t; },
                          [](const Tensor& t) { return raw::transpose(t, 0, 1); },
                          [](const Tensor& t) { return raw::slice(t, 1, 1, 7, 3); }};
    for (View view : views) {
      raw::fill_(view(cpu), Scalar(3.75));
      raw::fill_(view(gpu), Scalar(3.75));
      EXPECT_TRUE(parity(std::string("fill_ ") + dtype_name(dtype), gpu, cpu, {}));
    }
  }
}

TEST_F(CudaElementwise, CopiesBetweenEveryPairOfDTypes) {
  for (DType from : kAllDTypes) {
    const Tensor src_cpu = sample(from, 6, 9);
    const Tensor src_gpu = on_cuda(src_cpu);
    for (DType to : kAllDTypes) {
      const std::string what = std::string("copy ") + dtype_name(from) + " -> " + dtype_name(to);
      if (is_floating_point(from) && to == kUInt8) {
        // NOTE: a negative float to uint8 is undefined in C++ (x86 wraps, CUDA saturates;
        // PyTorch's CPU and CUDA differ too): compare non-negative values only.
        EXPECT_TRUE(parity(what, raw::to(raw::unary(UnaryOp::Abs, src_gpu), to),
                           raw::to(raw::unary(UnaryOp::Abs, src_cpu), to), {}));
        continue;
      }
      EXPECT_TRUE(parity(what, raw::to(src_gpu, to), raw::to(src_cpu, to), {}));
    }
  }
}

TEST_F(CudaElementwise, CopiesBroadcastTransposedAndSlicedSources) {
  const Tensor col = sample(kFloat32, 5, 1);
  const Tensor col_gpu = on_cuda(col);
  // 0 strides: a column expanded across 8 columns, into a float64 destination.
  Tensor dst_cpu = empty({5, 8}, {.dtype = kFloat64});
  Tensor dst_gpu = empty({5, 8}, {.dtype = kFloat64, .device = Device::cuda()});
  raw::copy_(dst_cpu, col);
  raw::copy_(dst_gpu, col_gpu);
  EXPECT_TRUE(parity("expanded copy", dst_gpu, dst_cpu, {}));
  // A permuted 4-d source and a step-sliced destination.
  const Tensor x = sample(kInt64, 6, 60).view({6, 3, 4, 5});
  const Tensor x_gpu = on_cuda(x);
  EXPECT_TRUE(parity("permuted contiguous()", raw::contiguous(raw::permute(x_gpu, {3, 1, 0, 2})),
                     raw::contiguous(raw::permute(x, {3, 1, 0, 2})), {}));
  Tensor big_cpu = zeros({6, 20}, {.dtype = kInt32});
  Tensor big_gpu = zeros({6, 20}, {.dtype = kInt32, .device = Device::cuda()});
  raw::copy_(raw::slice(big_cpu, 1, 0, 20, 2), x.view({6, 60}).narrow(1, 0, 10));
  raw::copy_(raw::slice(big_gpu, 1, 0, 20, 2), x_gpu.view({6, 60}).narrow(1, 0, 10));
  EXPECT_TRUE(parity("copy into a sliced destination", big_gpu, big_cpu, {}));
}

struct UnaryCase {
  UnaryOp op;
  const char* name;
  UnaryParams params;
  bool floating_only;
};

const UnaryCase kUnaryCases[] = {
    {UnaryOp::Neg, "neg", {}, false},
    {UnaryOp::Abs, "abs", {}, false},
    {UnaryOp::Sign, "sign", {}, false},
    {UnaryOp::Exp, "exp", {}, true},
    {UnaryOp::Log, "log", {}, true},
    {UnaryOp::Log1p, "log1p", {}, true},
    {UnaryOp::Expm1, "expm1", {}, true},
    {UnaryOp::Sqrt, "sqrt", {}, true},
    {UnaryOp::Rsqrt, "rsqrt", {}, true},
    {UnaryOp::Reciprocal, "reciprocal", {}, true},
    {UnaryOp::Square, "square", {}, false},
    {UnaryOp::Sin, "sin", {}, true},
    {UnaryOp::Cos, "cos", {}, true},
    {UnaryOp::Erf, "erf", {}, true},
    {UnaryOp::Relu, "relu", {}, false},
    {UnaryOp::Sigmoid, "sigmoid", {}, true},
    {UnaryOp::Tanh, "tanh", {}, true},
    {UnaryOp::Silu, "silu", {}, true},
    {UnaryOp::GeluErf, "gelu_erf", {}, true},
    {UnaryOp::GeluTanh, "gelu_tanh", {}, true},
    {UnaryOp::LeakyRelu, "leaky_relu", {.alpha = 0.01}, true},
    {UnaryOp::Clamp, "clamp", {.lo = -2.5, .hi = 3.25}, false},
    {UnaryOp::PowScalar, "pow 2", {.alpha = 2.0}, false},
    {UnaryOp::PowScalar, "pow 0.5", {.alpha = 0.5}, true},
    {UnaryOp::PowScalar, "pow -1", {.alpha = -1.0}, true},
    {UnaryOp::PowScalar, "pow 3", {.alpha = 3.0}, false},
    {UnaryOp::PowScalar, "pow 1.7", {.alpha = 1.7}, true},
    {UnaryOp::LogicalNot, "logical_not", {}, false},
    {UnaryOp::IsNan, "isnan", {}, false},
};

TEST_F(CudaElementwise, UnaryOpsMatchTheCpu) {
  for (const UnaryCase& c : kUnaryCases) {
    for (DType dtype : kAllDTypes) {
      if (dtype == kBool && c.op != UnaryOp::LogicalNot) continue;
      if (c.floating_only && !is_floating_point(dtype)) continue;
      const Tensor x = sample(dtype, 33, 65);
      const Tensor x_gpu = on_cuda(x);
      const std::string what = std::string(c.name) + " " + dtype_name(dtype);
      EXPECT_TRUE(parity(what, raw::unary(c.op, x_gpu, c.params), raw::unary(c.op, x, c.params),
                         tolerance_for(dtype)));
      // A transposed (non-contiguous) input.
      EXPECT_TRUE(parity(what + " transposed", raw::unary(c.op, raw::transpose(x_gpu, 0, 1), c.params),
                         raw::unary(c.op, raw::transpose(x, 0, 1), c.params), tolerance_for(dtype)));
    }
  }
}

TEST_F(CudaElementwise, UnaryOpsHandleNanAndInfinity) {
  const Tensor x = tensor({std::nanf(""), INFINITY, -INFINITY, 0.f, -0.f, 1e30f, -1e30f});
  const Tensor x_gpu = on_cuda(x);
  for (const UnaryCase& c : kUnaryCases) {
    EXPECT_TRUE(parity(c.name, raw::unary(c.op, x_gpu, c.params), raw::unary(c.op, x, c.params),
                       tolerance_for(kFloat32)));
  }
}

const BinaryOp kBinaryOps[] = {
    BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow,
    BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt,
    BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge, BinaryOp::LogicalAnd, BinaryOp::LogicalOr,
    BinaryOp::LogicalXor, BinaryOp::ReluBackward, BinaryOp::SigmoidBackward,
    BinaryOp::TanhBackward, BinaryOp::SiluBackward, BinaryOp::GeluErfBackward,
    BinaryOp::GeluTanhBackward};

bool is_backward_helper(BinaryOp op) { return op >= BinaryOp::ReluBackward; }

TEST_F(CudaElementwise, BinaryOpsMatchTheCpuWithBroadcasting) {
  for (BinaryOp op : kBinaryOps) {
    for (DType dtype : kAllDTypes) {
      if (is_backward_helper(op) && !is_floating_point(dtype)) continue;
      if (dtype == kBool && (op == BinaryOp::Sub || op == BinaryOp::Pow)) continue;
      const std::string what = "binary op " + std::to_string(static_cast<int>(op)) + " " +
                               dtype_name(dtype);
      // (4, 1, 9) op (3, 1): broadcast to (4, 3, 9).
      const Tensor a = sample(dtype, 4, 9, 2).view({4, 1, 9});
      Tensor b = sample(dtype, 3, 1, 3);
      if (op == BinaryOp::Pow && !is_floating_point(dtype) && dtype != kBool) {
        b = raw::to(sample(kUInt8, 3, 1, 3), dtype);  // small non-negative exponents
        b = raw::binary(BinaryOp::Minimum, b, raw::to(wrap_scalar(int64_t{5}), dtype));
      }
      const Tensor a_gpu = on_cuda(a), b_gpu = on_cuda(b);
      EXPECT_TRUE(parity(what, raw::binary(op, a_gpu, b_gpu), raw::binary(op, a, b),
                         tolerance_for(is_floating_point(dtype) ? dtype : kFloat32)));
      // Non-contiguous operands of one shape, and a number on the right.
      const Tensor c = sample(dtype, 10, 12, 4), d = sample(dtype, 12, 10, 5);
      const Tensor c_gpu = on_cuda(c), d_gpu = on_cuda(d);
      if (op != BinaryOp::Pow || is_floating_point(dtype)) {
        EXPECT_TRUE(parity(what + " transposed",
                           raw::binary(op, raw::transpose(c_gpu, 0, 1), d_gpu),
                           raw::binary(op, raw::transpose(c, 0, 1), d), tolerance_for(dtype)));
      }
      const Tensor two = wrap_scalar(dtype == kBool ? Scalar(true) : Scalar(2));
      EXPECT_TRUE(parity(what + " by a number", raw::binary(op, c_gpu, raw::to(two, Device::cuda())),
                         raw::binary(op, c, two), tolerance_for(dtype)));
    }
  }
}

TEST_F(CudaElementwise, InPlaceBinaryOpsMatchTheCpu) {
  Tensor x = sample(kFloat32, 16, 32);
  Tensor x_gpu = on_cuda(x);
  const Tensor row = sample(kFloat32, 1, 32, 7);
  raw::binary_(BinaryOp::Mul, x, row);
  raw::binary_(BinaryOp::Mul, x_gpu, on_cuda(row));
  raw::binary_(BinaryOp::Add, raw::transpose(x, 0, 1), wrap_scalar(1.5));
  raw::binary_(BinaryOp::Add, raw::transpose(x_gpu, 0, 1), wrap_scalar(1.5));
  EXPECT_TRUE(parity("in-place mul, add", x_gpu, x, tolerance_for(kFloat32)));
}

TEST_F(CudaElementwise, IntegerArithmeticWrapsAsOnTheCpu) {
  const Tensor big = tensor({int64_t{9223372036854775807}, int64_t{-9223372036854775807} - 1});
  const Tensor big_gpu = on_cuda(big);
  for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul}) {
    EXPECT_TRUE(parity("int64 overflow", raw::binary(op, big_gpu, big_gpu), raw::binary(op, big, big), {}));
  }
  const Tensor bytes = raw::to(tensor({200, 255, 17}), kUInt8);
  EXPECT_TRUE(parity("uint8 wrap", raw::binary(BinaryOp::Add, on_cuda(bytes), on_cuda(bytes)),
                     raw::binary(BinaryOp::Add, bytes, bytes), {}));
}

TEST_F(CudaElementwise, WhereMatchesTheCpu) {
  for (DType dtype : kAllDTypes) {
    const Tensor cond = sample(kBool, 7, 1, 11);
    const Tensor a = sample(dtype, 1, 13, 12), b = sample(dtype, 7, 13, 13);
    EXPECT_TRUE(parity(std::string("where ") + dtype_name(dtype),
                       raw::where(on_cuda(cond), on_cuda(a), on_cuda(b)), raw::where(cond, a, b),
                       {}));
  }
}

TEST_F(CudaElementwise, LargeTensorsUseTheWholeGrid) {
  // More elements than one wave of the grid-stride loop, and not a multiple of the block.
  const Tensor x = sample(kFloat32, 3001, 1001);
  EXPECT_TRUE(parity("sigmoid (3001, 1001)", raw::unary(UnaryOp::Sigmoid, on_cuda(x)),
                     raw::unary(UnaryOp::Sigmoid, x), tolerance_for(kFloat32)));
}

// ---- random: the same Philox numbers on both devices ----

TEST_F(CudaElementwise, RandomMatchesTheCpuForTheSameSeed) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Generator cpu_gen(1234), gpu_gen(1234);
    // Advance both once, so the offset is not 0.
    rand({17}, {.dtype = dtype}, &cpu_gen);
    rand({17}, {.dtype = dtype, .device = Device::cuda()}, &gpu_gen);
    const std::string name = dtype_name(dtype);
    EXPECT_TRUE(parity("rand " + name, rand({1000, 37}, {.dtype = dtype, .device = Device::cuda()}, &gpu_gen),
                       rand({1000, 37}, {.dtype = dtype}, &cpu_gen), {}));
    // Box-Muller in float64 on both sides: CUDA's log / cos are within 1-2 ulp of glibc's.
    EXPECT_TRUE(parity("randn " + name,
                       randn({1000, 37}, {.dtype = dtype, .device = Device::cuda()}, &gpu_gen),
                       randn({1000, 37}, {.dtype = dtype}, &cpu_gen),
                       dtype == kFloat32 ? Tolerance{1e-6, 1e-7} : Tolerance{1e-13, 1e-15}));
    EXPECT_TRUE(parity("bernoulli(0.3) " + name,
                       bernoulli({1000, 37}, 0.3, {.dtype = dtype, .device = Device::cuda()}, &gpu_gen),
                       bernoulli({1000, 37}, 0.3, {.dtype = dtype}, &cpu_gen), {}));
    const Tensor p = rand({513, 9}, {.dtype = dtype});
    EXPECT_TRUE(parity("bernoulli(p) " + name, bernoulli(on_cuda(p), &gpu_gen), bernoulli(p, &cpu_gen), {}));
    Tensor u_cpu = empty({4099}, {.dtype = dtype});
    Tensor u_gpu = empty({4099}, {.dtype = dtype, .device = Device::cuda()});
    uniform_(u_cpu, -3.0, 5.0, &cpu_gen);
    uniform_(u_gpu, -3.0, 5.0, &gpu_gen);
    EXPECT_TRUE(parity("uniform_ " + name, u_gpu, u_cpu, {}));
    EXPECT_EQ(gpu_gen.state().offset, cpu_gen.state().offset);
  }
}

}  // namespace
}  // namespace ignis

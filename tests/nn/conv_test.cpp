// Tests of conv2d as one recorded op (autograd/conv.h): forward and every gradient against
// the composed formula (unfold, matmul, bias add) it replaced, only the gradients asked for,
// bit-identical results for 1 and 2 threads, finite differences including second
// derivatives, and error messages.
#include "autograd/conv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "autograd/linalg.h"
#include "autograd/math.h"
#include "tensor/factory.h"
#include "tensor/thread_pool.h"
#include "support/compare.h"
#include "support/threads_and_windows.h"

namespace ignis {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::tensors_close;

struct Config {
  std::string name;
  Shape x, w;  // (N, C, H, W), (O, C / groups, kh, kw)
  bool bias;
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;
};

std::vector<Config> configs() {
  return {
      {"cnn_3x3_pad1", {3, 4, 9, 8}, {6, 4, 3, 3}, true, {1, 1}, {1, 1}},
      {"no_bias", {2, 3, 6, 7}, {5, 3, 3, 2}, false},
      {"groups2", {2, 4, 7, 6}, {6, 2, 3, 3}, true, {1, 2}, {1, 0}, {1, 1}, 2},
      {"depthwise", {2, 3, 6, 6}, {3, 1, 3, 3}, false, {1, 1}, {1, 1}, {1, 1}, 3},
      {"stride2_dilation2", {2, 3, 11, 9}, {4, 3, 3, 2}, true, {2, 1}, {2, 1}, {2, 2}},
      {"stride_w3", {1, 2, 8, 10}, {3, 2, 2, 3}, true, {1, 3}, {0, 2}},
      {"1x1_identity", {3, 5, 4, 6}, {7, 5, 1, 1}, true},
      {"1x1_strided", {2, 5, 5, 6}, {7, 5, 1, 1}, false, {2, 2}},
      // more samples than shards, several chunks per shard (columns of 0.5 MB per sample)
      {"many_chunks", {40, 8, 30, 30}, {4, 8, 3, 3}, true, {1, 1}, {1, 1}},
  };
}

Tensor random(const Shape& shape, DType dtype, uint64_t seed, bool grad) {
  Generator gen(seed);
  Tensor t = randn(shape, {.dtype = dtype}, &gen);
  if (grad) t.requires_grad_();
  return t;
}

// The composed formula conv2d had before it was one op: weight @ unfold(x) + bias.
Tensor composed_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Config& c) {
  const Window2d window{.kernel_size = {w.size(2), w.size(3)}, .stride = c.stride,
                        .padding = c.padding, .dilation = c.dilation};
  const int64_t N = x.size(0), O = w.size(0), g = c.groups;
  const Tensor cols = unfold(x, window);  // (N, C kh kw, L)
  const int64_t K = cols.size(1) / g, L = cols.size(2);
  Tensor out = matmul(w.reshape({g, O / g, K}), cols.view({N, g, K, L}));
  out = out.reshape({N, O, window.output_size(0, x.size(2)), window.output_size(1, x.size(3))});
  return b.defined() ? out + b.view({1, O, 1, 1}) : out;
}

Tensor run_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Config& c) {
  return conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
}

// out, dx, dw, db of sum(conv(...) * r) for a fixed r.
struct Result {
  Tensor out, dx, dw, db;
};

template <typename Conv>
Result forward_backward(const Config& c, DType dtype, bool x_grad, bool w_grad, Conv conv) {
  const Tensor x = random(c.x, dtype, 1, x_grad);
  const Tensor w = random(c.w, dtype, 2, w_grad);
  const Tensor b = c.bias ? random({c.w[0]}, dtype, 3, true) : Tensor();
  const Tensor out = conv(x, w, b, c);
  const Tensor r = random(out.sizes(), dtype, 4, false);
  (out * r).sum().backward();
  return {out.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

TEST(Conv2dOp, MatchesTheComposedFormula) {
  const test::Tolerance tol{.rtol = 1e-11, .atol = 1e-11};
  for (const Config& c : configs()) {
    SCOPED_TRACE(c.name);
    const Result got = forward_backward(c, kFloat64, true, true, run_conv);
    const Result want = forward_backward(c, kFloat64, true, true, composed_conv2d);
    EXPECT_TRUE(tensors_close("out", got.out, want.out, tol));
    EXPECT_TRUE(tensors_close("dx", got.dx, want.dx, tol));
    EXPECT_TRUE(tensors_close("dw", got.dw, want.dw, tol));
    if (c.bias) {
      EXPECT_TRUE(tensors_close("db", got.db, want.db, tol));
    }
  }
}

TEST(Conv2dOp, ComputesOnlyTheGradientsAskedFor) {
  const Config c = configs()[0];
  const test::Tolerance tol{.rtol = 1e-11, .atol = 1e-11};
  const Result want = forward_backward(c, kFloat64, true, true, composed_conv2d);
  // The first layer: its input never requires grad.
  const Result frozen_input = forward_backward(c, kFloat64, false, true, run_conv);
  EXPECT_FALSE(frozen_input.dx.defined());
  EXPECT_TRUE(tensors_close("dw", frozen_input.dw, want.dw, tol));
  EXPECT_TRUE(tensors_close("db", frozen_input.db, want.db, tol));
  // Frozen weights: only dx and db.
  const Result frozen_weight = forward_backward(c, kFloat64, true, false, run_conv);
  EXPECT_FALSE(frozen_weight.dw.defined());
  EXPECT_TRUE(tensors_close("dx", frozen_weight.dx, want.dx, tol));
  // Nothing requires grad: no graph.
  const Tensor out = conv2d(random(c.x, kFloat32, 1, false), random(c.w, kFloat32, 2, false));
  EXPECT_FALSE(out.requires_grad());
}

TEST(Conv2dOp, OneAndTwoThreadsGiveTheSameBits) {
  test::ThreadCountGuard restore;
  for (const Config& c : {configs()[0], configs()[2], configs().back()}) {
    SCOPED_TRACE(c.name);
    set_num_threads(1);
    const Result one = forward_backward(c, kFloat32, true, true, run_conv);
    set_num_threads(2);
    const Result two = forward_backward(c, kFloat32, true, true, run_conv);
    EXPECT_EQ(one.out.to_vector<float>(), two.out.to_vector<float>());
    EXPECT_EQ(one.dx.to_vector<float>(), two.dx.to_vector<float>());
    EXPECT_EQ(one.dw.to_vector<float>(), two.dw.to_vector<float>());
    EXPECT_EQ(one.db.to_vector<float>(), two.db.to_vector<float>());
  }
}

TEST(Conv2dOp, Gradcheck) {
  for (const Config& c : configs()) {
    if (c.name == "many_chunks") continue;  // finite differences on 288000 inputs: too slow
    SCOPED_TRACE(c.name);
    std::vector<Tensor> inputs{random(c.x, kFloat64, 1, c.name != "no_bias"),
                               random(c.w, kFloat64, 2, true)};
    if (c.bias) inputs.push_back(random({c.w[0]}, kFloat64, 3, true));
    const autograd::GradcheckResult result = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return run_conv(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), c);
        },
        inputs);
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(Conv2dOp, SecondDerivatives) {
  // d/d(x, w) of the gradient's norm: goes through the backward taken under create_graph.
  for (const Config& c : {configs()[2], configs()[4]}) {
    SCOPED_TRACE(c.name);
    const autograd::GradcheckResult result = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          const Tensor y = run_conv(in[0], in[1], in[2], c);
          const std::vector<Tensor> g =
              autograd::grad({(y * y).sum()}, {in[0], in[1], in[2]}, {}, true, true);
          return (g[0] * g[0]).sum() + (g[1] * g[1]).sum() + (g[2] * g[2]).sum();
        },
        {random(c.x, kFloat64, 1, true), random(c.w, kFloat64, 2, true),
         random({c.w[0]}, kFloat64, 3, true)});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(Conv2dOp, ErrorsNameTheOperands) {
  const Tensor x = zeros({2, 3, 5, 5}), w = zeros({4, 3, 3, 3});
  EXPECT_THAT([&] { conv2d(x, w, zeros({3})); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("conv2d: expected a bias of shape (4), got (3,)")));
  EXPECT_THAT([&] { conv2d(x, zeros({4, 3, 3, 3}, {.dtype = kFloat64})); },
              ThrowsMessage<DTypeError>(HasSubstr("input float32 and a parameter float64")));
  EXPECT_THAT([&] { conv2d(x, zeros({4, 3, 7, 3})); },
              ThrowsMessage<ShapeError>(HasSubstr("does not fit in an image of size (5, 5)")));
  EXPECT_THAT([&] { conv2d(x, w, {}, {0, 1}); },
              ThrowsMessage<ValueError>(HasSubstr("stride (0, 1)")));
  EXPECT_THAT([&] { raw::conv2d_backward(zeros({2, 4, 5, 5}), x, w, {1, 1}, {0, 0}, {1, 1}, 1,
                                         true, true, true); },
              ThrowsMessage<ShapeError>(
                  HasSubstr("output's shape (2, 4, 3, 3), got (2, 4, 5, 5)")));
}

}  // namespace
}  // namespace ignis

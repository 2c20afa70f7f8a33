// CPU-vs-CUDA parity of conv2d's forward and backward through the CUDA table's whole-
// convolution slots (cuDNN in a build that found it, else the unfold + GEMM path), on the
// Fashion-MNIST CNN's shapes, stride 2, dilation, groups, with and without bias, float32 and
// float64; plus the cuDNN plan cache and run-to-run determinism. Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "cuda/cuda.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/conv.h"
#include "tensor/factory.h"

#ifdef IGNIS_HAVE_CUDNN
#include "cuda/cudnn_conv.h"
#endif

namespace ignis {
namespace {

using test::Tolerance;
using test::normal;
using test::tensors_close;

class CudnnConv : public test::CudaTest {};

struct Case {
  std::string name;
  Shape x, weight;
  std::array<int64_t, 2> stride, padding, dilation;
  int64_t groups;
  bool bias;
};

const std::vector<Case> kCases = {
    {"cnn conv1", {8, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
    {"cnn conv2", {8, 32, 14, 14}, {64, 32, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1, true},
    {"stride 2", {3, 4, 15, 16}, {6, 4, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, true},
    {"stride (2, 1) 5x3", {2, 3, 17, 12}, {5, 3, 5, 3}, {2, 1}, {2, 0}, {1, 1}, 1, false},
    {"dilation 2", {2, 3, 13, 11}, {4, 3, 3, 3}, {1, 1}, {2, 2}, {2, 2}, 1, true},
    {"dilation (2, 3)", {2, 2, 12, 14}, {3, 2, 3, 2}, {1, 2}, {1, 0}, {2, 3}, 1, true},
    {"groups 2", {2, 4, 10, 9}, {6, 2, 3, 3}, {2, 1}, {1, 0}, {1, 1}, 2, false},
    {"depthwise", {2, 8, 9, 9}, {8, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 8, true},
    {"1x1", {4, 16, 7, 7}, {8, 16, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, true}};

struct Result {
  Tensor out, dinput, dweight, dbias;
};

// Forward and backward (every gradient) of case c on the device of the inputs.
Result run(const Case& c, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& dout) {
  Result r;
  r.out = raw::conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
  raw::Conv2dGrads g = raw::conv2d_backward(dout, x, w, c.stride, c.padding, c.dilation,
                                            c.groups, true, true, c.bias);
  r.dinput = g.dinput;
  r.dweight = g.dweight;
  r.dbias = g.dbias;
  return r;
}

struct Inputs {
  Tensor x, w, b, dout;
};

Inputs inputs(const Case& c, DType dtype) {
  Inputs in{normal(c.x, dtype, 11), normal(c.weight, dtype, 12),
            c.bias ? normal({c.weight[0]}, dtype, 13) : Tensor(), Tensor()};
  const Window2d window{.kernel_size = {c.weight[2], c.weight[3]}, .stride = c.stride,
                        .padding = c.padding, .dilation = c.dilation};
  in.dout = normal({c.x[0], c.weight[0], window.output_size(0, c.x[2]),
                    window.output_size(1, c.x[3])},
                   dtype, 14);
  return in;
}

Tensor cuda_or_undefined(const Tensor& t) { return t.defined() ? t.cuda() : Tensor(); }

::testing::AssertionResult close(const std::string& what, const Tensor& gpu, const Tensor& cpu,
                                 Tolerance tol) {
  if (!gpu.defined() && !cpu.defined()) return ::testing::AssertionSuccess();
  if (!gpu.defined() || !gpu.is_cuda()) {
    return ::testing::AssertionFailure() << what << ": result missing or not on CUDA";
  }
  return tensors_close(what, gpu.cpu(), cpu, tol);
}

// Tolerances (|gpu - cpu| <= atol + rtol |cpu|): the two devices sum the same products in
// different orders (cuDNN's algorithms vs the CPU's packed GEMM), so results differ by
// rounding only. The values are N(0, 1) sums of up to 8 * 196 = 1568 products (the CNN's
// dweight), of size ~40: float32 eps 6e-8 times that sum's length bounds the error by about
// 4e-3 worst case, 1e-4 typical; float64 is 2^29 times tighter.
Tolerance tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{1e-4, 1e-3} : Tolerance{1e-11, 1e-10};
}

TEST_F(CudnnConv, ForwardAndBackwardMatchTheCpu) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const Case& c : kCases) {
      const Inputs in = inputs(c, dtype);
      const Result want = run(c, in.x, in.w, in.b, in.dout);
      const Result got =
          run(c, in.x.cuda(), in.w.cuda(), cuda_or_undefined(in.b), in.dout.cuda());
      const std::string what = c.name + " " + dtype_name(dtype) + ": ";
      EXPECT_TRUE(close(what + "out", got.out, want.out, tolerance(dtype)));
      EXPECT_TRUE(close(what + "dinput", got.dinput, want.dinput, tolerance(dtype)));
      EXPECT_TRUE(close(what + "dweight", got.dweight, want.dweight, tolerance(dtype)));
      EXPECT_TRUE(close(what + "dbias", got.dbias, want.dbias, tolerance(dtype)));
    }
  }
}

TEST_F(CudnnConv, OnlyTheGradientsAskedForAreMade) {
  const Case& c = kCases[1];
  const Inputs in = inputs(c, kFloat32);
  const Tensor x = in.x.cuda(), w = in.w.cuda(), dout = in.dout.cuda();
  const raw::Conv2dGrads data_only = raw::conv2d_backward(
      dout, x, w, c.stride, c.padding, c.dilation, c.groups, true, false, false);
  EXPECT_TRUE(data_only.dinput.defined());
  EXPECT_FALSE(data_only.dweight.defined());
  EXPECT_FALSE(data_only.dbias.defined());
  const raw::Conv2dGrads filter_only = raw::conv2d_backward(
      dout, x, w, c.stride, c.padding, c.dilation, c.groups, false, true, false);
  EXPECT_FALSE(filter_only.dinput.defined());
  const Result want = run(c, in.x, in.w, in.b, in.dout);
  EXPECT_TRUE(close("dinput alone", data_only.dinput, want.dinput, tolerance(kFloat32)));
  EXPECT_TRUE(close("dweight alone", filter_only.dweight, want.dweight, tolerance(kFloat32)));
}

// The algorithms are chosen by heuristics and deterministic ones only: two runs give the
// same bits.
TEST_F(CudnnConv, TwoRunsGiveTheSameBits) {
  for (const Case& c : {kCases[1], kCases[6]}) {
    const Inputs in = inputs(c, kFloat32);
    const Tensor x = in.x.cuda(), w = in.w.cuda(), b = cuda_or_undefined(in.b),
                 dout = in.dout.cuda();
    const Result first = run(c, x, w, b, dout), second = run(c, x, w, b, dout);
    EXPECT_TRUE(close(c.name + " out", second.out, first.out.cpu(), {}));
    EXPECT_TRUE(close(c.name + " dinput", second.dinput, first.dinput.cpu(), {}));
    EXPECT_TRUE(close(c.name + " dweight", second.dweight, first.dweight.cpu(), {}));
  }
}

TEST_F(CudnnConv, AlgorithmsAreChosenOncePerShape) {
#ifndef IGNIS_HAVE_CUDNN
  GTEST_SKIP() << "built without cuDNN: conv2d runs on unfold + cuBLAS GEMM";
#else
  const Case& c = kCases[2];
  const Inputs in = inputs(c, kFloat64);
  const Tensor x = in.x.cuda(), w = in.w.cuda(), b = in.b.cuda(), dout = in.dout.cuda();
  run(c, x, w, b, dout);
  const size_t plans = cuda::cudnn_plan_count();
  run(c, x, w, b, dout);
  EXPECT_EQ(cuda::cudnn_plan_count(), plans) << "the same shapes made new plans";
  // Another batch size is another shape: one plan per direction.
  const Tensor x2 = x.narrow(0, 0, 1), dout2 = dout.narrow(0, 0, 1);
  run(c, x2, w, b, dout2);
  EXPECT_EQ(cuda::cudnn_plan_count(), plans + 3);
  // For float32 the TF32 switch is part of the key: turning it on makes a new plan.
  const Inputs in32 = inputs(c, kFloat32);
  const Tensor x32 = in32.x.cuda(), w32 = in32.w.cuda();
  raw::conv2d(x32, w32, {}, c.stride, c.padding, c.dilation, c.groups);
  const size_t before_tf32 = cuda::cudnn_plan_count();
  cuda::set_allow_tf32(true);
  raw::conv2d(x32, w32, {}, c.stride, c.padding, c.dilation, c.groups);
  cuda::set_allow_tf32(false);
  EXPECT_EQ(cuda::cudnn_plan_count(), before_tf32 + 1);
#endif
}

}  // namespace
}  // namespace ignis

// CPU-vs-CUDA parity of the fused optimizer steps (the adam_step and sgd_step slots, through
// optim::Adam, AdamW and SGD): many small parameters (more than one launch holds) and a large
// one, float32 and float64, a few steps, state buffers included. Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/backend.h"
#include "tensor/dispatch.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using test::normal;
using test::Tolerance;

class CudaOptim : public test::CudaTest {};

// Both devices apply the same operations to the same constants rounded the same way; the
// only differences are where each compiler contracts a multiply-add into an FMA (1 ulp per
// operation), which a few steps of Adam's m / (sqrt(v) + eps) amplify by at most ~10.
Tolerance tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{.rtol = 1e-5, .atol = 1e-6}
                           : Tolerance{.rtol = 1e-12, .atol = 1e-13};
}

constexpr int kSteps = 4;

// 60 small parameters (1 to 65 elements, more than one launch's 40) and one of 300k
// elements (many blocks), the same values on both devices.
std::vector<Shape> parameter_shapes() {
  std::vector<Shape> shapes;
  for (int64_t k = 0; k < 60; ++k) {
    shapes.push_back(k % 3 == 0 ? Shape{k + 1} : Shape{k % 5 + 1, 13});
  }
  shapes.push_back({600, 500});
  return shapes;
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// Runs kSteps steps of the optimizer on CPU copies and CUDA copies of the same parameters and
// gradients (step_and_zero_grad(false) on odd steps: the gradients zeroed in the kernel), and
// compares parameters, state and the zeroed gradients.
void expect_parity(const std::string& what, const MakeOptimizer& make, DType dtype) {
  std::vector<Tensor> cpu, gpu;
  const std::vector<Shape> shapes = parameter_shapes();
  for (size_t k = 0; k < shapes.size(); ++k) {
    const Tensor p = normal(shapes[k], dtype, 100 + k);
    cpu.push_back(p.clone().requires_grad_());
    gpu.push_back(p.cuda().requires_grad_());
  }
  const std::unique_ptr<optim::Optimizer> cpu_opt = make(cpu), gpu_opt = make(gpu);
  for (int step = 0; step < kSteps; ++step) {
    for (size_t k = 0; k < shapes.size(); ++k) {
      const Tensor g = normal(shapes[k], dtype, 1000 * (step + 1) + k);
      cpu[k].set_grad(g.clone());
      gpu[k].set_grad(g.cuda());
    }
    const bool fold_zeroing = step % 2 == 1;
    if (fold_zeroing) {
      cpu_opt->step_and_zero_grad(false);
      gpu_opt->step_and_zero_grad(false);
    } else {
      cpu_opt->step();
      gpu_opt->step();
    }
    for (size_t k = 0; k < shapes.size(); ++k) {
      const std::string at = what + " " + dtype_name(dtype) + " step " + std::to_string(step) +
                             " param " + std::to_string(k);
      ASSERT_TRUE(test::tensors_close(at, gpu[k].detach().cpu(), cpu[k].detach(),
                                      tolerance(dtype)));
      if (fold_zeroing) {
        ASSERT_TRUE(test::tensors_close(at + " grad", gpu[k].grad().cpu(),
                                        zeros(shapes[k], {.dtype = dtype}), {}));
      }
    }
  }
  const optim::StateDict cpu_state = cpu_opt->state_dict(), gpu_state = gpu_opt->state_dict();
  ASSERT_EQ(cpu_state.size(), gpu_state.size());
  for (const auto& [key, want] : cpu_state) {
    const Tensor got = gpu_state.at(key);
    EXPECT_TRUE(test::tensors_close(what + " state " + key, got.cpu(), want,
                                    want.dim() == 0 ? Tolerance{} : tolerance(dtype)));
  }
}

// Runs without a GPU: the table is registered when the backend is linked.
TEST(CudaOptimTable, TheCudaTableFillsTheStepSlots) {
  if (!cuda::is_compiled()) GTEST_SKIP() << "built without the CUDA backend";
  EXPECT_NE(kernel_table(DeviceType::CUDA).adam_step, nullptr);
  EXPECT_NE(kernel_table(DeviceType::CUDA).sgd_step, nullptr);
}

TEST_F(CudaOptim, AdamMatchesTheCpu) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const bool amsgrad : {false, true}) {
      for (const bool maximize : {false, true}) {
        const optim::AdamOptions o{.lr = 1e-2, .weight_decay = 1e-2, .amsgrad = amsgrad,
                                   .maximize = maximize};
        expect_parity("Adam amsgrad " + std::to_string(amsgrad) + " maximize " +
                          std::to_string(maximize),
                      [&](std::vector<Tensor> ps) {
                        return std::make_unique<optim::Adam>(std::move(ps), o);
                      },
                      dtype);
      }
    }
    // beta1 > 0.5: the lerp's other branch.
    expect_parity("Adam beta1 0.3",
                  [&](std::vector<Tensor> ps) {
                    return std::make_unique<optim::Adam>(
                        std::move(ps), optim::AdamOptions{.lr = 1e-2, .betas = {0.3, 0.9}});
                  },
                  dtype);
  }
}

TEST_F(CudaOptim, AdamWMatchesTheCpu) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (const bool amsgrad : {false, true}) {
      for (const bool maximize : {false, true}) {
        const optim::AdamWOptions o{.lr = 1e-2, .weight_decay = 0.1, .amsgrad = amsgrad,
                                    .maximize = maximize};
        expect_parity("AdamW amsgrad " + std::to_string(amsgrad) + " maximize " +
                          std::to_string(maximize),
                      [&](std::vector<Tensor> ps) {
                        return std::make_unique<optim::AdamW>(std::move(ps), o);
                      },
                      dtype);
      }
    }
  }
}

TEST_F(CudaOptim, SGDMatchesTheCpu) {
  const std::vector<optim::SGDOptions> cases = {
      {.lr = 0.1},
      {.lr = 0.1, .weight_decay = 1e-2, .maximize = true},
      {.lr = 0.1, .momentum = 0.9},
      {.lr = 0.1, .momentum = 0.9, .dampening = 0.3, .weight_decay = 1e-2},
      {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2, .nesterov = true},
      {.lr = 0.1, .momentum = 0.5, .nesterov = true, .maximize = true}};
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      expect_parity("SGD case " + std::to_string(i),
                    [&](std::vector<Tensor> ps) {
                      return std::make_unique<optim::SGD>(std::move(ps), cases[i]);
                    },
                    dtype);
    }
  }
}

// A gradient shared by two parameters: zeroing it in the kernel would hide it from the
// second parameter, so the step reads it twice and zeroes it afterwards, as the CPU does.
TEST_F(CudaOptim, SharedGradientIsZeroedAfterTheStep) {
  for (const DType dtype : {kFloat32, kFloat64}) {
    const Tensor a = normal({5, 7}, dtype, 1), b = normal({5, 7}, dtype, 2);
    const Tensor g = normal({5, 7}, dtype, 3);
    std::vector<Tensor> cpu = {a.clone().requires_grad_(), b.clone().requires_grad_()};
    std::vector<Tensor> gpu = {a.cuda().requires_grad_(), b.cuda().requires_grad_()};
    const Tensor g_gpu = g.cuda();
    cpu[0].set_grad(g.clone());
    cpu[1].set_grad(cpu[0].grad());
    gpu[0].set_grad(g_gpu);
    gpu[1].set_grad(g_gpu);
    optim::Adam cpu_opt(cpu, {.lr = 1e-2}), gpu_opt(gpu, {.lr = 1e-2});
    cpu_opt.step_and_zero_grad(false);
    gpu_opt.step_and_zero_grad(false);
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_TRUE(test::tensors_close("shared grad param " + std::to_string(k),
                                      gpu[k].detach().cpu(), cpu[k].detach(),
                                      tolerance(dtype)));
    }
    EXPECT_TRUE(test::tensors_close("shared grad", g_gpu.cpu(), zeros({5, 7}, {.dtype = dtype}),
                                    {}));
  }
}

}  // namespace
}  // namespace ignis

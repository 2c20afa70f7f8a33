// CPU-vs-CUDA parity of optim::RMSprop (composed from raw in-place ops, no fused kernel):
// plain, momentum, centered, weight decay and maximize, a few steps on small parameters and a
// large one, float32 and float64: parameters after every step and the final state.
// Not the fused Adam / SGD steps (optim_test.cpp). Skipped without a GPU.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "optim/rmsprop.h"
#include "support/parity.h"
#include "tensor/factory.h"

namespace ignis {
namespace {

using test::normal;
using test::Tolerance;

class CudaRMSprop : public test::ParityTest {};

// Each step's ops round separately on both devices (one kernel per raw op); what differs is
// sqrt and the fused multiply-adds inside addcmul / addcdiv, an ulp per op.
Tolerance tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-12, 1e-13};
}

constexpr int kSteps = 4;

// One scalar-like, two small and one of 300k elements (many blocks).
const std::vector<Shape> kShapes = {{1}, {7}, {5, 13}, {600, 500}};

// kSteps steps of RMSprop on `device`, from the same parameters and gradients on any device:
// the parameters after each step, then the state_dict's tensors (keys in map order), all
// copied to the CPU.
std::vector<Tensor> rmsprop_run(const optim::RMSpropOptions& options, DType dtype,
                                Device device) {
  std::vector<Tensor> params;
  for (size_t k = 0; k < kShapes.size(); ++k) {
    params.push_back(normal(kShapes[k], dtype, 100 + k).to(device).requires_grad_());
  }
  optim::RMSprop optimizer(params, options);
  std::vector<Tensor> results;
  for (int step = 0; step < kSteps; ++step) {
    for (size_t k = 0; k < kShapes.size(); ++k) {
      params[k].set_grad(normal(kShapes[k], dtype, 1000 * (step + 1) + k).to(device));
    }
    optimizer.step();
    for (const Tensor& p : params) results.push_back(p.detach().cpu());
  }
  for (const auto& [key, value] : optimizer.state_dict()) results.push_back(value.cpu());
  return results;
}

TEST_F(CudaRMSprop, StepsMatchTheCpu) {
  const std::vector<optim::RMSpropOptions> cases = {
      {},
      {.lr = 1e-2, .momentum = 0.9},
      {.lr = 1e-2, .centered = true},
      {.lr = 1e-2, .alpha = 0.9, .weight_decay = 1e-2, .momentum = 0.5, .centered = true,
       .maximize = true}};
  for (const DType dtype : {kFloat32, kFloat64}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string what = "RMSprop case " + std::to_string(i) + " " + dtype_name(dtype);
      test::expect_all_close(what, rmsprop_run(cases[i], dtype, device()),
                             rmsprop_run(cases[i], dtype, Device::cpu()), tolerance(dtype));
    }
  }
}

}  // namespace
}  // namespace ignis

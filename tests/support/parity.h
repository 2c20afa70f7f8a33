// The harness of the CPU-vs-CUDA parity tests of composite ops, layers, losses: runs one
// function on CPU inputs and on copies of them on the device, and compares every output and
// the gradient of every floating input. Test support only, header-only; the kernel-slot tests
// (tests/cuda/elementwise_test.cpp ...) compare the raw kernels directly instead.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/backward.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "tensor/device.h"
#include "tensor/tensor.h"

namespace ignis::test {

// The parity tests' fixture: the device compared against the CPU is device() (CUDA), and each
// test skips, saying why, without one (CudaTest).
class ParityTest : public CudaTest {
 protected:
  static Device device() { return Device::cuda(); }
};

// float32: the devices' libm (exp, log, erf, rsqrt) differ by a few ulp and their summation
// trees differ, a few ulp of the summands; float64: the same in 2^-52 units.
inline Tolerance elementwise_tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{1e-5, 1e-5} : Tolerance{1e-12, 1e-12};
}

// Matrix products (cuBLAS against the CPU's GEMM: other blocking, FMA) and normalizations
// (a difference of means over up to a few hundred values, divided by a deviation).
inline Tolerance accumulation_tolerance(DType dtype) {
  return dtype == kFloat32 ? Tolerance{1e-4, 1e-4} : Tolerance{1e-11, 1e-11};
}

// One input of a parity case: a copy of `value` goes to each device; a floating one requires
// grad (its gradient is compared) unless made with constant().
struct ParityInput {
  ParityInput(Tensor v)  // NOLINT: implicit on purpose, so that a list of tensors converts
      : value(std::move(v)), differentiable(value.is_floating_point()) {}
  Tensor value;
  bool differentiable;
};

// An input that is copied but not differentiated: running statistics updated in place, or
// values where the derivative is infinite.
inline ParityInput constant(const Tensor& value) {
  ParityInput input(value);
  input.differentiable = false;
  return input;
}

// The case under test: the inputs (on one device) to the outputs compared.
using ParityOp = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// What one device computed, copied to the CPU: the outputs, then the gradient of each input
// (undefined for an input that is not differentiated, or that no output depends on).
struct ParityResult {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;
};

// Runs `op` on fresh copies of `inputs` on `device` (fresh storage: in-place ops never reach
// the caller's tensors), then backpropagates into the differentiable inputs an N(0, 1)
// gradient drawn from `seed` for each output that requires grad: a weighted sum of the
// outputs, so that a wrong element of any gradient shows. Fails (gtest) when an output is
// not on `device`.
inline ParityResult run_parity_op(const ParityOp& op, const std::vector<ParityInput>& inputs,
                                  Device device, uint64_t seed) {
  std::vector<Tensor> on_device, wrt;
  for (const ParityInput& input : inputs) {
    Tensor copy = input.value.to(device).clone();
    if (input.differentiable) {
      copy.requires_grad_();
      wrt.push_back(copy);
    }
    on_device.push_back(copy);
  }
  const std::vector<Tensor> outputs = op(on_device);
  std::vector<Tensor> roots, grad_outputs;
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_TRUE(outputs[i].device() == device)
        << "output " << i << " is on " << outputs[i].device().str() << ", not " << device.str();
    if (!outputs[i].requires_grad()) continue;
    roots.push_back(outputs[i]);
    grad_outputs.push_back(normal(outputs[i].sizes(), outputs[i].dtype(), seed + i).to(device));
  }
  std::vector<Tensor> wrt_grads(wrt.size());
  if (!roots.empty() && !wrt.empty()) wrt_grads = autograd::grad(roots, wrt, grad_outputs);
  ParityResult result;
  for (const Tensor& out : outputs) result.outputs.push_back(out.detach().cpu());
  size_t k = 0;
  for (const ParityInput& input : inputs) {
    const Tensor g = input.differentiable ? wrt_grads[k++] : Tensor();
    result.grads.push_back(g.defined() ? g.cpu() : Tensor());
  }
  return result;
}

// Every tensor of `got` close to its counterpart in `want` (both undefined counts as equal).
inline void expect_all_close(const std::string& what, const std::vector<Tensor>& got,
                             const std::vector<Tensor>& want, Tolerance tol) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string at = what + " #" + std::to_string(i);
    if (!want[i].defined()) {
      EXPECT_FALSE(got[i].defined()) << at << ": defined on the device, undefined on the CPU";
      continue;
    }
    EXPECT_TRUE(tensors_close(at, got[i], want[i], tol));
  }
}

// The parity check: `op` on the CPU and on `device`, outputs ("<what> output #i") and input
// gradients ("<what> grad #i") within `tol`. Returns the device's result for further checks.
inline ParityResult expect_parity(const std::string& what, const ParityOp& op,
                                  const std::vector<ParityInput>& inputs, Device device,
                                  Tolerance tol, uint64_t seed = 1000) {
  const ParityResult want = run_parity_op(op, inputs, Device::cpu(), seed);
  const ParityResult got = run_parity_op(op, inputs, device, seed);
  expect_all_close(what + " output", got.outputs, want.outputs, tol);
  expect_all_close(what + " grad", got.grads, want.grads, tol);
  return got;
}

}  // namespace ignis::test

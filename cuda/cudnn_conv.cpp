// cuDNN kernels of the conv2d_forward / conv2d_backward_data / conv2d_backward_filter slots
// (tensor/dispatch.h): NCHW, float32 and float64, groups, stride, padding, dilation. Not the
// argument checks (raw::conv2d) nor the generic unfold + GEMM path (tensor/conv.cpp). Built
// only when CMake finds cuDNN; without it the slots stay empty and conv2d takes that path.
//
// Algorithms are chosen once per (direction, device, dtype, math, shapes, window, groups) and
// kept, with their descriptors, in a plan cache:
// - by cuDNN's heuristics (cudnnGet*Algorithm_v7), not by cudnnFind*: Find times the
//   candidates, so its choice (and with it the rounding) could change from run to run;
// - only algorithms cuDNN reports as deterministic (backward data and filter have
//   non-deterministic ones, which add with floating-point atomics), so a run's gradients are
//   bit-identical to the previous run's;
// - float32 with FMA math only (no TF32 tensor cores) unless allow_tf32() (cuda/cuda.h) is on,
//   as the cuBLAS GEMM, so results match the CPU's to float32 rounding;
// - with a workspace of at most kMaxWorkspaceBytes, taken from the caching allocator.
#include <cudnn.h>

#include <climits>
#include <cstddef>
#include <map>
#include <mutex>
#include <source_location>
#include <string>
#include <vector>

#include "cuda/cudnn_conv.h"

#include "cuda/cuda.h"
#include "cuda/kernels.h"
#include "cuda/runtime.h"
#include "tensor/error.h"

namespace ignis::cuda {
namespace {

// Algorithms that need more scratch memory are skipped (FFT ones can ask for gigabytes).
constexpr size_t kMaxWorkspaceBytes = size_t{1} << 30;

enum class Direction { Forward, BackwardData, BackwardFilter };

const char* op_name(Direction d) {
  switch (d) {
    case Direction::Forward: return "conv2d";
    case Direction::BackwardData: return "conv2d_backward_data";
    case Direction::BackwardFilter: return "conv2d_backward_filter";
  }
  return "conv2d";
}

// One call's sizes: x (N, C, H, W), weight (O, C / groups, kh, kw), y (N, O, oh, ow).
struct ConvShape {
  Direction direction;
  int device;
  DType dtype;
  bool tf32;  // float32 that may use TF32 tensor cores (always false for float64)
  Shape x, weight, y;
  Window2d window;
  int64_t groups;

  // The plan cache's key: every field above.
  std::vector<int64_t> key() const {
    std::vector<int64_t> k{static_cast<int64_t>(direction), device,
                           static_cast<int64_t>(dtype), tf32 ? 1 : 0, groups};
    for (const Shape* s : {&x, &weight, &y}) k.insert(k.end(), s->begin(), s->end());
    for (int d = 0; d < 2; ++d) {
      k.insert(k.end(), {window.stride[d], window.padding[d], window.dilation[d]});
    }
    return k;
  }

  // "input (2, 3, 8, 8), weight (4, 3, 3, 3), output (2, 4, 8, 8), stride (1, 1), ..."
  std::string str() const {
    return "input " + shape_str(x) + ", weight " + shape_str(weight) + ", output " +
           shape_str(y) + ", stride " + shape_str({window.stride[0], window.stride[1]}) +
           ", padding " + shape_str({window.padding[0], window.padding[1]}) + ", dilation " +
           shape_str({window.dilation[0], window.dilation[1]}) + ", groups " +
           std::to_string(groups) + ", " + dtype_name(dtype);
  }
};

// Throws DeviceError "<op>: <call>: <cuDNN status> for <sizes> (file:line)".
void check_cudnn(cudnnStatus_t status, const char* call, const ConvShape& s,
                 std::source_location loc = std::source_location::current()) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  throw DeviceError(std::string(op_name(s.direction)) + ": " + call + ": " +
                    cudnnGetErrorString(status) + " for " + s.str() + " (" + loc.file_name() +
                    ":" + std::to_string(loc.line()) + ")");
}

int checked_int(int64_t v, const ConvShape& s) {
  if (v < 0 || v > INT_MAX) {
    throw DeviceError(std::string(op_name(s.direction)) + ": size " + std::to_string(v) +
                      " exceeds cuDNN's int range, for " + s.str());
  }
  return static_cast<int>(v);
}

// The descriptors and the chosen algorithm of one ConvShape.
// NOTE: plans live as long as the program and their descriptors are never destroyed, as the
// handles: destroying them at exit could run after the driver has unloaded. A plan whose
// making throws leaks the few descriptors made so far (an error path that ends the op).
struct Plan {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;  // bias (1, O, 1, 1)
  cudnnFilterDescriptor_t weight = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int algo = 0;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, by direction
  size_t workspace_bytes = 0;
};

cudnnTensorDescriptor_t tensor_descriptor(const Shape& sizes, cudnnDataType_t type,
                                          const ConvShape& s) {
  cudnnTensorDescriptor_t d = nullptr;
  check_cudnn(cudnnCreateTensorDescriptor(&d), "cudnnCreateTensorDescriptor", s);
  check_cudnn(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, type, checked_int(sizes[0], s),
                                         checked_int(sizes[1], s), checked_int(sizes[2], s),
                                         checked_int(sizes[3], s)),
              "cudnnSetTensor4dDescriptor", s);
  return d;
}

// Whether a candidate's math keeps float32 results within float32 rounding of the CPU's:
// never conversions to half precision, TF32 tensor cores only when allowed.
bool math_allowed(cudnnMathType_t math, const ConvShape& s) {
  if (math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;
  return math != CUDNN_TENSOR_OP_MATH || s.dtype == kFloat64 || s.tf32;
}

// The first of cuDNN's ranked candidates that succeeded, is deterministic, uses allowed math
// and a workspace within the limit that `workspace_size(algo, &bytes)` confirms for the plan's
// descriptors. Throws DeviceError when none qualifies.
template <typename Perf, typename WorkspaceSize>
void choose(const std::vector<Perf>& candidates, int count, const ConvShape& s, Plan& plan,
            WorkspaceSize&& workspace_size) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = candidates[static_cast<size_t>(i)];
    if (p.status != CUDNN_STATUS_SUCCESS || p.determinism != CUDNN_DETERMINISTIC ||
        !math_allowed(p.mathType, s) || p.memory > kMaxWorkspaceBytes) {
      continue;
    }
    size_t bytes = 0;
    if (workspace_size(p.algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > kMaxWorkspaceBytes) {
      continue;
    }
    plan.algo = static_cast<int>(p.algo);
    plan.workspace_bytes = bytes;
    return;
  }
  throw DeviceError(std::string(op_name(s.direction)) + ": cuDNN offers no deterministic " +
                    "algorithm within a " + std::to_string(kMaxWorkspaceBytes >> 20) +
                    " MiB workspace among its " + std::to_string(count) + " candidates, for " +
                    s.str());
}

Plan make_plan(cudnnHandle_t h, const ConvShape& s) {
  const cudnnDataType_t type = s.dtype == kFloat32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
  Plan plan;
  plan.x = tensor_descriptor(s.x, type, s);
  plan.y = tensor_descriptor(s.y, type, s);
  if (s.direction == Direction::Forward) {
    plan.bias = tensor_descriptor({1, s.y[1], 1, 1}, type, s);
  }
  check_cudnn(cudnnCreateFilterDescriptor(&plan.weight), "cudnnCreateFilterDescriptor", s);
  check_cudnn(cudnnSetFilter4dDescriptor(plan.weight, type, CUDNN_TENSOR_NCHW,
                                         checked_int(s.weight[0], s), checked_int(s.weight[1], s),
                                         checked_int(s.weight[2], s), checked_int(s.weight[3], s)),
              "cudnnSetFilter4dDescriptor", s);
  const Window2d& w = s.window;
  check_cudnn(cudnnCreateConvolutionDescriptor(&plan.conv), "cudnnCreateConvolutionDescriptor",
              s);
  check_cudnn(cudnnSetConvolution2dDescriptor(
                  plan.conv, checked_int(w.padding[0], s), checked_int(w.padding[1], s),
                  checked_int(w.stride[0], s), checked_int(w.stride[1], s),
                  checked_int(w.dilation[0], s), checked_int(w.dilation[1], s),
                  CUDNN_CROSS_CORRELATION, type),
              "cudnnSetConvolution2dDescriptor", s);
  check_cudnn(cudnnSetConvolutionGroupCount(plan.conv, checked_int(s.groups, s)),
              "cudnnSetConvolutionGroupCount", s);
  // FMA math excludes TF32 tensor cores for float32; float64 may use FP64 tensor cores.
  const cudnnMathType_t math =
      s.dtype == kFloat32 && !s.tf32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
  check_cudnn(cudnnSetConvolutionMathType(plan.conv, math), "cudnnSetConvolutionMathType", s);

  int max_count = 0, count = 0;
  switch (s.direction) {
    case Direction::Forward: {
      check_cudnn(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count),
                  "cudnnGetConvolutionForwardAlgorithmMaxCount", s);
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(max_count));
      check_cudnn(cudnnGetConvolutionForwardAlgorithm_v7(h, plan.x, plan.weight, plan.conv,
                                                         plan.y, max_count, &count, perf.data()),
                  "cudnnGetConvolutionForwardAlgorithm_v7", s);
      choose(perf, count, s, plan, [&](cudnnConvolutionFwdAlgo_t algo, size_t* bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, plan.x, plan.weight, plan.conv,
                                                       plan.y, algo, bytes);
      });
      break;
    }
    case Direction::BackwardData: {
      check_cudnn(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count),
                  "cudnnGetConvolutionBackwardDataAlgorithmMaxCount", s);
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(max_count));
      check_cudnn(cudnnGetConvolutionBackwardDataAlgorithm_v7(
                      h, plan.weight, plan.y, plan.conv, plan.x, max_count, &count, perf.data()),
                  "cudnnGetConvolutionBackwardDataAlgorithm_v7", s);
      choose(perf, count, s, plan, [&](cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h, plan.weight, plan.y, plan.conv,
                                                            plan.x, algo, bytes);
      });
      break;
    }
    case Direction::BackwardFilter: {
      check_cudnn(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count),
                  "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount", s);
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(max_count));
      check_cudnn(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                      h, plan.x, plan.y, plan.conv, plan.weight, max_count, &count, perf.data()),
                  "cudnnGetConvolutionBackwardFilterAlgorithm_v7", s);
      choose(perf, count, s, plan, [&](cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, plan.x, plan.y, plan.conv,
                                                              plan.weight, algo, bytes);
      });
      break;
    }
  }
  return plan;
}

// The cuDNN state: one handle per device (created on first use, never destroyed) and the
// plans. One mutex guards both and is held through each call, as a handle must not be used
// by two threads at once; it is taken once per convolution, never per element.
class Cudnn {
 public:
  static Cudnn& instance() {
    static Cudnn cudnn;
    return cudnn;
  }

  // Runs `body(handle, plan)` for s, under the lock, with the handle bound to the device's
  // stream (cuda/runtime.h) so the call is ordered with the rest of ignis's work.
  template <typename Body>
  void run(const ConvShape& s, Body&& body) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (handles_.empty()) handles_.resize(static_cast<size_t>(device_count_or_zero()), nullptr);
    check_device_index(s.device, op_name(s.direction));
    cudnnHandle_t& h = handles_[static_cast<size_t>(s.device)];
    if (h == nullptr) check_cudnn(cudnnCreate(&h), "cudnnCreate", s);
    check_cudnn(cudnnSetStream(h, stream(s.device)), "cudnnSetStream", s);
    const std::vector<int64_t> key = s.key();
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(key, make_plan(h, s)).first;
    body(h, it->second);
  }

  size_t plan_count() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return plans_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<cudnnHandle_t> handles_;
  std::map<std::vector<int64_t>, Plan> plans_;
};

ConvShape conv_shape(Direction direction, const Tensor& x, const Tensor& weight,
                     const Tensor& y, const Window2d& window, int64_t groups) {
  return ConvShape{.direction = direction, .device = x.device().index, .dtype = x.dtype(),
                   .tf32 = x.dtype() == kFloat32 && allow_tf32(), .x = x.sizes(),
                   .weight = weight.sizes(), .y = y.sizes(), .window = window,
                   .groups = groups};
}

// cuDNN's alpha and beta: float for float32 data, double for float64.
struct Blend {
  float f32[2] = {0.0f, 1.0f};
  double f64[2] = {0.0, 1.0};
  DType dtype;
  const void* zero() const { return pick(0); }
  const void* one() const { return pick(1); }
  const void* pick(int i) const {
    return dtype == kFloat32 ? static_cast<const void*>(&f32[i]) : &f64[i];
  }
};

// Scratch memory from the caching allocator, freed (back to its bin) when the call returns:
// later work on the stream runs after the cuDNN kernel that uses it.
Tensor workspace(const Plan& plan, Device device) {
  if (plan.workspace_bytes == 0) return Tensor();
  return make_tensor({static_cast<int64_t>(plan.workspace_bytes)}, kUInt8, device);
}

void* workspace_ptr(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

}  // namespace

size_t cudnn_plan_count() { return Cudnn::instance().plan_count(); }

// out = conv2d(x, weight) + bias, by cudnnConvolutionForward (beta 0) then cudnnAddTensor.
void conv2d_forward_cuda(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& out, const Window2d& window, int64_t groups) {
  const ConvShape s = conv_shape(Direction::Forward, x, weight, out, window, groups);
  DeviceGuard guard(x.device());
  const Blend blend{.dtype = x.dtype()};
  Cudnn::instance().run(s, [&](cudnnHandle_t h, const Plan& plan) {
    const Tensor scratch = workspace(plan, x.device());
    check_cudnn(cudnnConvolutionForward(h, blend.one(), plan.x, x.raw_data(), plan.weight,
                                        weight.raw_data(), plan.conv,
                                        static_cast<cudnnConvolutionFwdAlgo_t>(plan.algo),
                                        workspace_ptr(scratch), plan.workspace_bytes,
                                        blend.zero(), plan.y, out.raw_data()),
                "cudnnConvolutionForward", s);
    if (bias.defined()) {
      check_cudnn(cudnnAddTensor(h, blend.one(), plan.bias, bias.raw_data(), blend.one(),
                                 plan.y, out.raw_data()),
                  "cudnnAddTensor", s);
    }
  });
}

// dinput = the adjoint of the forward applied to dout, by cudnnConvolutionBackwardData.
void conv2d_backward_data_cuda(const Tensor& dout, const Tensor& weight, const Tensor& dinput,
                               const Window2d& window, int64_t groups) {
  const ConvShape s = conv_shape(Direction::BackwardData, dinput, weight, dout, window, groups);
  DeviceGuard guard(dinput.device());
  const Blend blend{.dtype = dinput.dtype()};
  Cudnn::instance().run(s, [&](cudnnHandle_t h, const Plan& plan) {
    const Tensor scratch = workspace(plan, dinput.device());
    check_cudnn(cudnnConvolutionBackwardData(
                    h, blend.one(), plan.weight, weight.raw_data(), plan.y, dout.raw_data(),
                    plan.conv, static_cast<cudnnConvolutionBwdDataAlgo_t>(plan.algo),
                    workspace_ptr(scratch), plan.workspace_bytes, blend.zero(), plan.x,
                    dinput.raw_data()),
                "cudnnConvolutionBackwardData", s);
  });
}

// dweight = sum over samples and positions of dout x-patch products, by
// cudnnConvolutionBackwardFilter.
void conv2d_backward_filter_cuda(const Tensor& dout, const Tensor& x, const Tensor& dweight,
                                 const Window2d& window, int64_t groups) {
  const ConvShape s = conv_shape(Direction::BackwardFilter, x, dweight, dout, window, groups);
  DeviceGuard guard(x.device());
  const Blend blend{.dtype = x.dtype()};
  Cudnn::instance().run(s, [&](cudnnHandle_t h, const Plan& plan) {
    const Tensor scratch = workspace(plan, x.device());
    check_cudnn(cudnnConvolutionBackwardFilter(
                    h, blend.one(), plan.x, x.raw_data(), plan.y, dout.raw_data(), plan.conv,
                    static_cast<cudnnConvolutionBwdFilterAlgo_t>(plan.algo),
                    workspace_ptr(scratch), plan.workspace_bytes, blend.zero(), plan.weight,
                    dweight.raw_data()),
                "cudnnConvolutionBackwardFilter", s);
  });
}

}  // namespace ignis::cuda

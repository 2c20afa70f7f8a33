// CUDA kernels of the adam_step / sgd_step slots: fused optimizer steps over many parameters
// in a few launches. Not the update rules' definition (optim/adam.h, optim/sgd.h) nor the
// choice of which parameters are fused (optim/multi_tensor.h).
//
// A launch takes up to kSegments parameters as one kernel argument (no table to copy, no
// allocation): their elements are laid end to end and cut into chunks of kChunk, one block
// per chunk (a grid-stride loop past kMaxGrid). A block finds the segment of its first
// element once, then walks forward. More parameters: several launches on the one stream.
// The arithmetic of an element is the CPU loop's, operation by operation, on the same
// constants rounded to the dtype the same way.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/runtime.h"

namespace ignis::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = int64_t{kThreads} * 8;  // elements per block
constexpr int64_t kMaxGrid = int64_t{1} << 16;    // more chunks loop over the grid
// Parameters per launch: the argument stays under the classic 4 KiB kernel-argument limit.
constexpr int kSegments = 40;

// Adam's constants, rounded to T as the CPU loop rounds them (adam.cpp adam_constants).
template <typename T>
struct AdamConstantsT {
  bool maximize, l2, decay, lerp_small;
  T weight_decay, decay_factor, weight, one_minus_weight, beta2, one_minus_beta2, eps;
};

template <typename T>
struct AdamSegmentT {
  T* p;      // parameter
  T* g;      // gradient
  T* m;      // exp_avg
  T* v;      // exp_avg_sq
  T* v_max;  // max_exp_avg_sq (amsgrad), else null
  T bias_correction2_sqrt, neg_step_size;
};

// torch.maximum: NaN in either operand gives NaN (the CPU loop's nan_max).
template <typename T>
__device__ T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

template <typename T>
__device__ T sqrt_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return sqrtf(x);
  } else {
    return sqrt(x);
  }
}

// Element i of an Adam segment: adam.cpp's adam_chunk, line for line.
template <typename T, bool kAmsgrad, bool kZeroGrad>
struct AdamUpdate {
  using Segment = AdamSegmentT<T>;
  using Constants = AdamConstantsT<T>;
  __device__ static void apply(const Segment& s, int64_t i, const Constants& c) {
    T g = c.maximize ? -s.g[i] : s.g[i];
    if constexpr (kZeroGrad) s.g[i] = T(0);
    T pi = s.p[i];
    if (c.decay) pi = pi * c.decay_factor;
    if (c.l2) g = g + c.weight_decay * pi;
    const T m_old = s.m[i];
    const T diff = g - m_old;
    const T mi = c.lerp_small ? m_old + c.weight * diff : g - diff * c.one_minus_weight;
    const T vi = s.v[i] * c.beta2 + c.one_minus_beta2 * g * g;
    s.m[i] = mi;
    s.v[i] = vi;
    T v_used = vi;
    if constexpr (kAmsgrad) {
      v_used = nan_max(s.v_max[i], vi);
      s.v_max[i] = v_used;
    }
    const T denom = sqrt_of(v_used) / s.bias_correction2_sqrt + c.eps;
    s.p[i] = pi + s.neg_step_size * (mi / denom);
  }
};

// SGD's constants, rounded to T as the CPU loop rounds them (sgd.cpp).
template <typename T>
struct SGDConstantsT {
  bool maximize, l2, nesterov;
  T weight_decay, momentum, one_minus_dampening, neg_lr;
};

template <typename T>
struct SGDSegmentT {
  T* p;    // parameter
  T* g;    // gradient
  T* buf;  // momentum_buffer (with momentum), else null
  bool first_step;
};

// Element i of an SGD segment: sgd.cpp's sgd_chunk, line for line.
template <typename T, bool kMomentum, bool kZeroGrad>
struct SGDUpdate {
  using Segment = SGDSegmentT<T>;
  using Constants = SGDConstantsT<T>;
  __device__ static void apply(const Segment& s, int64_t i, const Constants& c) {
    T d = c.maximize ? -s.g[i] : s.g[i];
    if constexpr (kZeroGrad) s.g[i] = T(0);
    if (c.l2) d = d + c.weight_decay * s.p[i];
    if constexpr (kMomentum) {
      const T b = s.first_step ? d : s.buf[i] * c.momentum + c.one_minus_dampening * d;
      s.buf[i] = b;
      d = c.nesterov ? d + c.momentum * b : b;
    }
    s.p[i] = s.p[i] + c.neg_lr * d;
  }
};

// Up to kSegments segments of one launch, laid end to end.
template <typename Update>
struct SegmentBatch {
  typename Update::Segment segments[kSegments];
  int64_t starts[kSegments + 1];  // starts[s]: first element of segment s; starts[count]: total
  int count;
  typename Update::Constants c;
};

// The one skeleton of both steps. NOTE: __grid_constant__ keeps the argument in parameter
// space, so indexing its arrays with a run-time index copies nothing to local memory.
template <typename Update>
__global__ void segments_kernel(const __grid_constant__ SegmentBatch<Update> batch) {
  const int64_t total = batch.starts[batch.count];
  for (int64_t chunk = blockIdx.x; chunk * kChunk < total; chunk += gridDim.x) {
    const int64_t lo = chunk * kChunk;
    const int64_t hi = lo + kChunk < total ? lo + kChunk : total;
    int s = 0;  // the segment holding element lo (the last start <= lo: skips empty ones)
    while (batch.starts[s + 1] <= lo) ++s;
    for (int64_t e = lo + threadIdx.x; e < hi; e += kThreads) {
      while (batch.starts[s + 1] <= e) ++s;
      Update::apply(batch.segments[s], e - batch.starts[s], batch.c);
    }
  }
}

// Launches `Update` over `segments` in batches of kSegments, converting each with
// to_segment(segment) -> Update::Segment.
template <typename Update, typename In, typename Convert>
void launch_batches(Device device, std::span<const In> segments,
                    const typename Update::Constants& c, Convert to_segment, const char* name) {
  DeviceGuard guard(device);
  const cudaStream_t s = stream(device.index);
  for (size_t first = 0; first < segments.size(); first += kSegments) {
    SegmentBatch<Update> batch{};
    batch.c = c;
    const size_t count = std::min<size_t>(kSegments, segments.size() - first);
    batch.count = static_cast<int>(count);
    for (size_t k = 0; k < count; ++k) {
      batch.segments[k] = to_segment(segments[first + k]);
      batch.starts[k + 1] = batch.starts[k] + segments[first + k].numel;
    }
    const int64_t chunks = (batch.starts[count] + kChunk - 1) / kChunk;
    if (chunks == 0) continue;
    segments_kernel<Update>
        <<<static_cast<unsigned>(std::min(chunks, kMaxGrid)), kThreads, 0, s>>>(batch);
    check_launch(name);
  }
}

template <typename T>
AdamConstantsT<T> round_constants(const AdamStepConstants& c) {
  return {.maximize = c.maximize,
          .l2 = c.l2,
          .decay = c.decay,
          .lerp_small = c.lerp_small,
          .weight_decay = static_cast<T>(c.weight_decay),
          .decay_factor = static_cast<T>(c.decay_factor),
          .weight = static_cast<T>(c.weight),
          .one_minus_weight = static_cast<T>(c.one_minus_weight),
          .beta2 = static_cast<T>(c.beta2),
          .one_minus_beta2 = static_cast<T>(c.one_minus_beta2),
          .eps = static_cast<T>(c.eps)};
}

template <typename T>
SGDConstantsT<T> round_constants(const SGDStepConstants& c) {
  return {.maximize = c.maximize,
          .l2 = c.l2,
          .nesterov = c.nesterov,
          .weight_decay = static_cast<T>(c.weight_decay),
          .momentum = static_cast<T>(c.momentum_factor),
          .one_minus_dampening = static_cast<T>(c.one_minus_dampening),
          .neg_lr = static_cast<T>(c.neg_lr)};
}

template <typename T, bool kAmsgrad, bool kZeroGrad>
void adam_step_typed(Device device, const AdamStepConstants& c,
                     std::span<const AdamStepSegment> segments) {
  launch_batches<AdamUpdate<T, kAmsgrad, kZeroGrad>>(
      device, segments, round_constants<T>(c),
      [](const AdamStepSegment& s) {
        return AdamSegmentT<T>{.p = static_cast<T*>(s.param),
                               .g = static_cast<T*>(s.grad),
                               .m = static_cast<T*>(s.exp_avg),
                               .v = static_cast<T*>(s.exp_avg_sq),
                               .v_max = static_cast<T*>(s.max_exp_avg_sq),
                               .bias_correction2_sqrt = static_cast<T>(s.bias_correction2_sqrt),
                               .neg_step_size = static_cast<T>(s.neg_step_size)};
      },
      "adam_step segments_kernel");
}

template <typename T, bool kMomentum, bool kZeroGrad>
void sgd_step_typed(Device device, const SGDStepConstants& c,
                    std::span<const SGDStepSegment> segments) {
  launch_batches<SGDUpdate<T, kMomentum, kZeroGrad>>(
      device, segments, round_constants<T>(c),
      [](const SGDStepSegment& s) {
        return SGDSegmentT<T>{.p = static_cast<T*>(s.param),
                              .g = static_cast<T*>(s.grad),
                              .buf = static_cast<T*>(s.momentum_buffer),
                              .first_step = s.first_step};
      },
      "sgd_step segments_kernel");
}

}  // namespace

void adam_step_cuda(Device device, DType dtype, const AdamStepConstants& c,
                    std::span<const AdamStepSegment> segments, bool zero_grads) {
  visit_floating(dtype, "adam_step", [&]<typename T>() {
    if (c.amsgrad) {
      zero_grads ? adam_step_typed<T, true, true>(device, c, segments)
                 : adam_step_typed<T, true, false>(device, c, segments);
    } else {
      zero_grads ? adam_step_typed<T, false, true>(device, c, segments)
                 : adam_step_typed<T, false, false>(device, c, segments);
    }
  });
}

void sgd_step_cuda(Device device, DType dtype, const SGDStepConstants& c,
                   std::span<const SGDStepSegment> segments, bool zero_grads) {
  visit_floating(dtype, "sgd_step", [&]<typename T>() {
    if (c.momentum) {
      zero_grads ? sgd_step_typed<T, true, true>(device, c, segments)
                 : sgd_step_typed<T, true, false>(device, c, segments);
    } else {
      zero_grads ? sgd_step_typed<T, false, true>(device, c, segments)
                 : sgd_step_typed<T, false, false>(device, c, segments);
    }
  });
}

}  // namespace ignis::cuda

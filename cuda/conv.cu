// CUDA kernels of unfold (im2col) and fold (col2im) for tensor/conv.h. Not the argument
// checks (tensor/conv.cpp, which hands over contiguous tensors only) nor convolution itself
// (autograd/ composes it from unfold and a matmul).
//
// fold is written as a gather, one thread per output pixel summing the column entries that
// read it, in increasing window position (i, j) from 0: the CPU kernel's order for that pixel,
// so both devices give the same bits and no atomics are needed.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"

namespace ignis::cuda {
namespace {

constexpr int kThreads = 256;
// One thread per element of y (planes, kh kw, oh ow): the pixel of x (planes, H, W) that
// window tap (i, j) at position (oy, ox) reads, or 0 in the padding.
template <typename T>
__global__ void unfold_kernel(const T* x, T* y, WindowGeometry g, int64_t total) {
  const int64_t L = g.oh * g.ow;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t l = t % L;
    const int64_t tap = (t / L) % (g.kh * g.kw);
    const int64_t plane = t / (L * g.kh * g.kw);
    const int64_t yy = (l / g.ow) * g.sh - g.ph + (tap / g.kw) * g.dh;
    const int64_t xx = (l % g.ow) * g.sw - g.pw + (tap % g.kw) * g.dw;
    const bool inside = yy >= 0 && yy < g.H && xx >= 0 && xx < g.W;
    y[t] = inside ? x[(plane * g.H + yy) * g.W + xx] : T(0);
  }
}

// One thread per pixel of y (planes, H, W): the sum of the entries of x (planes, kh kw, oh ow)
// that unfold would have read from it, taps (i, j) in increasing order.
template <typename T>
__global__ void fold_kernel(const T* x, T* y, WindowGeometry g, int64_t total) {
  const int64_t L = g.oh * g.ow;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t xx = t % g.W;
    const int64_t yy = (t / g.W) % g.H;
    const T* cols = x + (t / (g.H * g.W)) * g.kh * g.kw * L;
    T acc = T(0);
    for (int64_t i = 0; i < g.kh; ++i) {
      // yy = oy * sh - ph + i * dh for a whole oy in [0, oh), or tap row i misses this pixel.
      const int64_t ys = yy + g.ph - i * g.dh;
      if (ys < 0 || ys % g.sh != 0 || ys / g.sh >= g.oh) continue;
      const int64_t oy = ys / g.sh;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t xs = xx + g.pw - j * g.dw;
        if (xs < 0 || xs % g.sw != 0 || xs / g.sw >= g.ow) continue;
        acc += cols[(i * g.kw + j) * L + oy * g.ow + xs / g.sw];
      }
    }
    y[t] = acc;
  }
}

}  // namespace

// in (N, C, H, W) contiguous -> out (N, C kh kw, oh ow) contiguous, any dtype; padding taps 0.
void unfold_cuda(const Tensor& in, const Tensor& out, const Window2d& window) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, in.size(2), in.size(3));
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_dtype(in.dtype(), [&]<typename T>() {
    unfold_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(cuda::device_data<T>(in), cuda::device_data<T>(out), g,
                                                       total);
    check_launch("unfold_kernel");
  });
}

// in (N, C kh kw, oh ow) contiguous -> out (N, C, H, W) contiguous, overwritten; floating.
void fold_cuda(const Tensor& in, const Tensor& out, const Window2d& window) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, out.size(2), out.size(3));
  DeviceGuard guard(out.device());
  const cudaStream_t s = stream(out.device().index);
  visit_floating(in.dtype(), "fold", [&]<typename T>() {
    fold_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(cuda::device_data<T>(in), cuda::device_data<T>(out), g,
                                                     total);
    check_launch("fold_kernel");
  });
}

}  // namespace ignis::cuda

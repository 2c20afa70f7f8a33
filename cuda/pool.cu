// CUDA kernels of max_pool2d and avg_pool2d, forward and backward (tensor/pool.h). Not the
// argument checks: tensor/pool.cpp hands over checked, contiguous tensors.
//
// Forwards: one thread per window position, scanning its taps in the CPU's row-major order
// with the CPU's comparison, so values and indices are bit-identical. Backwards are written
// as gathers: one thread per input pixel adds the gradients of the windows that cover it, in
// increasing window position, the order in which the CPU adds them: same bits, no atomics.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cuda/kernels.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"

namespace ignis::cuda {
namespace {

constexpr int kThreads = 256;

__device__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// The window positions o along one axis whose taps cover coordinate c: o in [first, last]
// with c = o s - p + t d for a tap t in [0, k); visit(o, t) for each, o increasing.
template <typename Visit>
__device__ void for_each_cover(int64_t c, int64_t k, int64_t s, int64_t p, int64_t d,
                               int64_t positions, Visit&& visit) {
  // o s = c + p - t d: t decreasing gives o increasing.
  for (int64_t t = k - 1; t >= 0; --t) {
    const int64_t num = c + p - t * d;
    if (num < 0 || num % s != 0 || num / s >= positions) continue;
    visit(num / s, t);
  }
}

// One thread per element of values/indices (planes, oh, ow).
template <typename T>
__global__ void max_pool2d_kernel(const T* x, T* values, int64_t* indices, WindowGeometry g,
                                  int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t ox = t % g.ow;
    const int64_t oy = (t / g.ow) % g.oh;
    const T* plane = x + (t / (g.oh * g.ow)) * g.H * g.W;
    T m = T(0);
    int64_t at = -1;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t y = oy * g.sh - g.ph + i * g.dh;
      if (y < 0 || y >= g.H) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t xx = ox * g.sw - g.pw + j * g.dw;
        if (xx < 0 || xx >= g.W) continue;
        const T v = plane[y * g.W + xx];
        // The CPU's rule: v replaces m when larger, or when it is the first NaN.
        if (at < 0 || (!(v <= m) && m == m)) {
          m = v;
          at = y * g.W + xx;
        }
      }
    }
    values[t] = at < 0 ? minus_infinity<T>() : m;
    indices[t] = at;
  }
}

// One thread per pixel of dx (planes, H, W): the sum of the gradients of the windows whose
// index picked it, in increasing window position.
template <typename T>
__global__ void max_pool2d_backward_kernel(const T* dout, const int64_t* indices, T* dx,
                                           WindowGeometry g, int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t pixel = t % (g.H * g.W);
    const int64_t y = pixel / g.W, xx = pixel % g.W;
    const int64_t base = (t / (g.H * g.W)) * g.oh * g.ow;
    T acc = T(0);
    for_each_cover(y, g.kh, g.sh, g.ph, g.dh, g.oh, [&](int64_t oy, int64_t) {
      for_each_cover(xx, g.kw, g.sw, g.pw, g.dw, g.ow, [&](int64_t ox, int64_t) {
        const int64_t q = base + oy * g.ow + ox;
        if (indices[q] == pixel) acc += dout[q];
      });
    });
    dx[t] = acc;
  }
}

// The number avg_pool2d divides window (oy, ox) by.
__device__ int64_t avg_divisor(const WindowGeometry& g, int64_t oy, int64_t ox,
                               bool count_include_pad) {
  if (count_include_pad) return g.kh * g.kw;
  const int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
  const int64_t rows = min64(y0 + g.kh, g.H) - max64(y0, 0);
  const int64_t cols = min64(x0 + g.kw, g.W) - max64(x0, 0);
  return rows * cols;
}

// One thread per element of y (planes, oh, ow): the window's in-image sum, row-major.
template <typename T>
__global__ void avg_pool2d_kernel(const T* x, T* y, WindowGeometry g, bool count_include_pad,
                                  int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t ox = t % g.ow;
    const int64_t oy = (t / g.ow) % g.oh;
    const T* plane = x + (t / (g.oh * g.ow)) * g.H * g.W;
    const int64_t y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    T sum = T(0);
    for (int64_t yy = max64(y0, 0); yy < min64(y0 + g.kh, g.H); ++yy) {
      for (int64_t xx = max64(x0, 0); xx < min64(x0 + g.kw, g.W); ++xx) {
        sum += plane[yy * g.W + xx];
      }
    }
    y[t] = sum / static_cast<T>(avg_divisor(g, oy, ox, count_include_pad));
  }
}

// One thread per pixel of dx (planes, H, W): dout / divisor of every covering window, in
// increasing window position.
template <typename T>
__global__ void avg_pool2d_backward_kernel(const T* dout, T* dx, WindowGeometry g,
                                           bool count_include_pad, int64_t total) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += step) {
    const int64_t pixel = t % (g.H * g.W);
    const int64_t y = pixel / g.W, xx = pixel % g.W;
    const T* g_plane = dout + (t / (g.H * g.W)) * g.oh * g.ow;
    T acc = T(0);
    for_each_cover(y, g.kh, g.sh, g.ph, g.dh, g.oh, [&](int64_t oy, int64_t) {
      for_each_cover(xx, g.kw, g.sw, g.pw, g.dw, g.ow, [&](int64_t ox, int64_t) {
        acc += g_plane[oy * g.ow + ox] /
               static_cast<T>(avg_divisor(g, oy, ox, count_include_pad));
      });
    });
    dx[t] = acc;
  }
}

}  // namespace

// in (N, C, H, W) -> values (N, C, oh, ow), indices int64 (N, C, oh, ow); all contiguous.
void max_pool2d_cuda(const Tensor& in, const Tensor& values, const Tensor& indices,
                     const Window2d& window) {
  const int64_t total = values.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, in.size(2), in.size(3));
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_floating(in.dtype(), "max_pool2d", [&]<typename T>() {
    max_pool2d_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(
        device_data<T>(in), device_data<T>(values), device_data<int64_t>(indices), g, total);
    check_launch("max_pool2d_kernel");
  });
}

// dout, indices (N, C, oh, ow) -> din (N, C, H, W) overwritten; all contiguous.
void max_pool2d_backward_cuda(const Tensor& grad_out, const Tensor& indices,
                              const Tensor& grad_in, const Window2d& window) {
  const int64_t total = grad_in.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, grad_in.size(2), grad_in.size(3));
  DeviceGuard guard(grad_in.device());
  const cudaStream_t s = stream(grad_in.device().index);
  visit_floating(grad_out.dtype(), "max_pool2d_backward", [&]<typename T>() {
    max_pool2d_backward_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(
        device_data<T>(grad_out), device_data<int64_t>(indices), device_data<T>(grad_in), g,
        total);
    check_launch("max_pool2d_backward_kernel");
  });
}

// in (N, C, H, W) -> out (N, C, oh, ow); both contiguous, floating.
void avg_pool2d_cuda(const Tensor& in, const Tensor& out, const Window2d& window,
                     bool count_include_pad) {
  const int64_t total = out.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, in.size(2), in.size(3));
  DeviceGuard guard(in.device());
  const cudaStream_t s = stream(in.device().index);
  visit_floating(in.dtype(), "avg_pool2d", [&]<typename T>() {
    avg_pool2d_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(
        device_data<T>(in), device_data<T>(out), g, count_include_pad, total);
    check_launch("avg_pool2d_kernel");
  });
}

// dout (N, C, oh, ow) -> din (N, C, H, W) overwritten; both contiguous, floating.
void avg_pool2d_backward_cuda(const Tensor& grad_out, const Tensor& grad_in,
                              const Window2d& window, bool count_include_pad) {
  const int64_t total = grad_in.numel();
  if (total == 0) return;
  const WindowGeometry g = window_geometry(window, grad_in.size(2), grad_in.size(3));
  DeviceGuard guard(grad_in.device());
  const cudaStream_t s = stream(grad_in.device().index);
  visit_floating(grad_out.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    avg_pool2d_backward_kernel<<<grid_for(total, kThreads), kThreads, 0, s>>>(
        device_data<T>(grad_out), device_data<T>(grad_in), g, count_include_pad, total);
    check_launch("avg_pool2d_backward_kernel");
  });
}

}  // namespace ignis::cuda

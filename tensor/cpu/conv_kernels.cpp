// CPU kernels of unfold (im2col) and fold (col2im) for tensor/conv.h. Not the argument
// checks: those are in tensor/conv.cpp, which hands over contiguous tensors only.
#include <cstdint>

#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

// Calls visit(k_row, src_offset, dst_offset) for every (window row, position) pair of one
// (n, c) image plane whose source pixel lies inside the image; k_row = i * kw + j.
// The plane is (H, W); positions are (oh, ow).
template <typename Visit>
void for_each_tap(const Window2d& w, int64_t H, int64_t W, int64_t oh, int64_t ow,
                  Visit&& visit) {
  const int64_t L = oh * ow;
  for (int64_t i = 0; i < w.kernel_size[0]; ++i) {
    for (int64_t j = 0; j < w.kernel_size[1]; ++j) {
      const int64_t k_row = i * w.kernel_size[1] + j;
      for (int64_t oy = 0; oy < oh; ++oy) {
        const int64_t y = oy * w.stride[0] - w.padding[0] + i * w.dilation[0];
        const bool row_inside = y >= 0 && y < H;
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t x = ox * w.stride[1] - w.padding[1] + j * w.dilation[1];
          const int64_t dst = k_row * L + oy * ow + ox;
          visit(dst, row_inside && x >= 0 && x < W ? y * W + x : -1);
        }
      }
    }
  }
}

}  // namespace

// in (N, C, H, W) contiguous -> out (N, C * kh * kw, oh * ow) contiguous.
void unfold(const Tensor& in, const Tensor& out, const Window2d& w) {
  const int64_t planes = in.size(0) * in.size(1), H = in.size(2), W = in.size(3);
  const int64_t oh = w.output_size(0, H), ow = w.output_size(1, W);
  const int64_t plane_cols = w.kernel_size[0] * w.kernel_size[1] * oh * ow;
  visit_dtype(in.dtype(), [&]<typename T>() {
    const T* src = in.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const T* plane = src + p * H * W;
        T* cols = dst + p * plane_cols;
        for_each_tap(w, H, W, oh, ow, [&](int64_t d, int64_t s) {
          cols[d] = s >= 0 ? plane[s] : T(0);
        });
      }
    });
  });
}

// in (N, C * kh * kw, oh * ow) contiguous -> out (N, C, H, W) contiguous, overwritten.
// Each plane is summed serially in a fixed order: the result does not depend on threads.
void fold(const Tensor& in, const Tensor& out, const Window2d& w) {
  const int64_t planes = out.size(0) * out.size(1), H = out.size(2), W = out.size(3);
  const int64_t oh = w.output_size(0, H), ow = w.output_size(1, W);
  const int64_t plane_cols = w.kernel_size[0] * w.kernel_size[1] * oh * ow;
  visit_floating(in.dtype(), "fold", [&]<typename T>() {
    const T* src = in.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const T* cols = src + p * plane_cols;
        T* plane = dst + p * H * W;
        for (int64_t k = 0; k < H * W; ++k) plane[k] = T(0);
        for_each_tap(w, H, W, oh, ow, [&](int64_t d, int64_t s) {
          if (s >= 0) plane[s] += cols[d];
        });
      }
    });
  });
}

}  // namespace ignis::cpu

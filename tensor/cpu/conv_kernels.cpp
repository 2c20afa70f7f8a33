// CPU kernels of unfold (im2col) and fold (col2im) for tensor/conv.h. Not the argument
// checks: those are in tensor/conv.cpp, which hands over contiguous tensors only.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Where window tap (i, j) reads an (H, W) plane, for (oh, ow) positions: position (oy, ox)
// reads pixel (y0 + oy sh, x0 + ox sw), inside the image for oy in [oy_lo, oy_hi) and ox in
// [lo, hi); the other positions read padding.
struct Tap {
  int64_t y0, x0, oy_lo, oy_hi, lo, hi;
};

// [first, last) of the positions p >= 0 with 0 <= start + p step < size, clamped to [0, n).
std::pair<int64_t, int64_t> inside(int64_t start, int64_t step, int64_t size, int64_t n) {
  const int64_t first = std::min(n, start >= 0 ? 0 : ceil_div(-start, step));
  const int64_t last = std::min(n, size - start <= 0 ? 0 : ceil_div(size - start, step));
  return {first, std::max(first, last)};
}

Tap tap(const Window2d& w, int64_t i, int64_t j, int64_t H, int64_t W, int64_t oh,
        int64_t ow) {
  Tap t{};
  t.y0 = i * w.dilation[0] - w.padding[0];
  t.x0 = j * w.dilation[1] - w.padding[1];
  std::tie(t.oy_lo, t.oy_hi) = inside(t.y0, w.stride[0], H, oh);
  std::tie(t.lo, t.hi) = inside(t.x0, w.stride[1], W, ow);
  return t;
}

// Columns (kh kw, oh ow) of one plane (H, W). Each columns row is a zero border, an image row
// segment (strided when sw > 1), a zero border. With unit strides and ow == W (a "same"
// width), the rows of one tap are a single shifted copy of the plane, borders zeroed after.
template <typename T>
void unfold_plane(const T* plane, T* cols, const Window2d& w, int64_t H, int64_t W, int64_t oh,
                  int64_t ow) {
  const int64_t sh = w.stride[0], sw = w.stride[1], L = oh * ow;
  const bool shifted_copy = sh == 1 && sw == 1 && ow == W;
  for (int64_t i = 0; i < w.kernel_size[0]; ++i) {
    for (int64_t j = 0; j < w.kernel_size[1]; ++j) {
      const Tap t = tap(w, i, j, H, W, oh, ow);
      T* dst = cols + (i * w.kernel_size[1] + j) * L;
      std::fill(dst, dst + t.oy_lo * ow, T(0));
      std::fill(dst + t.oy_hi * ow, dst + L, T(0));
      if (t.oy_hi == t.oy_lo) continue;
      if (t.hi == t.lo) {
        std::fill(dst + t.oy_lo * ow, dst + t.oy_hi * ow, T(0));
        continue;
      }
      if (shifted_copy) {
        // dst[oy ow + ox] = plane[(y0 + oy) W + x0 + ox] for the whole block of rows; the
        // entries that wrapped into a neighbouring row are the border columns, zeroed after
        // column by column (a few strided stores, where per-row fills cost a call each).
        const int64_t first = t.oy_lo * ow + t.lo, last = (t.oy_hi - 1) * ow + t.hi;
        const T* src = plane + t.y0 * W + t.x0 + first;
        std::copy(src, src + (last - first), dst + first);
        const auto zero_column = [&](int64_t ox) {
          for (int64_t oy = t.oy_lo; oy < t.oy_hi; ++oy) dst[oy * ow + ox] = T(0);
        };
        for (int64_t ox = 0; ox < t.lo; ++ox) zero_column(ox);
        for (int64_t ox = t.hi; ox < ow; ++ox) zero_column(ox);
        continue;
      }
      for (int64_t oy = t.oy_lo; oy < t.oy_hi; ++oy) {
        T* d = dst + oy * ow;
        std::fill(d, d + t.lo, T(0));
        std::fill(d + t.hi, d + ow, T(0));
        const T* s = plane + (t.y0 + oy * sh) * W + t.x0 + t.lo * sw;  // pixel of ox = lo
        if (sw == 1) {
          for (int64_t k = 0; k < t.hi - t.lo; ++k) d[t.lo + k] = s[k];
        } else {
          for (int64_t k = 0; k < t.hi - t.lo; ++k) d[t.lo + k] = s[k * sw];
        }
      }
    }
  }
}

// The bits of T (float, double) as an unsigned integer.
template <typename T>
using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

// Per tap column j, per position of a "same"-width window (kw, oh ow): all ones where the
// position reads inside the image, 0 in the padding. fold ANDs a tap's columns with it so
// that one block add over the tap's rows adds +0 at the border positions: exact, vectorised,
// and blind to what the padding entries hold (NaN and inf included).
template <typename T>
std::vector<Bits<T>> inside_masks(const Window2d& w, int64_t H, int64_t W, int64_t oh,
                                  int64_t ow) {
  std::vector<Bits<T>> mask(static_cast<size_t>(w.kernel_size[1] * oh * ow));
  for (int64_t j = 0; j < w.kernel_size[1]; ++j) {
    const Tap t = tap(w, 0, j, H, W, oh, ow);
    for (int64_t p = 0; p < oh * ow; ++p) {
      const int64_t ox = p % ow;
      mask[static_cast<size_t>(j * oh * ow + p)] = ox >= t.lo && ox < t.hi ? ~Bits<T>(0) : 0;
    }
  }
  return mask;
}

// plane (H, W) = the sum of one plane's columns (kh kw, oh ow) into the pixels they read,
// taps in (i, j) order, so each pixel's sum has a fixed order. With unit strides and ow == W,
// `inside` (inside_masks) is given and each tap's rows are added as one shifted block, the
// positions of the border columns adding +0 (their pixels belong to a neighbouring row).
template <typename T>
void fold_plane(const T* cols, T* plane, const Window2d& w, int64_t H, int64_t W, int64_t oh,
                int64_t ow, const Bits<T>* inside) {
  const int64_t sh = w.stride[0], sw = w.stride[1], L = oh * ow;
  std::fill(plane, plane + H * W, T(0));
  for (int64_t i = 0; i < w.kernel_size[0]; ++i) {
    for (int64_t j = 0; j < w.kernel_size[1]; ++j) {
      const Tap t = tap(w, i, j, H, W, oh, ow);
      const int64_t n = t.hi - t.lo;
      if (n == 0 || t.oy_hi == t.oy_lo) continue;
      const T* src = cols + (i * w.kernel_size[1] + j) * L;
      if (inside != nullptr) {
        const int64_t first = t.oy_lo * ow + t.lo, last = (t.oy_hi - 1) * ow + t.hi;
        const int64_t shift = t.y0 * W + t.x0;  // position p reads pixel p + shift
        const Bits<T>* m = inside + j * L;
        for (int64_t p = first; p < last; ++p) {
          plane[p + shift] += std::bit_cast<T>(std::bit_cast<Bits<T>>(src[p]) & m[p]);
        }
        continue;
      }
      for (int64_t oy = t.oy_lo; oy < t.oy_hi; ++oy) {
        const T* s = src + oy * ow + t.lo;
        T* d = plane + (t.y0 + oy * sh) * W + t.x0 + t.lo * sw;  // pixel of ox = lo
        if (sw == 1) {
          for (int64_t k = 0; k < n; ++k) d[k] += s[k];
        } else {
          for (int64_t k = 0; k < n; ++k) d[k * sw] += s[k];
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
        unfold_plane(src + p * H * W, dst + p * plane_cols, w, H, W, oh, ow);
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
  const bool shifted = w.stride[0] == 1 && w.stride[1] == 1 && ow == W;
  visit_floating(in.dtype(), "fold", [&]<typename T>() {
    const std::vector<Bits<T>> inside =
        shifted ? inside_masks<T>(w, H, W, oh, ow) : std::vector<Bits<T>>();
    const T* src = in.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        fold_plane(src + p * plane_cols, dst + p * H * W, w, H, W, oh, ow,
                   shifted ? inside.data() : nullptr);
      }
    });
  });
}

}  // namespace ignis::cpu

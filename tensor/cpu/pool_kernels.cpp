// CPU kernels of max_pool2d and avg_pool2d, forward and backward (tensor/pool.h), parallel
// over (n, c) planes. Not the argument checks: tensor/pool.cpp hands over checked,
// contiguous tensors.
//
// Each plane is computed by one thread, serially, in a fixed order: results do not depend on
// the thread count. The 2x2 stride-2 max pool of CNNs has its own branch-free loops, which
// GCC vectorises; every other window takes the general loops.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "tensor/cpu/kernels.h"
#include "tensor/thread_pool.h"

namespace ignis::cpu {
namespace {

// Planes per parallel_for chunk: at least ~16K pixels, so that small images do not pay a
// thread wake-up per plane.
int64_t plane_grain(int64_t plane_size) {
  constexpr int64_t kGrainPixels = 16384;
  return std::max<int64_t>(1, kGrainPixels / std::max<int64_t>(1, plane_size));
}

// The taps of one window position along one axis that fall inside the image: tap t in
// [begin, end) reads image coordinate start + t * dilation.
struct AxisTaps {
  int64_t start, begin, end;
};

// The taps of each of the `positions` windows along axis d of an image of size n.
std::vector<AxisTaps> axis_taps(const Window2d& w, int d, int64_t n, int64_t positions) {
  std::vector<AxisTaps> taps(static_cast<size_t>(positions));
  const int64_t k = w.kernel_size[d], dil = w.dilation[d];
  for (int64_t o = 0; o < positions; ++o) {
    const int64_t start = o * w.stride[d] - w.padding[d];
    // First t with start + t dil >= 0, one past the last with start + t dil < n.
    const int64_t begin = start >= 0 ? 0 : (-start + dil - 1) / dil;
    const int64_t end = start >= n ? 0 : std::min(k, (n - 1 - start) / dil + 1);
    taps[static_cast<size_t>(o)] = {start, begin, std::max(begin, end)};
  }
  return taps;
}

// True when the window tiles the image without overlap, padding or dilation: kernel 2x2,
// stride 2. Each pixel then belongs to at most one window.
bool is_2x2_stride_2(const Window2d& w) {
  return w.kernel_size == std::array<int64_t, 2>{2, 2} &&
         w.stride == std::array<int64_t, 2>{2, 2} && w.padding == std::array<int64_t, 2>{0, 0} &&
         w.dilation == std::array<int64_t, 2>{1, 1};
}

// Whether candidate v replaces the running maximum m: v is larger, or v is the first NaN.
// `&`, not `&&`: no short circuit, so no branch.
template <typename T>
[[gnu::always_inline]] inline bool takes_max(T v, T m) {
  return !(v <= m) & (m == m);
}

// t ? a : b without a branch: GCC compiles float and int64 ternaries in scalar loops into
// jumps, which random data mispredicts.
template <typename T>
[[gnu::always_inline]] inline T pick(bool t, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const Bits mask = Bits(0) - Bits(t);
  return std::bit_cast<T>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask));
}

// The 2x2 stride-2 pool works on a plane's windows as one flat run q = oy ow + ox rather
// than row by row: CNN rows are short (ow = 7 or 14), which would leave most windows in the
// scalar remainder of a per-row vector loop. The two pixel rows of every window row are
// staged contiguously, (2, oh, 2 ow), so that window q reads pixels 2q and 2q + 1 of each.
//   starts: (oh ow), the plane offset 2 oy W + 2 ox of window q's top-left pixel.
std::vector<int64_t> window_starts_2x2(int64_t W, int64_t oh, int64_t ow) {
  std::vector<int64_t> starts;
  starts.reserve(static_cast<size_t>(oh * ow));
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ++ox) starts.push_back(2 * oy * W + 2 * ox);
  }
  return starts;
}

// One plane of the 2x2 stride-2 max pool: in (H, W) -> values, indices (oh, ow); stage holds
// 4 oh ow elements. The first maximum of (a, b) and of (c, d), then the second pair wins
// only when strictly larger (or the first NaN): the same winner as scanning a, b, c, d.
template <typename T>
void max_pool_2x2_plane(const T* in, T* values, int64_t* indices, int64_t W, int64_t oh,
                        int64_t ow, const int64_t* starts, T* stage) {
  const int64_t len = 2 * ow;
  T* top = stage;               // (oh, 2 ow)
  T* bottom = stage + oh * len;  // (oh, 2 ow)
  for (int64_t oy = 0; oy < oh; ++oy) {
    std::copy_n(in + 2 * oy * W, len, top + oy * len);
    std::copy_n(in + (2 * oy + 1) * W, len, bottom + oy * len);
  }
  for (int64_t q = 0; q < oh * ow; ++q) {
    const T a = top[2 * q], b = top[2 * q + 1], c = bottom[2 * q], d = bottom[2 * q + 1];
    const bool right_of_top = takes_max(b, a), right_of_bottom = takes_max(d, c);
    const T first = pick(right_of_top, b, a), second = pick(right_of_bottom, d, c);
    const bool from_bottom = takes_max(second, first);
    values[q] = pick(from_bottom, second, first);
    indices[q] = starts[q] + pick(from_bottom, W + int64_t{right_of_bottom},
                                  int64_t{right_of_top});
  }
}

// One plane of the 2x2 stride-2 max pool's backward: dout, indices (oh, ow) -> din (H, W),
// every pixel written (0 where no window picked it, and in an odd last row or column); the
// rows are made in stage (4 oh ow elements) as in the forward, then copied out.
template <typename T>
void max_pool_2x2_backward_plane(const T* dout, const int64_t* indices, T* din, int64_t H,
                                 int64_t W, int64_t oh, int64_t ow, const int64_t* starts,
                                 T* stage) {
  const int64_t len = 2 * ow;
  T* top = stage;               // (oh, 2 ow)
  T* bottom = stage + oh * len;  // (oh, 2 ow)
  // The winner's offset in its window (0, 1, W or W + 1) fits int32 whenever W does: 32-bit
  // compares fill as many vector lanes as float gradients do.
  const int32_t w32 = static_cast<int32_t>(W);
  for (int64_t q = 0; q < oh * ow; ++q) {
    const T g = dout[q];
    const int32_t at = static_cast<int32_t>(indices[q] - starts[q]);
    top[2 * q] = pick(at == 0, g, T(0));
    top[2 * q + 1] = pick(at == 1, g, T(0));
    bottom[2 * q] = pick(at == w32, g, T(0));
    bottom[2 * q + 1] = pick(at == w32 + 1, g, T(0));
  }
  for (int64_t oy = 0; oy < oh; ++oy) {
    T* r0 = din + 2 * oy * W;
    T* r1 = r0 + W;
    std::copy_n(top + oy * len, len, r0);
    std::copy_n(bottom + oy * len, len, r1);
    if (W > len) {
      r0[W - 1] = T(0);
      r1[W - 1] = T(0);
    }
  }
  std::fill(din + 2 * oh * W, din + H * W, T(0));
}

// One plane of the max pool for any window: in (H, W) -> values, indices (oh, ow).
template <typename T>
void max_pool_plane(const T* in, T* values, int64_t* indices, int64_t W,
                    const std::vector<AxisTaps>& rows, const std::vector<AxisTaps>& cols,
                    const Window2d& w) {
  const int64_t ow = static_cast<int64_t>(cols.size());
  for (size_t oy = 0; oy < rows.size(); ++oy) {
    const AxisTaps& r = rows[oy];
    for (int64_t ox = 0; ox < ow; ++ox) {
      const AxisTaps& c = cols[static_cast<size_t>(ox)];
      T m = -std::numeric_limits<T>::infinity();
      int64_t at = -1;
      for (int64_t i = r.begin; i < r.end; ++i) {
        const int64_t y = r.start + i * w.dilation[0];
        for (int64_t j = c.begin; j < c.end; ++j) {
          const int64_t p = y * W + c.start + j * w.dilation[1];
          if (at < 0 || takes_max(in[p], m)) {
            m = in[p];
            at = p;
          }
        }
      }
      values[static_cast<int64_t>(oy) * ow + ox] = m;
      indices[static_cast<int64_t>(oy) * ow + ox] = at;
    }
  }
}

// The number avg_pool2d divides window (r, c) by.
int64_t avg_divisor(const AxisTaps& r, const AxisTaps& c, const Window2d& w,
                    bool count_include_pad) {
  return count_include_pad ? w.kernel_size[0] * w.kernel_size[1]
                           : (r.end - r.begin) * (c.end - c.begin);
}

// Runs body(plane) for every plane in [0, planes), in parallel chunks.
template <typename Body>
void for_each_plane(int64_t planes, int64_t plane_size, Body&& body) {
  parallel_for(0, planes, plane_grain(plane_size), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) body(p);
  });
}

}  // namespace

// in (N, C, H, W) -> values (N, C, oh, ow), indices int64 (N, C, oh, ow); all contiguous.
void max_pool2d(const Tensor& in, const Tensor& values, const Tensor& indices,
                const Window2d& w) {
  const int64_t planes = in.size(0) * in.size(1), H = in.size(2), W = in.size(3);
  const int64_t oh = values.size(2), ow = values.size(3);
  if (is_2x2_stride_2(w)) {
    const std::vector<int64_t> starts = window_starts_2x2(W, oh, ow);
    visit_floating(in.dtype(), "max_pool2d", [&]<typename T>() {
      const T* src = in.data_ptr<T>();
      T* val = values.data_ptr<T>();
      int64_t* idx = indices.data_ptr<int64_t>();
      parallel_for(0, planes, plane_grain(H * W), [&](int64_t begin, int64_t end) {
        std::vector<T> stage(static_cast<size_t>(4 * oh * ow));
        for (int64_t p = begin; p < end; ++p) {
          max_pool_2x2_plane(src + p * H * W, val + p * oh * ow, idx + p * oh * ow, W, oh, ow,
                             starts.data(), stage.data());
        }
      });
    });
    return;
  }
  const std::vector<AxisTaps> rows = axis_taps(w, 0, H, oh), cols = axis_taps(w, 1, W, ow);
  visit_floating(in.dtype(), "max_pool2d", [&]<typename T>() {
    const T* src = in.data_ptr<T>();
    T* val = values.data_ptr<T>();
    int64_t* idx = indices.data_ptr<int64_t>();
    for_each_plane(planes, H * W, [&](int64_t p) {
      max_pool_plane(src + p * H * W, val + p * oh * ow, idx + p * oh * ow, W, rows, cols, w);
    });
  });
}

// dout, indices (N, C, oh, ow) -> din (N, C, H, W) overwritten; all contiguous. Each plane
// adds its positions in increasing order.
void max_pool2d_backward(const Tensor& dout, const Tensor& indices, const Tensor& din,
                         const Window2d& w) {
  const int64_t planes = din.size(0) * din.size(1), H = din.size(2), W = din.size(3);
  const int64_t oh = dout.size(2), ow = dout.size(3);
  const bool fast = is_2x2_stride_2(w);
  const std::vector<int64_t> starts = fast ? window_starts_2x2(W, oh, ow) : std::vector<int64_t>{};
  visit_floating(dout.dtype(), "max_pool2d_backward", [&]<typename T>() {
    const T* g = dout.data_ptr<T>();
    const int64_t* idx = indices.data_ptr<int64_t>();
    T* dst = din.data_ptr<T>();
    parallel_for(0, planes, plane_grain(H * W), [&](int64_t begin, int64_t end) {
      std::vector<T> stage(fast ? static_cast<size_t>(4 * oh * ow) : 0);
      for (int64_t p = begin; p < end; ++p) {
        const T* g_plane = g + p * oh * ow;
        const int64_t* i_plane = idx + p * oh * ow;
        T* plane = dst + p * H * W;
        if (fast) {
          max_pool_2x2_backward_plane(g_plane, i_plane, plane, H, W, oh, ow, starts.data(),
                                      stage.data());
          continue;
        }
        std::fill(plane, plane + H * W, T(0));
        for (int64_t q = 0; q < oh * ow; ++q) {
          if (i_plane[q] >= 0) plane[i_plane[q]] += g_plane[q];
        }
      }
    });
  });
}

// in (N, C, H, W) -> out (N, C, oh, ow); both contiguous, floating.
void avg_pool2d(const Tensor& in, const Tensor& out, const Window2d& w, bool count_include_pad) {
  const int64_t planes = in.size(0) * in.size(1), H = in.size(2), W = in.size(3);
  const int64_t oh = out.size(2), ow = out.size(3);
  const std::vector<AxisTaps> rows = axis_taps(w, 0, H, oh), cols = axis_taps(w, 1, W, ow);
  visit_floating(in.dtype(), "avg_pool2d", [&]<typename T>() {
    const T* src = in.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    for_each_plane(planes, H * W, [&](int64_t p) {
      const T* plane = src + p * H * W;
      T* o = dst + p * oh * ow;
      for (const AxisTaps& r : rows) {
        for (const AxisTaps& c : cols) {
          T sum = T(0);
          for (int64_t y = r.start + r.begin; y < r.start + r.end; ++y) {
            for (int64_t x = c.start + c.begin; x < c.start + c.end; ++x) sum += plane[y * W + x];
          }
          *o++ = sum / static_cast<T>(avg_divisor(r, c, w, count_include_pad));
        }
      }
    });
  });
}

// dout (N, C, oh, ow) -> din (N, C, H, W) overwritten; both contiguous, floating. Each plane
// adds its positions in increasing order.
void avg_pool2d_backward(const Tensor& dout, const Tensor& din, const Window2d& w,
                         bool count_include_pad) {
  const int64_t planes = din.size(0) * din.size(1), H = din.size(2), W = din.size(3);
  const int64_t oh = dout.size(2), ow = dout.size(3);
  const std::vector<AxisTaps> rows = axis_taps(w, 0, H, oh), cols = axis_taps(w, 1, W, ow);
  visit_floating(dout.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    const T* src = dout.data_ptr<T>();
    T* dst = din.data_ptr<T>();
    for_each_plane(planes, H * W, [&](int64_t p) {
      const T* g = src + p * oh * ow;
      T* plane = dst + p * H * W;
      std::fill(plane, plane + H * W, T(0));
      for (const AxisTaps& r : rows) {
        for (const AxisTaps& c : cols) {
          const T share = *g++ / static_cast<T>(avg_divisor(r, c, w, count_include_pad));
          for (int64_t y = r.start + r.begin; y < r.start + r.end; ++y) {
            for (int64_t x = c.start + c.begin; x < c.start + c.end; ++x) {
              plane[y * W + x] += share;
            }
          }
        }
      }
    });
  });
}

}  // namespace ignis::cpu
